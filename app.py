"""Self-attention without trainable weights: a Gradio Space for chapter 3.3 of
"Build a Large Language Model (From Scratch)".

Run it with ``python app.py``. Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
This file is wiring: the math lives in ``attention_core``, the texts, figures and exports in
``attention_core.views``, the page's panels, link format, CSS and JavaScript in ``web/``. Which panel a run fills
when, and what a refused run clears, is ``web/page_model.py``'s table. Handlers return dicts keyed by component,
and every user input reaches the core's checks, whose ``InputError`` becomes a message.
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
from typing import TYPE_CHECKING, Any

# The Space must not phone home: no analytics, no version check (set before gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

# attention_core loads its modules on first use: the page is served before torch is imported.
import attention_core as ac  # noqa: E402
from attention_core.book import BOOK_TABLE  # noqa: E402
from attention_core.uploads import UPLOAD_TYPES, check_upload_size, decode_upload  # noqa: E402
from attention_core.views import lessons  # noqa: E402
from web import below, first_screen, lab_tab, links, page_model, panels, training_panel  # noqa: E402
from web import lecture as lecture_tab  # noqa: E402
from web.api import DEFAULT_DIM, DEFAULT_SEED, attend_endpoint, normalize, tokenize, train  # noqa: E402
from web.errors import GENERIC_ERROR, log, message, need_run, user_errors  # noqa: E402
from web.first_screen import DEFAULT_TAU  # noqa: E402
from web.lab_tab import LAB_START, run_lab  # noqa: E402
from web.matrix import attention_matrix, matrix_js  # noqa: E402
from web.page import LINK_JS, LINK_OPENED_JS, PAGE_CSS, PAGE_HEAD, PAGE_JS, THEME, VIEW_JS  # noqa: E402
from web.tau import temperature_control  # noqa: E402

BOOK_SENTENCE = "Your journey starts with one step"
CAT_SENTENCE = "The cat sat on the mat because it is warm"
EXAMPLES = [
    BOOK_SENTENCE,
    CAT_SENTENCE,
    "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.",
    "I love 🦀 and 東京の寿司 🍣!",
]
SOURCES = [("Seeded random table", "random"), ("My own table", "table")]
SELF_MATCH_DIMS = (3, 16, 768)
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "\\(", "right": "\\)", "display": False}]

QUEUE_CONCURRENCY = 2  # a CPU Space has 2 vCPUs; more parallel torch work only adds contention
QUEUE_MAX_SIZE = 64
# Gradio keeps each session's last inputs and outputs, and each API call is a session of its own.
STATE_SESSION_CAPACITY = 64
# The three named endpoints are also MCP tools for AI assistants, at /gradio_api/mcp/ (gradio[mcp] extra).
MCP_SERVER = True

if TYPE_CHECKING:
    from attention_core import Attended
else:  # Gradio evaluates handlers' type hints when the page is built: the class itself would import torch first
    Attended = Any
ui = SimpleNamespace()  # the page's components, filled in by build_demo(); handlers key their results by them
FIRST = first_screen.load()  # the default run's first view, shipped with the page (web/first_screen.py)


# --- mapping inputs onto the core, and runs onto components ----------------------------------


def run_from_inputs(text: str, source: str, dim: Any, seed: Any, table: str, tau: Any = 1.0) -> Attended:
    """The run the page's inputs describe: the seeded random table, or the user's own."""
    if source == "table":
        if not (table or "").strip():
            raise ac.InputError(
                "The table is empty. Paste one row of numbers per token, or choose the seeded random table."
            )
        try:
            return ac.attend(text, table=table, temperature=tau)
        except ac.InputError as error:
            if error.kind == "rows_vs_tokens":
                raise ac.InputError(f"{error} Or choose “Seeded random table” to give every token a vector.") from None
            raise
    return ac.attend(text, dim=dim, seed=seed, temperature=tau)


def components(values: dict[str, Any]) -> dict:
    """The page model's values by panel name, keyed by their components."""
    return {getattr(ui, name): value for name, value in values.items()}


def outputs(*stages: page_model.Stage) -> list:
    """The components of these stages' panels (all of them when none is named)."""
    return [getattr(ui, panel.name) for panel in page_model.PANELS if not stages or panel.stage in stages]


