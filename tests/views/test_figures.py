"""Figures, where a picture is the product: the matrix, one query's bars, the lab's chart and the convex hull.

Each is checked on the data matplotlib holds, not on pixels.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import imread
from torch.testing import assert_close

from attention_core import visible_token
from attention_core.attention import self_attention
from attention_core.facts import project_2d
from attention_core.views import figures
from attention_core.views.figures import (
    DPI,
    HULL_MAX_LABELS,
    convex_hull_2d,
    convex_hull_figure,
    figure_to_png,
    heatmap_figure,
    normalization_figure,
    plot_label,
    weights_bar_figure,
)
from attention_core.views.palette import THEME

REPO_ROOT = Path(__file__).resolve().parents[2]

TRICKY_TOKENS = ["$x$", " journey", "\n", '"', ",", "\\xf0\\x9f", "<|endoftext|>", "東京"]


def figure_to_array(figure) -> np.ndarray:
    """The figure drawn by matplotlib's Agg canvas, as an (H, W, 4) uint8 RGBA array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _run(count: int, dim: int, seed: int = 0):
    inputs = torch.randn(count, dim, generator=torch.Generator().manual_seed(seed))
    tokens = [TRICKY_TOKENS[i % len(TRICKY_TOKENS)] + str(i) for i in range(count)]
    return inputs, self_attention(inputs).context, tokens


def _scatters(axes) -> dict[str, PathCollection]:
    return {c.get_label(): c for c in axes.collections if isinstance(c, PathCollection)}


def _points(collection: PathCollection, three_d: bool) -> np.ndarray:
    if three_d:
        return np.column_stack([np.asarray(v, dtype=float) for v in collection._offsets3d])
    return np.asarray(collection.get_offsets(), dtype=float)


@pytest.mark.parametrize(
    ("count", "dim"),
    [(1, 1), (6, 1), (6, 2), (6, 3), (6, 4), (50, 768)],
    ids=["T1_d1", "T6_d1", "T6_d2", "T6_d3", "T6_d4", "T50_d768"],
)
def test_hull_figure_plots_every_input_and_context_vector(count, dim):
    inputs, context, tokens = _run(count, dim)
    figure = convex_hull_figure(inputs, context, tokens)
    assert isinstance(figure, Figure) and figure.dpi == DPI
    assert len(figure.axes) == 1
    axes = figure.axes[0]
    assert axes.name == ("3d" if dim == 3 else "rectilinear")
    scatters = _scatters(axes)
    assert set(scatters) == {"inputs x⁽ⁱ⁾", "context vectors z⁽ⁱ⁾"}
    plotted_inputs = _points(scatters["inputs x⁽ⁱ⁾"], dim == 3)
    plotted_context = _points(scatters["context vectors z⁽ⁱ⁾"], dim == 3)
    assert len(plotted_inputs) + len(plotted_context) == 2 * count
    if dim >= 4:
        inputs_2d, context_2d, explained = project_2d(inputs, context)
        assert_close(torch.from_numpy(plotted_inputs), inputs_2d)
        assert_close(torch.from_numpy(plotted_context), context_2d)
        assert f"{explained[0]:.0%}" in axes.get_xlabel() and f"{explained[1]:.0%}" in axes.get_ylabel()
    else:
        # d ≤ 3: the vectors themselves (d = 1 on the line y = 0).
        padding = np.zeros((count, max(0, 2 - dim)))
        assert_close(
            torch.from_numpy(plotted_inputs), torch.from_numpy(np.column_stack([inputs.double().numpy(), padding]))
        )
        assert_close(
            torch.from_numpy(plotted_context), torch.from_numpy(np.column_stack([context.double().numpy(), padding]))
        )


def test_a_hull_figure_renders():
    """Rendered once (the 3-D one, like the book's); the other tests check what matplotlib holds, which is cheaper."""
    inputs, context, tokens = _run(12, 3)
    png = figure_to_png(convex_hull_figure(inputs, context, tokens))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = imread(io.BytesIO(png), format="png")  # (H, W, 4) floats in [0, 1]
    assert image.ndim == 3 and image.shape[2] == 4
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 50  # a drawn figure, not a blank canvas


