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

from backprop_core import pip_install
from backprop_core.errors import BpError
from backprop_core.explain.drawing import FONT, PAD, Layout
from cli.render.diagram import HIGHLIGHT_COLOR

if TYPE_CHECKING:
    from backprop_core.engine.naming import WeightId
    from backprop_core.engine.regions import Regions

FORMATS = ("png", "svg")
INSTALL_HINT = pip_install("plot")
DPI = 110
REGION_COLORS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")
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


def check_picture_path(path: Path, *, matplotlib: bool = True) -> str:
    """Everything that can be checked before a long run: the file type, the folder,
    and (when the picture needs it) that matplotlib imports. Returns the format
    (``png`` or ``svg``)."""
    from backprop_core.atomic import check_writable

    fmt = picture_format(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PlotError(f"{path}: cannot write: the folder does not exist")
    check_writable(path)
    if matplotlib:
        _matplotlib()
    return fmt


def _save(fig: Any, path: Path, fmt: str) -> None:
    buffer = io.BytesIO()
    # No dates or version strings in the file: the same run gives the same bytes.
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, bbox_inches="tight")
    _emit(path, buffer.getvalue())


def _emit(path: Path, data: bytes) -> None:
    """The file's bytes to `path`, atomically, or to stdout for ``-``."""
    from backprop_core.atomic import write_bytes

    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_bytes(path, data)


def _figure(width: float, height: float) -> Any:
    mpl = _matplotlib()
    from matplotlib.figure import Figure

    mpl.rcParams["svg.hashsalt"] = "bp"  # stable element ids in SVG output
    return Figure(figsize=(width, height), layout="constrained")


# --- the network -------------------------------------------------------------------


def draw_network(ax: Any, layout: Layout, highlight: set[WeightId] | None = None) -> None:
    """Draw the layout (backprop_core/explain/drawing.py) on `ax`, in its own pixels.

    The positions and label boxes are the layout's; only the pen is matplotlib's,
    so the PNG shows the same drawing as the SVG, labels where the layout put them.
    """
    from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

    highlight = highlight or set()
    hot_nodes = {x for e in layout.edges if e.weight in highlight for x in (e.source, e.target)}
    points = FONT * 72 / DPI  # the layout's pixel font size in points at DPI
    text = {"family": "DejaVu Sans Mono", "fontsize": points, "ha": "center", "va": "center"}
    for e in layout.edges:
        hot = e.weight in highlight
        color = HIGHLIGHT_COLOR if hot else ("#c8c8c8" if highlight else "#666666")
        ax.add_patch(
            FancyArrowPatch(
                (e.x0, e.y0),
                (e.x1, e.y1),
                arrowstyle="-|>",
                mutation_scale=9,
                shrinkA=0,
                shrinkB=0,
                color=color,
                linewidth=2.0 if hot else 1.0,
                linestyle="--" if e.is_bias else "-",
            )
        )
        if e.label is not None:
            b = e.label
            ax.add_patch(
                Rectangle((b.x0, b.y0), b.x1 - b.x0, b.y1 - b.y0, fc="white", ec="none", zorder=3)
            )
            ax.text(b.cx, b.cy, e.shown, color=color if hot else "#222222", zorder=3.5, **text)
    fills = {"input": "#e8f0fa", "hidden": "#ffffff", "output": "#eaf5e6", "bias": "#f4f4f4"}
    for n in layout.nodes:
        hot = n.id in hot_nodes
        ax.add_patch(
            Circle(
                (n.x, n.y),
                n.r,
                facecolor="#e6e6e6" if n.dead else fills[n.kind],
                edgecolor=HIGHLIGHT_COLOR if hot else ("#aaaaaa" if n.dead else "#333333"),
                linewidth=2.0 if hot else 1.2,
                linestyle="--" if n.kind == "bias" else "-",
                zorder=4,
            )
        )
        ink = "#999999" if n.dead else "#222222"
        ax.text(n.x, n.y, "\n".join(n.lines), color=ink, zorder=5, linespacing=1.05, **text)
        if n.caption_box is not None:
            b = n.caption_box
            ax.text(b.cx, b.cy, n.caption, color="#555555", zorder=5, **text)
    for row in layout.legend:
        ax.text(row.box.x0 + PAD, row.box.cy, row.text, **{**text, "ha": "left"})
    v = layout.view
    ax.set_xlim(v.x0, v.x1)
    ax.set_ylim(v.y1, v.y0)  # y grows downwards, as in SVG
    ax.set_aspect("equal")
    ax.axis("off")


def save_network_image(
    path: Path,
    layout: Layout,
    *,
    highlight: set[WeightId] | None = None,
    fmt: str | None = None,
) -> None:
    """The network drawing as PNG (matplotlib) or SVG (cli/render/svg.py: real text
    elements), by `fmt`, else by the file name's extension; path ``-`` is stdout."""
    fmt = fmt or picture_format(path)
    if fmt == "svg":
        from cli.render.svg import svg

        _emit(path, svg(layout, highlight=highlight or ()).encode())
        return
    v = layout.view
    mpl = _matplotlib()
    from matplotlib.figure import Figure

    mpl.rcParams["svg.hashsalt"] = "bp"
    # One layout pixel is one image pixel: the figure is the view's size at DPI.
    fig = Figure(figsize=((v.x1 - v.x0) / DPI, (v.y1 - v.y0) / DPI))
    draw_network(fig.add_axes((0, 0, 1, 1)), layout, highlight)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    _emit(path, buffer.getvalue())


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
