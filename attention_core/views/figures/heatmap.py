"""The attention matrix as a heatmap: the PNG export (a file, so on a white background)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .style import DPI, drawn_with, numbered_labels, text_inches, tick_positions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The matrix's colormap, perceptually uniform and colour-blind safe; the page's live matrix uses the same one.
COLORMAP = "viridis"
# Above this many tokens, numbers in cells would be unreadable.
ANNOTATE_MAX_TOKENS = 12


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
    labels = numbered_labels(tokens)
    shown = [labels[i] for i in tick_positions(count)]
    fontsize = 9 if count <= 16 else 7
    label_inches = text_inches(shown, fontsize)
    side = min(6.5, 2.4 + 0.3 * min(count, 40))  # the square plot
    left, bottom, top = label_inches + 0.55, label_inches * 0.87 + 0.55, 0.4
    right = 0.25 + 0.18 + 0.85  # gap, colorbar, its tick labels and label
    return HeatmapLayout(left + side + right, bottom + side + top, left, bottom, side, count, shown, fontsize)


@drawn_with(themed=False)
def heatmap_figure(matrix: torch.Tensor, tokens: Sequence[str], *, title: str, colorbar_label: str) -> Figure:
    """A (T, T) matrix as a heatmap: rows are queries, columns are keys, labelled with tokens.

    Cells show their value when T <= ANNOTATE_MAX_TOKENS. The axes are placed by hand rather
    than by a layout engine, which would measure every label several times per draw.
    """
    from matplotlib.figure import Figure

    values = matrix.detach().double().cpu().numpy()
    count = values.shape[0]
    layout = heatmap_layout(tokens)
    ticks, shown, fontsize = tick_positions(count), layout.labels, layout.fontsize
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
