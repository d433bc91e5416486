"""The figures' colours: series stay apart for colour-blind eyes, and by shape or hatching without colour at all.

Colour-vision deficiency is simulated with Machado, Oliveira and Fernandes (2009), "A Physiologically-based Model
for Simulation of Color Vision Deficiency", at severity 1 (protanopia, deuteranopia), applied in linear sRGB; the
difference is CIE76 ΔE in CIELAB (D65). The lab chart's old colours, matplotlib's orange and green, were 4.6 apart
for protanopia: about what an eye can barely tell apart. The floor here is 20.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from attention_core.views import figures
from attention_core.views.palette import OKABE_ITO, THEME, css_variables, themed_colors

MACHADO_2009 = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
}
MIN_DELTA_E = 20.0


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    to_xyz = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
    )
    xyz = to_xyz @ linear_rgb / np.array([0.95047, 1.0, 1.08883])  # relative to D65 white
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def rgb(color) -> np.ndarray:
    """A #RRGGBB string or a matplotlib RGBA tuple as sRGB in [0, 1]."""
    if isinstance(color, str):
        return np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.asarray(color[:3], dtype=float)


def seen(color, vision: str) -> np.ndarray:
    """The colour in CIELAB as an eye with ``vision`` ("normal", "protanopia", "deuteranopia") sees it."""
    linear = _linear(rgb(color))
    if vision != "normal":
        linear = np.clip(MACHADO_2009[vision] @ linear, 0.0, 1.0)
    return _lab(linear)


def delta_e(a, b, vision: str) -> float:
    return float(np.linalg.norm(seen(a, vision) - seen(b, vision)))


VISIONS = ["normal", "protanopia", "deuteranopia"]


def test_the_simulation_reproduces_the_old_charts_failure():
    """The check would have caught it: matplotlib's orange and green, 4.6 apart for a red-blind eye."""
    assert delta_e("#ff7f0e", "#2ca02c", "protanopia") < 5 < MIN_DELTA_E < delta_e("#ff7f0e", "#2ca02c", "normal")
    assert delta_e("#ffffff", "#ffffff", "deuteranopia") == 0.0


# --- the lab chart: naive (orange) and stable (green) softmax --------------------------------------------------

LAB_COLUMNS = {
    "sum-normalized": [0.0025, 0.0049, 0.0074, 0.9852],
    "naive softmax": [0.0, 0.0, 0.0, None],
    "stable softmax": [0.0, 0.0, 0.0, 1.0],
}


def lab_series() -> dict[str, list]:
    """The bars of each series of the lab's chart, as matplotlib draws them."""
    axes = figures.normalization_figure([1.0, 2.0, 3.0, 400.0], LAB_COLUMNS).axes[0]
    return {container.get_label(): list(container) for container in axes.containers}


@pytest.mark.parametrize("vision", VISIONS)
def test_lab_chart_naive_and_stable_differ_in_colour_for_every_eye(vision):
    series = lab_series()
    naive, stable = series["naive softmax"][0].get_facecolor(), series["stable softmax"][0].get_facecolor()
    assert delta_e(naive, stable, vision) >= MIN_DELTA_E, (vision, naive, stable)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("vision", VISIONS)
def test_every_pair_of_lab_series_differs_in_both_themes(theme, vision):
    """The colours the page's CSS gives the series, in either theme: every pair stays ≥ 20 apart."""
    shown = themed_colors(theme)
    names = [
        name
        for name, hex_color in THEME.items()
        for style in figures.NORMALIZATION_STYLES[:3]
        if hex_color[0] == style["color"]
    ]
    assert names == ["blue", "orange", "green"]
    for a, b in itertools.combinations(names, 2):
        assert delta_e(shown[a], shown[b], vision) >= MIN_DELTA_E, (theme, vision, a, b)


def test_lab_chart_series_also_differ_by_hatching():
    series = lab_series()
    hatches = {name: {bar.get_hatch() or "" for bar in bars} for name, bars in series.items()}
    assert hatches == {"sum-normalized": {""}, "naive softmax": {"//"}, "stable softmax": {".."}}
    assert len({style["hatch"] for style in figures.NORMALIZATION_STYLES}) == len(figures.NORMALIZATION_STYLES)
    for bars in series.values():  # outlined in ink, so a light bar still has an edge on a light page
        assert all(rgb(bar.get_edgecolor()) == pytest.approx(rgb(THEME["ink"][0])) for bar in bars)


# --- the walk-through's bars and the hull ----------------------------------------------------------------------


@pytest.mark.parametrize("vision", VISIONS)
def test_the_query_bar_differs_from_the_others_by_colour_and_hatching(vision):
    weights = torch.softmax(torch.tensor([1.0, 2.0, 0.5, 0.1]), dim=0)
    bars = figures.weights_bar_figure(weights, [" a", " b", " c", " d"], query=1).axes[0].containers[0]
    query, other = bars[1], bars[0]
    assert delta_e(query.get_facecolor(), other.get_facecolor(), vision) >= MIN_DELTA_E
    assert (query.get_hatch(), other.get_hatch() or "") == ("//", "")


def test_with_many_keys_the_query_line_carries_a_marker():
    count = figures.BARS_AS_LINES_ABOVE + 10
    weights = torch.softmax(torch.linspace(0, 1, count), dim=0)
    axes = figures.weights_bar_figure(weights, [f" t{i}" for i in range(count)], query=7).axes[0]
    (marker,) = axes.get_lines()
    assert marker.get_marker() == "v" and list(marker.get_xdata()) == [7]


@pytest.mark.parametrize("vision", VISIONS)
def test_hull_inputs_and_context_differ_by_colour_and_shape(vision):
    assert delta_e(figures.HULL_INPUTS["color"], figures.HULL_CONTEXT["color"], vision) >= MIN_DELTA_E
    assert figures.HULL_INPUTS["marker"] != figures.HULL_CONTEXT["marker"]


# --- the CSS ----------------------------------------------------------------------------------------------------


def test_series_colours_are_okabe_ito_and_css_declares_every_one():
    css = css_variables()
    for name, (drawn, light, dark) in THEME.items():
        assert f"--fig-{name}: {light};" in css
        if dark != light:
            assert f"--fig-{name}: {dark};" in css.split(".dark .fig", 1)[1]
        if drawn.startswith("#") and name not in ("ink", "muted", "paper"):
            assert drawn in OKABE_ITO.values() and light in OKABE_ITO.values() and dark in OKABE_ITO.values()


def _contrast(a: str, b: str) -> float:
    def luminance(color: str) -> float:
        return float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(rgb(color)))

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("theme", "background"), [("light", "#ffffff"), ("dark", "#1f2937")], ids=["light", "dark"])
def test_series_colours_keep_3_to_1_against_the_page_or_have_an_outline(theme, background):
    """WCAG 1.4.11 asks 3:1 for a graphic's parts. Every bar is outlined in the text colour, which has far more;
    a series colour below 3:1 on its own is allowed only in light mode (Okabe-Ito orange), never for points."""
    for name, shown in themed_colors(theme).items():
        if theme == "dark" or name != "orange":
            assert _contrast(shown, background) >= 3.0, (theme, name, shown)
