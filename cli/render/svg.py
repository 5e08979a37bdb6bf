"""The network drawing (backprop_core/explain/drawing.py) written as SVG text.

Every label is a ``<text>`` element (selectable, searchable, read by screen
readers), never glyph outlines. Each node and each edge is a ``<g>`` with a
stable id (``n2_1``: layer 2, node 1; ``e2_0_1``: the bias weight into it) and
classes the page's stylesheet and script act on: ``hot`` (on the explained
weight's paths), ``marked`` (the weight itself), ``dim`` (off its paths),
``dead`` (a ReLU unit that is zero on every sample), ``focus`` (used by the
current step of `bp explain --format html`).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from backprop_core.engine.naming import WeightId
from backprop_core.explain.drawing import CHAR, FONT, LINE, PAD, Layout

FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
HOT = "#d62728"
MARKED = "#1f5fbf"
FOCUS = "#ff8c00"

# Inside the SVG, so a .svg file on its own looks the same as the page's drawing.
STYLE = f"""
.bp-net text {{ font-family: {FONT_FAMILY}; font-size: {FONT:g}px; fill: #222; }}
.bp-net .edge line {{ stroke: #666; stroke-width: 1.2; }}
.bp-net .edge.bias line {{ stroke-dasharray: 5 3; }}
.bp-net .edge rect {{ fill: #fff; fill-opacity: 0.92; }}
.bp-net .edge.hot line {{ stroke: {HOT}; stroke-width: 2.2; }}
.bp-net .edge.hot text {{ fill: {HOT}; }}
.bp-net .edge.marked line {{ stroke: {MARKED}; stroke-width: 3.2; }}
.bp-net .edge.marked text {{ fill: {MARKED}; font-weight: bold; }}
.bp-net .edge.dim line {{ stroke: #c8c8c8; }}
.bp-net .edge.dim text {{ fill: #9a9a9a; }}
.bp-net .node circle {{ fill: #fff; stroke: #333; stroke-width: 1.3; }}
.bp-net .node.input circle {{ fill: #e8f0fa; }}
.bp-net .node.output circle {{ fill: #eaf5e6; }}
.bp-net .node.bias circle {{ fill: #f4f4f4; stroke-dasharray: 4 3; }}
.bp-net .node.hot circle {{ stroke: {HOT}; stroke-width: 2.2; }}
.bp-net .node.dead circle {{ fill: #e6e6e6; stroke: #aaa; }}
.bp-net .node.dead text {{ fill: #999; }}
.bp-net .caption {{ fill: #555; }}
.bp-net .legend text {{ white-space: pre; }}
.bp-net .edge.focus line {{ stroke: {FOCUS}; stroke-width: 4; }}
.bp-net .edge.focus text, .bp-net .node.focus text {{ fill: #000; font-weight: bold; }}
.bp-net .node.focus circle {{ stroke: {FOCUS}; stroke-width: 4; }}
"""


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "middle") -> str:
    c = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" dominant-baseline="central"'
        f' textLength="{_f(len(text) * CHAR)}" lengthAdjust="spacingAndGlyphs"{c}>'
        f"{escape(text)}</text>"
    )


def legend_html(layout: Layout) -> str:
    """The numbered edges' legend as an HTML list, for a page (readable at any size,
    unlike text scaled down with the drawing); empty when the edges carry full labels."""
    if layout.mode != "numbered":
        return ""
    items = "".join(f"<li><code>{escape(e.text)}</code></li>" for e in layout.edges)
    return f'<ol class="legend">{items}</ol>'


def svg(
    layout: Layout,
    *,
    highlight: Iterable[WeightId] = (),
    marked: WeightId | None = None,
    title: str = "the network",
    standalone: bool = True,
    prefix: str = "",
) -> str:
    """The drawing as one ``<svg>`` element (with an XML declaration when `standalone`).

    Edges in `highlight` and their nodes are drawn as on-path (``hot``), the rest
    dimmed when anything is highlighted; `marked` is the explained weight.
    `prefix` goes before every id (several drawings on one page).
    """
    hot = set(highlight)
    hot_nodes = {x for e in layout.edges if e.weight in hot for x in (e.source, e.target)}
    v = layout.view
    width, height = v.x1 - v.x0, v.y1 - v.y0
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bp-net" role="img"'
        f' viewBox="{_f(v.x0)} {_f(v.y0)} {_f(width)} {_f(height)}"'
        f' width="{_f(width)}" height="{_f(height)}">'
    )
    out.append(f"<title>{escape(title)}</title>")
    out.append(f"<style>{STYLE}</style>")
    # One arrowhead, in each edge's own colour (context-stroke), at the destination's rim.
    out.append(
        f'<defs><marker id="{prefix}bp-arrow" viewBox="0 0 10 10" refX="10" refY="5"'
        ' markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        '<path d="M0,1 L10,5 L0,9 z" fill="context-stroke"/></marker></defs>'
    )
    for e in layout.edges:
        classes = ["edge"]
        if e.is_bias:
            classes.append("bias")
        if hot:
            classes.append("hot" if e.weight in hot else "dim")
        if e.weight == marked:
            classes.append("marked")
        out.append(
            f'<g id="{prefix}{e.id}" class="{" ".join(classes)}" data-weight="{escape(e.alias)}">'
        )
        out.append(f"<title>{escape(e.text)}</title>")
        out.append(
            f'<line x1="{_f(e.x0)}" y1="{_f(e.y0)}" x2="{_f(e.x1)}" y2="{_f(e.y1)}"'
            f' marker-end="url(#{prefix}bp-arrow)"/>'
        )
        if e.label is not None:
            b = e.label
            out.append(
                f'<rect x="{_f(b.x0)}" y="{_f(b.y0)}" width="{_f(b.x1 - b.x0)}"'
                f' height="{_f(b.y1 - b.y0)}" rx="3"/>'
            )
            out.append(_text(b.cx, b.cy, e.shown, "label"))
        out.append("</g>")
    for n in layout.nodes:
        classes = ["node", n.kind]
        if n.id in hot_nodes:
            classes.append("hot")
        if n.dead:
            classes.append("dead")
        out.append(f'<g id="{prefix}{n.id}" class="{" ".join(classes)}">')
        tip = " · ".join(n.lines) + (" (dead: 0 on every sample)" if n.dead else "")
        out.append(f"<title>{escape(tip)}</title>")
        out.append(f'<circle cx="{_f(n.x)}" cy="{_f(n.y)}" r="{_f(n.r)}"/>')
        first = n.y - (len(n.lines) - 1) * LINE / 2
        for index, line in enumerate(n.lines):
            out.append(_text(n.x, first + index * LINE, line))
        if n.caption_box is not None and n.caption is not None:
            b = n.caption_box
            out.append(_text(b.cx, b.cy, n.caption, "caption"))
        out.append("</g>")
    if layout.legend:
        out.append('<g class="legend">')
        for row in layout.legend:
            out.append(_text(row.box.x0 + PAD, row.box.cy, row.text, "legend-row", anchor="start"))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
