"""Which nodes and edges of the drawing each step of the derivation uses.

A step names what it reads: ``H21 = A1 * hh1`` uses the nodes A1 and H21 and the
edge hh1; ``dA21/dA1 = phi'(H21) * hh1`` the same; ``delta_1(2)`` node 1 of
layer 2; a chain-rule path every edge along it. `focus` reads those names back
through the one notation (notation.py) and the weight names, so the highlighted
part of the drawing is exactly what the step writes down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.explain.drawing import node_id, source_of
from backprop_core.explain.notation import Notation
from backprop_core.explain.steps import Explanation, Path, Step

_NAME = re.compile(r"delta(?:_\d+)?\(\d+\)|[A-Za-z][A-Za-z0-9_]*")
_DERIVATIVE = re.compile(r"d([A-Za-z][A-Za-z0-9_]*)/d([A-Za-z][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Focus:
    nodes: frozenset[str]  # drawing node ids (drawing.node_id)
    edges: frozenset[WeightId]

    def ids(self) -> list[str]:
        """Node and edge ids of the drawing, edges first (as cli/render/svg.py names them)."""
        edges = sorted(f"e{w.k}_{w.i}_{w.j}" for w in self.edges)
        return edges + sorted(self.nodes)


class Names:
    """Every name a step can use, mapped to the drawing's nodes and edges."""

    def __init__(self, nt: Notation, names: WeightNames) -> None:
        self.nodes: dict[str, set[str]] = {}
        self.edges: dict[str, WeightId] = {}
        K = nt.K
        outputs = {node_id(K, j) for j in range(1, nt.units[K] + 1)}
        for k in range(K + 1):
            for j in range(1, nt.units[k] + 1):
                named = [nt.out(k, j), nt.d(k, j)]
                if k > 0:
                    named += [nt.H(k, j), nt.delta(k, j)]
                if k == K:
                    named.append(nt.T(j))
                spelled = {str(n) for n in named}  # each name as the derivation writes it
                for s in spelled:
                    self.nodes.setdefault(s, set()).add(node_id(k, j))
        for word in ("L", "L_new", "y", "Y_in", "Y", "T"):
            self.nodes.setdefault(word, set()).update(outputs)  # the loss reads every output
        for w in names.all_ids():
            alias = names.alias(w)
            self.edges[alias] = w
            self.edges[f"{alias}_new"] = w

    def read(self, text: str) -> tuple[set[str], set[WeightId]]:
        nodes: set[str] = set()
        edges: set[WeightId] = set()
        for token in _NAME.findall(text):
            for candidate in (token, token[1:] if token.startswith("d") else None):
                if candidate is None:
                    continue
                if candidate in self.nodes:
                    nodes |= self.nodes[candidate]
                    break
                if candidate in self.edges:
                    w = self.edges[candidate]
                    edges.add(w)
                    nodes |= {source_of(w), node_id(w.k, w.j)}
                    break
        # dA21/dA1 is the factor of the edge from A1 to A21: it lights up too.
        for top, bottom in _DERIVATIVE.findall(text):
            for a in self.nodes.get(top, ()):
                for b in self.nodes.get(bottom, ()):
                    (k, j), (q, i) = _layer_node(a), _layer_node(b)
                    if q == k - 1:
                        edges.add(WeightId(k, i, j))
        return nodes, edges


def _layer_node(node: str) -> tuple[int, int]:
    k, j = node[1:].split("_")
    return int(k), int(j)


def path_focus(w: WeightId, path: Path) -> Focus:
    """The weight's edge and every edge after it along one chain-rule path."""
    edges = {w}
    nodes = {source_of(w), node_id(w.k, path.nodes[0])}
    for d in range(1, len(path.nodes)):
        edges.add(WeightId(w.k + d, path.nodes[d - 1], path.nodes[d]))
        nodes.add(node_id(w.k + d, path.nodes[d]))
    return Focus(frozenset(nodes), frozenset(edges))


def focus(x: Explanation, nt: Notation, names: WeightNames) -> list[list[Focus]]:
    """Per section, per step: what the step uses on the drawing."""
    table = Names(nt, names)
    out: list[list[Focus]] = []
    for section in x.sections:
        paths = iter(x.paths) if section.key == "paths" else iter(())
        found = []
        for step in section.steps:
            if step.symbol.startswith("path "):
                p = next(paths, None)
                if p is not None:
                    found.append(path_focus(x.weight, p))
                    continue
            found.append(_step_focus(table, step))
        out.append(found)
    return out


def _step_focus(table: Names, step: Step) -> Focus:
    nodes, edges = table.read(f"{step.symbol} {step.formula}")
    return Focus(frozenset(nodes), frozenset(edges))
