"""The figures' colours: Okabe and Ito's colour-blind-safe palette, as CSS variables that follow the page's theme.

A figure on the page is inline SVG drawn once, in the light theme's colours; ``figures.figure_to_svg`` then
writes each colour named here as ``var(--fig-<name>, <light colour>)``, so the page's CSS (``css_variables``)
can give it the dark theme's value. Text and axes take the page's own text colour, so they always have the
page's contrast. Nothing here imports matplotlib, numpy or torch: the app builds its CSS from it before any of
them is loaded.
"""

from __future__ import annotations

# Okabe & Ito (2008), "Color Universal Design": told apart with every common colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

# name: (colour the figure is drawn with, light theme's CSS value, dark theme's CSS value).
# The drawn colours are the light theme's, so a figure also reads right outside the page (a PNG, a test);
# ink, muted and paper map onto Gradio's theme variables.
THEME: dict[str, tuple[str, str, str]] = {
    "ink": ("#1f2937", "var(--body-text-color)", "var(--body-text-color)"),  # text, axes, ticks, outlines
    "muted": ("#6b7280", "var(--body-text-color-subdued)", "var(--body-text-color-subdued)"),  # connectors
    "paper": ("#fefefe", "var(--block-background-fill)", "var(--block-background-fill)"),  # hatch lines
    # Series. On a dark page blue is too dark (2.8:1), so it becomes Okabe-Ito's sky blue; the others keep
    # at least 3:1 against both backgrounds, and every bar is outlined in ink besides.
    "blue": (OKABE_ITO["blue"], OKABE_ITO["blue"], OKABE_ITO["sky"]),
    "orange": (OKABE_ITO["orange"], OKABE_ITO["orange"], OKABE_ITO["orange"]),
    "green": (OKABE_ITO["green"], OKABE_ITO["green"], OKABE_ITO["green"]),
    "vermillion": (OKABE_ITO["vermillion"], OKABE_ITO["vermillion"], OKABE_ITO["vermillion"]),
    "purple": (OKABE_ITO["purple"], OKABE_ITO["purple"], OKABE_ITO["purple"]),
}


def color(name: str) -> str:
    """The colour a figure draws ``name`` with (the light theme's).

    >>> color("blue")
    '#0072B2'
    """
    return THEME[name][0]


def themed_colors(theme: str) -> dict[str, str]:
    """Each series colour as the page shows it in ``theme`` ("light" or "dark"), as #RRGGBB.

    >>> themed_colors("dark")["blue"]
    '#56B4E9'
    """
    column = {"light": 1, "dark": 2}[theme]
    return {name: values[column] for name, values in THEME.items() if values[column].startswith("#")}


def css_variables() -> str:
    """The ``--fig-*`` variables, on each figure (``.fig``), for the light and the dark theme (Gradio marks dark
    mode with ``body.dark``). Declared on the figure rather than the root, so that ``var(--body-text-color)``
    is read where the theme has set it for dark mode too.

    >>> css_variables().splitlines()[0]
    '.fig { --fig-ink: var(--body-text-color); --fig-muted: var(--body-text-color-subdued); \
--fig-paper: var(--block-background-fill); --fig-blue: #0072B2; --fig-orange: #E69F00; --fig-green: #009E73; \
--fig-vermillion: #D55E00; --fig-purple: #CC79A7; }'
    """
    light = " ".join(f"--fig-{name}: {values[1]};" for name, values in THEME.items())
    dark = " ".join(f"--fig-{name}: {values[2]};" for name, values in THEME.items() if values[2] != values[1])
    return f".fig {{ {light} }}\n.dark .fig {{ {dark} }}\n"
