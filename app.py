"""Self-attention without trainable weights: a Gradio Space for chapter 3.3 of
"Build a Large Language Model (From Scratch)".

Run it with ``python app.py``. Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
This file is wiring: the math lives in ``attention_core``, the texts, figures and exports in
``attention_core.views``, the page's own CSS and JavaScript in ``web/``. Handlers return dicts keyed by
component, and every user input reaches the core's checks, whose ``InputError`` becomes a message.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# The Space must not phone home: no analytics, no version check (set before gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

# attention_core loads its modules on first use: the page is served before torch is imported.
import attention_core as ac  # noqa: E402
from attention_core.book import BOOK_TABLE  # noqa: E402
from attention_core.uploads import UPLOAD_TYPES, check_upload_size, decode_upload  # noqa: E402
from attention_core.views import lab as lab_view  # noqa: E402
from attention_core.views import lessons, panels  # noqa: E402
from attention_core.views.markup import code_block  # noqa: E402
from web import training_panel  # noqa: E402
from web.api import DEFAULT_DIM, DEFAULT_SEED, attend, normalize, tokenize, train  # noqa: E402
from web.errors import GENERIC_ERROR, log, message, need_run, user_errors  # noqa: E402
from web.matrix import attention_matrix, matrix_js  # noqa: E402
from web.page import LINK_JS, PAGE_CSS, PAGE_JS, THEME, VIEW_JS  # noqa: E402

BOOK_SENTENCE = "Your journey starts with one step"
CAT_SENTENCE = "The cat sat on the mat because it is warm"
EXAMPLES = [
    BOOK_SENTENCE,
    CAT_SENTENCE,
    "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.",
    "I love 🦀 and 東京の寿司 🍣!",
]
BOOK_SCORES_2 = "0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865"
SOURCES = [("Seeded random table", "random"), ("My own table", "table")]
SELF_MATCH_DIMS = (3, 16, 768)
LAB_START = "1, 2, 3, 400"  # the lab's first values: one of them large enough to make softmax one-hot
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "\\(", "right": "\\)", "display": False}]

QUEUE_CONCURRENCY = 2  # a CPU Space has 2 vCPUs; more parallel torch work only adds contention
QUEUE_MAX_SIZE = 64
# Gradio keeps each session's last inputs and outputs, and each API call is a session of its own.
STATE_SESSION_CAPACITY = 64
# The three named endpoints are also MCP tools for AI assistants, at /gradio_api/mcp/ (gradio[mcp] extra).
MCP_SERVER = True

# An attention_core.Attended. Gradio evaluates handlers' type hints when the page is built, and naming the
# class there would import torch before the page is served.
Run = Any
ui = SimpleNamespace()  # the page's components, filled in by build_demo(); handlers key their results by them


# --- mapping inputs onto the core, and runs onto components ----------------------------------


def attend_from_ui(text: str, source: str, dim: Any, seed: Any, table: str, tau: Any = 1.0) -> Run:
    if source == "table":
        if not (table or "").strip():
            raise ac.InputError(
                "The table is empty. Paste one row of numbers per token, or choose the seeded random table."
            )
        try:
            return ac.attend(text, table=table, temperature=tau)
        except ac.InputError as error:
            if "rows but the text has" in str(error):
                raise ac.InputError(f"{error} Or choose “Seeded random table” to give every token a vector.") from None
            raise
    return ac.attend(text, dim=dim, seed=seed, temperature=tau)


def tables(run: Run) -> dict:
    return {
        component: gr.Dataframe(value=table.value, label=table.label)
        for component, table in zip((ui.inputs_table, ui.weights_table, ui.context_table), panels.tables(run).values())
    }


# --- UI handlers -----------------------------------------------------------------------------


@user_errors
def run_attention(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any = 1.0) -> dict:
    """The first view: the tokens and the matrix. The tables and everything below follow in run_extras: Gradio's
    tables cost the browser more to lay out than the whole matrix (benchmarks/bench_ui.py), so they come after it."""
    from attention_core.views.tokens import token_chips_html

    run = attend_from_ui(text, source, dim, seed, table, tau)
    return {
        ui.state: run,
        ui.tokens_html: token_chips_html(run.tokens, run.ids),
        ui.heatmap: panels.matrix(run, raw_scores),
        ui.query: gr.Dropdown(choices=panels.choices(run), value=panels.default_query(run)),
        ui.recipe: panels.recipe(run, text),
        ui.link: panels.link_to(text, source, table, run.dim, run.seed, run.temperature, raw_scores),
    }


def refused_run(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any = 1.0) -> dict:
    """After a refused Run (its gr.Error is the toast, and it stopped the chain): nothing of the last run stays on the
    page, and the reason is written where the tokens were, as inert text.

    The reason is found again from the same inputs: checking them is cheap, and the refused handler cannot pass it on.
    """
    try:
        attend_from_ui(text, source, dim, seed, table, tau)
        reason = GENERIC_ERROR  # the inputs are fine: something else went wrong (and was logged)
    except ac.InputError as error:
        reason = str(error)
    except Exception:
        reason = GENERIC_ERROR
    no_choices = gr.Dropdown(choices=[], value=None)
    texts = (
        ui.recipe,
        ui.walk_text,
        ui.bars,
        ui.trace_md,
        ui.parity_md,
        ui.facts_md,
        ui.self_match,
        ui.snippet,
        ui.tau_md,
        ui.timings,
        ui.hull,
        ui.shuffle_md,
        ui.link,
    )  # an empty link leaves the address bar as it was
    cleared = (ui.state, ui.heatmap, ui.shuffled, ui.inputs_table, ui.weights_table, ui.context_table)
    return {
        **{component: "" for component in texts},
        **{component: None for component in cleared},
        **{component: no_choices for component in (ui.query, ui.trace_query, ui.trace_key)},
        ui.tokens_html: f"<p class='run-refused'><strong>Not run.</strong> {html.escape(reason, quote=False)}</p>",
        ui.exports: gr.update(value=None, visible=False),
    }


@user_errors
def run_extras(run: Run | None, text: str, query: Any = None, trace_query: Any = None, trace_key: Any = None) -> Any:
    """Everything after the first view: tables, walk-through, bars, trace, parity, facts, temperature, snippet.

    query, trace_query, trace_key: the page's choices, kept after a new τ; a new run passes none of them.
    """
    if run is None:
        return gr.skip()  # not {}: Gradio reads an empty dict as one value, not as "no component changes"
    first = panels.default_query(run)
    query, row, column = (
        panels.kept(run, query, first),
        panels.kept(run, trace_query, first),
        panels.kept(run, trace_key, 0),
    )
    choices = panels.choices(run)
    return {
        **tables(run),
        ui.walk_text: panels.walk(run, query),
        ui.bars: panels.bars(run, query),
        ui.trace_query: gr.Dropdown(choices=choices, value=row),
        ui.trace_key: gr.Dropdown(choices=choices, value=column),
        ui.trace_md: panels.trace(run, row, column),
        ui.parity_md: panels.parity_panel(run),
        ui.facts_md: panels.repeats(run),
        ui.self_match: panels.self_match(run),
        ui.snippet: panels.snippet(run, text),
        ui.exports: gr.update(value=None, visible=False),  # a new run (or τ) makes the last export stale
        ui.tau_md: panels.temperature(run),
    }


@user_errors
def time_both(run: Run | None) -> str:
    from attention_core.views.loops import timings_markdown

    return "" if run is None else timings_markdown(run.attention.inputs)


@user_errors
def draw_hull(run: Run | None) -> Any:
    return gr.skip() if run is None else panels.hull(run)


@user_errors
@functools.lru_cache(maxsize=1)  # the same sentence and settings every time: computed once, when first opened
def why_trainable() -> str:
    """The lecture's query "warm" in the cat sentence, and the sentence's diagonal at a few dimensions."""
    return panels.why_trainable(CAT_SENTENCE, query=" warm", seed=DEFAULT_SEED, dims=SELF_MATCH_DIMS)


@user_errors
def show_query(run: Run | None, query: Any) -> Any:
    if query is None:
        return gr.skip()
    run = need_run(run)
    index = ac.check_index(query, "query", len(run.tokens))
    return {ui.walk_text: panels.walk(run, index), ui.bars: panels.bars(run, index)}


@user_errors
def trace_pair(run: Run | None, query: Any, key: Any) -> Any:
    if query is None or key is None:
        return gr.skip()
    return panels.trace(need_run(run), query, key)


@user_errors
def trace_select(run: Run | None, event: gr.SelectData) -> Any:
    """A cell chosen in the matrix (click or Enter) is traced: the event carries its [row, column], 0-based."""
    run = need_run(run)
    index = event.index
    if not (isinstance(index, (list, tuple)) and len(index) == 2):
        raise ac.InputError("Choose a cell of the matrix: a query row and a key column.")
    query, key = (ac.check_index(i, name, len(run.tokens)) for i, name in zip(index, ("query", "key")))
    return {ui.trace_query: query, ui.trace_key: key, ui.trace_md: panels.trace(run, query, key)}


@user_errors
def follow_tau(run: Run | None, tau: Any, raw_scores: bool = False, link: str = "") -> Any:
    """The server's follow-up once τ has rested: the run's own inputs at the new τ (the matrix was already
    redrawn in the browser); the tables, the walk-through and the rest follow in run_extras."""
    if run is None:
        return gr.skip()
    run = dataclasses.replace(
        run, attention=ac.self_attention(run.attention.inputs, temperature=ac.check_temperature(tau))
    )
    return {ui.state: run, ui.heatmap: panels.matrix(run, raw_scores), ui.link: panels.with_tau(link, run.temperature)}


@user_errors
def shuffle_tokens(run: Run | None, shuffles: Any) -> dict:
    """Permute the tokens, differently from the last click, and show that the matrix permutes with them.

    ``shuffles`` is the page's (clicks, last permutation), or 0 before the first click.
    """
    run = need_run(run)
    count = len(run.tokens)
    if count < 2:
        raise ac.InputError("There is only one token: type a sentence with at least two tokens to shuffle.")
    clicks, previous = shuffles if isinstance(shuffles, tuple) else (0, None)
    if previous is not None and len(previous) != count:
        previous = None  # a new run since the last shuffle
    permutation = ac.random_permutation(count, seed=clicks, avoid=previous)
    matrix, explanation = panels.shuffled(run, permutation)
    return {ui.shuffled: matrix, ui.shuffle_md: explanation, ui.shuffles: (clicks + 1, permutation)}


@user_errors
def prepare_exports(run: Run | None, raw_scores: bool) -> list[str]:
    """Write this run as exact JSON, the weights as CSV and the matrix as PNG, for download. They go in Gradio's
    own cache folder, which it serves without making a second copy."""
    from attention_core.views.export import export_files
    from web.exports import ExportsFull, export_folder

    run = need_run(run)
    try:
        folder = export_folder(Path(ui.exports.GRADIO_CACHE) / "attention-exports")
    except ExportsFull as full:
        raise ac.InputError(str(full)) from None
    paths = []
    for name, data in export_files(run.tokens, run.ids, run.attention, raw_scores=raw_scores).items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    return paths


def link_settings(request: gr.Request | None) -> dict:
    """Settings from a shared link's query string (?text=…&seed=…&dim=…&tau=…&view=…), keyed by component; bad ones
    are ignored, each with a fixed warning that names it and its range (the link's own value is never quoted)."""
    settings, refused = panels.settings_from_link(dict(request.query_params) if request is not None else {})
    for warning in refused:
        gr.Warning(warning)
    components = {
        "text": ui.text,
        "dim": ui.dim,
        "seed": ui.seed,
        "tau": ui.tau,
        "source": ui.source,
        "table": ui.table,
        "raw_scores": ui.raw_scores,
    }
    return {components[name]: value for name, value in settings.items()}


def open_page(
    text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any, request: gr.Request
) -> dict:
    """A page opens, in one round trip: a shared link's settings, then the first view of the run they describe, or
    what a refused Run shows, with its reason as a warning."""
    settings = link_settings(request)
    given = dict(zip(run_inputs(), (text, source, dim, seed, table, raw_scores, tau)))
    arguments = [settings.get(component, value) for component, value in given.items()]
    try:
        view = run_attention(*arguments)
    except gr.Error as error:
        gr.Warning(error.message)
        view = refused_run(*arguments)
    return settings | view


@user_errors
def root_temperature(source: str, dim: Any, table: str) -> float:
    """τ = √d for the active table's d: the random table's dim box, or the columns of the user's table (the one
    in the box, which the run this click starts will use, not the last run's)."""
    if source == "table":
        return ac.parse_embedding_table(table).vectors.shape[1] ** 0.5
    return ac.check_dim(dim) ** 0.5


def text_edited(text: str, source: str, table: str) -> Any:
    """New text after the book's example: the book's table no longer fits, so go back to the random table."""
    if source == "table" and table == BOOK_TABLE and text != BOOK_SENTENCE:
        return "random"
    return gr.skip()


@user_errors
def load_upload(path: str | None) -> dict:
    if not path:
        return gr.skip()
    name = Path(path).name
    check_upload_size(os.path.getsize(path), name)
    with open(path, "rb") as handle:  # a Gradio temp file, never a user-typed path
        data = handle.read(ac.MAX_UPLOAD_BYTES + 1)
    text = decode_upload(data, name)
    ac.parse_embedding_table(text)  # report a bad table now, not on the next Run
    return {ui.table: text, ui.source: "table"}


def toggle_source(source: str) -> dict:
    return {ui.random_box: gr.Column(visible=source == "random"), ui.table_box: gr.Column(visible=source == "table")}


def run_lab(values: str, dtype: str) -> dict:
    """The lab's three columns, chart and notes. A refusal replaces all three, so nothing stale stays."""
    try:
        table, chart, notes = panels.lab(ac.compare_normalizations(values, dtype))
    except ac.InputError as error:
        return {ui.lab_table: None, ui.lab_chart: "", ui.lab_notes: f"**Cannot compare:** {message(error)}"}
    return {ui.lab_table: table, ui.lab_chart: chart, ui.lab_notes: notes}


def first_lab(values: str, dtype: str, shown: str) -> Any:
    """The lab's first comparison, when its tab opens; once the lab shows something, opening the tab again keeps it."""
    return gr.skip() if shown else run_lab(values, dtype)


# --- layout ----------------------------------------------------------------------------------


def intro_section() -> None:
    gr.Markdown(lessons.INTRO, latex_delimiters=LATEX)


def inputs_section() -> None:
    with gr.Row():
        with gr.Column(scale=3, min_width=400):
            ui.text = gr.Textbox(
                value=BOOK_SENTENCE,
                label="Text",
                lines=2,
                max_lines=8,
                max_length=ac.MAX_TEXT_CHARS,
                info=f"Up to {ac.MAX_TEXT_CHARS:,} characters and {ac.MAX_TOKENS} GPT-2 tokens.",
            )
            with gr.Row():
                ui.run_button = gr.Button("Run", variant="primary", scale=2)
                ui.book_button = gr.Button("Load the book's example", variant="secondary", scale=1)
            ui.examples = gr.Examples(
                [[text] for text in EXAMPLES],
                inputs=[ui.text],
                api_visibility="private",
                label="Examples (click one to run it)",
            )
        with gr.Column(scale=2, min_width=400):
            ui.source = gr.Radio(SOURCES, value="random", label="Embeddings")
            with gr.Column(visible=True) as ui.random_box:
                with gr.Row():
                    # No minimum/maximum here: the core's check gives the message, the same one the API gives.
                    ui.dim = gr.Number(value=DEFAULT_DIM, label=f"dim d ({ac.MIN_DIM}–{ac.MAX_DIM})")
                    ui.seed = gr.Number(value=DEFAULT_SEED, label=f"seed (0–{ac.MAX_SEED:,})")
                ui.recipe = gr.Markdown(latex_delimiters=[], elem_classes="code-md")
            with gr.Column(visible=False) as ui.table_box:
                ui.table = gr.Textbox(
                    value=BOOK_TABLE,
                    label="Embedding table (one row per token)",
                    lines=8,
                    max_lines=16,
                    info="CSV, TSV, spaces, JSON [[...]] or a pasted torch.tensor(...); a label column is optional.",
                )
                ui.upload = gr.File(
                    label=f"…or upload a table ({', '.join(UPLOAD_TYPES)}, ≤ 1 MB)",
                    file_types=list(UPLOAD_TYPES),
                    type="filepath",
                    height=120,
                    elem_id="upload",
                )
    ui.link = gr.Textbox(visible=False)  # the last run's settings as a query string, for the address bar


def matrix_section() -> None:
    ui.tokens_html = gr.HTML(label="Tokens", elem_id="tokens")
    with gr.Row():
        with gr.Column(scale=3, min_width=400):
            with gr.Row(elem_id="tau-row"):
                ui.tau = gr.Slider(
                    ac.MIN_TEMPERATURE,
                    ac.MAX_TEMPERATURE,
                    value=1.0,
                    step=0.01,
                    scale=4,
                    elem_id="tau",
                    min_width=260,  # on a phone the √d button goes under the slider
                    label="temperature τ in softmax(ω / τ)",
                    info="1 is the book's case; √d is what scaled dot-product attention will use.",
                )
                ui.root_button = gr.Button("τ = √d", size="sm", scale=0, min_width=90, elem_id="root-button")
            ui.raw_scores = gr.Checkbox(value=False, label="Show raw scores ω instead of weights α")
            ui.heatmap = attention_matrix(elem_id="heatmap")
            gr.Markdown(lessons.MATRIX_HINT)
        with gr.Column(scale=2, min_width=400):
            ui.inputs_table = gr.Dataframe(
                label="Input embeddings x", interactive=False, max_height=320, elem_id="inputs-table"
            )
            ui.weights_table = gr.Dataframe(
                label="Attention weights α", interactive=False, max_height=320, elem_id="weights-table"
            )
            ui.context_table = gr.Dataframe(
                label="Context vectors z", interactive=False, max_height=320, elem_id="context-table"
            )


def details_section() -> None:
    with gr.Accordion("Trace one cell", open=True):
        with gr.Row():
            ui.trace_query = gr.Dropdown(label="query (row)", choices=[], type="value", interactive=True)
            ui.trace_key = gr.Dropdown(label="key (column)", choices=[], type="value", interactive=True)
        ui.trace_md = gr.Markdown(latex_delimiters=LATEX, elem_id="trace")
    with gr.Accordion("Walk through one query", open=True):
        ui.query = gr.Dropdown(label="Query token", choices=[], type="value", interactive=True)
        ui.walk_text = gr.Markdown(latex_delimiters=LATEX, elem_id="walkthrough")
        ui.bars = gr.HTML(elem_id="bars")  # figures.figure_markup: an SVG with its description
    with gr.Accordion("The book's printed values, side by side", open=False):
        ui.parity_md = gr.Markdown(latex_delimiters=LATEX, elem_id="parity")
    with gr.Accordion("What attention without weights cannot do", open=False) as ui.facts_box:
        ui.facts_md = gr.Markdown(latex_delimiters=LATEX)
        ui.self_match = gr.Markdown(latex_delimiters=LATEX)
        ui.shuffle_button = gr.Button("Shuffle the tokens", size="sm")
        with gr.Row():
            ui.shuffled = attention_matrix(elem_id="shuffled", selectable=False)
            ui.shuffle_md = gr.Markdown(latex_delimiters=LATEX)
        gr.Markdown(lessons.CONVEX_HULL)
        ui.hull = gr.HTML(elem_id="hull")
    with gr.Accordion("Temperature", open=False):
        ui.tau_md = gr.Markdown(latex_delimiters=LATEX)
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
        gr.Markdown(lessons.WHY_TRAINABLE, latex_delimiters=LATEX)
        ui.by_dim = gr.Markdown(latex_delimiters=LATEX)
        with gr.Row():
            ui.cat_button = gr.Button("Run “" + CAT_SENTENCE + "” above", size="sm")
            ui.to_training = training_panel.opener()
    training_section()
    with gr.Accordion("Take this run home", open=False):
        ui.export_button = gr.Button("Prepare JSON, CSV and PNG", size="sm")
        # Hidden until there is something to download (an empty gr.File is a labelled box with nothing in it).
        ui.exports = gr.File(
            label="Downloads", file_count="multiple", interactive=False, visible=False, elem_id="exports"
        )
        ui.snippet = gr.Markdown(latex_delimiters=[], elem_classes="code-md")
    ui.state = gr.State(None, time_to_live=900)  # a 256 x 768 run holds about 2 MB
    ui.shuffles = gr.State(0)  # then (clicks, last permutation)


def training_section() -> None:
    """Watch the weights learn: train W_query and W_key on the page's run (web/training_panel.py)."""
    ui.training = training_panel.build()


def wire_training() -> None:
    """The panel follows each new run shown in the matrix, and trains on it."""
    training_panel.wire(ui.training, ui.state, ui.heatmap.change, open_with=ui.to_training)


def lab_section() -> None:
    gr.Markdown(
        "Three ways to turn scores into weights. Type values, extreme ones included, and watch naive softmax overflow."
    )
    with gr.Row():
        ui.values = gr.Textbox(value=LAB_START, label=f"Values (up to {ac.MAX_LAB_VALUES:,})", scale=3, min_width=240)
        ui.dtype = gr.Radio(list(ac.DTYPES), value="float32", label="dtype", scale=2)
    ui.lab_button = gr.Button("Compare", variant="primary")
    gr.Examples(
        [[BOOK_SCORES_2], ["1000, 1001, 1002"], ["-1, 1"], ["0, 0, 0"], [LAB_START]],
        inputs=[ui.values],
        api_visibility="private",
        label="Examples (the first is the book's attn_scores_2)",
    )
    with gr.Row():
        # min_width: on a phone the notes go under the table instead of squeezing it to one column.
        ui.lab_table = gr.Dataframe(label="Side by side (last row: the sums)", interactive=False, min_width=320)
        ui.lab_notes = gr.Markdown(min_width=320)
    ui.lab_chart = gr.HTML(elem_id="lab-chart")
    gr.Markdown(lab_view.formulas(), latex_delimiters=LATEX)


def run_chain(start: Callable[..., Any]) -> Any:
    """The first view, then what lies below it, then the loop timing.

    start: how the first view is attached: ``event.then`` after an event, or ``gr.on`` bound to triggers (no empty
    event in front: that one costs the browser a round of its own before the run even starts)."""
    private = {"api_visibility": "private"}
    # The progress shows on the matrix only: one overlay per output would cost the browser a layout of the page each.
    shown = start(run_attention, run_inputs(), first_view(), show_progress_on=ui.heatmap, **private)
    shown.failure(refused_run, run_inputs(), refused_outputs(), show_progress="hidden", **private)
    return below(shown)


def run_inputs() -> list:
    return [ui.text, ui.source, ui.dim, ui.seed, ui.table, ui.raw_scores, ui.tau]


def first_view() -> list:
    return [ui.state, ui.tokens_html, ui.heatmap, ui.query, ui.recipe, ui.link]


def refused_outputs() -> list:
    """What a refused run clears: everything a run shows."""
    return first_view() + [
        ui.inputs_table,
        ui.weights_table,
        ui.context_table,
        ui.walk_text,
        ui.bars,
        ui.trace_query,
        ui.trace_key,
        ui.trace_md,
        ui.parity_md,
        ui.facts_md,
        ui.self_match,
        ui.snippet,
        ui.tau_md,
        ui.timings,
        ui.hull,
        ui.shuffled,
        ui.shuffle_md,
        ui.exports,
    ]


def below(event: Any, *, keep_choices: bool = False, **options: Any) -> Any:
    """What lies below the first view, then the loop timing, after a run (or a new τ) succeeded.

    keep_choices: after a new τ, the chosen query and traced cell stay; after a new run they start over.
    """
    private = {"api_visibility": "private", **options}
    inputs = [ui.state, ui.text] + ([ui.query, ui.trace_query, ui.trace_key] if keep_choices else [])
    extras_outputs = [
        ui.inputs_table,
        ui.weights_table,
        ui.context_table,
        ui.walk_text,
        ui.bars,
        ui.trace_query,
        ui.trace_key,
        ui.trace_md,
        ui.parity_md,
        ui.facts_md,
        ui.self_match,
        ui.snippet,
        ui.tau_md,
        ui.exports,
    ]
    # Progress on the tables and the walk-through only: they are what a reader sees beside and under the matrix.
    progress = [ui.inputs_table, ui.weights_table, ui.context_table, ui.walk_text]
    return event.success(run_extras, inputs, extras_outputs, show_progress_on=progress, **private).success(
        time_both, ui.state, ui.timings, **private
    )


def tau_chain() -> None:
    """τ: every input (drag or arrow keys) redraws the matrix in the browser; once the slider has rested, the
    matrix fires tau_settled and the server follows: address bar, tables, walk-through, then what lies below."""
    last = {"api_visibility": "private", "trigger_mode": "always_last"}
    ui.tau.input(None, ui.tau, None, js=matrix_js(ui.heatmap, "setTau(value)"), api_visibility="private")
    outputs = [ui.state, ui.heatmap, ui.link]
    follow = ui.heatmap.tau_settled(
        follow_tau, [ui.state, ui.tau, ui.raw_scores, ui.link], outputs, show_progress="hidden", **last
    )  # the matrix is already drawn: it must not fade
    below(follow, keep_choices=True, **last)


def wire() -> None:
    private = {"api_visibility": "private"}
    ui.source.change(toggle_source, ui.source, [ui.random_box, ui.table_box], queue=False, **private)
    ui.text.input(text_edited, [ui.text, ui.source, ui.table], ui.source, queue=False, **private)
    ui.upload.upload(load_upload, ui.upload, [ui.table, ui.source], **private)
    run_chain(functools.partial(gr.on, [ui.run_button.click, ui.text.submit]))
    tau_chain()
    run_chain(ui.root_button.click(root_temperature, [ui.source, ui.dim, ui.table], ui.tau, **private).then)
    run_chain(ui.examples.load_input_event.then(lambda: "random", None, ui.source, queue=False, **private).then)
    # The browser holds both matrices and switches at once. (.input: a shared link's restored switch is not a click.)
    ui.raw_scores.input(
        None, ui.raw_scores, None, js=matrix_js(ui.heatmap, 'setView(value ? "scores" : "weights")'), **private
    )
    ui.raw_scores.input(None, ui.raw_scores, None, js=VIEW_JS, **private)
    ui.link.change(None, ui.link, None, js=LINK_JS, **private)
    ui.query.input(show_query, [ui.state, ui.query], [ui.walk_text, ui.bars], **private)
    gr.on(
        [ui.trace_query.input, ui.trace_key.input],
        trace_pair,
        [ui.state, ui.trace_query, ui.trace_key],
        ui.trace_md,
        **private,
    )
    ui.heatmap.select(trace_select, ui.state, [ui.trace_query, ui.trace_key, ui.trace_md], **private)
    ui.shuffle_button.click(
        shuffle_tokens, [ui.state, ui.shuffles], [ui.shuffled, ui.shuffle_md, ui.shuffles], **private
    )
    ui.facts_box.expand(draw_hull, ui.state, ui.hull, **private)
    (
        ui.export_button.click(prepare_exports, [ui.state, ui.raw_scores], ui.exports, **private).success(
            lambda: gr.update(visible=True), None, ui.exports, queue=False, **private
        )
    )
    ui.why_box.expand(why_trainable, None, ui.by_dim, **private)
    run_chain(
        ui.book_button.click(
            lambda: {ui.text: BOOK_SENTENCE, ui.source: "table", ui.table: BOOK_TABLE, ui.tau: 1.0},
            None,
            [ui.text, ui.source, ui.table, ui.tau],
            queue=False,
            **private,
        ).then
    )
    run_chain(
        ui.cat_button.click(
            lambda: {ui.text: CAT_SENTENCE, ui.source: "random"}, None, [ui.text, ui.source], queue=False, **private
        ).then
    )
    lab_outputs = [ui.lab_table, ui.lab_chart, ui.lab_notes]
    gr.on(
        [ui.lab_button.click, ui.values.submit, ui.dtype.change], run_lab, [ui.values, ui.dtype], lab_outputs, **private
    )


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of figures and exports older than an hour are removed every 30 minutes.
    with gr.Blocks(
        title="Self-attention without trainable weights", analytics_enabled=False, delete_cache=(1800, 3600)
    ) as blocks:
        intro_section()
        with gr.Tabs():
            with gr.Tab("Self-attention"):
                inputs_section()
                matrix_section()
                details_section()
            with gr.Tab("Normalization lab") as ui.lab_tab:
                lab_section()
        # Light and heavy calls wait in separate lines, so a flood of /attend never holds up /tokenize or /normalize.
        # One heavy call at a time: a large run is mostly Python work under the GIL (the answer's lists, then
        # Gradio walking them), so a second one in parallel adds little and starves the event loop serving everyone.
        lines = {
            tokenize: ("light", QUEUE_CONCURRENCY),
            attend: ("heavy", 1),
            normalize: ("light", QUEUE_CONCURRENCY),
            train: ("heavy", 1),
        }
        for endpoint, (line, limit) in lines.items():
            # The whole docstring, Args included: view_api() shows no parameter descriptions of its own.
            gr.api(
                endpoint,
                api_name=endpoint.__name__,
                api_description=inspect.getdoc(endpoint),
                concurrency_id=line,
                concurrency_limit=limit,
            )
        wire()
        wire_training()
        # A shared link's settings and the run they describe, in one round trip, then what lies below. Queued, so
        # that gr.Warning about a bad link parameter reaches the page as a toast.
        below(
            blocks.load(
                open_page,
                run_inputs(),
                run_inputs() + refused_outputs(),
                show_progress_on=ui.heatmap,
                api_visibility="private",
            )
        )
        # The lab fills when its tab is first opened, not with every page: its chart is the page's costliest figure.
        ui.lab_tab.select(
            first_lab,
            [ui.values, ui.dtype, ui.lab_notes],
            [ui.lab_table, ui.lab_chart, ui.lab_notes],
            api_visibility="private",
        )
    # api_open=False: queued functions are reached through the queue only (as on a Space), never by /run/<api>.
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE, api_open=False)
    return blocks


