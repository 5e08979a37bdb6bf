"""Node names as the derivation writes them: ``x1``, ``H21``, ``A1``, ``Y_in``, ``delta_1(2)``.

The naming rules are listed in the docstring of backprop_core/explain/derivation.py;
`Notation` is their one implementation, used by every section of `explain`. Every
name is an expression leaf (`Sym`, `Weight`, see expr.py) carrying both its text
and its parts.

Two notations: ``source`` (the default) follows the source derivation line by line
(``dL/dy``, ``dy/dA21``, ``d``); ``standard`` is the textbook form (``∂L/∂Y``,
``∂Y/∂A21``: one letter for the output everywhere, weights as ``w^{(k)}_{ij}``
where the format can typeset it).
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Network
from backprop_core.explain.expr import Apply, Deriv, Expr, Num, Sym, Weight, render_text

NOTATIONS = ("source", "standard")


@dataclass(frozen=True)
class Notation:
    units: tuple[int, ...]
    phis: tuple[str, ...]  # "phi" or "phi_k" per layer 1..K
    standard: bool = False

    @property
    def K(self) -> int:
        return len(self.units) - 1

    def _pair(self, k: int, j: int) -> tuple[str, tuple[str, ...]]:
        """The subscript of node j of layer k as text and as parts: ``21``, ``1``, ``10_3``.

        A one-node layer is named by its layer alone, whatever its number (``H10``),
        as the drawings name it."""
        if self.units[k] == 1:
            return f"{k}", (f"{k}",)
        if k <= 9 and j <= 9:
            return f"{k}{j}", (f"{k}", f"{j}")
        return f"{k}_{j}", (f"{k}", f"{j}")

    def _node(self, k: int, j: int) -> str:
        return "" if self.units[k] == 1 else f"{j}"

    def H(self, k: int, j: int) -> Sym:
        if k == self.K:
            node = self._node(k, j)
            return Sym(f"Y_in{node}", "Y", (node,) if node else (), "in", k, j)
        text, index = self._pair(k, j)
        return Sym(f"H{text}", "H", index, "", k, j)

    def out(self, k: int, i: int) -> Expr:
        """Output of node i of layer k (``x1`` for the inputs, ``1`` for a bias node)."""
        if i == 0:
            return Num(1.0)
        if k == 0:
            return Sym(f"x{i}", "x", (f"{i}",), "", 0, i)
        if k == self.K:
            node = self._node(k, i)
            return Sym(f"Y{node}", "Y", (node,) if node else (), "", k, i)
        text, index = self._pair(k, i)
        return Sym(f"A{text}", "A", index, "", k, i)

    def bias(self, k: int) -> Sym:
        """The bias node feeding layer k, as the drawing labels it (its output is ``1``)."""
        return Sym(f"B{k}", "B", (f"{k}",), "", k, 0)

    def T(self, j: int) -> Sym:
        node = self._node(self.K, j)
        return Sym(f"T{node}", "T", (node,) if node else (), "", self.K, j)

    def d(self, k: int, j: int) -> Expr:
        """The node in a derivative: the source writes the output as lower-case y."""
        if k == self.K and not self.standard:
            node = self._node(k, j)
            return Sym(f"y{node}", "y", (node,) if node else (), "", k, j)
        return self.out(k, j)

    def deriv(self, top: Expr, bottom: Expr) -> Deriv:
        return Deriv(top, bottom, partial=self.standard)

    def dL(self, bottom: Expr) -> Deriv:
        return self.deriv(LOSS, bottom)

    def delta(self, k: int, j: int) -> Sym:
        if self.units[k] == 1:
            return Sym(f"delta({k})", "delta", (), "", k, j)
        return Sym(f"delta_{j}({k})", "delta", (f"{j}",), "", k, j)

    def phi(self, k: int) -> Sym:
        text = self.phis[k - 1]
        return Sym(text, "phi", (f"{k}",) if text != "phi" else (), "", k)

    def dphi(self, k: int, arg: Expr) -> Apply:
        """``phi'(arg)`` of layer k."""
        return Apply(self.phi(k), (arg,), prime=True)

    def leaves(self, names: WeightNames) -> dict[str, Expr]:
        """Every name of the network as its text, mapped to its leaf: nodes, targets,
        deltas, activations, weights (for code that holds names as text, bp sheet)."""
        out: dict[str, Expr] = {"L": LOSS, "eta": ETA, "eps": EPS}
        for k in range(self.K + 1):
            for j in range(1, self.units[k] + 1):
                nodes: list[Expr] = [self.out(k, j)]
                if k:
                    nodes += [self.H(k, j), self.d(k, j), self.delta(k, j), self.phi(k)]
                out.update({render_text(e): e for e in nodes})
        out.update({render_text(self.T(j)): self.T(j) for j in range(1, self.units[-1] + 1)})
        for w in names.all_ids():
            out[names.alias(w)] = self.weight(names, w)
        return out

    def weight(self, names: WeightNames, w: WeightId) -> Weight:
        alias, prefix = names.alias(w), names.prefix(w.k)
        rest = alias[len(prefix) :]
        index = tuple(rest.split("_")[1:]) if rest.startswith("_") else tuple(rest)
        return Weight(alias, prefix, index, w.k, w.i, w.j, self.standard)


LOSS = Sym("L", "L")
ETA = Sym("eta", "eta")
EPS = Sym("eps", "eps")


def notation_for(network: Network, standard: bool = False) -> Notation:
    described = [layer.activation.describe() for layer in network.layers]
    same = len(set(described)) == 1
    phis = tuple("phi" if same else f"phi_{k}" for k in range(1, network.K + 1))
    return Notation(network.units, phis, standard)


@dataclass(frozen=True)
class TextNotation:
    """The same names as plain text (``H21``, ``A1``, ``delta_1(2)``, ``1`` for a bias
    node), for code that keys quantities by their name (bp grade)."""

    nt: Notation

    @property
    def K(self) -> int:
        return self.nt.K

    def H(self, k: int, j: int) -> str:
        return render_text(self.nt.H(k, j))

    def out(self, k: int, i: int) -> str:
        return render_text(self.nt.out(k, i))

    def T(self, j: int) -> str:
        return render_text(self.nt.T(j))

    def d(self, k: int, j: int) -> str:
        return render_text(self.nt.d(k, j))

    def delta(self, k: int, j: int) -> str:
        return render_text(self.nt.delta(k, j))

    def phi(self, k: int) -> str:
        return render_text(self.nt.phi(k))
