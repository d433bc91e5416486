"""Matplotlib figures for the views, built with the object API (no pyplot state, nothing to close).

matplotlib is imported inside each function, so importing attention_core stays light.
"""

from __future__ import annotations

import functools
import io
import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from .tokens import visible_token

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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


def heatmap_figure(matrix: torch.Tensor, tokens: Sequence[str], *, title: str, colorbar_label: str) -> "Figure":
    """A (T, T) matrix as a heatmap: rows are queries, columns are keys, labelled with tokens.

    Cells show their value when T <= ANNOTATE_MAX_TOKENS. The axes are placed by hand rather
    than by a layout engine, which would measure every label several times per draw.
    """
    from matplotlib.figure import Figure

    values = matrix.detach().double().cpu().numpy()
    count = values.shape[0]
    labels = _numbered_labels(tokens)
    ticks = _tick_positions(count)
    shown = [labels[i] for i in ticks]
    fontsize = 9 if count <= 16 else 7
    label_inches = _text_inches(shown, fontsize)

    side = min(6.5, 2.4 + 0.3 * min(count, 40))  # the square plot, in inches
    left, bottom, top = label_inches + 0.55, label_inches * 0.87 + 0.55, 0.4
    right = 0.25 + 0.18 + 0.85  # gap, colorbar, its tick labels and label
    width, height = left + side + right, bottom + side + top
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, side / width, side / height))
    colorbar_axes = figure.add_axes(((left + side + 0.25) / width, bottom / height, 0.18 / width, side / height))

    image = axes.imshow(values, cmap="viridis", interpolation="nearest", aspect="auto")
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
