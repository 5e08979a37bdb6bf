"""All randomness derives from the config's ``seed``, one independent stream per use.

Streams are keyed so that, say, changing the batch size (which changes how
often the shuffler draws) never changes the initial weights or the data.
"""

from __future__ import annotations

import numpy as np

INIT, SHUFFLE, DATA, SPLIT = 1, 2, 3, 4


def rng(seed: int, stream: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, *extra])
