"""A Trainer's epochs on the scalar path (engine/scalar_path.py), when it is chosen.

`training.engine`: ``vector`` never takes it, ``scalar`` always (a network it
cannot take is a config error, see experiment.py), ``auto`` where it can and is
the faster, its compiling included (`pays_off`). Each epoch ends by storing its
weights into the network's arrays, so whatever reads them between epochs reads
the newest; the optimizer's state goes back only when the vector engine takes
over an epoch (`--grads` showing an update, a divergence to report).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from backprop_core.engine.network import Array, Gradients
from backprop_core.engine.optimizers import Optimizer
from backprop_core.engine.scalar_path import ScalarPath, pays_off
from backprop_core.run.experiment import Experiment


class ScalarEpochs:
    """Epochs of an experiment's network on the scalar path, `optimizer` updating it
    in batches of `batch` rows, the arrays keyed in `still` wholly frozen."""

    def __init__(
        self,
        experiment: Experiment,
        optimizer: Optimizer,
        stepped: Sequence[Array],
        batch: int,
        still: Collection[tuple[str, int]],
    ) -> None:
        spec = experiment.config.training
        self.optimizer, self.stepped = optimizer, stepped
        self.path = ScalarPath(
            experiment.network,
            spec.optimizer.name,
            spec.eta,
            spec.optimizer.settings(),
            experiment.masks(),
            batch,
            experiment.data.n,
            still,
        )
        self.epoch = self.path.epoch_function
        data = experiment.data
        self.rows = [tuple(row) for row in np.hstack([data.X, data.T]).astype(float).tolist()]
        # The batches in the rows' own order, made once: every epoch that does
        # not shuffle takes them so.
        self.fixed = self.path.batches(self.rows, None)
        # None: the arrays and the optimizer hold the newest state (at the start,
        # and after the vector engine took an epoch).
        self.state: tuple[float | int, ...] | None = None
        self.last: tuple[float, ...] | None = None  # the last update's gradients

    @classmethod
    def chosen(
        cls,
        experiment: Experiment,
        optimizer: Optimizer,
        stepped: Sequence[Array],
        batch: int,
        still: Collection[tuple[str, int]],
    ) -> ScalarEpochs | None:
        """The scalar path if `training.engine` chooses it (auto: where it can take
        the network and is faster, compiling included; `pays_off`); `stepped`: the
        arrays the vector engine's `optimizer` steps (its state is laid out so)."""
        spec = experiment.config.training
        if spec.engine == "vector":
            return None
        if spec.engine == "auto":
            data = experiment.data
            updates = spec.epochs * -(-data.n // batch)
            values = data.X.size + data.T.size
            if experiment.scalar_unsupported(batch) is not None or not pays_off(
                experiment.network, batch, updates, values
            ):
                return None
        return cls(experiment, optimizer, stepped, batch, still)

    def run(self, order: Sequence[int] | None) -> tuple[float, int] | None:
        """One epoch, the rows in `order` (None: as they are): the sum of its batches'
        loss times their rows and its right predictions; the weights written back.
        None: a batch's loss was not finite (or math raised where numpy would have
        given inf or NaN); `hand_over` then gives the vector engine the epoch's
        starting state to retake it (and report any divergence)."""
        state = self.state
        if state is None:
            state = self.path.state(self.optimizer)
        if order is None:
            batches, last = self.fixed
        else:
            batches, last = self.path.batches(self.rows, list(order))
        try:
            done = self.epoch(state, batches, last)
        except (ArithmeticError, ValueError):  # where numpy gives inf or NaN, math may raise
            done = None
        if done is None:
            self.state = state
            return None
        self.state, total, right, self.last = done  # the arrays hold its weights
        return total, right

    def gradients(self) -> Gradients | None:
        """The last update's gradients (of the arrays that move), as the engine gives them."""
        return self.path.gradients(self.last) if self.last is not None else None

    def hand_over(self) -> Gradients | None:
        """Write the newest state (weights and the optimizer's) back for the vector
        engine; the last update's gradients, if the scalar path made them."""
        if self.state is not None:
            self.path.write(self.state, self.optimizer, self.stepped)
            self.state = None
        gradients, self.last = self.gradients(), None
        return gradients
