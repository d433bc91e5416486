"""Matplotlib figures, where a picture is the product: the matrix as a PNG, one query's bars, the lab's chart and
the convex hull. Built with the object API (no pyplot state, nothing to close). One module per figure, plus
``style`` (fonts, labels, the theme's colours) and ``render`` (PNG bytes, inline SVG and its markup).

The page shows the bars, the chart and the hull as inline SVG (``figure_markup``): crisp at any zoom, named for
screen readers with a description computed from the run, and coloured with CSS variables (``palette``), so one
drawing follows the page's light or dark theme. Series differ by shape or hatching as well as by colour, in
Okabe and Ito's colour-blind-safe palette. The matrix's PNG export keeps a white background: it is a file.

matplotlib is imported inside each function, so importing the views stays light. This module only re-exports.
"""

from __future__ import annotations

from .bars import (
    BARS_AS_LINES_ABOVE,
    OTHER_BARS,
    QUERY_BAR,
    weights_bar_description,
    weights_bar_figure,
    weights_bar_title,
)
from .heatmap import ANNOTATE_MAX_TOKENS, COLORMAP, HeatmapLayout, heatmap_figure, heatmap_layout
from .hull import (
    HULL_CONTEXT,
    HULL_INPUTS,
    HULL_MAX_LABELS,
    convex_hull_2d,
    convex_hull_description,
    convex_hull_figure,
    convex_hull_title,
)
from .normalization import (
    NORMALIZATION_MAX_VALUES,
    NORMALIZATION_STYLES,
    NORMALIZATION_TITLE,
    normalization_description,
    normalization_figure,
)
from .render import FIGURE_MIN_SCALE, figure_markup, figure_to_png, figure_to_svg
from .style import DPI, FONTS, MAX_TICK_LABELS, installed_fonts, plot_label

__all__ = [
    "ANNOTATE_MAX_TOKENS",
    "BARS_AS_LINES_ABOVE",
    "COLORMAP",
    "DPI",
    "FIGURE_MIN_SCALE",
    "FONTS",
    "HULL_CONTEXT",
    "HULL_INPUTS",
    "HULL_MAX_LABELS",
    "MAX_TICK_LABELS",
    "NORMALIZATION_MAX_VALUES",
    "NORMALIZATION_STYLES",
    "NORMALIZATION_TITLE",
    "OTHER_BARS",
    "QUERY_BAR",
    "HeatmapLayout",
    "convex_hull_2d",
    "convex_hull_description",
    "convex_hull_figure",
    "convex_hull_title",
    "figure_markup",
    "figure_to_png",
    "figure_to_svg",
    "heatmap_figure",
    "heatmap_layout",
    "installed_fonts",
    "normalization_description",
    "normalization_figure",
    "plot_label",
    "weights_bar_description",
    "weights_bar_figure",
    "weights_bar_title",
]