@pytest.mark.parametrize(("count", "dim"), [(6, 3), (12, 2), (12, 8)], ids=["d3", "d2", "d8"])
def test_hull_figure_links_each_input_to_its_context_vector(count, dim):
    inputs, context, tokens = _run(count, dim)
    axes = convex_hull_figure(inputs, context, tokens).axes[0]
    if dim == 3:
        (lines,) = [c for c in axes.collections if type(c).__name__ == "Line3DCollection"]
        segments = np.asarray(lines._segments3d, dtype=float)  # (T, 2, 3)
        assert_close(torch.from_numpy(segments[:, 0]), inputs.double())
        assert_close(torch.from_numpy(segments[:, 1]), context.double())
    else:
        (quiver,) = [c for c in axes.collections if type(c).__name__ == "Quiver"]
        inputs_2d, context_2d, _ = (
            project_2d(inputs, context) if dim >= 4 else (inputs.double(), context.double(), None)
        )
        assert_close(torch.from_numpy(np.column_stack([quiver.X, quiver.Y])), inputs_2d)
        assert_close(torch.from_numpy(np.column_stack([quiver.U, quiver.V])), context_2d - inputs_2d)


@pytest.mark.parametrize(("count", "dim"), [(12, 2), (60, 16)], ids=["d2", "T60"])
def test_hull_outline_is_the_hull_of_the_plotted_inputs_and_holds_the_context(count, dim):
    inputs, context, tokens = _run(count, dim)
    axes = convex_hull_figure(inputs, context, tokens).axes[0]
    (outline,) = [line for line in axes.get_lines() if line.get_label() == "convex hull of the inputs"]
    vertices = np.column_stack(outline.get_data())[:-1]  # closed polygon: the first vertex repeats
    plotted = _points(_scatters(axes)["inputs x⁽ⁱ⁾"], False)
    context_2d = _points(_scatters(axes)["context vectors z⁽ⁱ⁾"], False)
    assert np.array_equal(vertices, convex_hull_2d(plotted))
    # Every projected context vector is on the inner side of every edge (a projection keeps convex combinations),
    # up to float32 rounding: a context vector with a one-hot row sits on its input, within ~1e-7 of a vertex.
    tolerance = 1e-5 * float(np.abs(plotted).max())
    for start, end in zip(vertices, np.roll(vertices, -1, axis=0)):
        cross = (end[0] - start[0]) * (context_2d[:, 1] - start[1]) - (end[1] - start[1]) * (
            context_2d[:, 0] - start[0]
        )
        assert (cross / np.hypot(*(end - start)) >= -tolerance).all()  # signed distance from the edge's line


def test_hull_figure_labels_at_most_40_points_without_mathtext():
    inputs, context, tokens = _run(50, 8)
    axes = convex_hull_figure(inputs, context, tokens).axes[0]
    texts = axes.texts
    assert len(texts) == HULL_MAX_LABELS < 50
    assert [t.get_text() for t in texts] == [plot_label(token) for token in tokens[:40]]
    assert not any(t.get_parse_math() for t in texts)


def test_hull_figure_3d_labels_the_tokens():
    inputs, context, tokens = _run(8, 3)
    axes = convex_hull_figure(inputs, context, tokens).axes[0]
    assert [t.get_text().strip() for t in axes.texts] == [plot_label(token) for token in tokens]
    assert not any(t.get_parse_math() for t in axes.texts)


def _is_convex_hull(hull: np.ndarray, points: np.ndarray) -> bool:
    """Independent check: vertices are input points, turns are strictly left (counter-clockwise), all points inside."""
    if not all(any(np.array_equal(v, p) for p in points) for v in hull):
        return False
    edges = list(zip(hull, np.roll(hull, -1, axis=0)))
    for (a, b), c in zip(edges, np.roll(hull, -2, axis=0)):
        if (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) <= 0:
            return False
    for a, b in edges:
        cross = (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0])
        if (cross < -1e-12).any():
            return False
    return True


@pytest.mark.parametrize("seed", range(3), ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("count", [3, 10, 200], ids=lambda c: f"N{c}")
def test_convex_hull_2d_on_random_points(count, seed):
    points = np.random.default_rng(seed).normal(size=(count, 2))
    hull = convex_hull_2d(points)
    assert len(hull) >= 3
    assert _is_convex_hull(hull, points)


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [1, 0], [0, 0]], [[0, 0], [2, 0], [2, 2], [0, 2]]),
        ([[0, 0], [1, 1], [2, 2], [3, 3]], [[0, 0], [3, 3]]),
        ([[1, 1], [1, 1]], [[1, 1]]),
        ([[0, 0], [1, 0]], [[0, 0], [1, 0]]),
    ],
    ids=["square_with_inside_edge_and_duplicate", "collinear", "one_point", "two_points"],
)
def test_convex_hull_2d_special_cases(points, expected):
    assert convex_hull_2d(np.array(points, dtype=float)).tolist() == np.array(expected, dtype=float).tolist()