# --- UI handlers -----------------------------------------------------------------------------


@user_errors
def run_attention(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any = 1.0) -> dict:
    """The first view: the tokens and the matrix. The tables and everything below follow in run_extras: Gradio's
    tables cost the browser more to lay out than the whole matrix (benchmarks/bench_ui.py), so they come after it."""
    run = run_from_inputs(text, source, dim, seed, table, tau)
    return components(
        page_model.filled("first view", page_model.view_of(run, text, table=table, raw_scores=raw_scores))
    )


def refused_run(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any = 1.0) -> dict:
    """After a refused Run (its gr.Error is the toast, and it stopped the chain): nothing of the last run stays on the
    page, and the reason is written where the tokens were, as inert text.

    The reason is found again from the same inputs: checking them is cheap, and the refused handler cannot pass it on.
    """
    try:
        run_from_inputs(text, source, dim, seed, table, tau)
        reason = GENERIC_ERROR  # the inputs are fine: something else went wrong (and was logged)
    except ac.InputError as error:
        reason = str(error)
    except Exception:
        reason = GENERIC_ERROR
    return components(page_model.cleared()) | {
        ui.tokens_html: f"<p class='run-refused'><strong>Not run.</strong> {html.escape(reason, quote=False)}</p>"
    }


@user_errors
def trace_beside(run: Attended | None, text: str, trace_query: Any = None, trace_key: Any = None) -> Any:
    """The trace beside the matrix (the page model's stage "beside"): the cell kept after a new τ, else (2, 1)."""
    if run is None:
        return gr.skip()
    view = page_model.view_of(run, text, trace_query=trace_query, trace_key=trace_key)
    return components(page_model.filled("beside", view))


@user_errors
def run_extras(
    run: Attended | None, text: str, query: Any = None, trace_query: Any = None, trace_key: Any = None
) -> Any:
    """Everything below the first view (the page model's stage "below"): tables, walk-through, trace, facts...

    query, trace_query, trace_key: the page's choices, kept after a new τ; a new run passes none of them.
    """
    if run is None:
        return gr.skip()  # not {}: Gradio reads an empty dict as one value, not as "no component changes"
    view = page_model.view_of(run, text, query=query, trace_query=trace_query, trace_key=trace_key)
    return components(page_model.filled("below", view))


@user_errors
def time_loops(run: Attended | None) -> Any:
    """The last stage: the chapter's loops and its matrices, timed on this run's inputs."""
    return gr.skip() if run is None else components(page_model.filled("last", page_model.view_of(run, "")))


@user_errors
def draw_hull(run: Attended | None) -> Any:
    return gr.skip() if run is None else panels.hull(run)


@user_errors
@functools.lru_cache(maxsize=1)  # the same sentence and settings every time: computed once, when first opened
def why_trainable() -> str:
    """The lecture's query "warm" in the cat sentence, and the sentence's diagonal at a few dimensions."""
    return panels.why_trainable(CAT_SENTENCE, query=" warm", seed=DEFAULT_SEED, dims=SELF_MATCH_DIMS)


@user_errors
def show_query(run: Attended | None, query: Any) -> Any:
    if query is None:
        return gr.skip()
    run = need_run(run)
    index = ac.check_index(query, "query", len(run.tokens))
    return {ui.walk_text: panels.walk(run, index), ui.bars: panels.bars(run, index)}


@user_errors
def trace_pair(run: Attended | None, query: Any, key: Any) -> Any:
    if query is None or key is None:
        return gr.skip()
    return panels.trace(need_run(run), query, key)


@user_errors
def trace_select(run: Attended | None, event: gr.SelectData) -> Any:
    """A cell chosen in the matrix (click or Enter) is traced: the event carries its [row, column], 0-based."""
    run = need_run(run)
    index = event.index
    if not (isinstance(index, (list, tuple)) and len(index) == 2):
        raise ac.InputError("Choose a cell of the matrix: a query row and a key column.")
    query, key = (ac.check_index(i, name, len(run.tokens)) for i, name in zip(index, ("query", "key")))
    return {ui.trace_query: query, ui.trace_key: key, ui.trace_md: panels.trace(run, query, key)}


