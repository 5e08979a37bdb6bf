"""The network drawn once: where every node, edge and label goes (SVG pixels, y down).

`draw` computes the geometry; cli/render/svg.py writes it as SVG, cli/render/plots.py
as PNG, so every picture of a network has the same layout. Nodes sit in one column
per layer, named as the derivation names them (notation.py): ``x1``, ``H21 · A21``,
``Y``; a bias node ``B{k}`` sits above the columns, offset between layer k-1 and
layer k, so its dashed edges leave from a point no other edge leaves from.

Every edge label is an axis-aligned box centred on its own edge. Boxes are placed
greedily, edge by edge, at the first of several positions along the edge (middle
first, then staggered towards the ends) where the box overlaps no node, no caption
and no label placed before. When some label fits nowhere the columns are spread
wider; when even that fails the edges are numbered and a legend below the drawing
lists ``number  alias = value``. Text widths are exact for a monospace font
(`CHAR` per character), which is why the renderers use one.

Inputs carry their CSV column names and outputs their class names (captions beside
the node); a ReLU unit that is zero on every sample is marked dead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backprop_core.engine.naming import WeightId, WeightNames
from backprop_core.engine.network import Network
from backprop_core.explain.notation import Notation

FONT = 12.0  # px, every text of the drawing
CHAR = 0.6 * FONT  # advance of one character in a monospace font (DejaVu Sans Mono: 0.602 em)
LINE = 1.25 * FONT  # height of one line of text
PAD = 2.5  # white space around a label's text
GAP = 170.0  # between layer columns, before spreading
ROW = 64.0  # between node centres in a column
MARGIN = 12.0
MIN_RADIUS = 20.0
MAX_LABELLED_EDGES = 120  # above this, edges carry no label (bp show lists every weight)
# (column gap, row gap) factors tried in turn, for full labels and then for numbers:
# taller first, so a drawing stays nearer a slide's shape than a long strip.
SPREAD = ((1.0, 1.0), (1.0, 1.4), (1.3, 1.4), (1.3, 1.8), (1.7, 1.8), (2.2, 2.2), (2.8, 2.8))
LABEL_SPREADS = 5  # full labels spread no further than SPREAD[4]: past it, numbers read better
# Where along an edge a label may sit (0 = source rim, 1 = destination rim), in order of preference.
POSITIONS = (0.5, 0.38, 0.62, 0.28, 0.72, 0.44, 0.56, 0.2, 0.8, 0.32, 0.68, 0.13, 0.87)


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def around(cls, cx: float, cy: float, width: float, height: float) -> Box:
        return cls(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def crosses(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the segment (x0, y0)-(x1, y1) passes through the box (Liang-Barsky)."""
        low, high = 0.0, 1.0
        dx, dy = x1 - x0, y1 - y0
        for p, q in (
            (-dx, x0 - self.x0),
            (dx, self.x1 - x0),
            (-dy, y0 - self.y0),
            (dy, self.y1 - y0),
        ):
            if p == 0:
                if q < 0:
                    return False
            elif p < 0:
                low = max(low, q / p)
            else:
                high = min(high, q / p)
            if low > high:
                return False
        return True

    def union(self, other: Box) -> Box:
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def text_box(cx: float, cy: float, text: str, lines: int = 1) -> Box:
    """The box a label's text (plus padding) covers, centred on (cx, cy)."""
    return Box.around(cx, cy, len(text) * CHAR + 2 * PAD, lines * LINE + 2 * PAD)


@dataclass(frozen=True)
class NodeShape:
    layer: int
    node: int  # 1-based; 0 = the bias node feeding `layer`
    kind: str  # input | hidden | output | bias
    lines: tuple[str, ...]  # ("H21", "A21"), ("x1",), ("B2",)
    x: float
    y: float
    r: float
    caption: str | None = None  # CSV column or class name, left of an input, right of an output
    caption_box: Box | None = None
    dead: bool = False  # a ReLU unit that is zero on every sample

    @property
    def id(self) -> str:
        return f"n{self.layer}_{self.node}"

    @property
    def box(self) -> Box:
        return Box(self.x - self.r, self.y - self.r, self.x + self.r, self.y + self.r)


@dataclass(frozen=True)
class EdgeShape:
    weight: WeightId
    alias: str
    text: str  # the full label, ``hh1 = 0.75``
    source: str  # node ids
    target: str
    x0: float  # from the source's rim to the destination's rim
    y0: float
    x1: float
    y1: float
    label: Box | None  # where the drawn label sits (None: not labelled)
    shown: str  # what the label shows: the full text, or the edge's legend number

    @property
    def id(self) -> str:
        return f"e{self.weight.k}_{self.weight.i}_{self.weight.j}"

    @property
    def is_bias(self) -> bool:
        return self.weight.is_bias


@dataclass(frozen=True)
class LegendRow:
    number: int
    text: str
    box: Box


