"""The network drawn as the source derivation draws it: Mermaid and Graphviz DOT text.

Layout follows the derivation's figure: one column per layer, left to right —
inputs ``x1, x2, ...``, hidden nodes labelled ``H · A`` (``H1 · A1`` where the
layer has one node, ``H21 · A21`` = layer 2, node 1 where it has several), the
output ``Y`` (``Y1, Y2, ...`` when there are several), and a bias node ``B``
beside the layer it feeds (``B2`` feeds layer 2; it always outputs 1). Every
edge carries the weight's source-style name and its value (``hy1 = 0.25``);
bias edges are dashed.

Size limits (decided here, documented in the README): a drawing with more than
`MAX_LABELLED_EDGES` edges is drawn without edge labels, because beyond that the
labels overlap into an unreadable mass in every renderer; more than `MAX_EDGES`
edges is refused with `DiagramTooLargeError` (exit 2): the picture would be a grey
blur, and GitHub refuses Mermaid sources that long. `bp show` lists every weight
of any network as a table instead.

Everything here is a pure function of the network's shape and weights.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.errors import BpError
from backprop_core.explain.drawing import Layout, on_paths
from backprop_core.explain.notation import Notation
from cli.render.numbers import num

if TYPE_CHECKING:
    from backprop_core.engine.network import Network

MAX_LABELLED_EDGES = 60
MAX_EDGES = 600
DIGITS = 4  # significant digits of the values on edges: a drawing, not a table

HIGHLIGHT_COLOR = "#d62728"


class DiagramTooLargeError(BpError):
    """The network has too many weights for a readable drawing."""


@dataclass(frozen=True)
class Node:
    id: str  # parser-safe identifier (Mermaid and DOT)
    label: str  # what the reader sees: x1, H21 · A21, Y, B2
    column: int  # layer 0..K; a bias node sits in the column before the layer it feeds
    row: int  # 0-based position from the top of its column (bias nodes first)
    kind: str  # input | hidden | output | bias


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    weight: WeightId
    alias: str
    value: float

    @property
    def is_bias(self) -> bool:
        return self.weight.is_bias

    def label(self, values: bool = True) -> str:
        return f"{self.alias} = {num(self.value, DIGITS)}" if values else self.alias


@dataclass(frozen=True)
class Drawing:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    labelled: bool  # False above MAX_LABELLED_EDGES

    @property
    def columns(self) -> int:
        return max(n.column for n in self.nodes) + 1


def node_id(k: int, j: int, K: int) -> str:
    """Identifier of node j of layer k. Avoids ids starting with ``o``/``x`` (Mermaid
    reads ``--> xB`` / ``--> oB`` as cross/circle edge ends) and reserved words (``end``)."""
    if k == 0:
        return f"in{j}"
    if k == K:
        return f"out{j}"
    return f"h{k}_{j}"


def bias_id(k: int) -> str:
    return f"bias{k}"


def node_label(k: int, j: int, units: tuple[int, ...]) -> str:
    """x1; H1 · A1 (single-node layer); H21 · A21 (layer 2, node 1); Y or Y1, Y2.

    The names are explain's (backprop_core/explain/notation.py), so a drawing and
    the derivation beside it never name one node twice."""
    from backprop_core.explain.drawing import node_lines

    return " · ".join(node_lines(Notation(units, ()), k, j))


def layout(network: Network, names: WeightNames) -> Drawing:
    """Nodes in layer columns and one edge per weight, in `names.all_ids()` order."""
    from backprop_core.engine.gradcheck import weight_value

    units = network.units
    K = len(units) - 1
    edge_count = network.parameter_count()
    if edge_count > MAX_EDGES:
        raise DiagramTooLargeError(
            f"the network has {edge_count} weights; drawings are limited to {MAX_EDGES} "
            "(bp show lists every weight as a table)"
        )
    nodes: list[Node] = []
    for k in range(K + 1):
        # A bias node sits at the top of the column before the layer it feeds,
        # as the B nodes do in the derivation's figure.
        has_bias = k < K and names.bias[k]
        if has_bias:
            nodes.append(Node(bias_id(k + 1), f"B{k + 1}", k, 0, "bias"))
        kind = "input" if k == 0 else "output" if k == K else "hidden"
        for j in range(1, units[k] + 1):
            row = j - 1 + int(has_bias)
            nodes.append(Node(node_id(k, j, K), node_label(k, j, units), k, row, kind))
    edges = tuple(
        Edge(
            bias_id(w.k) if w.is_bias else node_id(w.k - 1, w.i, K),
            node_id(w.k, w.j, K),
            w,
            names.alias(w),
            weight_value(network, w),
        )
        for w in names.all_ids()
    )
    return Drawing(tuple(nodes), edges, labelled=len(edges) <= MAX_LABELLED_EDGES)


# The edges dL/dw runs along: one definition, the drawing model's.
paths_to_output = on_paths


def short_label(k: int, j: int, units: tuple[int, ...]) -> str:
    """A node's name in a text sketch: x1, A1, A21, Y (the output of each node)."""
    return node_label(k, j, units).split(" · ")[-1]


def path_sketch(names: WeightNames, w: WeightId, limit: int = 8) -> list[str]:
    """The chain-rule paths of dL/dw, one line each, for terminals:

        x1 -[xh1]-> A1 -[hh1]-> A21 -[hy1]-> Y

    At most `limit` lines; beyond that a last line says how many more there are
    (the count is the product of the layer widths after w's layer).
    """
    units, K = names.units, names.K
    start = f"B{w.k}" if w.is_bias else short_label(w.k - 1, w.i, units)
    head = f"{start} -[{names.alias(w)}]-> {short_label(w.k, w.j, units)}"
    later = [range(1, units[k] + 1) for k in range(w.k + 1, K + 1)]
    total = math.prod(len(r) for r in later)
    lines = []
    for nodes in itertools.islice(itertools.product(*later), limit):
        text, previous = head, w.j
        for k, j in zip(range(w.k + 1, K + 1), nodes, strict=True):
            alias = names.alias(WeightId(k, previous, j))
            text += f" -[{alias}]-> {short_label(k, j, units)}"
            previous = j
        lines.append(text)
    if total > limit:
        lines.append(f"... and {total - limit} more paths ({total} in all)")
    return lines


