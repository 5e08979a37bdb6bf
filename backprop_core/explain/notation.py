"""Node names as the derivation writes them: ``x1``, ``H21``, ``A1``, ``Y_in``, ``delta_1(2)``.

The naming rules are listed in the docstring of backprop_core/explain/derivation.py;
`Notation` is their one implementation, used by every section of `explain`.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_core.engine.network import Network


@dataclass(frozen=True)
class Notation:
    units: tuple[int, ...]
    phis: tuple[str, ...]  # "phi" or "phi_k" per layer 1..K

    @property
    def K(self) -> int:
        return len(self.units) - 1

    def _pair(self, k: int, j: int) -> str:
        # A one-node layer is named by its layer alone, whatever its number (H10).
        if self.units[k] == 1:
            return f"{k}"
        return f"{k}{j}" if k <= 9 and j <= 9 else f"{k}_{j}"

    def H(self, k: int, j: int) -> str:
        if k == self.K:
            return "Y_in" if self.units[k] == 1 else f"Y_in{j}"
        return f"H{self._pair(k, j)}"

    def out(self, k: int, i: int) -> str:
        """Output of node i of layer k (``x1`` for the inputs, ``1`` for a bias node)."""
        if i == 0:
            return "1"
        if k == 0:
            return f"x{i}"
        if k == self.K:
            return "Y" if self.units[k] == 1 else f"Y{i}"
        return f"A{self._pair(k, i)}"

    def bias(self, k: int) -> str:
        """The bias node feeding layer k, as the drawing labels it (its output is ``1``)."""
        return f"B{k}"

    def T(self, j: int) -> str:
        return "T" if self.units[self.K] == 1 else f"T{j}"

    def d(self, k: int, j: int) -> str:
        """The node as it appears in a derivative: the output is the derivation's lower-case y."""
        if k == self.K:
            return "y" if self.units[k] == 1 else f"y{j}"
        return self.out(k, j)

    def delta(self, k: int, j: int) -> str:
        return f"delta({k})" if self.units[k] == 1 else f"delta_{j}({k})"

    def phi(self, k: int) -> str:
        return self.phis[k - 1]


def notation_for(network: Network) -> Notation:
    described = [layer.activation.describe() for layer in network.layers]
    same = len(set(described)) == 1
    phis = tuple("phi" if same else f"phi_{k}" for k in range(1, network.K + 1))
    return Notation(network.units, phis)