@dataclass(frozen=True)
class Layout:
    nodes: tuple[NodeShape, ...]
    edges: tuple[EdgeShape, ...]
    mode: str  # labels | numbered | none
    legend: tuple[LegendRow, ...]
    view: Box  # everything drawn lies inside
    network: Box  # the network alone: the view without the legend

    def without_legend(self) -> Layout:
        """The drawing for a page that lists the numbered edges itself (as HTML)."""
        return Layout(self.nodes, self.edges, self.mode, (), self.network, self.network)

    def node(self, node_id: str) -> NodeShape:
        return next(n for n in self.nodes if n.id == node_id)

    def label_boxes(self) -> list[Box]:
        """Every text box that must not overlap another: edge labels, captions, legend rows."""
        boxes = [e.label for e in self.edges if e.label is not None]
        boxes += [n.caption_box for n in self.nodes if n.caption_box is not None]
        return boxes + [row.box for row in self.legend]


def node_lines(nt: Notation, k: int, j: int) -> tuple[str, ...]:
    """What a node shows: ``x1``; ``H21`` over ``A21``; ``Y``; ``B2`` for a bias node (j = 0)."""
    # str(): the notation's names are expression leaves that print as the derivation writes them.
    if j == 0:
        return (str(nt.bias(k)),)
    if k == 0 or k == nt.K:
        return (str(nt.out(k, j)),)
    return (str(nt.H(k, j)), str(nt.out(k, j)))


def node_id(k: int, j: int) -> str:
    return f"n{k}_{j}"


def source_of(w: WeightId) -> str:
    """The node a weight leaves: node i of layer k-1, or the bias node of layer k."""
    return node_id(w.k, 0) if w.is_bias else node_id(w.k - 1, w.i)


def on_paths(names: WeightNames, w: WeightId) -> set[WeightId]:
    """`w` and every weight on a path from w's destination node to an output.

    These are the edges the chain rule for dL/dw runs along: the weights leaving
    node j of layer k, then every non-bias weight of the layers after (from node j
    every node of each later layer is reachable). Nothing flows into a bias node,
    so no other bias weight is on such a path.
    """
    units, K = names.units, names.K
    out = {w}
    if w.k < K:
        out.update(WeightId(w.k + 1, w.j, m) for m in range(1, units[w.k + 1] + 1))
    for k in range(w.k + 2, K + 1):
        out.update(
            WeightId(k, i, j) for i in range(1, units[k - 1] + 1) for j in range(1, units[k] + 1)
        )
    return out


def dead_units(network: Network, X: np.ndarray) -> set[tuple[int, int]]:
    """(layer, node) of every ReLU unit whose H is <= 0 on every row of X: its output
    and its phi' are 0 for all of them, so no gradient passes through it."""
    if X.shape[0] == 0:
        return set()
    trace = network.forward(X)
    dead: set[tuple[int, int]] = set()
    for k, layer in enumerate(network.layers, start=1):
        if layer.activation.name != "relu":
            continue
        for j in np.flatnonzero((trace.H[k] <= 0).all(axis=0)):
            dead.add((k, int(j) + 1))
    return dead


def draw(
    network: Network,
    names: WeightNames,
    nt: Notation,
    edge_text: Callable[[str, float], str],
    *,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    dead: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
) -> Layout:
    """The layout of `network`: `edge_text(alias, value)` writes an edge's label,
    `inputs` / `outputs` name the input columns and output classes (when known)."""
    from backprop_core.engine.gradcheck import weight_value

    weights = [(w, names.alias(w), weight_value(network, w)) for w in names.all_ids()]
    texts = [edge_text(alias, value) for _, alias, value in weights]
    if len(weights) <= MAX_LABELLED_EDGES:
        for mode in ("labels", "numbered"):
            shown = texts if mode == "labels" else [str(n) for n in range(1, len(texts) + 1)]
            for wide, tall in SPREAD[:LABEL_SPREADS] if mode == "labels" else SPREAD:
                if max(names.units) > 2 * names.K:
                    wide, tall = tall, wide  # a tall network grows wider first
                args = (weights, texts, shown, inputs, outputs, dead, wide, tall, mode)
                if (layout := _attempt(names, nt, *args)) is not None:
                    return layout
    unlabelled = _attempt(names, nt, weights, texts, None, inputs, outputs, dead, 1, 1, "none")
    assert unlabelled is not None  # nothing to place, nothing can fail
    return unlabelled