@user_errors
def follow_tau(run: Attended | None, tau: Any, raw_scores: bool = False, link: str = "") -> Any:
    """The server's follow-up once τ has rested: the run's own inputs at the new τ (the matrix was already
    redrawn in the browser); the trace beside it, the tables, the walk-through and the rest follow."""
    if run is None:
        return gr.skip()
    run = dataclasses.replace(
        run, attention=ac.self_attention(run.attention.inputs, temperature=ac.check_temperature(tau))
    )
    return {ui.state: run, ui.heatmap: panels.matrix(run, raw_scores), ui.link: links.with_tau(link, run.temperature)}


@user_errors
def shuffle_tokens(run: Attended | None, shuffles: Any) -> dict:
    """Permute the tokens, differently from the last click, and show that the matrix permutes with them.

    ``shuffles`` is the page's (clicks, last permutation), or 0 before the first click.
    """
    matrix, explanation, shuffles = panels.next_shuffle(need_run(run), shuffles)
    return {ui.shuffled: matrix, ui.shuffle_md: explanation, ui.shuffles: shuffles}


@user_errors
def prepare_exports(run: Attended | None, raw_scores: bool, request: gr.Request | None = None) -> list[str]:
    """Write this run as exact JSON, the weights as CSV and the matrix as PNG, for download. They go in Gradio's
    own cache folder, which it serves without making a second copy, within this visitor's share of its budget."""
    from attention_core.views.export import export_files
    from web.exports import ExportsFull, client_of, save_export

    run = need_run(run)
    files = export_files(run.tokens, run.ids, run.attention, raw_scores=raw_scores)
    try:
        paths = save_export(Path(ui.exports.GRADIO_CACHE) / "attention-exports", client_of(request), files)
    except ExportsFull as full:
        raise ac.InputError(str(full)) from None
    return [str(path) for path in paths]


def link_settings(request: gr.Request | None) -> dict:
    """Settings from a shared link's query string (web/links.py), keyed by component; bad ones are ignored, each
    with a fixed warning that names it and its range (the link's own value is never quoted)."""
    settings, refused = links.settings_from_link(dict(request.query_params) if request is not None else {})
    for warning in refused:
        gr.Warning(warning)
    return components(settings)  # the settings are named after their components


def open_page(
    text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any, request: gr.Request
) -> dict:
    """A page opens, in one round trip: the default run's state (its first view came with the page), or a shared
    link's settings and the first view of the run they describe, or what a refused Run shows, with its reason as a
    warning."""
    shown = {ui.below: gr.Column(visible=True)}  # the page has painted: what lies below may load now
    settings = link_settings(request)
    given = dict(zip(run_inputs(), (text, source, dim, seed, table, raw_scores, tau)))
    arguments = [settings.get(component, value) for component, value in given.items()]
    if not settings:  # the default run, whose first view came with the page (web/first_screen.py)
        return shown | {ui.state: run_from_inputs(text, source, dim, seed, table, tau)}
    try:
        view = run_attention(*arguments)
    except gr.Error as error:
        gr.Warning(error.message)
        view = refused_run(*arguments)
    return shown | settings | view


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
    """An uploaded table goes into the table box, checked now rather than on the next Run. A refused file is
    cleared from the upload box, and the reason is written under it (the box keeps its last good table)."""
    if not path:
        return gr.skip()
    name = Path(path).name
    try:
        check_upload_size(os.path.getsize(path), name)
        with open(path, "rb") as handle:  # a Gradio temp file, never a user-typed path
            data = handle.read(ac.MAX_UPLOAD_BYTES + 1)
        text = decode_upload(data, name)
        vectors = ac.parse_embedding_table(text).vectors
    except ac.InputError as error:
        return {ui.upload: None, ui.upload_note: f"**Not loaded.** {message(error)}"}
    rows, columns = vectors.shape
    return {ui.table: text, ui.source: "table", ui.upload_note: f"Loaded: {rows} rows of {columns} numbers. Press Run."}


def toggle_source(source: str) -> dict:
    return {ui.random_box: gr.Column(visible=source == "random"), ui.table_box: gr.Column(visible=source == "table")}


# --- layout ----------------------------------------------------------------------------------


