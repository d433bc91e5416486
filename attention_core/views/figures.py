"""Matplotlib figures, where a picture is the product: the matrix as a PNG, one query's bars, the lab's chart and
the convex hull. Built with the object API (no pyplot state, nothing to close).

The page shows the bars, the chart and the hull as inline SVG (``figure_markup``): crisp at any zoom, named for
screen readers with a description computed from the run, and coloured with CSS variables (``palette``), so one
drawing follows the page's light or dark theme. Series differ by shape or hatching as well as by colour, in
Okabe and Ito's colour-blind-safe palette. The matrix's PNG export keeps a white background: it is a file.

matplotlib is imported inside each function, so importing the views stays light.
"""

from __future__ import annotations

import functools
import html
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from ..tokens import visible_token
from .palette import THEME, color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The matrix's colormap, perceptually uniform and colour-blind safe; the page's live matrix uses the same one.
COLORMAP = "viridis"
# Above this many tokens, numbers in cells would be unreadable.
ANNOTATE_MAX_TOKENS = 12
# Above this many tokens, only every k-th tick is labelled.
MAX_TICK_LABELS = 32
DPI = 100

# The fonts labels are drawn with, in this order: matplotlib takes each glyph from the first installed font that
# has it. DejaVu Sans ships with matplotlib; the others are Debian packages (packages.txt installs them on the
# Space): CJK from Noto, and emoji from Symbola, a font of outlines (Noto Color Emoji is bitmaps only, which
# matplotlib cannot draw). A glyph none of them has is written as its code point (``plot_label``).
FONTS = ("DejaVu Sans", "Noto Sans CJK JP", "Symbola")

F = TypeVar("F", bound=Callable[..., Any])
# What a figure says when matplotlib is missing: the library installs it only with the [figures] extra.
MATPLOTLIB_MISSING = 'The figures need matplotlib: pip install "attention-core[figures]" (or pip install matplotlib).'


@functools.lru_cache(maxsize=1)
def installed_fonts() -> tuple[str, ...]:
    """The FONTS matplotlib finds on this machine, in order (DejaVu Sans always)."""
    from matplotlib import font_manager

    found = []
    for name in FONTS:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        found.append(name)
    return tuple(found)


@functools.lru_cache(maxsize=1)
def _font_charmap() -> frozenset[int]:
    """Every code point one of the installed fonts can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    chars: set[int] = set()
    for name in installed_fonts():
        chars.update(FT2Font(font_manager.findfont(name, fallback_to_default=False)).get_charmap())
    return frozenset(chars)


def plot_label(piece: str, limit: int = 14) -> str:
    """A token piece as a tick label: visible whitespace, and ``\\uXXXX`` for glyphs no installed font has.

    >>> plot_label(" journey")
    '␣journey'
    """
    charmap = _font_charmap()
    text = "".join(
        char if ord(char) in charmap else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in visible_token(piece)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _style(*, themed: bool) -> dict[str, Any]:
    """matplotlib settings for a figure: the fallback fonts, and for the page's figures the theme's colours
    (ink for text and axes, a transparent background)."""
    style: dict[str, Any] = {"font.family": list(installed_fonts())}
    if themed:
        ink, muted, paper = color("ink"), color("muted"), color("paper")
        style |= {
            "text.color": ink,
            "axes.labelcolor": ink,
            "axes.edgecolor": ink,
            "xtick.color": ink,
            "ytick.color": ink,
            "figure.facecolor": "none",
            "axes.facecolor": "none",
            "savefig.facecolor": "none",
            "legend.facecolor": paper,
            "legend.edgecolor": muted,
            "legend.framealpha": 1.0,
            "grid.color": muted,
            "hatch.color": ink,
            "hatch.linewidth": 1.0,
        }
    return style


def _drawn_with(*, themed: bool) -> Callable[[F], F]:
    """Build the decorated figure under ``_style``: matplotlib reads most settings when an artist is created."""

    def decorate(build: F) -> F:
        @functools.wraps(build)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                from matplotlib import rc_context
            except ModuleNotFoundError as error:
                raise ModuleNotFoundError(MATPLOTLIB_MISSING, name="matplotlib") from error

            with rc_context(_style(themed=themed)):
                return build(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _numbered_labels(tokens: Sequence[str]) -> list[str]:
    return [f"{plot_label(token)} ({i + 1})" for i, token in enumerate(tokens)]


def _tick_positions(count: int) -> list[int]:
    step = max(1, math.ceil(count / MAX_TICK_LABELS))
    return list(range(0, count, step))


def _text_inches(labels: Sequence[str], fontsize: float) -> float:
    """A generous estimate of the widest label's length in inches (DejaVu Sans averages ~0.6 em a glyph)."""
    longest = max((len(label) for label in labels), default=1)
    return longest * fontsize * 0.62 / 72


