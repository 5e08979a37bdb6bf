"""`bp explain --format json`: SPEC §6 keys, plus every step of the derivation."""

from __future__ import annotations

from typing import Any

from backprop_core.explain.expr import render_text


def step(s: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "symbol": s.symbol,
        "formula": s.formula_text,
        "numbers": s.numbers_text,
        "value": s.value,
    }
    if s.explains is not None:
        doc["chain"] = render_text(s.explains)
    if s.samples is not None:
        doc["samples"] = list(s.samples)
    if s.table is not None:
        doc["table"] = {
            "columns": [render_text(c) for c in s.table.columns],
            "rows": [{"sample": i, "values": list(v)} for i, v in s.table.rows],
            "samples_not_listed": s.table.skipped,
            "mean": list(s.table.mean),
        }
    return doc


def steps(section: Any) -> list[dict[str, Any]]:
    return [step(s) for s in section.steps]


def document(x: Any) -> dict[str, Any]:
    after = x.section("after")
    deltas = x.section("deltas")
    return {
        "weight": x.canonical,
        "alias": x.alias,
        "value": x.value,
        "grad": x.grad,
        "numeric_grad": x.numeric_grad,
        "eta": x.eta,
        "new_value": x.new_value,
        "frozen": x.frozen,
        "samples": x.samples,
        "sample": x.sample,
        "loss": x.loss,
        "description": x.description,
        "forward": steps(x.section("forward")),
        "dL_dy": steps(x.section("output")),
        **({"jacobian": steps(x.section("jacobian"))} if x.section("jacobian").steps else {}),
        "factors": steps(x.section("chain")),
        "path_count": x.path_count,
        "paths": [
            {
                "nodes": list(p.nodes),
                "factors": [step(f) for f in p.factors],
                "product": p.product,
                **({"table": step(s)["table"]} if s.table is not None else {}),
            }
            for p, s in zip(x.paths, x.section("paths").steps, strict=False)
        ],
        "path_sum": x.path_sum,
        "paths_omitted": x.path_count - len(x.paths) if x.path_sum is not None else x.path_count,
        "omitted_sum": x.omitted_sum,
        "deltas": [
            {"layer": layer, "steps": [step(s) for s in layer_steps]}
            for layer, layer_steps in x.deltas.items()
        ],
        "delta_form": step(deltas.steps[-1]),
        "update": steps(x.section("update"))[0],
        "after": {
            "outputs": x.after_outputs,
            "loss": x.after_loss,
            "loss_change": x.after_loss - x.loss,
            "steps": steps(after),
        },
        "notes": [note for section in x.sections for note in section.notes],
    }
