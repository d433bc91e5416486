"""Matplotlib figures, where a picture is the product: the matrix as a PNG, one query's bars, the lab's
chart and the convex hull. Built with the object API (no pyplot state, nothing to close).

matplotlib is imported inside each function, so importing the views stays light.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from ..tokens import visible_token

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The matrix's colormap, perceptually uniform and colour-blind safe; the page's live matrix uses the same one.
COLORMAP = "viridis"
# Above this many tokens, numbers in cells would be unreadable.
ANNOTATE_MAX_TOKENS = 12
# Above this many tokens, only every k-th tick is labelled.
MAX_TICK_LABELS = 32
DPI = 100


@functools.lru_cache(maxsize=1)
def _font_charmap() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont("DejaVu Sans")).get_charmap())


def plot_label(piece: str, limit: int = 14) -> str:
    """A token piece as a tick label: visible whitespace, and ``\\uXXXX`` for glyphs the font lacks.

    >>> plot_label(" journey")
    '␣journey'
    """
    charmap = _font_charmap()
    text = "".join(
        char if ord(char) in charmap else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in visible_token(piece)
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def heatmap_figure(matrix: torch.Tensor, tokens: Sequence[str], *, title: str, colorbar_label: str) -> "Figure":
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


def weights_bar_figure(weights: torch.Tensor, tokens: Sequence[str], *, query: int) -> "Figure":
    """One query's attention weights α_qj as bars, one per key token; the query's own bar in red."""
    from matplotlib.figure import Figure

    values = weights.detach().double().cpu().numpy()
    count = values.shape[0]
    labels = _numbered_labels(tokens)
    ticks = _tick_positions(count)
    shown = [labels[i] for i in ticks]
    label_inches = _text_inches(shown, 8)
    plot_width, plot_height = min(8.0, 2.5 + 0.4 * min(count, 40)), 2.4
    left, bottom, top, right = 0.75, label_inches * 0.87 + 0.3, 0.4, 0.2
    width, height = left + plot_width + right, bottom + plot_height + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, plot_width / width, plot_height / height))
    positions = np.arange(count)
    others = positions != query
    if count > BARS_AS_LINES_ABOVE:
        axes.vlines(positions[others], 0, values[others], color="#1f77b4", linewidth=1.2)
        axes.vlines([query], 0, [values[query]], color="#d62728", linewidth=2.0)
    else:
        axes.bar(positions, values, color=["#d62728" if j == query else "#1f77b4" for j in range(count)])
    axes.set_xlim(-0.6, count - 0.4)
    axes.set_xticks(ticks, shown, rotation=60, ha="right", rotation_mode="anchor", fontsize=8)
    for label in axes.get_xticklabels():
        label.set_parse_math(False)
    axes.set_ylabel("weight α")
    axes.set_ylim(0, max(1e-9, float(values.max())) * 1.15)
    axes.set_title(f"Attention weights of query {query + 1} ({plot_label(tokens[query])}); they sum to 1", fontsize=10)
    if count <= 16:
        for j, value in enumerate(values):
            axes.text(j, value, f"{value:.4f}", ha="center", va="bottom", fontsize=7)
    return figure


NORMALIZATION_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")


def normalization_figure(
    values: Sequence[float],
    columns: dict[str, Sequence[float | None]],
) -> "Figure":
    """Grouped bars: for each input value (at most 40), one bar per normalization. Non-finite results are marked."""
    from matplotlib.figure import Figure

    count = len(values)
    shown = min(count, 40)
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
        color = NORMALIZATION_COLORS[index % len(NORMALIZATION_COLORS)]
        axes.bar(positions[finite] + offset, heights[finite], width=bar_width, label=name, color=color)
        for position in positions[~finite]:
            axes.text(position + offset, 0, "NaN/inf", rotation=90, ha="center", va="bottom", fontsize=7, color="#d62728")
    axes.axhline(0, color="black", linewidth=0.6)
    axes.set_xlim(-0.6, shown - 0.4)
    axes.set_xticks(positions, [f"{v:.4g}" for v in list(values)[:shown]], fontsize=8, rotation=45 if shown > 8 else 0)
    axes.set_xlabel("input value" + (f" (first {shown} of {count})" if shown < count else ""))
    axes.set_ylabel("weight")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    axes.set_title("Normalizations side by side (missing bars are NaN or inf)", fontsize=10)
    return figure


def figure_to_array(figure: "Figure") -> np.ndarray:
    """Render a figure to an (H, W, 4) uint8 RGBA array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def figure_to_png(figure: "Figure") -> bytes:
    """Render a figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


# At most this many points get a token label in the geometry figure.
HULL_MAX_LABELS = 40


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


def convex_hull_figure(inputs: torch.Tensor, context: torch.Tensor, tokens: Sequence[str]) -> "Figure":
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
    input_style = {"color": "#1f77b4", "marker": "o", "s": 36, "label": "inputs x⁽ⁱ⁾", "zorder": 3}
    context_style = {"color": "#d62728", "marker": "^", "s": 40, "label": "context vectors z⁽ⁱ⁾", "zorder": 4}
    fontsize = 8 if count <= 16 else 7

    width, height = 6.6, 5.4
    figure = Figure(figsize=(width, height), dpi=DPI)
    if dim == 3:
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        axes = figure.add_subplot(projection="3d")
        axes.scatter(x[:, 0], x[:, 1], x[:, 2], **input_style)
        axes.scatter(z[:, 0], z[:, 1], z[:, 2], **context_style)
        segments = np.stack([x, z], axis=1)  # (T, 2, 3): input -> context
        axes.add_collection3d(Line3DCollection(segments, colors="#7f7f7f", linewidths=0.8, alpha=0.8))
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
        axes.fill(outline[:, 0], outline[:, 1], color="#1f77b4", alpha=0.07, zorder=1)
        axes.plot(outline[:, 0], outline[:, 1], color="#1f77b4", linewidth=1.0, linestyle="--", zorder=2,
                  label="convex hull of the inputs")
    delta = context_2d - inputs_2d  # (T, 2)
    axes.quiver(inputs_2d[:, 0], inputs_2d[:, 1], delta[:, 0], delta[:, 1], angles="xy", scale_units="xy", scale=1,
                color="#7f7f7f", width=0.003, alpha=0.8, zorder=2)
    axes.scatter(inputs_2d[:, 0], inputs_2d[:, 1], **input_style)
    axes.scatter(context_2d[:, 0], context_2d[:, 1], **context_style)
    for i in range(labelled):
        axes.annotate(labels[i], (inputs_2d[i, 0], inputs_2d[i, 1]), xytext=(4, 4), textcoords="offset points",
                      fontsize=fontsize).set_parse_math(False)
    if dim == 1:
        axes.set_yticks([])
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.margins(0.12)
    where = "inside the inputs' hull" + (" (projected)" if dim > 3 else "")
    axes.set_title(f"Context vectors (▲) are weighted averages: {where}", fontsize=10)
    axes.legend(fontsize=8, loc="best")
    return figure