@dataclass(frozen=True)
class HeatmapLayout:
    """Where heatmap_figure puts things, in inches: the figure's size and the square plot's lower-left corner.

    Placed by hand rather than by a layout engine, which would measure every label several times per draw.
    """

    width: float
    height: float
    left: float
    bottom: float
    side: float
    count: int
    labels: list[str]
    fontsize: float


def heatmap_layout(tokens: Sequence[str]) -> HeatmapLayout:
    """The heatmap's geometry for these tokens."""
    count = len(tokens)
    labels = _numbered_labels(tokens)
    shown = [labels[i] for i in _tick_positions(count)]
    fontsize = 9 if count <= 16 else 7
    label_inches = _text_inches(shown, fontsize)
    side = min(6.5, 2.4 + 0.3 * min(count, 40))  # the square plot
    left, bottom, top = label_inches + 0.55, label_inches * 0.87 + 0.55, 0.4
    right = 0.25 + 0.18 + 0.85  # gap, colorbar, its tick labels and label
    return HeatmapLayout(left + side + right, bottom + side + top, left, bottom, side, count, shown, fontsize)


@_drawn_with(themed=False)
def heatmap_figure(matrix: torch.Tensor, tokens: Sequence[str], *, title: str, colorbar_label: str) -> Figure:
    """A (T, T) matrix as a heatmap: rows are queries, columns are keys, labelled with tokens.

    Cells show their value when T <= ANNOTATE_MAX_TOKENS. The axes are placed by hand rather
    than by a layout engine, which would measure every label several times per draw.
    """
    from matplotlib.figure import Figure

    values = matrix.detach().double().cpu().numpy()
    count = values.shape[0]
    layout = heatmap_layout(tokens)
    ticks, shown, fontsize = _tick_positions(count), layout.labels, layout.fontsize
    width, height, left, bottom, side = layout.width, layout.height, layout.left, layout.bottom, layout.side
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, side / width, side / height))
    colorbar_axes = figure.add_axes(((left + side + 0.25) / width, bottom / height, 0.18 / width, side / height))

    image = axes.imshow(values, cmap=COLORMAP, interpolation="nearest", aspect="auto")
    axes.set_xticks(ticks, shown, rotation=60, ha="right", rotation_mode="anchor", fontsize=fontsize)
    axes.set_yticks(ticks, shown, fontsize=fontsize)
    for label in axes.get_xticklabels() + axes.get_yticklabels():
        label.set_parse_math(False)  # a token like "$" must not start mathtext
    axes.set_xlabel("key j (attended to)")
    axes.set_ylabel("query i (attending)")
    axes.set_title(title, fontsize=10)
    if count <= ANNOTATE_MAX_TOKENS:
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(count):
            for j in range(count):
                axes.text(
                    j,
                    i,
                    f"{values[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8 if count <= 8 else 7,
                    color="black" if values[i, j] > middle else "white",
                )
    colorbar = figure.colorbar(image, cax=colorbar_axes)
    colorbar.set_label(colorbar_label)
    return figure


# Above this many keys, bars become one line collection: hundreds of patches are slow to draw.
BARS_AS_LINES_ABOVE = 40
# The query's own bar: vermillion and hatched, against plain blue bars (told apart without colour too).
QUERY_BAR = {"color": color("vermillion"), "hatch": "//"}
OTHER_BARS = {"color": color("blue"), "hatch": ""}


