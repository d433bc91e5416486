"""What lies below the first screen: the tables, the walk-through, the book's values, what attention without weights
cannot do, temperature, loops vs matrices, why trainable weights come next and watching them learn, and the exports.

Layout only: ``build`` puts each panel on ``ui`` under its name in web/page_model.py, and app.py wires the events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from attention_core.views import lessons
from attention_core.views.markup import code_block

from . import page_model, training_panel
from .matrix import attention_matrix


def build(ui: Any, *, latex: list[dict], cat_sentence: str) -> None:
    """The accordions below the first screen, inside the caller's container; ``latex``: the page's KaTeX
    delimiters; ``cat_sentence``: the lecture's example, which a button runs."""
    with gr.Accordion("Tables: the inputs x, the weights α and the context vectors z", open=False):
        with gr.Row():
            ui.inputs_table = gr.Dataframe(
                label="Input embeddings x", interactive=False, max_height=320, elem_id="inputs-table"
            )
            ui.weights_table = gr.Dataframe(
                label="Attention weights α", interactive=False, max_height=320, elem_id="weights-table"
            )
            ui.context_table = gr.Dataframe(
                label="Context vectors z", interactive=False, max_height=320, elem_id="context-table"
            )
    with gr.Accordion("Walk through one query", open=True):
        ui.query = gr.Dropdown(label="Query token", choices=[], type="value", interactive=True)
        ui.walk_text = gr.Markdown(latex_delimiters=latex, elem_id="walkthrough")
        ui.bars = gr.HTML(elem_id="bars")  # figures.figure_markup: an SVG with its description
    with gr.Accordion("The book's printed values, side by side", open=False):
        ui.parity_md = gr.Markdown(latex_delimiters=latex, elem_id="parity")
    with gr.Accordion("What attention without weights cannot do", open=False) as ui.facts_box:
        ui.facts_md = gr.Markdown(latex_delimiters=latex)
        ui.self_match = gr.Markdown(latex_delimiters=latex)
        ui.shuffle_button = gr.Button("Shuffle the tokens", size="sm")
        with gr.Row():
            ui.shuffled = attention_matrix(elem_id="shuffled", selectable=False, value=page_model.SHUFFLE_FIRST)
            ui.shuffle_md = gr.Markdown(latex_delimiters=latex)
        gr.Markdown(lessons.CONVEX_HULL)
        ui.hull = gr.HTML(elem_id="hull")
    with gr.Accordion("Temperature", open=False):
        ui.tau_md = gr.Markdown(latex_delimiters=latex)
    with gr.Accordion("Loops vs matrices", open=False):
        loops_code, matrix_code = lessons.code_of_both()
        # One above the other: side by side, either would wrap its lines.
        gr.Markdown(
            code_block(loops_code, label="Loops: the chapter's <code>torch.dot</code>, one pair at a time"),
            latex_delimiters=[],
            elem_classes="code-md",
        )
        gr.Markdown(
            code_block(matrix_code, label="Matrices: the book's three lines"),
            latex_delimiters=[],
            elem_classes="code-md",
        )
        ui.timings = gr.Markdown()
    with gr.Accordion("Why the next step adds trainable weights", open=False) as ui.why_box:
        gr.Markdown(lessons.WHY_TRAINABLE, latex_delimiters=latex)
        ui.by_dim = gr.Markdown(latex_delimiters=latex)
        with gr.Row():
            ui.cat_button = gr.Button("Run “" + cat_sentence + "” above", size="sm")
            ui.to_training = training_panel.opener()
    ui.training = training_panel.build()  # Watch the weights learn (web/training_panel.py)
    with gr.Accordion("Take this run home", open=False):
        ui.export_button = gr.Button("Prepare JSON, CSV and PNG", size="sm")
        # Hidden until there is something to download (an empty gr.File is a labelled box with nothing in it).
        ui.exports = gr.File(
            label="Downloads", file_count="multiple", interactive=False, visible=False, elem_id="exports"
        )
        ui.snippet = gr.Markdown(latex_delimiters=[], elem_classes="code-md")
