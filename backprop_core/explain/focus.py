"""Which nodes and edges of the drawing each step of the derivation uses.

A step's expressions name what it reads: ``H21 = A1 * hh1`` uses the nodes A1
and H21 and the edge hh1; ``dA21/dA1 = phi'(H21) * hh1`` the same (a derivative
of a node by a node of the layer below is the factor of the edge between them);
``delta_1(2)`` node 1 of layer 2; the loss ``L`` every output; a chain-rule path
every edge along it. `focus` reads this off the expression trees (expr.py): each
node name is a leaf that knows its layer and node, each weight its k, i, j.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backprop_core.engine.naming import WeightId
from backprop_core.explain.drawing import node_id, source_of
from backprop_core.explain.expr import Deriv, Expr, Sym, Weight, walk
from backprop_core.explain.steps import Explanation, Path, Step

NOT_NODES = {"phi", "eta", "eps"}  # leaves that carry a layer but name no node


@dataclass(frozen=True)
class Focus:
    nodes: frozenset[str]  # drawing node ids (drawing.node_id)
    edges: frozenset[WeightId]

    def ids(self) -> list[str]:
        """Edge and node ids of the drawing, edges first (as cli/render/svg.py names them)."""
        edges = sorted(f"e{w.k}_{w.i}_{w.j}" for w in self.edges)
        return edges + sorted(self.nodes)


def _node(e: Expr) -> tuple[int, int] | None:
    """(layer, node) of a leaf naming a node: H21, A1, x2, Y, y, T1, delta_1(2)."""
    if isinstance(e, Sym) and e.base not in NOT_NODES and e.layer is not None and e.node:
        return e.layer, e.node
    return None


def expression_focus(exprs: Iterable[Expr | None], units: tuple[int, ...]) -> Focus:
    """Every node and edge the expressions name."""
    K = len(units) - 1
    nodes: set[str] = set()
    edges: set[WeightId] = set()
    for e in exprs:
        for n in walk(e) if e is not None else ():
            if isinstance(n, Weight):
                edges.add(WeightId(n.k, n.i, n.j))
                nodes |= {source_of(WeightId(n.k, n.i, n.j)), node_id(n.k, n.j)}
            elif isinstance(n, Sym) and n.base == "L":
                nodes |= {node_id(K, j) for j in range(1, units[K] + 1)}  # the loss reads them all
            elif (found := _node(n)) is not None:
                nodes.add(node_id(*found))
            if isinstance(n, Deriv):
                top, bottom = _node(n.top), _node(n.bottom)
                if top and bottom and top[0] == bottom[0] + 1:
                    edges.add(WeightId(top[0], bottom[1], top[1]))
    return Focus(frozenset(nodes), frozenset(edges))


def step_focus(step: Step, units: tuple[int, ...]) -> Focus:
    return expression_focus((step.lhs, step.explains, step.formula), units)


def path_focus(w: WeightId, path: Path) -> Focus:
    """The weight's edge and every edge after it along one chain-rule path."""
    edges = {w}
    nodes = {source_of(w), node_id(w.k, path.nodes[0])}
    for d in range(1, len(path.nodes)):
        edges.add(WeightId(w.k + d, path.nodes[d - 1], path.nodes[d]))
        nodes.add(node_id(w.k + d, path.nodes[d]))
    return Focus(frozenset(nodes), frozenset(edges))


def focus(x: Explanation, units: tuple[int, ...]) -> list[list[Focus]]:
    """Per section, per step: what the step uses on the drawing. A path's step is
    its whole path (its formula names only the derivatives along it)."""
    out: list[list[Focus]] = []
    for section in x.sections:
        paths = iter(x.paths) if section.key == "paths" else iter(())
        found = []
        for step in section.steps:
            p = next(paths, None) if step.symbol.startswith("path ") else None
            found.append(path_focus(x.weight, p) if p is not None else step_focus(step, units))
        out.append(found)
    return out