def weights_bar_title(tokens: Sequence[str], query: int) -> str:
    return f"Attention weights of query {query + 1} ({plot_label(tokens[query])})"


@_drawn_with(themed=True)
def weights_bar_figure(weights: torch.Tensor, tokens: Sequence[str], *, query: int) -> Figure:
    """One query's attention weights α_qj as bars, one per key token; the query's own bar hatched."""
    from matplotlib.figure import Figure

    values = weights.detach().double().cpu().numpy()
    count = values.shape[0]
    labels = _numbered_labels(tokens)
    ticks = _tick_positions(count)
    shown = [labels[i] for i in ticks]
    label_inches = _text_inches(shown, 8)
    plot_width, plot_height = min(8.0, 2.5 + 0.4 * min(count, 40)), 2.4
    left, bottom, top, right = 0.75, label_inches * 0.87 + 0.3, 0.6, 0.2
    width, height = left + plot_width + right, bottom + plot_height + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    positions = np.arange(count)
    others = positions != query
    if count > BARS_AS_LINES_ABOVE:
        axes.vlines(positions[others], 0, values[others], color=OTHER_BARS["color"], linewidth=1.2)
        axes.vlines([query], 0, [values[query]], color=QUERY_BAR["color"], linewidth=2.0)
        # A marker on the query's line: told apart by shape as well as colour.
        axes.plot(
            [query],
            [values[query]],
            marker="v",
            markersize=7,
            color=QUERY_BAR["color"],
            markeredgecolor=color("ink"),
            linestyle="none",
        )
    else:
        styles = [QUERY_BAR if j == query else OTHER_BARS for j in range(count)]
        axes.bar(
            positions,
            values,
            color=[style["color"] for style in styles],
            hatch=[style["hatch"] for style in styles],
            edgecolor=color("ink"),
            linewidth=0.6,
        )
    axes.set_xlim(-0.6, count - 0.4)
    axes.set_xticks(ticks, shown, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    for label in axes.get_xticklabels():
        label.set_parse_math(False)
    axes.set_ylabel("weight α")
    axes.set_ylim(0, max(1e-9, float(values.max())) * 1.15)
    marked = "marked ▼" if count > BARS_AS_LINES_ABOVE else "hatched"
    title = axes.set_title(f"{weights_bar_title(tokens, query)}; they sum to 1\nits own key is {marked}", fontsize=10)
    title.set_parse_math(False)
    if count <= 16:
        for j, value in enumerate(values):
            axes.text(j, value, f"{value:.4f}", ha="center", va="bottom", fontsize=7)
    return figure


def weights_bar_description(weights: torch.Tensor, tokens: Sequence[str], *, query: int) -> str:
    """What the bars show, in words, from the run's numbers.

    >>> print(weights_bar_description(torch.tensor([0.2, 0.5, 0.3]), [" a", " b", " c"], query=0))
    Bars: the attention weights of query 1 (␣a) over its 3 keys, which sum to 1. The largest is 0.5000, for key 2 \
(␣b); the query's own key (hatched) gets 0.2000.
    """
    values = weights.detach().double().cpu().tolist()
    count = len(values)
    name = visible_token(tokens[query])
    if count == 1:
        return f"Bars: query 1 ({name}) has one key, itself, with weight {values[0]:.4f}."
    largest = max(range(count), key=values.__getitem__)
    mark = "marked ▼" if count > BARS_AS_LINES_ABOVE else "hatched"
    return (
        f"Bars: the attention weights of query {query + 1} ({name}) over its {count} keys, which sum to 1. "
        f"The largest is {values[largest]:.4f}, for key {largest + 1} ({visible_token(tokens[largest])})"
        + (
            f": the query itself ({mark})."
            if largest == query
            else f"; the query's own key ({mark}) gets {values[query]:.4f}."
        )
    )


# The lab's series, in its columns' order: a colour and a hatching each, so no series depends on colour alone.
# Naive (orange) and stable (green) softmax differ in lightness too, which red-blind and green-blind eyes still see.
NORMALIZATION_STYLES = (
    {"color": color("blue"), "hatch": ""},
    {"color": color("orange"), "hatch": "//"},
    {"color": color("green"), "hatch": ".."},
    {"color": color("purple"), "hatch": "xx"},
)
NORMALIZATION_MAX_VALUES = 40
NORMALIZATION_TITLE = "Normalizations side by side (missing bars are NaN or inf)"


@_drawn_with(themed=True)
def normalization_figure(
    values: Sequence[float],
    columns: dict[str, Sequence[float | None]],
) -> Figure:
    """Grouped bars: for each input value (at most 40), one bar per normalization. Non-finite results are marked."""
    from matplotlib.figure import Figure

    count = len(values)
    shown = min(count, NORMALIZATION_MAX_VALUES)
    plot_width, plot_height = min(8.0, 2.0 + 0.45 * shown), 2.6
    left, bottom, top, right = 0.75, 0.85, 0.4, 1.75  # the legend sits in the right margin
    width, height = left + plot_width + right, bottom + plot_height + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    bar_width = 0.8 / max(1, len(columns))
    positions = np.arange(shown)
    for index, (name, column) in enumerate(columns.items()):
        heights = np.array([np.nan if v is None else float(v) for v in list(column)[:shown]], dtype=float)
        finite = np.isfinite(heights)
        offset = (index - (len(columns) - 1) / 2) * bar_width
        style = NORMALIZATION_STYLES[index % len(NORMALIZATION_STYLES)]
        axes.bar(
            positions[finite] + offset,
            heights[finite],
            width=bar_width,
            label=name,
            color=style["color"],
            hatch=style["hatch"],
            edgecolor=color("ink"),
            linewidth=0.6,
        )
        for position in positions[~finite]:
            axes.text(position + offset, 0, "NaN/inf", rotation=90, ha="center", va="bottom", fontsize=7)
    axes.axhline(0, color=color("ink"), linewidth=0.6)
    axes.set_xlim(-0.6, shown - 0.4)
    axes.set_xticks(positions, [f"{v:.4g}" for v in list(values)[:shown]], fontsize=8, rotation=45 if shown > 8 else 0)
    axes.set_xlabel("input value" + (f" (first {shown} of {count})" if shown < count else ""))
    axes.set_ylabel("weight")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, handleheight=1.6)
    axes.set_title(NORMALIZATION_TITLE, fontsize=10)
    return figure


