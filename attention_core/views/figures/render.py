"""Figures out of matplotlib: PNG bytes for files, and for the page an inline SVG in the theme's colours
(``figure_to_svg``) wrapped with its name and caption (``figure_markup``)."""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING

from ..palette import THEME

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure_to_png(figure: Figure) -> bytes:
    """Render a figure to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


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