demo = build_demo()
# What computes or sends a run: the guard counts these calls against a client's share of large runs.
HEAVY = (
    attend,
    train,
    open_page,
    run_attention,
    run_extras,
    time_both,
    follow_tau,
    shuffle_tokens,
    prepare_exports,
    draw_hull,
    training_panel.train_pair,
)


def launch(**overrides: Any):
    """Launch ``demo`` with the Space's settings; tests pass a port and ``prevent_thread_lock=True``."""
    from web import guard  # per-client shares, unread answers dropped after a minute, one allowed file per upload

    # uvicorn believes X-Forwarded-For from loopback peers unless told otherwise; the guard takes the client's
    # address from the peer, or from as many proxies as ATTENTION_PROXY_HOPS says (1 on a Space).
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "")
    limits = guard.middleware(demo, heavy=HEAVY, upload_types=UPLOAD_TYPES, max_upload_bytes=ac.MAX_UPLOAD_BYTES)
    settings: dict[str, Any] = {
        "css": PAGE_CSS,
        "js": PAGE_JS,
        "theme": THEME,
        "show_error": False,
        "max_file_size": ac.MAX_UPLOAD_BYTES,
        "state_session_capacity": STATE_SESSION_CAPACITY,
        "mcp_server": MCP_SERVER,
        "enable_monitoring": False,  # /monitoring and /monitoring/summary answer 403
        "app_kwargs": {"middleware": [limits]},
    }
    settings.update(overrides)
    return demo.launch(**settings)


def warm_up() -> None:
    """Load torch, the tokenizer, the default table, matplotlib and its fonts: the first visitor's run, and the
    first opening of the lab, are then quick."""
    try:
        first = run_attention(BOOK_SENTENCE, "random", DEFAULT_DIM, DEFAULT_SEED, "", False)
        run_extras(first[ui.state], BOOK_SENTENCE)
        run_lab(LAB_START, "float32")
    except gr.Error:
        log.exception("warm-up failed")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(prevent_thread_lock=True)  # serve the page first, then warm up while it is read
    warm_up()
    demo.block_thread()