def normalization_description(values: Sequence[float], columns: dict[str, Sequence[float | None]]) -> str:
    """What the lab's chart shows, in words, from the comparison's numbers.

    >>> columns = {"sum": [0.0, 1.0], "naive softmax": [0.0, None], "stable softmax": [0.0, 1.0]}
    >>> print(normalization_description([1.0, 400.0], columns))
    Grouped bars for the 2 values 1, 400: sum (plain), naive softmax (hatched //), stable softmax (dotted). \
Largest weights: sum 1.0000 at 400; naive softmax 0.0000 at 1; stable softmax 1.0000 at 400. No bar (NaN or inf): \
naive softmax at 400.
    """
    count = len(values)
    shown = min(count, NORMALIZATION_MAX_VALUES)
    values = list(values)[:shown]
    columns = {name: list(column)[:shown] for name, column in columns.items()}
    listed = ", ".join(f"{v:.4g}" for v in values[:8]) + (f", … ({count} in all)" if count > 8 else "")
    hatches = {"": "plain", "//": "hatched //", "..": "dotted", "xx": "cross-hatched"}
    names = list(columns)
    series = ", ".join(
        f"{name} ({hatches[NORMALIZATION_STYLES[i % len(NORMALIZATION_STYLES)]['hatch']]})"
        for i, name in enumerate(names)
    )
    largest, missing = [], []
    for name, column in columns.items():
        finite = [(float(v), i) for i, v in enumerate(column) if v is not None and math.isfinite(float(v))]
        if finite:
            top, at = max(finite)
            largest.append(f"{name} {top:.4f} at {values[at]:.4g}")
        else:
            largest.append(f"{name} none")
        gaps = [f"{values[i]:.4g}" for i, v in enumerate(column) if v is None or not math.isfinite(float(v))]
        if gaps:
            missing.append(f"{name} at " + ", ".join(gaps[:8]) + (f", … ({len(gaps)} in all)" if len(gaps) > 8 else ""))
    text = f"Grouped bars for the {count} value{'s' if count != 1 else ''} {listed}"
    text += (f" (the first {shown} are drawn): " if shown < count else ": ") + f"{series}. "
    text += "Largest weights: " + "; ".join(largest) + "."
    if missing:
        text += " No bar (NaN or inf): " + "; ".join(missing) + "."
    return text