# --- the matrix, one query's bars, the lab's chart ---------------------------------------------------------


def _weights(count: int) -> torch.Tensor:
    x = torch.randn(count, 3, generator=torch.Generator().manual_seed(count))
    return torch.softmax(x @ x.T, dim=-1)


@pytest.mark.parametrize("count", [1, 6, 12, 13, 40], ids=lambda t: f"T{t}")
def test_heatmap_figure_holds_the_matrix_and_the_tokens(count):
    tokens = [f" tok{i}" for i in range(count)]
    weights = _weights(count)
    figure = heatmap_figure(weights, tokens, title="weights", colorbar_label="weight α")
    axes, colorbar = figure.axes
    np.testing.assert_array_equal(np.asarray(axes.images[0].get_array()), weights.double().numpy())
    shown = [label.get_text() for label in axes.get_xticklabels()]
    assert shown == [label.get_text() for label in axes.get_yticklabels()]
    if count <= 32:
        assert shown == [f"␣tok{i} ({i + 1})" for i in range(count)]
    else:  # every other token, so the labels stay readable
        assert shown == [f"␣tok{i} ({i + 1})" for i in range(0, count, 2)]
    assert len(axes.texts) == (count * count if count <= 12 else 0)  # numbers in cells only while readable
    if count <= 12:
        assert axes.texts[-1].get_text() == f"{float(weights[-1, -1]):.2f}"
    assert (axes.get_title(), colorbar.get_ylabel()) == ("weights", "weight α")


def test_heatmap_figure_keeps_dollar_signs_literal():
    figure = heatmap_figure(_weights(3), ["$", "x", "$"], title="t", colorbar_label="c")
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == ["$ (1)", "x (2)", "$ (3)"]
    assert figure_to_png(figure).startswith(b"\x89PNG")  # drawn: mathtext would fail on an unmatched "$"


@pytest.mark.parametrize(("count", "query"), [(1, 0), (6, 1), (20, 19)], ids=["T1", "T6", "T20_last"])
def test_weights_bar_figure_highlights_the_query(count, query):
    weights = _weights(count)[query]
    axes = weights_bar_figure(weights, [f" w{i}" for i in range(count)], query=query).axes[0]
    bars = axes.containers[0]
    assert [bar.get_height() for bar in bars] == pytest.approx(weights.double().tolist(), abs=1e-12)
    colors = [bar.get_facecolor() for bar in bars]
    assert sum(color != colors[(query + 1) % count] for color in colors) == (1 if count > 1 else 0)
    assert f"query {query + 1}" in axes.get_title()


def test_normalization_figure_draws_finite_bars_only():
    x = torch.tensor([1.0, 2.0, 3.0, 400.0])  # float32
    exps = torch.exp(x)
    columns = {
        "sum-normalized": (x / x.sum()).tolist(),
        "naive softmax": (exps / exps.sum()).tolist(),  # exp(400) = inf -> NaN
        "stable softmax": torch.softmax(x, dim=0).tolist(),
    }
    axes = normalization_figure(x.tolist(), columns).axes[0]
    assert [len(container) for container in axes.containers] == [4, 3, 4]
    for container, column in zip(axes.containers, columns.values()):
        assert [bar.get_height() for bar in container] == pytest.approx([v for v in column if math.isfinite(v)])
    assert [text.get_text() for text in axes.texts] == ["NaN/inf"]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["1", "2", "3", "400"]


# --- figures on the page: inline SVG in the theme's colours, named and described ------------------------------


def _page_figures():
    inputs, context, tokens = _run(8, 3)
    weights = self_attention(inputs).weights
    columns = {"sum-normalized": [0.1, 0.9], "naive softmax": [0.2, None], "stable softmax": [0.2, 0.8]}
    return {
        "bars": figures.weights_bar_figure(weights[1], tokens, query=1),
        "hull": convex_hull_figure(inputs, context, tokens),
        "hull2d": convex_hull_figure(*_run(8, 5)[:2], tokens),
        "lab": normalization_figure([1.0, 400.0], columns),
    }


@pytest.fixture(scope="module")
def page_svgs():
    return {name: figures.figure_to_svg(figure, prefix=f"fig-{name}") for name, figure in _page_figures().items()}


