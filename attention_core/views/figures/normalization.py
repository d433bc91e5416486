"""The normalization lab's chart: grouped bars, one per normalization, and its description in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..palette import color
from .style import DPI, drawn_with

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Naive (orange) and stable (green) softmax differ in lightness too, which red-blind and green-blind eyes still see.
NORMALIZATION_STYLES = (
    {"color": color("blue"), "hatch": ""},
    {"color": color("orange"), "hatch": "//"},
    {"color": color("green"), "hatch": ".."},
    {"color": color("purple"), "hatch": "xx"},
)
NORMALIZATION_MAX_VALUES = 40
NORMALIZATION_TITLE = "Normalizations side by side (missing bars are NaN or inf)"


@drawn_with(themed=True)
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