def figure_to_png(figure: Figure) -> bytes:
    """Render a figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


# At most this many points get a token label in the geometry figure.
HULL_MAX_LABELS = 40
# Inputs are blue circles, context vectors vermillion triangles: shape and colour both tell them apart.
HULL_INPUTS = {"color": color("blue"), "marker": "o"}
HULL_CONTEXT = {"color": color("vermillion"), "marker": "^"}


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """The convex hull of 2D points by Andrew's monotone chain, counter-clockwise, without repeating the start.

    points: (N, 2). Returns (H, 2) hull vertices; collinear points on an edge are dropped, and fewer than
    3 distinct points come back as they are (a point or a segment).

    >>> convex_hull_2d(np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    """
    unique = np.unique(np.asarray(points, dtype=float).reshape(-1, 2), axis=0)  # sorted by x, then y
    if len(unique) < 3:
        return unique

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def chain(ordered: np.ndarray) -> list[np.ndarray]:
        hull: list[np.ndarray] = []
        for point in ordered:
            while len(hull) >= 2 and cross(hull[-2], hull[-1], point) <= 0:
                hull.pop()
            hull.append(point)
        return hull

    lower, upper = chain(unique), chain(unique[::-1])
    return np.array(lower[:-1] + upper[:-1])


@_drawn_with(themed=True)
def convex_hull_figure(inputs: torch.Tensor, context: torch.Tensor, tokens: Sequence[str]) -> Figure:
    """Where the context vectors sit relative to the inputs: each is a weighted average, so inside their hull.

    inputs: (T, d), context: (T, d). d == 3: a 3D scatter like the book's figure of the input vectors, with a
    line from each input to its context vector. d == 1 or 2: the vectors themselves; d ≥ 4: both projected
    on the inputs' top two principal components (``facts.project_2d``), the explained variance in the axis
    labels. In 2D, arrows run from each input to its context vector, inside the outline of the inputs'
    convex hull. The first HULL_MAX_LABELS inputs are labelled with their tokens.
    """
    from matplotlib.figure import Figure

    x = inputs.detach().double().cpu().numpy()  # (T, d)
    z = context.detach().double().cpu().numpy()  # (T, d)
    count, dim = x.shape
    labelled = min(count, HULL_MAX_LABELS)
    labels = [plot_label(tokens[i]) for i in range(labelled)]
    input_style = {
        **HULL_INPUTS,
        "s": 36,
        "label": "inputs x⁽ⁱ⁾",
        "zorder": 3,
        "edgecolors": color("ink"),
        "linewidths": 0.5,
    }
    context_style = {
        **HULL_CONTEXT,
        "s": 44,
        "label": "context vectors z⁽ⁱ⁾",
        "zorder": 4,
        "edgecolors": color("ink"),
        "linewidths": 0.5,
    }
    fontsize = 8 if count <= 16 else 7

    width, height = 6.6, 5.4
    figure = Figure(figsize=(width, height), dpi=DPI)
    if dim == 3:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        axes = figure.add_subplot(projection="3d")
        axes.scatter(x[:, 0], x[:, 1], x[:, 2], **input_style)
        axes.scatter(z[:, 0], z[:, 1], z[:, 2], **context_style)
        segments = np.stack([x, z], axis=1)  # (T, 2, 3): input -> context
        axes.add_collection3d(Line3DCollection(segments, colors=color("muted"), linewidths=0.8, alpha=0.8))
        for axis in (axes.xaxis, axes.yaxis, axes.zaxis):
            axis.set_pane_color((1.0, 1.0, 1.0, 0.0))  # no grey panes: the page's background shows through
        for i in range(labelled):
            axes.text(x[i, 0], x[i, 1], x[i, 2], " " + labels[i], fontsize=fontsize).set_parse_math(False)
        axes.set_xlabel("dimension 1")
        axes.set_ylabel("dimension 2")
        axes.set_zlabel("dimension 3")
        axes.set_title("Context vectors (▲) are weighted averages of the inputs (●)", fontsize=10)
        axes.legend(fontsize=8, loc="upper left")
        return figure

    if dim <= 2:
        inputs_2d = np.column_stack([x, np.zeros((count, 2 - dim))])  # (T, 2)
        context_2d = np.column_stack([z, np.zeros((count, 2 - dim))])  # (T, 2)
        x_label = "dimension 1"
        y_label = "dimension 2" if dim == 2 else "(d = 1: a single dimension)"
    else:
        from ..facts import project_2d

        projected_inputs, projected_context, explained = project_2d(inputs, context)
        inputs_2d, context_2d = projected_inputs.numpy(), projected_context.numpy()
        x_label = f"principal component 1 ({explained[0]:.0%} of the inputs' variance)"
        y_label = f"principal component 2 ({explained[1]:.0%})"

    left, bottom, plot_width, plot_height = 0.85, 0.65, 5.45, 4.3
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    hull = convex_hull_2d(inputs_2d)
    if len(hull) >= 2:
        outline = np.vstack([hull, hull[:1]])  # closed
        axes.fill(outline[:, 0], outline[:, 1], color=color("blue"), alpha=0.07, zorder=1)
        axes.plot(
            outline[:, 0],
            outline[:, 1],
            color=color("blue"),
            linewidth=1.0,
            linestyle="--",
            zorder=2,
            label="convex hull of the inputs",
        )
    delta = context_2d - inputs_2d  # (T, 2)
    axes.quiver(
        inputs_2d[:, 0],
        inputs_2d[:, 1],
        delta[:, 0],
        delta[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color=color("muted"),
        width=0.003,
        alpha=0.8,
        zorder=2,
    )
    axes.scatter(inputs_2d[:, 0], inputs_2d[:, 1], **input_style)
    axes.scatter(context_2d[:, 0], context_2d[:, 1], **context_style)
    for i in range(labelled):
        axes.annotate(
            labels[i], (inputs_2d[i, 0], inputs_2d[i, 1]), xytext=(4, 4), textcoords="offset points", fontsize=fontsize
        ).set_parse_math(False)
    if dim == 1:
        axes.set_yticks([])
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.margins(0.12)
    where = "inside the inputs' hull" + (" (projected)" if dim > 3 else "")
    axes.set_title(f"Context vectors (▲) are weighted averages: {where}", fontsize=10)
    axes.legend(fontsize=8, loc="best")
    return figure


def convex_hull_title(dim: int) -> str:
    return "Inputs and their context vectors" + (" (projected)" if dim > 3 else "")


def convex_hull_description(inputs: torch.Tensor, context: torch.Tensor, tokens: Sequence[str]) -> str:
    """What the hull figure shows, in words, from the run's numbers: where it is drawn, and which context
    vector moved farthest from its input (the distance in all d dimensions).

    >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> print(convex_hull_description(x, torch.tensor([[0.5, 0.0], [1.5, 0.0]]), ["a", "b"]))
    Scatter of the 2 inputs x⁽ⁱ⁾ (circles) and their context vectors z⁽ⁱ⁾ (triangles) in dimensions 1 and 2, with \
the outline of the inputs' convex hull and an arrow from each input to its context vector. Every context vector is \
a weighted average of the inputs, so it lies inside their hull. The one farthest from its input is z⁽¹⁾ (a), \
0.5000 away; on average they are 0.5000 away.
    """
    x = inputs.detach().double()  # (T, d)
    z = context.detach().double()  # (T, d)
    count, dim = x.shape
    points = f"the {count} input{'s' if count != 1 else ''} x⁽ⁱ⁾ (circles) and their context vectors z⁽ⁱ⁾ (triangles)"
    if dim == 3:
        where = f"3-D scatter of {points}, each joined to its input by a line."
    else:
        if dim <= 2:
            plane = "in dimensions 1 and 2" if dim == 2 else "on one dimension"
        else:
            from ..facts import project_2d

            explained = project_2d(inputs, context)[2]
            plane = (
                f"projected on the inputs' top two principal components ({explained[0]:.0%} and "
                f"{explained[1]:.0%} of their variance)"
            )
        where = (
            f"Scatter of {points} {plane}, with the outline of the inputs' convex hull and an arrow from each "
            "input to its context vector."
        )
    distances = torch.linalg.vector_norm(z - x, dim=-1)  # (T,)
    far = int(distances.argmax())
    return (
        f"{where[0].upper()}{where[1:]} Every context vector is a weighted average of the inputs, so it lies inside "
        f"their hull. The one farthest from its input is z⁽{_superscript(far + 1)}⁾ ({visible_token(tokens[far])}), "
        f"{float(distances[far]):.4f} away; on average they are {float(distances.mean()):.4f} away."
    )


def _superscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# --- figures on the page: inline SVG in the theme's colours ---------------------------------------------------

_SVG_COLOURS = {values[0].lower(): f"var(--fig-{name}, {values[0].lower()})" for name, values in THEME.items()}


def figure_to_svg(figure: Figure, *, prefix: str) -> str:
    """The figure as an inline ``<svg>`` element for the page.

    - Glyphs are outlines (text looks the same everywhere), the background is transparent, and no metadata.
    - Every palette colour becomes its CSS variable, ``fill: var(--fig-blue, #0072b2)``: the page's theme decides.
    - Every id (glyphs, clip paths, hatch patterns) starts with ``prefix``, so figures never share one.
    - The fixed size becomes a viewBox: the page's CSS sizes the figure.
    """
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": prefix}):
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
            facecolor="none",
        )
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # matplotlib's one style rule, "*{stroke-linejoin: round; stroke-linecap: butt}", would reach every SVG of the
    # page: both properties are inherited, so the root element carries them instead.
    svg = re.sub(r'<style type="text/css">.*?</style>\s*', "", svg, flags=re.S)
    svg = re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)
    svg = svg.replace("<svg ", '<svg style="stroke-linejoin: round; stroke-linecap: butt" ', 1)
    # Colours: in style attributes ("fill: #0072b2") and as presentation attributes (fill="#0072b2"), which
    # cannot hold var(): those become style attributes.
    svg = re.sub(
        r"(fill|stroke|stop-color): (#[0-9a-f]{6})\b", lambda m: f"{m[1]}: {_SVG_COLOURS.get(m[2], m[2])}", svg
    )
    svg = re.sub(
        r' (fill|stroke)="(#[0-9a-f]{6})"',
        lambda m: f' style="{m[1]}: {_SVG_COLOURS[m[2]]}"' if m[2] in _SVG_COLOURS else m[0],
        svg,
    )
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m[1]}"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m[1]}="#{prefix}-{m[2]}"' if m[2] in ids else m[0], svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m[1]})" if m[1] in ids else m[0], svg)
    return svg.strip()


def figure_markup(figure: Figure, *, name: str, title: str, description: str) -> str:
    """A figure for the page: the SVG, named ``title`` for screen readers, with ``description`` as its visible caption.

    name: a short id for this figure (``bars``, ``hull``, ``lab``), unique on the page. The SVG scales down to its
    box; on a narrow screen it keeps at least FIGURE_MIN_SCALE of its size and scrolls sideways instead.
    """
    width_px = figure.get_figwidth() * 96  # CSS pixels at the figure's natural size
    svg = figure_to_svg(figure, prefix=f"fig-{name}")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title, quote=True)}" ', 1)
    return (
        f'<figure class="fig" id="fig-{name}" style="--fig-width: {width_px:.0f}px; '
        f'--fig-min-width: {width_px * FIGURE_MIN_SCALE:.0f}px">'
        f'<div class="fig-scroll" data-label="{html.escape(title, quote=True)}">{svg}</div>'
        f"<figcaption>{html.escape(description)}</figcaption></figure>"
    )


# On a phone, a figure is shown at least this fraction of its natural size (its 8-point labels stay ≥ 8.5 px).
FIGURE_MIN_SCALE = 0.8
