"""`bp train`: train a config and show the per-epoch losses."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli import console
from cli.errors import EXIT_FAILED, collector_paused, fail, interrupted_exit, print_error, warn
from cli.options import ConfigArg, JsonOpt, PrintConfigOpt, SetOpt, print_config

if TYPE_CHECKING:  # imported where used: `bp --help` loads no numpy
    from rich.console import Console

    from backprop_core.run.experiment import Experiment
    from backprop_core.run.training import EpochRecord, Trainer, TrainResult

NAME = "train"
HELP = "Train the network of a config; print per-epoch losses and a summary."

SUMMARY_WEIGHTS = 20  # final weights listed in the summary; `bp show` lists all


Epochs = Annotated[Optional[int], typer.Option(min=1, help="Override training.epochs.")]  # noqa: UP045
Eta = Annotated[Optional[float], typer.Option(help="Override training.eta (learning rate).")]  # noqa: UP045
Seed = Annotated[Optional[int], typer.Option(min=0, help="Override seed.")]  # noqa: UP045
Grads = Annotated[bool, typer.Option("--grads", help="A gradient table for each logged epoch.")]
Every = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(min=1, help="Log every N-th epoch (default: about 20 rows)."),
]
Save = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(help="Write the config with the trained weights to this path."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]
Plot = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        metavar="PATH",
        help="Draw the loss per epoch (log scale), accuracy and, for 2-input classifiers, "
        "the decision regions to a .png or .svg file.",
    ),
]
Threads = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        min=1,
        help="Override training.threads: BLAS threads for the matrix products "
        "(default: the CPUs bp may use, 1 for a small network; "
        "1 is often fastest on a busy machine).",
    ),
]
FailAbove = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(help="Exit 1 when the final loss is above LOSS.", metavar="LOSS"),
]


def command(
    config: ConfigArg = None,
    epochs: Epochs = None,
    eta: Eta = None,
    seed: Seed = None,
    set_: SetOpt = None,
    grads: Grads = False,
    every: Every = None,
    save: Save = None,
    json_: JsonOpt = False,
    quiet: Quiet = False,
    fail_above: FailAbove = None,
    plot: Plot = None,
    threads: Threads = None,
    print_config_: PrintConfigOpt = False,
) -> None:
    with collector_paused():
        from backprop_core.run.experiment import load_experiment
        from backprop_core.run.training import Trainer

    overrides = list(set_ or [])
    for key, value in (
        ("training.epochs", epochs),
        ("training.eta", eta),
        ("seed", seed),
        ("training.threads", threads),
    ):
        if value is not None:
            overrides.append(f"{key}={value}")
    if print_config_:
        print_config(config, overrides)
        return
    if plot is not None:
        from cli.render.plots import check_picture_path

        check_picture_path(plot)  # before a long run, not after it
    if save is not None:
        from backprop_core.run.checkpoint import check_save_path

        check_save_path(save)
    if fail_above is not None and not math.isfinite(fail_above):
        raise fail(f"--fail-above: expected a finite loss, got {fail_above}")
    with collector_paused():
        experiment = load_experiment(config, overrides)
    if save is not None:
        from backprop_core.run.checkpoint import check_save_path

        check_save_path(save, experiment.network.parameter_count())
    from cli.render.progress import EpochProgress, is_logged, logged_epochs

    planned = experiment.config.training.epochs
    every_n = logged_epochs(planned, every)

    def logged(epoch: int) -> bool:
        return is_logged(epoch, every_n, planned)

    with collector_paused():
        trainer = Trainer(
            experiment,
            keep_snapshot=save is not None,
            record_steps=logged if grads else None,
            measure_norm=logged,
        )
        progress = EpochProgress(planned, enabled=not (quiet or json_))
    if trainer.result.batch_warning is not None:
        warn(trainer.result.batch_warning)
    rows: list[EpochRecord] = []
    started = time.perf_counter()
    try:
        with progress:
            for record in trainer.epochs():
                shown = logged(record.epoch)
                if shown:
                    rows.append(record)
                progress.update(record.epoch, record.loss, shown)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (cli.errors.Terminated)
        word, code = interrupted_exit(e)
        _save(save, experiment, trainer, "interrupted", announce=not (quiet or json_))
        print_error(f"{word} after {trainer.result.epochs_run} completed epochs")
        raise typer.Exit(code) from None
    seconds = time.perf_counter() - started
    result = trainer.result
    if result.last is not None and (not rows or rows[-1] is not result.last):
        rows.append(result.last)

    written = _save(save, experiment, trainer, result.status, announce=False)
    if plot is not None and result.epochs_run:
        _plot(plot, experiment, trainer)
        written.append(plot)
    if json_:
        from cli.render import json_documents

        console.emit_json(json_documents.train(experiment, result, trainer.threads, trainer.engine))
    elif not quiet:
        with collector_paused():
            _render(experiment, trainer, rows, seconds, grads)
        for path in written:  # after the report, where the eye ends up
            console.wrote(path)

    if result.status == "diverged":
        raise fail(_divergence_message(experiment, result), EXIT_FAILED)
    if fail_above is not None and not result.final_loss <= fail_above:
        message = f"final loss {result.final_loss:.6g} is above --fail-above {fail_above:g}"
        raise fail(message, EXIT_FAILED)


def _save(
    path: Path | None, experiment: Experiment, trainer: Trainer, status: str, *, announce: bool
) -> list[Path]:
    """Write the checkpoint; return the files written (announced now when `announce`)."""
    if path is None:
        return []
    from backprop_core.run.checkpoint import save_checkpoint

    saved = trainer.weights_to_save(status)
    if saved is None:
        warn(f"nothing saved to {path}: no epoch completed with a finite loss")
        return []
    notes: list[str] = []
    written = save_checkpoint(
        path,
        experiment.loaded,
        saved.network,
        experiment.data,
        epochs=saved.epochs,
        final_loss=saved.loss,
        status=status,
        note=saved.note,
        notes=notes,
    )
    for message in notes:
        warn(message)
    if announce:
        for p in written:
            console.wrote(p)
    return list(written)


def _plot(path: Path, experiment: Experiment, trainer: Trainer) -> None:
    from backprop_core.engine.regions import regions_for
    from cli.render.plots import save_training_plot

    result = trainer.result
    # A diverged network predicts NaN everywhere: no regions to draw.
    regions = None if result.status == "diverged" else regions_for(trainer.network, experiment.data)
    save_training_plot(
        path,
        result.history,
        classes=experiment.data.classes,
        boundary=regions,
        title=experiment.config.name,
    )


def _render(
    experiment: Experiment, trainer: Trainer, rows: list[EpochRecord], seconds: float, grads: bool
) -> None:
    from cli.render.fit import fitted
    from cli.render.training import epoch_table, step_table, summary, weights_table

    out = console.stdout()
    result = trainer.result
    names = experiment.names
    has_val = experiment.data.X_val is not None
    has_acc = "accuracy" in result.curves.columns
    out.print(fitted(out, epoch_table(rows, show_val=has_val, show_acc=has_acc)))
    if grads:
        ids = list(names.all_ids())
        for r in rows:
            if r.step is None:
                continue
            table_rows = [
                (w.canonical, names.alias(w), *r.step.of(w), experiment.is_frozen(w)) for w in ids
            ]
            out.print(fitted(out, step_table(r.epoch, table_rows)))
    last = result.last
    out.print(
        summary(
            name=experiment.config.name,
            status=result.status,
            epochs_run=result.epochs_run,
            epochs_planned=trainer.epochs_planned,
            final_loss=result.final_loss,
            seconds=seconds,
            threads=trainer.threads,
            engine=trainer.engine,
            accuracy=last.accuracy if last else None,
            val_loss=last.val_loss if last else None,
            val_accuracy=last.val_accuracy if last else None,
            curve=_curve(out, result.losses),
        )
    )
    shown = list(names.all_ids())[:SUMMARY_WEIGHTS]
    weights = [(w.canonical, names.alias(w), trainer.network.weight(w)) for w in shown]
    if weights:
        total = experiment.network.parameter_count()
        out.print(fitted(out, weights_table(weights, total)))


def _curve(out: Console, losses: list[float]) -> str | None:
    """The loss per epoch as one line of blocks (log scale), from epoch 2 on."""
    if len(losses) < 2:
        return None
    from cli.render.sparkline import sparkline

    unicode = (out.encoding or "").lower().startswith("utf")
    return sparkline(losses, width=40, log=True, ascii=not unicode)


def _divergence_message(experiment: Experiment, result: TrainResult) -> str:
    from cli.render.numbers import num

    names = experiment.names
    largest = ", ".join(
        f"{names.alias(w)} ({w.canonical}) {num(g, 3)}" for w, g in result.largest_gradients
    )
    eta = experiment.config.training.eta
    epoch = result.diverged_epoch
    head = f"training diverged at epoch {epoch}: the loss is {num(result.final_loss)}"
    if epoch == 1:
        # No step was taken yet: the first forward pass itself overflowed.
        return (
            f"{head} before any update; the inputs or the initial weights are too large "
            "(try data.standardize: true, or smaller weights)"
        )
    return (
        f"{head}; largest gradients in the last update: {largest}. "
        f"The steps overshoot the minimum: try a smaller eta, e.g. --eta {num(eta / 10)}"
    )
