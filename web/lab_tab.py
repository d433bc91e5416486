"""The normalization lab's tab: sum normalization, naive softmax and stable softmax of typed values, side by side in
one dtype. Its layout, its events and its handlers; it shares nothing with a run's panels (web/page_model.py).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

import attention_core as ac
from attention_core.views import lab as lab_view

from . import panels
from .errors import message

LAB_START = "1, 2, 3, 400"  # the lab's first values: one of them large enough to make softmax one-hot
BOOK_SCORES_2 = "0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865"
lab = SimpleNamespace()  # the tab's components, filled in by build(); the handlers key their results by them


def run_lab(values: str, dtype: str) -> dict:
    """The lab's three columns, chart and notes. A refusal replaces all three, so nothing stale stays."""
    try:
        table, chart, notes = panels.lab(ac.compare_normalizations(values, dtype))
    except ac.InputError as error:
        return {lab.table: None, lab.chart: "", lab.notes: f"**Cannot compare:** {message(error)}"}
    return {lab.table: table, lab.chart: chart, lab.notes: notes}


def first_lab(values: str, dtype: str, shown: str) -> Any:
    """The lab's first comparison, when its tab opens; once the lab shows something, opening the tab again keeps it."""
    return gr.skip() if shown else run_lab(values, dtype)


def build(*, latex: list[dict]) -> gr.Tab:
    """The tab and its events, inside ``gr.Tabs()``; ``latex``: the page's KaTeX delimiters."""
    with gr.Tab("Normalization lab") as lab.tab:
        gr.Markdown(
            "Three ways to turn scores into weights. Type values, extreme ones included, and watch naive softmax "
            "overflow."
        )
        with gr.Row():
            lab.values = gr.Textbox(
                value=LAB_START, label=f"Values (up to {ac.MAX_LAB_VALUES:,})", scale=3, min_width=240
            )
            lab.dtype = gr.Radio(list(ac.DTYPES), value="float32", label="dtype", scale=2)
        lab.button = gr.Button("Compare", variant="primary")
        lab.examples = gr.Examples(
            [[BOOK_SCORES_2], ["1000, 1001, 1002"], ["-1, 1"], ["0, 0, 0"], [LAB_START]],
            inputs=[lab.values],
            api_visibility="private",
            label="Examples (the first is the book's attn_scores_2)",
        )
        with gr.Row():
            # min_width: on a phone the notes go under the table instead of squeezing it to one column.
            lab.table = gr.Dataframe(label="Side by side (last row: the sums)", interactive=False, min_width=320)
            lab.notes = gr.Markdown(min_width=320)
        lab.chart = gr.HTML(elem_id="lab-chart")
        gr.Markdown(lab_view.formulas(), latex_delimiters=latex)
    shown = [lab.table, lab.chart, lab.notes]
    private = {"api_visibility": "private"}
    gr.on([lab.button.click, lab.values.submit, lab.dtype.change], run_lab, [lab.values, lab.dtype], shown, **private)
    # The lab fills when its tab is first opened, not with every page: its chart is the page's costliest figure.
    lab.tab.select(first_lab, [lab.values, lab.dtype, lab.notes], shown, **private)
    # An example fills the box; the comparison follows, so the previous example's result never stays on screen.
    lab.examples.load_input_event.then(run_lab, [lab.values, lab.dtype], shown, **private)
    return lab.tab
