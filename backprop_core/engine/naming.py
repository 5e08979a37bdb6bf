"""Weight names (SPEC §4): canonical ``w{k}_{i}_{j}``, source-style and short forms.

A weight is identified by ``WeightId(k, i, j)``: into layer ``k`` (1..K), from
node ``i`` of layer ``k-1`` (0 = bias) to node ``j`` of layer ``k``. Names are
parsed against the network's shape rather than looked up in a table, so
resolving a name costs nothing even for a network with a million weights.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from backprop_core.errors import WeightNameError, close_matches

_CANONICAL = re.compile(r"w(\d+)_(\d+)_(\d+)")
_UNDERSCORED = re.compile(r"_(\d+)_(\d+)")
_TWO_DIGITS = re.compile(r"_?(\d)(\d)")
_ONE_DIGIT = re.compile(r"(\d)")


@dataclass(frozen=True, order=True)
class WeightId:
    k: int
    i: int
    j: int

    @property
    def is_bias(self) -> bool:
        return self.i == 0

    @property
    def canonical(self) -> str:
        return f"w{self.k}_{self.i}_{self.j}"

    # Where the weight lives (network.py's layout): ``W[k][i-1, j-1]``, or
    # ``b[k][j-1]`` for a bias. Every array of weights, gradients or masks keyed
    # ("W", k) / ("b", k) is read through these two, and only these.
    @property
    def key(self) -> tuple[str, int]:
        """The array holding it: ``("W", k)``, or ``("b", k)`` for a bias."""
        return ("b", self.k) if self.is_bias else ("W", self.k)

    @property
    def index(self) -> tuple[int, ...]:
        """Its index in that array."""
        return (self.j - 1,) if self.is_bias else (self.i - 1, self.j - 1)

    @classmethod
    def at(cls, key: tuple[str, int], index: tuple[int, ...]) -> WeightId:
        """The weight at `index` of the array `key` (the inverse of ``key``/``index``)."""
        kind, k = key
        if kind == "b":
            return cls(k, 0, int(index[0]) + 1)
        return cls(k, int(index[0]) + 1, int(index[1]) + 1)


@dataclass(frozen=True)
class WeightNames:
    """The naming scheme of one network shape.

    ``units[k]`` is the node count of layer k (``units[0]`` the inputs);
    ``bias[k-1]`` says whether layer k has bias weights.
    """

    units: tuple[int, ...]
    bias: tuple[bool, ...]

    @property
    def K(self) -> int:
        return len(self.units) - 1

    def prefix(self, k: int) -> str:
        """Source-style prefix of the matrix into layer k: xh, hh / h1h2, hy, or xy."""
        K = self.K
        if K == 1:
            return "xy"
        if k == 1:
            return "xh"
        if k == K:
            return "hy"
        return "hh" if K == 3 else f"h{k - 1}h{k}"

    def exists(self, w: WeightId) -> bool:
        if not 1 <= w.k <= self.K or not 1 <= w.j <= self.units[w.k]:
            return False
        if w.i == 0:
            return self.bias[w.k - 1]
        return 1 <= w.i <= self.units[w.k - 1]

    def alias(self, w: WeightId) -> str:
        """The source-style name shown beside the canonical one (``xh1``, ``hh01``, ``hy21``)."""
        p = self.prefix(w.k)
        if not w.is_bias and self.units[w.k - 1] == 1:
            return f"{p}{w.j}" if w.j <= 9 else f"{p}_1_{w.j}"
        if not w.is_bias and self.units[w.k] == 1:
            return f"{p}{w.i}" if w.i <= 9 else f"{p}_{w.i}_1"
        if w.i <= 9 and w.j <= 9:
            return f"{p}{w.i}{w.j}"
        return f"{p}_{w.i}_{w.j}"

    def all_ids(self) -> Iterator[WeightId]:
        """Every weight, layer by layer, bias row first, then row-major (as W is stored)."""
        for k in range(1, self.K + 1):
            first = 0 if self.bias[k - 1] else 1
            for i in range(first, self.units[k - 1] + 1):
                for j in range(1, self.units[k] + 1):
                    yield WeightId(k, i, j)

    def resolve(self, name: str) -> WeightId:
        """The weight a name denotes; WeightNameError listing the closest names if none."""
        candidates = set(self._parse(name))
        found = {w for w in candidates if self.exists(w)}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            names = sorted(w.canonical for w in found)
            raise WeightNameError(f"ambiguous weight name {name!r}: could be {', '.join(names)}")
        raise WeightNameError(f"unknown weight name {name!r}", self.closest(name))

    def _parse(self, name: str) -> Iterator[WeightId]:
        m = _CANONICAL.fullmatch(name)
        if m:
            yield WeightId(*map(int, m.groups()))
        for k in range(1, self.K + 1):
            p = self.prefix(k)
            if not name.startswith(p):
                continue
            rest = name[len(p) :]
            if (m := _UNDERSCORED.fullmatch(rest)) or (m := _TWO_DIGITS.fullmatch(rest)):
                yield WeightId(k, int(m[1]), int(m[2]))
            elif m := _ONE_DIGIT.fullmatch(rest):
                # Short form: one index names the node on the side that has more than one.
                d = int(m[1])
                if d == 0:
                    continue  # bias weights never have a short form
                if self.units[k - 1] == 1:
                    yield WeightId(k, 1, d)
                if self.units[k] == 1:
                    yield WeightId(k, d, 1)

    def closest(self, name: str, n: int = 5) -> list[str]:
        pool = self._suggestion_pool(name)
        return close_matches(name, pool, n=n, cutoff=0.5) or pool[: min(n, 3)]

    def _suggestion_pool(self, name: str, limit: int = 20_000) -> list[str]:
        pool: list[str] = []
        for w in self.all_ids():
            pool += [w.canonical, self.alias(w)]
            if len(pool) >= limit:
                break
        return pool