def intro_section() -> None:
    gr.Markdown(lessons.INTRO, latex_delimiters=LATEX, elem_id="intro")


def inputs_section() -> None:
    """The form, compact: the text and its buttons, then examples and the embeddings folded, and what the
    embeddings mean."""
    with gr.Row(elem_id="run-form"):
        ui.text = gr.Textbox(
            value=BOOK_SENTENCE,
            label=f"Text (up to {ac.MAX_TOKENS} GPT-2 tokens)",
            lines=1,
            max_lines=8,
            max_length=ac.MAX_TEXT_CHARS,
            scale=4,
            min_width=260,
        )
        with gr.Row(elem_id="run-buttons"):
            ui.run_button = gr.Button("Run", variant="primary", min_width=0)
            ui.book_button = gr.Button(panels.BOOK_BUTTON, variant="secondary", min_width=0)
    with gr.Row(elem_id="run-options"):
        with gr.Accordion("Examples", open=False, elem_id="examples-box"):
            ui.examples = gr.Examples(
                [[text] for text in EXAMPLES],
                inputs=[ui.text],
                api_visibility="private",
                label="Click one to run it",
            )
        with gr.Accordion(FIRST["embeddings_box"], open=False, elem_id="embeddings-box") as ui.embeddings_box:
            ui.source = gr.Radio(SOURCES, value="random", label="Embeddings")
            with gr.Column(visible=True) as ui.random_box:
                with gr.Row():
                    # No minimum/maximum here: the core's check gives the message, the same one the API gives.
                    ui.dim = gr.Number(value=DEFAULT_DIM, label=f"dim d ({ac.MIN_DIM}–{ac.MAX_DIM})")
                    ui.seed = gr.Number(value=DEFAULT_SEED, label=f"seed (0–{ac.MAX_SEED:,})")
                ui.recipe = gr.Markdown(FIRST["recipe"], latex_delimiters=[], elem_classes="code-md")
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
                ui.upload_note = gr.Markdown(elem_id="upload-note")
    gr.Markdown("ⓘ " + lessons.RANDOM_EMBEDDINGS, elem_id="meaning-note")
    # The last run's settings as a query string, for the address bar; at first the default run's, so that a new τ
    # on it (links.with_tau) has a link to change.
    ui.link = gr.Textbox(FIRST["link"], visible=False)


def matrix_section() -> None:
    """The first screen: the tokens and the matrix, beside τ and the trace of the matrix's selected cell."""
    with gr.Row(elem_id="first-screen"):
        with gr.Column(scale=3, min_width=330, elem_id="matrix-column"):
            ui.tokens_html = gr.HTML(FIRST["tokens_html"], label="Tokens", elem_id="tokens")
            ui.heatmap = attention_matrix(elem_id="heatmap", value=FIRST["heatmap"])
            gr.Markdown(lessons.MATRIX_HINT, elem_classes="hint")
        with gr.Column(scale=2, min_width=320, elem_id="trace-column"):
            ui.tau = temperature_control(elem_id="tau", value=DEFAULT_TAU)
            with gr.Row(elem_id="matrix-switches"):
                ui.root_button = gr.Button("τ = √d", size="sm", scale=0, min_width=90, elem_id="root-button")
                ui.raw_scores = gr.Checkbox(value=False, label="Show raw scores ω instead of weights α")
            gr.Markdown("## Trace one cell", elem_classes="section-heading")
            with gr.Row():
                ui.trace_query = dropdown("trace_query", label="query (row)")
                ui.trace_key = dropdown("trace_key", label="key (column)")
            ui.trace_md = gr.Markdown(FIRST["trace_md"], latex_delimiters=LATEX, elem_id="trace")


def dropdown(name: str, *, label: str) -> gr.Dropdown:
    """One of the page's token dropdowns, with the first screen's choices."""
    return gr.Dropdown(label=label, type="value", interactive=True, **FIRST[name])


