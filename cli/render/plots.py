"""PNG and SVG pictures drawn with matplotlib: the network, loss curves, decision regions.

matplotlib is an optional extra (``pip install 'backprop-explained[plot]'``) and is imported
only when a picture is asked for, so `bp --help` and the text formats never
pay for it. The Agg backend is selected before anything is drawn and figures
are built with the object API (`matplotlib.figure.Figure`), never pyplot, so no
window can ever open, even on a desktop. Each file is rendered into memory
first and written atomically: an error halfway never leaves a broken image.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backprop_core.errors import BpError
from cli.render.diagram import HIGHLIGHT_COLOR, Drawing, layout

if TYPE_CHECKING:
    from backprop_core.engine.naming import WeightId, WeightNames
    from backprop_core.engine.network import Network
    from backprop_core.engine.regions import Regions

FORMATS = ("png", "svg")
INSTALL_HINT = "pip install 'backprop-explained[plot]'"
DPI = 110
REGION_COLORS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")
COLUMN_GAP = 3.6  # data units between layer columns (node radius 0.5)
LABEL_AT = 0.66  # where along an edge its label sits (0 = source, 1 = destination)
POINT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


class PlotError(BpError):
    """A picture cannot be made: matplotlib is missing, or the file type is unknown."""


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotError(f"png and svg pictures need matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")  # never a window, whatever the user's default backend is
    return matplotlib


def picture_format(path: Path) -> str:
    """``png`` or ``svg`` from the file name; PlotError for anything else."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        got = repr(path.suffix) if path.suffix else "no extension"
        raise PlotError(f"{path}: expected a file name ending in .png or .svg, got {got}")
    return fmt


def check_picture_path(path: Path) -> str:
    """Everything that can be checked before a long run: the file type, the folder,
    and that matplotlib imports. Returns the format (``png`` or ``svg``)."""
    from backprop_core.atomic import check_writable

    fmt = picture_format(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PlotError(f"{path}: cannot write: the folder does not exist")
    check_writable(path)
    _matplotlib()
    return fmt


def _save(fig: Any, path: Path, fmt: str) -> None:
    from backprop_core.atomic import write_bytes

    buffer = io.BytesIO()
    # No dates or version strings in the file: the same run gives the same bytes.
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, bbox_inches="tight")
    if str(path) == "-":
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.flush()
        return
    write_bytes(path, buffer.getvalue())


def _figure(width: float, height: float) -> Any:
    mpl = _matplotlib()
    from matplotlib.figure import Figure

    mpl.rcParams["svg.hashsalt"] = "bp"  # stable element ids in SVG output
    return Figure(figsize=(width, height), layout="constrained")


# --- the network -------------------------------------------------------------------


def _positions(drawing: Drawing) -> dict[str, tuple[float, float]]:
    """Column x = COLUMN_GAP * layer; each column centred vertically, bias node on top."""
    sizes: dict[int, int] = {}
    for n in drawing.nodes:
        sizes[n.column] = sizes.get(n.column, 0) + 1
    return {
        n.id: (COLUMN_GAP * n.column, -1.6 * (n.row - (sizes[n.column] - 1) / 2))
        for n in drawing.nodes
    }


def draw_network(ax: Any, drawing: Drawing, highlight: set[WeightId] | None = None) -> None:
    """Draw nodes and labelled edges on `ax` (equal aspect, axes hidden)."""
    from matplotlib.patches import Circle, FancyArrowPatch

    highlight = highlight or set()
    pos = _positions(drawing)
    radius = 0.5
    hot_nodes = {x for e in drawing.edges if e.weight in highlight for x in (e.source, e.target)}
    for e in drawing.edges:
        (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
        hot = e.weight in highlight
        color = HIGHLIGHT_COLOR if hot else "#555555"
        # Clip the arrow to the circles' rims (data units), so the head shows.
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        ax.add_patch(
            FancyArrowPatch(
                (x0 + radius * ux, y0 + radius * uy),
                (x1 - radius * ux, y1 - radius * uy),
                arrowstyle="-|>",
                mutation_scale=11,
                shrinkA=0,
                shrinkB=0,
                color=color,
                linewidth=2.2 if hot else 1.0,
                linestyle="--" if e.is_bias else "-",
            )
        )
        if drawing.labelled:
            # Edges cross near their midpoints, so labels sit near the
            # destination instead, where edges into one node fan apart.
            t = LABEL_AT
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
            ax.text(
                x0 + t * (x1 - x0),
                y0 + t * (y1 - y0),
                e.label(),
                fontsize=8,
                color=color,
                ha="center",
                va="center",
                rotation=angle,
                rotation_mode="anchor",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
                zorder=3,
            )
    fills = {"input": "#e8f0fa", "hidden": "#ffffff", "output": "#eaf5e6", "bias": "#f4f4f4"}
    for n in drawing.nodes:
        x, y = pos[n.id]
        hot = n.id in hot_nodes
        ax.add_patch(
            Circle(
                (x, y),
                radius,
                facecolor=fills[n.kind],
                edgecolor=HIGHLIGHT_COLOR if hot else "#333333",
                linewidth=2.2 if hot else 1.2,
                linestyle="--" if n.kind == "bias" else "-",
                zorder=4,
            )
        )
        ax.text(x, y, n.label.replace(" · ", "\n"), ha="center", va="center", fontsize=9, zorder=5)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 1, max(ys) + 1)
    ax.set_aspect("equal")
    ax.axis("off")


