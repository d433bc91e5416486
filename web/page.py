"""The page's look and its small scripts: the theme, the CSS, the script run once on load, and the address bar's
listeners."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from attention_core.views.palette import css_variables

from .links import LINK_KEYS

HERE = Path(__file__).resolve().parent

# The address bar is always a shareable link to what the page shows: the last run's settings (ui.link, built on
# the server from the run), and the view switch, which changes without a run.
# After the next frame: Chromium's replaceState can take ~20 ms, which would hold back the new matrix's frame.
# web/lecture.py's KEEP_STEP_JS waits the same way, so it still runs after this one and keeps ?step.
LINK_JS = """(query) => {
    if (query) requestAnimationFrame(() => setTimeout(() => history.replaceState(null, '', '?' + query)));
}"""
VIEW_JS = """(raw) => {
    const params = new URLSearchParams(location.search);
    params.delete("view");  // the old name of the key (web/links.py): Gradio's own ?view=api uses it
    params.set("show", raw ? "scores" : "weights");
    history.replaceState(null, "", "?" + params.toString());
}"""
# A page opened from a shared link first paints the default run (web/first_screen.py) and then the link's own:
# until then its numbers stay hidden (page.css), so no wrong number is ever on screen. PAGE_HEAD marks such a page
# before the first paint; LINK_OPENED_JS, after the load event, unmarks it. The keys are web/links.LINK_KEYS.
PAGE_HEAD = (
    f"<script>(() => {{ const keys = {json.dumps(list(LINK_KEYS))};"
    " const params = new URLSearchParams(location.search);"
    " if (keys.some((key) => params.has(key))) document.documentElement.dataset.linkPending = ''; })();</script>"
)
LINK_OPENED_JS = "() => { delete document.documentElement.dataset.linkPending; }"
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