def run_chain(start: Callable[..., Any]) -> Any:
    """The first view, then what lies below it, then the loop timing.

    start: how the first view is attached: ``event.then`` after an event, or ``gr.on`` bound to triggers (no empty
    event in front: that one costs the browser a round of its own before the run even starts)."""
    private = {"api_visibility": "private"}
    # One overlay per output would cost the browser a layout of the page each: only the page model's few show it.
    shown = start(
        run_attention, run_inputs(), outputs("first view"), show_progress_on=progress_on("first view"), **private
    )
    shown.failure(refused_run, run_inputs(), outputs(), show_progress="hidden", show_progress_on=ui.heatmap, **private)
    return fill_below(shown)


def run_inputs() -> list:
    return [ui.text, ui.source, ui.dim, ui.seed, ui.table, ui.raw_scores, ui.tau]


def progress_on(stage: page_model.Stage) -> list:
    return [getattr(ui, name) for name in page_model.with_progress(stage)]


def fill_below(event: Any, *, keep_choices: bool = False, **options: Any) -> Any:
    """What lies below the first view, then the last stage, after a run (or a new τ) succeeded.

    keep_choices: after a new τ, the chosen query and traced cell stay; after a new run they start over.
    """
    private = {"api_visibility": "private", **options}
    kept = [ui.trace_query, ui.trace_key] if keep_choices else []
    beside = event.success(
        trace_beside, [ui.state, ui.text, *kept], outputs("beside"), show_progress_on=progress_on("beside"), **private
    )
    inputs = [ui.state, ui.text] + ([ui.query, ui.trace_query, ui.trace_key] if keep_choices else [])
    below = beside.success(run_extras, inputs, outputs("below"), show_progress_on=progress_on("below"), **private)
    return below.success(time_loops, ui.state, outputs("last"), **private)


def tau_chain() -> None:
    """τ: every input (drag or arrow keys) redraws the matrix in the browser; once the slider has rested, the
    matrix fires tau_settled and the server follows: address bar, tables, walk-through, then what lies below."""
    last = {"api_visibility": "private", "trigger_mode": "always_last"}
    ui.tau.input(None, ui.tau, None, js=matrix_js(ui.heatmap, "setTau(value)"), api_visibility="private")
    redrawn = [ui.state, ui.heatmap, ui.link]
    follow = ui.heatmap.tau_settled(
        follow_tau, [ui.state, ui.tau, ui.raw_scores, ui.link], redrawn, show_progress="hidden", **last
    )  # the matrix is already drawn: it must not fade
    fill_below(follow, keep_choices=True, **last)


