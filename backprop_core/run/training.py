"""The training loop: batches, the delta recursion, an update, per-epoch records.

`Trainer.epochs()` is a generator, so the caller renders each epoch as it
finishes and can stop (Ctrl-C) between epochs with `snapshot` weights intact.
``losses[e]`` is the mean loss of epoch ``e``'s own forward passes, each taken
before its batch's update (as Keras logs it), weighted by batch size; so is the
training ``accuracy`` of a classifier. Neither costs an extra pass over the data.
Passes over a whole data set (validation, the final loss) go in chunks of
`CHUNK` rows, so memory stays near the size of the data.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.engine.losses import LOSSES, ONE_HOT
from backprop_core.engine.naming import WeightId
from backprop_core.engine.network import FRESH, Gradients, Network, Workspace
from backprop_core.engine.optimizers import make_optimizer
from backprop_core.engine.seeding import SHUFFLE, rng
from backprop_core.run.experiment import Experiment
from backprop_core.run.scalar_epochs import ScalarEpochs
from backprop_core.run.threads import blas_threads, threads_for

Array = NDArray[np.floating[Any]]

CHUNK = 8192  # rows per forward pass when evaluating a whole data set


@dataclass
class StepDetail:
    """One update: every weight array before it, its gradient, and after it.

    Arrays are in `Network.parameters()` order, keyed by `keys` ("W"/"b", k).
    """

    keys: list[tuple[str, int]]
    before: list[Array]
    grads: list[Array]
    after: list[Array]

    def of(self, w: WeightId) -> tuple[float, float, float, float]:
        """(value before, dL/dw, step, value after) of one weight."""
        at, index = self.keys.index(w.key), w.index
        before, after = float(self.before[at][index]), float(self.after[at][index])
        return before, float(self.grads[at][index]), after - before, after


@dataclass(slots=True)  # slots: one is made per epoch, on small networks per update
class EpochRecord:
    epoch: int  # 1-based
    loss: float
    grad_norm: float
    val_loss: float | None = None
    accuracy: float | None = None
    val_accuracy: float | None = None
    step: StepDetail | None = None
    change: float | None = None  # loss minus the previous epoch's loss


class Curves:
    """Per-epoch figures as compact float arrays (8 bytes an epoch each), not records.

    A long run keeps its loss curve (the summary's sparkline, --json, --plot)
    without a record per epoch; NaN stands for a figure an epoch did not have.
    """

    FIGURES = ("loss", "val_loss", "accuracy", "val_accuracy")

    def __init__(self) -> None:
        self.loss: array[float] = array("d")
        self.columns: dict[str, array[float]] = {"loss": self.loss}

    def append(self, record: EpochRecord) -> None:
        self.loss.append(record.loss)
        if len(self.columns) == 1 and record.val_loss is None and record.accuracy is None:
            return  # the common case, per epoch of a long run: the loss alone
        for name in self.FIGURES[1:]:
            value = getattr(record, name)
            column = self.columns.get(name)
            if column is None and value is not None:
                column = self.columns[name] = array("d", [math.nan]) * (record.epoch - 1)
            if column is not None:
                column.append(math.nan if value is None else value)

    def __len__(self) -> int:
        return len(self.columns["loss"])

    def records(self) -> list[EpochRecord]:
        """Every epoch as a record (loss, validation and accuracy only), built on demand."""
        none = [None] * len(self)
        figures = {
            name: list(self.columns[name]) if name in self.columns else none
            for name in self.FIGURES
        }
        return [
            EpochRecord(
                epoch=e + 1,
                loss=figures["loss"][e],
                grad_norm=math.nan,
                val_loss=figures["val_loss"][e],
                accuracy=figures["accuracy"][e],
                val_accuracy=figures["val_accuracy"][e],
            )
            for e in range(len(self))
        ]


@dataclass
class TrainResult:
    status: str = "completed"  # completed | stopped_early | diverged | interrupted
    curves: Curves = field(default_factory=Curves)
    last: EpochRecord | None = None  # the last completed epoch's full record
    final_loss: float = math.nan
    diverged_epoch: int | None = None
    largest_gradients: list[tuple[WeightId, float]] = field(default_factory=list)
    batch_size: int = 0
    # Said before training when the batch was clamped (`batch_rows`), else None.
    batch_warning: str | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.curves)

    @property
    def losses(self) -> list[float]:
        return list(self.curves.columns["loss"])

    @property
    def history(self) -> list[EpochRecord]:
        """Every epoch's figures as records (for plots and JSON), built when asked for."""
        return self.curves.records()

    def add(self, record: EpochRecord) -> None:
        if self.last is not None:
            record.change = record.loss - self.last.loss
        self.curves.append(record)
        self.last = record


def accuracy(Y: Array, T: Array, loss: str) -> float | None:
    """Fraction of rows classified right: argmax for softmax, 0.5 threshold for sigmoid."""
    if not LOSSES[loss].classifier:
        return None
    return correct(Y, T, loss) / judged(T, loss)


def judged(T: Array, loss: str) -> int:
    """How many predictions accuracy counts: rows for softmax, outputs for sigmoid."""
    return T.shape[0] if LOSSES[loss].targets == ONE_HOT else T.size


def correct(Y: Array, T: Array, loss: str) -> int:
    """How many predictions are right (rows for softmax, outputs for sigmoid)."""
    return int(np.count_nonzero(predicted(Y, loss) == predicted(T, loss)))


def predicted(Y: Array, loss: str, out: NDArray[Any] | None = None) -> NDArray[Any]:
    """What accuracy compares: the argmax class per row for softmax, each output's
    0.5 threshold for sigmoid (of the outputs Y, or of the targets T)."""
    if LOSSES[loss].targets == ONE_HOT and Y.shape[1] > 1:
        return Y.argmax(axis=1, out=out)
    return np.greater_equal(Y, 0.5, out=out)


def batch_rows(batch_size: int | str, n: int) -> tuple[int, str | None]:
    """Rows per update for ``training.batch_size`` on `n` rows, and the warning if clamped.

    A batch larger than the data is the full batch: `bp train` trains with it and
    `bp check` warns about it with the same words.
    """
    requested = n if batch_size == "full" else int(batch_size)
    if requested <= n:
        return requested, None
    return n, (
        f"batch_size {requested} is larger than the {n} training rows; "
        "training will use the full batch"
    )


@dataclass(frozen=True)
class SavedWeights:
    """What `--save` writes: weights, the epochs behind them, their loss (NaN: not
    measured) and a note on why they are not the newest."""

    network: Network
    epochs: int
    loss: float
    note: str | None = None


class Trainer:
    """Trains an experiment's network in place.

    `keep_snapshot`: keep the weights `weights_to_save` needs after an interrupt or a
    divergence. `record_steps(epoch)`: keep that epoch's last update in detail
    (`EpochRecord.step`; `--grads` shows it). `measure_norm(epoch)`: measure that
    epoch's gradient norm (None: every epoch; on tiny networks the norm costs a
    tenth of an update, so `bp train` measures it only for the epochs it logs).
    """

    # Reuse a batch size's arrays when one of them is at least this large.
    reuse_from_bytes = 128 * 1024

    def __init__(
        self,
        experiment: Experiment,
        *,
        keep_snapshot: bool = False,
        record_steps: Callable[[int], bool] | None = None,
        measure_norm: Callable[[int], bool] | None = None,
    ) -> None:
        self.experiment = experiment
        self.network: Network = experiment.network
        spec = experiment.config.training
        self.epochs_planned: int = spec.epochs
        self.stop_at_loss: float | None = spec.stop_at_loss
        self.shuffle: bool = spec.shuffle
        n = self.n = experiment.data.n  # the data are fixed for the trainer's life
        rows, warning = batch_rows(spec.batch_size, n)
        val = experiment.data.X_val
        self.validating = val is not None and experiment.data.T_val is not None and len(val) > 0
        self.result = TrainResult(batch_size=rows, batch_warning=warning)
        opt = spec.optimizer
        # Every setting of `training.optimizer`; the optimizer's record picks its own.
        self.optimizer = make_optimizer(opt.name, spec.eta, **opt.settings())
        masks = experiment.masks()
        self.keys = [key for key, _ in self.network.parameters()]
        self.masks = [masks[key] for key in self.keys]
        # Partly frozen arrays get their gradient masked; wholly frozen ones are
        # skipped (their step is 0, and skipping keeps them finite however large
        # the gradient grows).
        self.still = {i for i, m in enumerate(self.masks) if m is not None and not m.any()}
        self.moving = [i for i in range(len(self.masks)) if i not in self.still]
        self.moving_keys = [self.keys[i] for i in self.moving]
        self.still_keys = frozenset(self.keys[i] for i in self.still)
        self.masked = [
            (pos, self.masks[i]) for pos, i in enumerate(self.moving) if self.masks[i] is not None
        ]
        self.classifier = self.network.loss_record.classifier
        if self.classifier:
            # The targets' classes once; each batch writes its predictions into
            # `guesses` (one operation), compared once per epoch.
            self.truth = predicted(experiment.data.T, self.network.loss)
            self.guesses = np.empty_like(self.truth)
        self.keep_snapshot = keep_snapshot
        # What --save writes when training stops early. `snapshot`: the weights
        # after the last completed epoch (after an interrupt). `finite`: the last
        # weights whose loss was measured and finite, the epochs behind them and
        # that loss (after a divergence, when the newest weights gave inf/NaN).
        self.snapshot: Network | None = self.network.copy() if keep_snapshot else None
        self.snapshot_epoch = 0
        self.finite: tuple[Network, int, float] | None = None
        # The trained arrays first, then the still ones, in one buffer (when the data
        # are in the network's dtype): a step over every trained weight is then one
        # operation, where a small network's update is mostly the cost of calls.
        self.order = [*self.moving_keys, *(self.keys[i] for i in sorted(self.still))]
        data = experiment.data
        self.packed = data.X.dtype == self.network.dtype == data.T.dtype
        theta = self.network.pack(self.order) if self.packed else None
        self.params = [p for _, p in self.network.parameters()]
        self.trained = [self.params[i] for i in self.moving]
        self.moving_size = sum(p.size for p in self.trained)
        self.trained_flat = [theta[: self.moving_size]] if theta is not None else []
        self.flat_mask = (
            np.concatenate(
                [
                    (self.masks[i] if self.masks[i] is not None else np.ones_like(p)).ravel()
                    for i, p in zip(self.moving, self.trained, strict=True)
                ]
            )
            if self.masked
            else None
        )
        self._last_gradients: Gradients | None = None
        self.workspaces: dict[int, list[Workspace]] = {}
        self.record_steps = record_steps
        self.measure_norm = measure_norm
        self.threads: int = threads_for(spec.threads, self.largest_rows(), self.network)
        # Small networks: engine/scalar_path.py, unless training.engine says otherwise.
        stepped = self.trained_flat if self.packed else self.trained  # what step() gets
        self.scalar = ScalarEpochs.chosen(
            experiment, self.optimizer, stepped, rows, self.still_keys
        )

    def largest_rows(self) -> int:
        """Rows of the run's largest forward pass: a batch, or a chunk of a whole-data pass."""
        data = self.experiment.data
        rows = max(self.result.batch_size, min(self.n, CHUNK))
        if self.validating and data.X_val is not None:
            rows = max(rows, min(len(data.X_val), CHUNK))
        return rows

    @property
    def engine(self) -> str:
        """Which engine trains: "scalar" (engine/scalar_path.py; an epoch that --grads
        shows, or a divergence to report, is retaken by the vector engine) or "vector"."""
        return "vector" if self.scalar is None else "scalar"

    @property
    def last_gradients(self) -> Gradients | None:
        """The last update's gradients (made on demand after the scalar path's epochs)."""
        scalar = self.scalar
        if scalar is not None and scalar.last is not None:
            return scalar.gradients()
        return self._last_gradients

    @last_gradients.setter
    def last_gradients(self, grads: Gradients | None) -> None:
        self._last_gradients = grads

    @cached_property
    def shuffler(self) -> np.random.Generator:
        """The shuffling stream, made on first use: a run that never shuffles (full
        batch, or `shuffle: false`) does not import numpy.random at all."""
        return rng(self.experiment.config.seed, SHUFFLE)

    def epochs(self) -> Iterator[EpochRecord]:
        """Train epoch by epoch, yielding each epoch's record as it completes."""
        # Overflow is expected on the way to a divergence, which is detected and
        # reported; numpy's warnings would only repeat it noisily. Set once for
        # the run: entering errstate costs as much as a tiny network's update.
        with blas_threads(self.threads), np.errstate(all="ignore"):
            yield from self._epochs()

    def _epochs(self) -> Iterator[EpochRecord]:
        for epoch in range(1, self.epochs_planned + 1):
            record = self._epoch(epoch)
            self.result.add(record)
            if self.result.status == "diverged":
                yield record
                return
            if self.keep_snapshot and self.snapshot is not None:
                # This epoch's loss was measured on the weights it started from.
                self.finite = (self.snapshot, epoch - 1, record.loss)
                self.snapshot = self.network.copy()
                self.snapshot_epoch = epoch
            yield record
            if self.stop_at_loss is not None and record.loss <= self.stop_at_loss:
                self.result.status = "stopped_early"
                break
        self.result.final_loss = self.loss_on_training_data()

    def _epoch(self, epoch: int) -> EpochRecord:
        data, net = self.experiment.data, self.network
        n, B = self.n, self.result.batch_size
        order = self.shuffler.permutation(n) if (n > B and self.shuffle) else None
        record_step = self.record_steps is not None and self.record_steps(epoch)
        scalar, done, before = self.scalar, None, None
        if scalar is not None:
            done = None if record_step else scalar.run(order)
            if done is None:  # --grads shows this update, or a loss was not finite
                self.last_gradients = scalar.hand_over() or self.last_gradients
        total, right = done if done is not None else (0.0, None)
        for start in range(0, n, B) if done is None else ():
            if n == B:
                X, T = data.X, data.T
            elif order is None:
                X, T = data.X[start : start + B], data.T[start : start + B]
            else:  # take(): the rows' copy, at a third of the cost of fancy indexing
                rows = order[start : start + B]
                X, T = data.X.take(rows, 0), data.T.take(rows, 0)
            # Wholly frozen arrays' gradients are not computed, unless --grads shows them.
            skip = () if record_step else self.still_keys
            ws = self._workspace(X, T)
            loss, grads, trace = net.loss_and_gradients(X, T, skip, ws)
            if not math.isfinite(loss):
                return self._diverged(epoch, loss, self.last_gradients or grads)
            total += loss * X.shape[0]
            if self.classifier:
                predicted(trace.Y, net.loss, out=self.guesses[start : start + B])
            before = [p.copy() for p in self.params] if record_step else None
            # The gradients of the arrays that move, partly frozen ones masked.
            if ws.gradient is not None:  # one view over all of them (`packed`)
                g = ws.gradient[: self.moving_size]
                self.optimizer.step(
                    self.trained_flat, [g if self.flat_mask is None else g * self.flat_mask]
                )
            else:
                g_arrays = self._ordered(grads, self.moving_keys)
                for pos, mask in self.masked:
                    g_arrays[pos] = g_arrays[pos] * mask
                self.optimizer.step(self.trained, g_arrays)
            self._last_gradients = grads  # (not the property: per update)
        wanted = self.measure_norm is None or self.measure_norm(epoch)
        norm = self._norm(self.last_gradients) if wanted else math.nan
        record = EpochRecord(epoch, total / n, norm)
        if self.classifier:
            if right is None:
                truth = self.truth if order is None else self.truth[order]
                right = int(np.count_nonzero(self.guesses == truth))
            record.accuracy = right / judged(data.T, net.loss)
        if before is not None:
            # The true gradients, frozen weights' included (their step is 0).
            after = [p.copy() for p in self.params]
            gradients = [g.copy() for g in self._ordered(grads)]  # the workspace is reused
            record.step = StepDetail(self.keys, before, gradients, after)
        if self.validating:
            self._validate(record)
        return record

    def _workspace(self, X: Array, T: Array) -> Workspace:
        """The buffers for this batch size, two taking turns: the previous update's
        gradients (`last_gradients`, reported if this update diverges) stay intact.

        Every workspace holds the gradients in one buffer laid out as the weights
        (`order`); the per-sample arrays only where they are large.
        """
        if not self.packed:
            return FRESH  # mixed dtypes: let NumPy choose the result types, as always
        n = X.shape[0]
        pair = self.workspaces.get(n)
        if pair is None:
            net = self.network
            # Blocks under glibc's mmap threshold are recycled by the allocator
            # already; for them the buffers would cost more than they save.
            rows = Workspace.largest(net, n) >= self.reuse_from_bytes
            pair = self.workspaces[n] = [
                Workspace.of(net, n, self.order, rows=rows) for _ in range(2)
            ]
        pair.reverse()
        return pair[0]

    def weights_to_save(self, status: str) -> SavedWeights | None:
        """The weights to keep after a run that ended with `status`; never weights
        whose loss is not finite (None: nothing worth saving)."""
        result = self.result
        if status == "diverged":
            if self.finite is None or self.finite[1] == 0:
                return None
            network, epochs, loss = self.finite
            note = (
                f"weights after epoch {epochs}, the last whose loss was finite; training "
                f"diverged at epoch {result.diverged_epoch}"
            )
            return SavedWeights(network, epochs, loss, note)
        if status == "interrupted":  # the last completed epoch; its loss was never measured
            if self.snapshot is None or self.snapshot_epoch == 0:
                return None
            epochs = self.snapshot_epoch
            note = f"weights after epoch {epochs} (interrupted)"
            return SavedWeights(self.snapshot, epochs, math.nan, note)
        return SavedWeights(self.network, result.epochs_run, result.final_loss)

    def run(self) -> TrainResult:
        for _ in self.epochs():
            pass
        return self.result

    def loss_on_training_data(self) -> float:
        data = self.experiment.data
        return self._evaluate(data.X, data.T)[0]

    def _evaluate(self, X: Array, T: Array) -> tuple[float, float | None]:
        """Loss and accuracy of the current weights on (X, T), CHUNK rows at a time."""
        net = self.network
        if len(X) <= CHUNK:
            trace = net.forward(X)
            return net.loss_of(trace, T), accuracy(trace.Y, T, net.loss)
        total, right = 0.0, 0
        for start in range(0, len(X), CHUNK):
            trace, Tc = net.forward(X[start : start + CHUNK]), T[start : start + CHUNK]
            total += net.loss_of(trace, Tc) * len(Tc)
            right += correct(trace.Y, Tc, net.loss) if self.classifier else 0
            # Let this chunk's arrays go before the next is computed: otherwise two
            # chunks' forward passes are alive at once (tens of MB on wide nets).
            del trace
        size = judged(T, net.loss)
        return total / len(X), (right / size if self.classifier else None)

    def _ordered(self, grads: Gradients, keys: list[tuple[str, int]] | None = None) -> list[Array]:
        """The gradient arrays in the order of `keys` (default: every parameter)."""
        return [
            grads.dL_dW[k] if kind == "W" else grads.dL_db[k]
            for kind, k in (self.keys if keys is None else keys)
        ]

    def _norm(self, grads: Gradients | None) -> float:
        if grads is None:
            return 0.0
        total = 0.0
        for i, gi in zip(self.moving, self._ordered(grads, self.moving_keys), strict=True):
            if self.masks[i] is not None:
                gi = gi * self.masks[i]
            total += float(np.vdot(gi, gi))
        return math.sqrt(total)

    def _validate(self, record: EpochRecord) -> None:
        data = self.experiment.data
        assert data.X_val is not None and data.T_val is not None  # (`validating`)
        record.val_loss, record.val_accuracy = self._evaluate(data.X_val, data.T_val)

    def _diverged(self, epoch: int, loss: float, grads: Gradients) -> EpochRecord:
        self.result.status = "diverged"
        self.result.diverged_epoch = epoch
        self.result.final_loss = loss
        self.result.largest_gradients = largest_gradients(self.experiment, grads)
        return EpochRecord(epoch, loss, math.nan)


def largest_gradients(
    experiment: Experiment, grads: Gradients, n: int = 3
) -> list[tuple[WeightId, float]]:
    """The `n` trainable weights with the largest |dL/dw| (non-finite first)."""
    rows: list[tuple[float, WeightId, float]] = []
    for key, g in grads.items():
        flat = np.nan_to_num(np.abs(g), nan=np.inf).ravel()
        for index in np.argsort(-flat, kind="stable")[: n * 4]:
            w = WeightId.at(key, np.unravel_index(index, g.shape))
            if not experiment.is_frozen(w):
                rows.append((float(flat[index]), w, float(g.ravel()[index])))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [(w, value) for _, w, value in rows[:n]]


def train_for(experiment: Experiment, epochs: int) -> TrainResult:
    """Train `experiment`'s network in place for `epochs` epochs exactly as `bp train`
    would (same seed, same shuffled batches, same optimizer), ignoring stop_at_loss."""
    trainer = Trainer(experiment)
    trainer.epochs_planned = epochs
    trainer.stop_at_loss = None
    return trainer.run()
