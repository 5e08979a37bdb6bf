"""`bp show --format html`: the network, its drawing and every weight, as one page."""

from __future__ import annotations

from html import escape
from typing import Any

from cli.render.html_page import page
from cli.render.numbers import num


def _table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    out = ['<div class="table-wrap"><table class="weights">', f"<thead><tr>{cells}</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        tds = "".join(
            f'<td class="num">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{tds}</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def render(summary: Any, drawing: str | None, note: str | None = None) -> str:
    """`summary`: backprop_core.engine.inspection.network_summary; `drawing`: inline SVG
    (None when the network is too large to draw, `note` then says so)."""
    name = summary.name or "network"
    title = f"{name}: {summary.parameter_count} weights"
    body = ["<header>", f"<h1>{escape(title)}</h1>"]
    body.append(
        f'<p class="facts">loss {escape(summary.loss)}; {summary.samples} training samples</p>'
    )
    body.append("</header>")
    body.append("<main>")
    if drawing:
        body += ['<figure class="figure">', drawing, "</figure>"]
    elif note:
        body.append(f'<p class="note">{escape(note)}</p>')
    body.append("<h2>Layers</h2>")
    layer_rows = [
        [
            str(r.layer),
            r.role,
            str(r.units),
            r.activation or "",
            "yes" if r.bias else "no",
            str(r.parameters),
        ]
        for r in summary.layers
    ]
    body.append(
        _table(["layer", "role", "nodes", "activation", "bias", "weights"], layer_rows, {0, 2, 5})
    )
    body.append("<h2>Weights</h2>")
    # "#" is the edge's number in a drawing too crowded for full labels.
    weight_rows = [
        [str(n), canonical, alias, num(value), "frozen" if frozen else ""]
        for n, (canonical, alias, value, frozen) in enumerate(summary.weights, start=1)
    ]
    body.append(_table(["#", "name", "alias", "value", ""], weight_rows, {0, 3}))
    body.append("</main>")
    return page(title, "\n".join(body))