def wire() -> None:
    private = {"api_visibility": "private"}
    # Progress on a leaf: Gradio's page copies every progress target, and everything inside it, at each status
    # change of every later event (tests/web/test_app.py: no layout block is a progress target).
    boxes = [ui.random_box, ui.table_box]
    ui.source.change(toggle_source, ui.source, boxes, queue=False, show_progress_on=ui.source, **private)
    ui.text.input(text_edited, [ui.text, ui.source, ui.table], ui.source, queue=False, **private)
    ui.upload.upload(load_upload, ui.upload, [ui.table, ui.source, ui.upload, ui.upload_note], **private)
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
    exported = ui.export_button.click(prepare_exports, [ui.state, ui.raw_scores], ui.exports, **private)
    exported.success(lambda: gr.update(visible=True), None, ui.exports, queue=False, **private)
    ui.why_box.expand(why_trainable, None, ui.by_dim, **private)
    book = {ui.text: BOOK_SENTENCE, ui.source: "table", ui.table: BOOK_TABLE, ui.tau: 1.0}
    run_chain(ui.book_button.click(lambda: book, None, list(book), queue=False, **private).then)
    cat = {ui.text: CAT_SENTENCE, ui.source: "random"}
    run_chain(ui.cat_button.click(lambda: cat, None, list(cat), queue=False, **private).then)


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of figures and exports older than an hour are removed every 30 minutes.
    with gr.Blocks(
        title="Self-attention without trainable weights", analytics_enabled=False, delete_cache=(1800, 3600)
    ) as blocks:
        intro_section()
        with gr.Tabs() as ui.tabs:
            with gr.Tab("Self-attention") as ui.main_tab:
                inputs_section()
                matrix_section()
                # Below the first screen: hidden until the page has painted (its components then load no code
                # before the first paint), shown by the load event.
                with gr.Column(visible=False, elem_id="below") as ui.below:
                    below.build(ui, latex=LATEX, cat_sentence=CAT_SENTENCE)
                ui.state = gr.State(None, time_to_live=900)  # a 256 x 768 run holds about 2 MB
                ui.shuffles = gr.State(0)  # then (clicks, last permutation)
            with gr.Tab("Lecture", id=lecture_tab.TAB_ID) as ui.lecture_tab:
                ui.lecture = lecture_tab.build()  # the chapter's steps, beside a live matrix of their own
            ui.lab_tab = lab_tab.build(latex=LATEX)
        # Light and heavy calls wait in separate lines, so a flood of /attend never holds up /tokenize or /normalize.
        # One heavy call at a time: a large run is mostly Python work under the GIL (the answer's lists, then
        # Gradio walking them), so a second one in parallel adds little and starves the event loop serving everyone.
        lines = {tokenize: "light", attend_endpoint: "heavy", normalize: "light", train: "heavy"}
        for endpoint, line in lines.items():
            # The whole docstring, Args included: view_api() shows no parameter descriptions of its own.
            limit = 1 if line == "heavy" else QUEUE_CONCURRENCY
            gr.api(
                endpoint,
                api_name=endpoint.__name__,
                api_description=inspect.getdoc(endpoint),
                concurrency_id=line,
                concurrency_limit=limit,
            )
        wire()
        # The lecture follows the first tab's run when the learner chooses it; the training panel, each new run.
        ui.lecture_events = lecture_tab.wire(
            ui.lecture,
            blocks=blocks,
            tabs=ui.tabs,
            tab=ui.lecture_tab,
            main_run=ui.state,
            link=ui.link,
            other_tabs=(ui.main_tab, ui.lab_tab),
        )
        training_panel.wire(ui.training, ui.state, ui.heatmap.change, open_with=ui.to_training)
        # A shared link's settings and the run they describe, in one round trip, then what lies below. Queued, so
        # that gr.Warning about a bad link parameter reaches the page as a toast.
        opened = blocks.load(
            open_page,
            run_inputs(),
            run_inputs() + outputs() + [ui.below],
            show_progress="hidden",  # the default run came with the page; a link's run is hidden until it is shown
            show_progress_on=ui.heatmap,  # not #below: Gradio copies a progress target's contents at every status
            api_visibility="private",
        )
        opened.then(None, js=LINK_OPENED_JS, api_visibility="private")  # a shared link's run is on screen
        fill_below(opened)
    # api_open=False: queued functions are reached through the queue only (as on a Space), never by /run/<api>.
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE, api_open=False)
    return blocks


demo = build_demo()
# What computes or sends a run: the guard counts these calls against a client's share of large runs.
HEAVY, LIGHT = page_model.costs(demo, ui, heavy=ui.lecture_events)  # a lecture step may be the learner's run


def launch(**overrides: Any):
    """Launch ``demo`` with the Space's settings; tests pass a port and ``prevent_thread_lock=True``."""
    from web import guard  # per-client shares, unread answers dropped a minute after they are ready, bounded bodies

    # uvicorn would rewrite the peer from X-Forwarded-For for the addresses in FORWARDED_ALLOW_IPS (loopback by
    # default, and anything if an inherited value says "*"). The guard alone reads that header, as many proxies
    # deep as ATTENTION_PROXY_HOPS says (1 on a Space), so uvicorn is told to trust none, whatever was inherited.
    if inherited := guard.distrust_forwarded_headers():
        log.warning("FORWARDED_ALLOW_IPS=%r is overridden: set ATTENTION_PROXY_HOPS to trust proxies.", inherited)
    limits = guard.middleware(demo, light=LIGHT, upload_types=UPLOAD_TYPES, max_upload_bytes=ac.MAX_UPLOAD_BYTES)
    settings: dict[str, Any] = {
        "css": PAGE_CSS,
        "js": PAGE_JS,
        "head": PAGE_HEAD,
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
        lecture_tab.sweeps()  # the lecture's seed and dimension sweeps: a few seconds, once
    except gr.Error:
        log.exception("warm-up failed")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(prevent_thread_lock=True)  # serve the page first, then warm up while it is read
    warm_up()
    demo.block_thread()