def _highlighted_nodes(drawing: Drawing, highlight: set[WeightId]) -> set[str]:
    ids: set[str] = set()
    for e in drawing.edges:
        if e.weight in highlight:
            ids.update((e.source, e.target))
    return ids


def mermaid(
    network: Network,
    names: WeightNames,
    *,
    highlight: set[WeightId] | None = None,
    values: bool = True,
) -> str:
    """A Mermaid flowchart that GitHub renders as-is (inside a ```mermaid block).

    Labels are quoted and contain only letters, digits, ``=``, ``.``, ``-``,
    ``+``, ``·`` and spaces, so no label can break the parser. Bias edges are
    dotted (``-.->``); highlighted edges and nodes are drawn thick and red.
    """
    drawing = layout(network, names)
    lines = ["flowchart LR"]
    if not drawing.labelled:
        lines.append(
            f"  %% {len(drawing.edges)} weights: edge labels left out above {MAX_LABELLED_EDGES}"
        )
    shapes = {"input": '(["{}"])', "hidden": '(("{}"))', "output": '(["{}"])', "bias": '(("{}"))'}
    for n in drawing.nodes:
        lines.append(f"  {n.id}{shapes[n.kind].format(n.label)}")
    for e in drawing.edges:
        arrow = "-.->" if e.is_bias else "-->"
        text = f'|"{e.label(values)}"|' if drawing.labelled else ""
        lines.append(f"  {e.source} {arrow}{text} {e.target}")
    bias_nodes = [n.id for n in drawing.nodes if n.kind == "bias"]
    if bias_nodes:
        lines.append("  classDef bias stroke-dasharray: 4 3")
        lines.append(f"  class {','.join(bias_nodes)} bias")
    if highlight:
        indices = [str(i) for i, e in enumerate(drawing.edges) if e.weight in highlight]
        if indices:
            lines.append(
                f"  linkStyle {','.join(indices)} stroke:{HIGHLIGHT_COLOR},stroke-width:3px"
            )
            lines.append(f"  classDef path stroke:{HIGHLIGHT_COLOR},stroke-width:3px")
            hot = [n.id for n in drawing.nodes if n.id in _highlighted_nodes(drawing, highlight)]
            lines.append(f"  class {','.join(hot)} path")
    return "\n".join(lines) + "\n"


def dot(
    network: Network,
    names: WeightNames,
    *,
    highlight: set[WeightId] | None = None,
    values: bool = True,
) -> str:
    """Graphviz DOT (``dot -Tsvg``): layer columns pinned with ``rank=same``."""
    drawing = layout(network, names)
    highlight = highlight or set()
    hot = _highlighted_nodes(drawing, highlight)
    lines = [
        "digraph bp {",
        "  rankdir=LR;",
        "  splines=line;",
        "  nodesep=0.4; ranksep=1.4;",
        '  node [shape=circle, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.6];',
    ]
    if not drawing.labelled:
        lines.append(
            f"  // {len(drawing.edges)} weights: edge labels left out above {MAX_LABELLED_EDGES}"
        )
    shapes = {"input": "box", "hidden": "circle", "output": "doublecircle", "bias": "square"}
    for column in range(drawing.columns):
        members = [n for n in drawing.nodes if n.column == column]
        lines.append(f"  subgraph layer{column} {{")
        lines.append("    rank=same;")
        for n in members:
            attrs = [f'label="{n.label}"', f"shape={shapes[n.kind]}"]
            if n.kind == "bias":
                attrs.append("style=dashed")
            if n.id in hot:
                attrs += [f'color="{HIGHLIGHT_COLOR}"', "penwidth=2.5"]
            lines.append(f"    {n.id} [{', '.join(attrs)}];")
        lines.append("  }")
    for e in drawing.edges:
        attrs = []
        if drawing.labelled:
            attrs.append(f'label="{e.label(values)}"')
        if e.is_bias:
            attrs.append("style=dashed")
        if e.weight in highlight:
            attrs += [
                f'color="{HIGHLIGHT_COLOR}"',
                f'fontcolor="{HIGHLIGHT_COLOR}"',
                "penwidth=2.5",
            ]
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {e.source} -> {e.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def drawing_of(experiment: Any) -> Layout:
    """The layout every picture of `experiment`'s network is drawn from: captions from
    the data's column and class names, ReLU units dead on every training row greyed."""
    from backprop_core.explain.drawing import dead_units, draw
    from backprop_core.explain.notation import notation_for

    network, data = experiment.network, experiment.data
    if network.parameter_count() > MAX_EDGES:
        raise DiagramTooLargeError(
            f"the network has {network.parameter_count()} weights; drawings are limited to "
            f"{MAX_EDGES} (bp show lists every weight as a table)"
        )
    # One caption per output node: class names of a softmax output, else the CSV
    # target columns (a single sigmoid output has two classes but one node).
    m = network.units[-1]
    outputs = next((c for c in (data.classes, data.target_names) if c and len(c) == m), None)
    return draw(
        network,
        experiment.names,
        notation_for(network),
        lambda alias, value: f"{alias} = {num(value, DIGITS)}",
        inputs=data.input_names,
        outputs=outputs,
        dead=dead_units(network, data.X),
    )