def save_network_image(
    path: Path,
    network: Network,
    names: WeightNames,
    *,
    highlight: set[WeightId] | None = None,
    fmt: str | None = None,
) -> None:
    """The network drawing as PNG or SVG (`fmt`, else by the file name's extension)."""
    fmt = fmt or picture_format(path)
    drawing = layout(network, names)
    rows = max(sum(1 for n in drawing.nodes if n.column == c) for c in range(drawing.columns))
    fig = _figure(1.6 + 2.0 * drawing.columns, 1.0 + 1.1 * rows)
    draw_network(fig.add_subplot(), drawing, highlight)
    _save(fig, path, fmt)


# --- training -----------------------------------------------------------------------


def _finite(values: Sequence[float | None]) -> list[float]:
    """NaN for anything not finite: matplotlib leaves a gap there (inf breaks log axes)."""
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


def _epoch_axis(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
    ax.set_xlabel("epoch")


def _loss_panel(ax: Any, history: Sequence[Any]) -> None:
    epochs = [r.epoch for r in history]
    train = _finite([r.loss for r in history])
    ax.plot(
        epochs, train, marker="o" if len(epochs) <= 30 else None, markersize=3, label="training"
    )
    val = [r.val_loss for r in history]
    if any(v is not None for v in val):
        ax.plot(epochs, _finite(val), label="validation")
    if any(v > 0 for v in train if not math.isnan(v)):
        ax.set_yscale("log")  # losses fall by orders of magnitude
    _epoch_axis(ax)
    ax.set_ylabel("loss (log scale)")
    ax.set_title("loss per epoch")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()


def _accuracy_panel(ax: Any, history: Sequence[Any]) -> None:
    epochs = [r.epoch for r in history]
    ax.plot(epochs, _finite([r.accuracy for r in history]), label="training")
    if any(r.val_accuracy is not None for r in history):
        ax.plot(epochs, _finite([r.val_accuracy for r in history]), label="validation")
    ax.set_ylim(-0.02, 1.02)
    _epoch_axis(ax)
    ax.set_ylabel("accuracy")
    ax.set_title("accuracy per epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()


def draw_regions(ax: Any, regions: Regions, classes: Sequence[str] | None = None) -> None:
    """Decision regions as a light image, the data points on top, coloured by true class."""
    from matplotlib.colors import ListedColormap

    names = list(classes) if classes else regions.names
    count = max(len(names), int(regions.classes.max()) + 1, int(regions.labels.max()) + 1)
    colors = [REGION_COLORS[c % len(REGION_COLORS)] for c in range(count)]
    ax.imshow(
        regions.classes,
        origin="lower",
        interpolation="nearest",
        aspect="auto",
        extent=(regions.xs[0], regions.xs[-1], regions.ys[0], regions.ys[-1]),
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=count - 0.5,
    )
    for c in range(count):
        mask = regions.labels == c
        if mask.any():
            label = names[c] if c < len(names) else str(c)
            ax.scatter(
                regions.points[mask, 0],
                regions.points[mask, 1],
                s=24,
                color=POINT_COLORS[c % len(POINT_COLORS)],
                edgecolors="black",
                linewidths=0.5,
                label=label,
            )
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title("decision regions")
    ax.legend(loc="best", fontsize=8)


def save_training_plot(
    path: Path,
    history: Sequence[Any],
    *,
    classes: Sequence[str] | None = None,
    boundary: Regions | None = None,
    title: str | None = None,
) -> None:
    """Loss per epoch (log scale), accuracy where recorded, decision regions if given.

    `history`: `EpochRecord`-like objects (epoch, loss, val_loss, accuracy,
    val_accuracy). `boundary`: from `backprop_core.engine.regions.decision_regions`.
    `title`: shown above the panels (the config's name, say).
    """
    fmt = picture_format(path)
    if not history:
        raise PlotError("nothing to plot: no epoch was run")
    panels = [_loss_panel]
    if any(r.accuracy is not None for r in history):
        panels.append(_accuracy_panel)
    count = len(panels) + (boundary is not None)
    fig = _figure(4.6 * count, 3.8)
    axes = fig.subplots(1, count, squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        panel(ax, history)
    if boundary is not None:
        draw_regions(axes[-1], boundary, classes)
    if title:
        fig.suptitle(title)
    _save(fig, path, fmt)
