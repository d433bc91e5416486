"""The page's look and its small scripts: the theme, the CSS, the script run once on load, and the address bar's
listeners."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from attention_core.views.palette import css_variables

HERE = Path(__file__).resolve().parent

# The address bar is always a shareable link to what the page shows: the last run's settings (ui.link, built on
# the server from the run), and the view switch, which changes without a run.
LINK_JS = "(query) => { if (query) history.replaceState(null, '', '?' + query); }"
VIEW_JS = """(raw) => {
    const params = new URLSearchParams(location.search);
    params.set("view", raw ? "scores" : "weights");
    history.replaceState(null, "", "?" + params.toString());
}"""
# The page's CSS: its own rules, then the figures' colours for the light and the dark theme.
PAGE_CSS = "\n".join(
    [
        (HERE / "page.css").read_text(encoding="utf-8"),
        (HERE / "lecture.css").read_text(encoding="utf-8"),
        css_variables(),
    ]
)
# Runs once on load: gives a tab stop to whatever scrolls sideways (wide tables, figures and formulas on a phone).
PAGE_JS = (HERE / "a11y.js").read_text(encoding="utf-8")
# Gradio's Soft theme, with every text colour at WCAG AA contrast (4.5:1) on its background, in light and dark mode:
# labels, info lines, the subdued text, the primary button, the selected radio and tab (axe-core's color-contrast).
THEME = gr.themes.Soft().set(
    body_text_color_subdued="*neutral_600",
    body_text_color_subdued_dark="*neutral_300",
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    button_primary_border_color="*primary_600",
    button_primary_border_color_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600",
    color_accent="*primary_600",  # (its dark value, which set() cannot take, is in web/page.css)
    input_placeholder_color="*neutral_500",
    input_placeholder_color_dark="*neutral_400",
)
