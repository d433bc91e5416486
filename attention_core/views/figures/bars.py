"""One query's attention weights as bars, on the page as inline SVG, with a description in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...tokens import visible_token
from ..palette import color
from .style import DPI, drawn_with, numbered_labels, plot_label, text_inches, tick_positions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Above this many keys, bars become one line collection: hundreds of patches are slow to draw.
BARS_AS_LINES_ABOVE = 40
# The query's own bar: vermillion and hatched, against plain blue bars (told apart without colour too).
QUERY_BAR = {"color": color("vermillion"), "hatch": "//"}
OTHER_BARS = {"color": color("blue"), "hatch": ""}


def weights_bar_title(tokens: Sequence[str], query: int) -> str:
    return f"Attention weights of query {query + 1} ({plot_label(tokens[query])})"


@drawn_with(themed=True)
def weights_bar_figure(weights: torch.Tensor, tokens: Sequence[str], *, query: int) -> Figure:
    """One query's attention weights α_qj as bars, one per key token; the query's own bar hatched."""
    from matplotlib.figure import Figure

    values = weights.detach().double().cpu().numpy()
    count = values.shape[0]
    labels = numbered_labels(tokens)
    ticks = tick_positions(count)
    shown = [labels[i] for i in ticks]
    label_inches = text_inches(shown, 8)
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
