"""Every command's ``--json`` document, built here and only here (docs/json-output.md).

One function per command; rows shared between commands (a weight's gradient
row in `grads` and `gradcheck`) are built by one function, so keys cannot drift
apart. `cli.console.emit_json` writes a document (NaN and infinities as null).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from backprop_core.engine.gradcheck import GradcheckReport, GradcheckRow
    from backprop_core.errors import BpError
    from backprop_core.explain.derivation import Explanation
    from backprop_core.explain.steps import Section, Step
    from backprop_core.run.experiment import Experiment
    from backprop_core.run.inspection import GradReport, NetworkSummary, WeightRow
    from backprop_core.run.predict import Model, Prediction
    from backprop_core.run.training import TrainResult

Document = dict[str, Any]


# --- bp train ---------------------------------------------------------------------


def train(experiment: Experiment, result: TrainResult, threads: int, engine: str) -> Document:
    doc: Document = {
        "name": experiment.config.name,
        "status": result.status,
        "epochs_run": result.epochs_run,
        "losses": result.losses,
        "final_loss": result.final_loss,
    }
    history = result.history
    if experiment.data.X_val is not None:
        doc["val_losses"] = [r.val_loss for r in history]
    if any(r.accuracy is not None for r in history):
        metrics = {"accuracy": [r.accuracy for r in history]}
        if experiment.data.X_val is not None:
            metrics["val_accuracy"] = [r.val_accuracy for r in history]
        doc["metrics"] = metrics
    if result.status == "diverged":
        doc["diverged_epoch"] = result.diverged_epoch
        doc["largest_gradients"] = {w.canonical: g for w, g in result.largest_gradients}
    network = experiment.network
    doc["weights"] = {w.canonical: network.weight(w) for w in experiment.names.all_ids()}
    doc["threads"] = threads
    doc["engine"] = engine
    return doc


# --- bp grads and bp gradcheck ----------------------------------------------------------


def weight_row(r: WeightRow) -> Document:
    """One weight of `bp grads --json` (SPEC §6): the row's fields, in their order
    (name, alias, value, grad, numeric_grad, step, new_value, frozen); `bp
    gradcheck` rows start with it."""
    return asdict(r)


def grads(report: GradReport) -> Document:
    return {
        "loss": report.loss,
        "eta": report.eta,
        "optimizer": report.optimizer,
        "weights": [weight_row(r) for r in report.rows],
    }


def gradcheck_row(experiment: Experiment, r: GradcheckRow) -> Document:
    """The row of `bp grads --json` for this weight, plus the check's verdict."""
    from backprop_core.run.inspection import weight_row as grads_row

    return {
        **weight_row(grads_row(experiment, r.weight, r.value, r.grad, r.numeric_grad)),
        "abs_error": r.abs_error,
        "rel_error": r.rel_error,
        "tolerance": r.tolerance,
        "ok": r.ok,
        "kink": r.kink,
    }


def gradcheck(report: GradcheckReport, rows: list[Document]) -> Document:
    from backprop_core.engine.gradcheck import KINK_RTOL, RTOL

    return {
        "ok": report.ok,
        "max_abs_error": report.max_abs_error,
        "max_rel_error": report.max_rel_error,
        "loss": report.loss,
        "eps": report.eps,
        "rtol": RTOL,
        "kink_rtol": KINK_RTOL,
        "tiny": report.tiny,
        "checked": len(report.rows),
        "total": report.total,
        "failed": len(report.failures),
        "weights": rows,
    }


# --- bp show and bp check ---------------------------------------------------------------


def show(summary: NetworkSummary) -> Document:
    return {
        "name": summary.name,
        "loss": summary.loss,
        "parameter_count": summary.parameter_count,
        "samples": summary.samples,
        # layer, role, units, activation, bias, parameters
        "layers": [asdict(r) for r in summary.layers],
        "weights": [
            {"name": name, "alias": alias, "value": value, "frozen": frozen}
            for name, alias, value, frozen in summary.weights
        ],
    }


def check(
    label: str, problems: list[BpError], warnings: list[str], experiment: Experiment | None
) -> Document:
    return {
        "ok": not problems,
        "config": label,
        "problems": [problem(p) for p in problems],
        "warnings": warnings,
        "summary": check_summary(experiment) if experiment is not None else None,
    }


def problem(error: BpError) -> Document:
    """A problem as JSON: the full message, and where it is when known."""
    return {
        "message": str(error),
        "file": getattr(error, "file", None),
        "line": getattr(error, "line", None),
        "key": getattr(error, "key", None),
        "detail": getattr(error, "message", str(error)),
    }


def check_summary(experiment: Experiment) -> Document:
    c, net, data = experiment.config, experiment.network, experiment.data
    return {
        "name": c.name,
        "inputs": net.inputs,
        "layers": [
            {"units": layer.units, "activation": layer.activation.describe(), "bias": layer.bias}
            for layer in net.layers
        ],
        "loss": c.loss,
        "parameters": net.parameter_count(),
        "rows": data.n,
        "validation_rows": 0 if data.X_val is None else int(data.X_val.shape[0]),
        "classes": list(data.classes) if data.classes is not None else None,
        "frozen": experiment.frozen_count(),
    }


# --- bp predict -------------------------------------------------------------------------


def predict(model: Model, result: Prediction, inputs: list[str], outputs: list[str]) -> Document:
    """name, trained, inputs (names), outputs (names), classes, predictions[], loss,
    accuracy."""
    rows = []
    for r in range(result.X.shape[0]):
        row: Document = {"row": r + 1}
        if result.lines is not None:
            row["line"] = result.lines[r]
        row["inputs"] = result.X[r].tolist()
        row["outputs"] = result.Y[r].tolist()
        if result.labels is not None and result.probabilities is not None:
            assert model.classes is not None
            row["class"] = result.labels[r]
            row["probabilities"] = dict(
                zip(model.classes, result.probabilities[r].tolist(), strict=True)
            )
        if result.T is not None:
            row["target"] = (
                result.target_labels[r]
                if result.target_labels is not None
                else result.T[r].tolist()
            )
        rows.append(row)
    doc: Document = {
        "name": model.loaded.config.name,
        "trained": model.trained,
        "inputs": inputs,
        "outputs": outputs,
        "classes": model.classes if result.labels is not None else None,
        "predictions": rows,
    }
    if result.loss is not None:
        doc["loss"] = result.loss
        doc["accuracy"] = result.accuracy
    return doc


# --- bp explain (SPEC §6 keys, plus every step of the derivation) -----------------------


def step(s: Step) -> Document:
    from backprop_core.explain.expr import render_text

    doc: Document = {
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


def steps(section: Section) -> list[Document]:
    return [step(s) for s in section.steps]


def explain(x: Explanation) -> Document:
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


def explanations(xs: list[Explanation], as_list: bool) -> Document | list[Document]:
    """One weight's object, or (several weights, --all) a list of them."""
    docs = [explain(x) for x in xs]
    return docs if as_list else docs[0]