def _attempt(
    names: WeightNames,
    nt: Notation,
    weights: list[tuple[WeightId, str, float]],
    texts: list[str],
    shown: list[str] | None,
    inputs: Sequence[str] | None,
    outputs: Sequence[str] | None,
    dead: set[tuple[int, int]],
    wide: float,
    tall: float,
    mode: str,
) -> Layout | None:
    """One try with the column gap times `wide`, the row gap times `tall`; None if
    some label fits nowhere."""
    units, K = names.units, names.K
    all_lines = {(k, j): node_lines(nt, k, j) for k in range(K + 1) for j in range(1, units[k] + 1)}
    for k in range(1, K + 1):
        if names.bias[k - 1]:
            all_lines[(k, 0)] = node_lines(nt, k, 0)
    widest = max(len(line) for lines in all_lines.values() for line in lines)
    r = max(MIN_RADIUS, widest * CHAR / 2 + 5)
    row = max(ROW, 2 * r + 2 * LINE) * tall
    gap = max(GAP, 2 * r + 4 * CHAR) * wide
    tallest = max(units) * row
    top = MARGIN + (row if any(names.bias) else 0)

    def centre(k: int, j: int) -> tuple[float, float]:
        return gap * k, top + (tallest - units[k] * row) / 2 + (j - 0.5) * row

    nodes: dict[str, NodeShape] = {}
    for (k, j), lines in sorted(all_lines.items()):
        kind = "bias" if j == 0 else "input" if k == 0 else "output" if k == K else "hidden"
        if j == 0:
            # Above the taller of the two columns, a third of the way from layer k-1 to k.
            y = min(centre(k - 1, 1)[1], centre(k, 1)[1]) - 0.85 * row
            x = gap * (k - 1) + 0.35 * gap
        else:
            x, y = centre(k, j)
        caption, caption_box = None, None
        names_here = inputs if kind == "input" else outputs if kind == "output" else None
        if names_here is not None and j - 1 < len(names_here):
            caption = str(names_here[j - 1])
            width = len(caption) * CHAR + 2 * PAD
            side = -1 if kind == "input" else 1
            cx = x + side * (r + 4 + width / 2)
            caption_box = Box.around(cx, y, width, LINE + 2 * PAD)
        shape = NodeShape(k, j, kind, lines, x, y, r, caption, caption_box, (k, j) in dead)
        nodes[shape.id] = shape

    obstacles = [n.box for n in nodes.values()]
    obstacles += [n.caption_box for n in nodes.values() if n.caption_box is not None]
    segments = []
    for w, _, _ in weights:
        a, b = nodes[source_of(w)], nodes[node_id(w.k, w.j)]
        length = math.hypot(b.x - a.x, b.y - a.y)
        ux, uy = (b.x - a.x) / length, (b.y - a.y) / length
        segments.append((a.x + a.r * ux, a.y + a.r * uy, b.x - b.r * ux, b.y - b.r * uy))
    placed: list[Box] = []
    edges: list[EdgeShape] = []
    for index, ((w, alias, _), text) in enumerate(zip(weights, texts, strict=True)):
        x0, y0, x1, y1 = segments[index]
        label = None
        if shown is not None:
            # A full label must not cover another edge (it would read as that
            # edge's); a number may, being small enough to sit clear of the lines.
            label = _place(shown[index], segments, index, obstacles + placed, mode == "labels")
            if label is None:
                return None
            placed.append(label)
        source, target = source_of(w), node_id(w.k, w.j)
        shown_text = shown[index] if shown else ""
        edges.append(EdgeShape(w, alias, text, source, target, x0, y0, x1, y1, label, shown_text))

    view = Box(0, 0, 0, 0)
    for box in [*obstacles, *placed]:
        view = view.union(box) if view.x1 > view.x0 else box
    network = Box(view.x0 - MARGIN, view.y0 - MARGIN, view.x1 + MARGIN, view.y1 + MARGIN)
    legend: list[LegendRow] = []
    if mode == "numbered":
        legend = _legend(texts, view)
        for item in legend:
            view = view.union(item.box)
    view = Box(view.x0 - MARGIN, view.y0 - MARGIN, view.x1 + MARGIN, view.y1 + MARGIN)
    return Layout(tuple(nodes.values()), tuple(edges), mode, tuple(legend), view, network)


def _place(
    text: str,
    segments: list[tuple[float, float, float, float]],
    index: int,
    taken: list[Box],
    clear: bool,
) -> Box | None:
    """The first position along edge `index` where the label overlaps nothing taken,
    preferring positions where it covers the fewest other edges (so a label never
    sits on a crossing it could avoid); None if it fits nowhere, or when `clear`
    nowhere without covering another edge."""
    x0, y0, x1, y1 = segments[index]
    best: tuple[int, Box] | None = None
    for t in POSITIONS:
        box = text_box(x0 + t * (x1 - x0), y0 + t * (y1 - y0), text)
        if any(box.overlaps(o) for o in taken):
            continue
        covered = sum(box.crosses(*s) for n, s in enumerate(segments) if n != index)
        if best is None or covered < best[0]:
            best = (covered, box)
            if covered == 0:
                break
    if best is None or (clear and best[0] > 0):
        return None
    return best[1]


def _legend(texts: list[str], above: Box) -> list[LegendRow]:
    """``number  text`` rows in as many columns as fit the drawing's width, below it."""
    rows = [f"{n:>{len(str(len(texts)))}}  {text}" for n, text in enumerate(texts, start=1)]
    width = max(len(r) for r in rows) * CHAR + 2 * PAD + 2 * CHAR
    columns = max(1, int((above.x1 - above.x0) // width))
    per_column = math.ceil(len(rows) / columns)
    height = LINE + 2 * PAD
    out = []
    for index, text in enumerate(rows):
        c, r = divmod(index, per_column)
        x0 = above.x0 + c * width
        y0 = above.y1 + LINE + r * height
        box = Box(x0, y0, x0 + len(text) * CHAR + 2 * PAD, y0 + height)
        out.append(LegendRow(index + 1, text, box))
    return out
