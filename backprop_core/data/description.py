"""What a network needs to read new rows as its training data was read.

The training data's class names, input standardization and column names: a
`Dataset` learns them (`load_data`), `--save` writes them into the trained
config (`network.classes`, `network.standardization`), and `predict`'s `Model`
reads new inputs with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from backprop_core.config.model import LoadedConfig

Array = NDArray[np.floating[Any]]


@dataclass(kw_only=True)
class DataDescription:
    classes: list[str] | None = None
    # Input standardization x -> (x - mean) / std, learned from the training split.
    mean: Array | None = None
    std: Array | None = None
    # Column names, where the data came from a CSV file.
    input_names: list[str] | None = None
    target_names: list[str] | None = None

    def scale(self, X: Array) -> Array:
        """`X` standardized as the training inputs were (as it is, when they were not)."""
        if self.mean is None or self.std is None:
            return X
        return (X - self.mean) / self.std


def saved_scaling(loaded: LoadedConfig) -> tuple[Array | None, Array | None]:
    """A trained config's input standardization (mean, std), or (None, None)."""
    scaling = loaded.config.network.standardization
    if scaling is None:
        return None, None
    return np.asarray(scaling.mean, dtype=np.float64), np.asarray(scaling.std, dtype=np.float64)