@pytest.mark.parametrize("name", ["bars", "hull", "hull2d", "lab"])
def test_page_figures_take_every_colour_from_the_theme(page_svgs, name):
    """No fixed colour: each is a --fig-* variable (with the light colour as fallback), so dark mode restyles it."""
    svg = page_svgs[name]
    fallbacks = {values[0].lower() for values in THEME.values()}
    colours = re.findall(r"#[0-9a-fA-F]{6}\b", svg)
    assert colours, "the figure draws something"
    assert set(colours) <= fallbacks
    assert len(re.findall(r"var\(--fig-[a-z]+, #[0-9a-f]{6}\)", svg)) == len(colours)
    assert 'fill="#' not in svg and 'stroke="#' not in svg  # presentation attributes cannot hold var()
    assert "fill: #ffffff" not in svg  # the background is transparent


@pytest.mark.parametrize("name", ["bars", "hull", "lab"])
def test_page_figures_are_self_contained_elements(page_svgs, name):
    svg = page_svgs[name]
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "<style" not in svg  # matplotlib's "*{...}" rule would reach every SVG of the page
    assert "<metadata" not in svg and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', svg) and not re.search(r'<svg[^>]* width="', svg)
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith(f"fig-{name}-") for i in ids)
    references = re.findall(r'href="#([^"]+)"', svg) + re.findall(r"url\(#([^)]+)\)", svg)
    assert set(references) <= set(ids)  # every glyph, clip path and hatch is found inside this figure


def test_figure_markup_names_the_svg_and_shows_an_inert_description():
    figure = normalization_figure([1.0], {"a": [1.0]})
    markup = figures.figure_markup(figure, name="lab", title='Chart "<b>"', description="<img src=x> & more")
    assert markup.startswith('<figure class="fig" id="fig-lab" style="--fig-width: ')
    assert '<svg role="img" aria-label="Chart &quot;&lt;b&gt;&quot;" ' in markup
    assert "<figcaption>&lt;img src=x&gt; &amp; more</figcaption>" in markup
    assert "<img" not in markup and "<b>" not in markup


def test_descriptions_are_computed_from_the_run():
    inputs, context, tokens = _run(6, 4)
    weights = self_attention(inputs).weights[2]
    text = figures.weights_bar_description(weights, tokens, query=2)
    top = int(weights.argmax())
    assert f"The largest is {float(weights[top]):.4f}, for key {top + 1}" in text
    hull = figures.convex_hull_description(inputs, context, tokens)
    explained = project_2d(inputs, context)[2]
    assert f"({explained[0]:.0%} and {explained[1]:.0%} of their variance)" in hull
    distances = torch.linalg.vector_norm(context.double() - inputs.double(), dim=-1)  # (T,)
    far = int(distances.argmax())
    assert f"({visible_token(tokens[far])}), {float(distances[far]):.4f} away" in hull
    assert f"on average they are {float(distances.mean()):.4f} away" in hull


# --- fonts: CJK and emoji labels where the fonts are installed, escapes where not -------------------------------


def test_fonts_start_with_matplotlibs_own_and_packages_txt_installs_the_others():
    assert figures.installed_fonts()[0] == "DejaVu Sans"
    assert set(figures.installed_fonts()) <= set(figures.FONTS)
    packages = (REPO_ROOT / "packages.txt").read_text(encoding="utf-8").split()
    assert {"fonts-noto-cjk", "fonts-symbola", "fonts-noto-color-emoji"} <= set(packages)
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "packages.txt" in ci and "fontlist-" in ci  # CI installs the same fonts and lets matplotlib see them


def test_labels_keep_every_glyph_some_font_has_and_escape_the_rest():
    cjk, emoji = "Noto Sans CJK JP" in figures.installed_fonts(), "Symbola" in figures.installed_fonts()
    assert plot_label("東京") == ("東京" if cjk else "\\u6771\\u4eac")
    assert plot_label("🦀") == ("🦀" if emoji else "\\U0001f980")
    assert plot_label("\U0010fffd") == "\\U0010fffd"  # a private-use code point: no font has it
    assert plot_label(" é") == "␣é"


@pytest.mark.skipif(
    "Noto Sans CJK JP" not in figures.installed_fonts() or "Symbola" not in figures.installed_fonts(),
    reason="apt-get install $(cat packages.txt) (CI does)",
)
def test_cjk_and_emoji_labels_draw_without_a_missing_glyph():
    tokens = ["東京", "の", "寿司", " 🍣", "🦀"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        figure = figures.weights_bar_figure(torch.full((5,), 0.2), tokens, query=0)
        figure_to_png(figure)
        figures.figure_to_svg(figure, prefix="t")
    assert [label.get_text().split(" (")[0] for label in figure.axes[0].get_xticklabels()] == [
        "東京",
        "の",
        "寿司",
        "␣🍣",
        "🦀",
    ]
