"""Self-attention without trainable weights: a Gradio Space for chapter 3.3 of
"Build a Large Language Model (From Scratch)".

Run it with ``python app.py``. Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
All the math lives in ``attention_core``; this file maps inputs onto it and results onto components.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

# The Space must not phone home: no analytics, no version check (set before gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402
# attention_core loads its modules on first use: the page is served before torch is imported.
import attention_core as ac  # noqa: E402
from attention_core import lessons  # noqa: E402
from attention_core.uploads import UPLOAD_TYPES, check_upload_size, decode_upload  # noqa: E402

log = logging.getLogger("attention_app")

BOOK_SENTENCE = "Your journey starts with one step"
CAT_SENTENCE = "The cat sat on the mat because it is warm"
BOOK_TOKENIZER_SENTENCE = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace."
UNICODE_SENTENCE = "I love 🦀 and 東京の寿司 🍣!"
BOOK_TABLE = """inputs = torch.tensor(
  [[0.43, 0.15, 0.89], # Your     (x^1)
   [0.55, 0.87, 0.66], # journey  (x^2)
   [0.57, 0.85, 0.64], # starts   (x^3)
   [0.22, 0.58, 0.33], # with     (x^4)
   [0.77, 0.25, 0.10], # one      (x^5)
   [0.05, 0.80, 0.55]] # step     (x^6)
)"""
BOOK_SCORES_2 = "0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865"

SOURCE_RANDOM = "Seeded random table"
SOURCE_TABLE = "My own table"
DEFAULT_DIM = 3
DEFAULT_SEED = 123
# The UI tables show this many dimensions; the API and the exports carry all of them.
TABLE_MAX_COLUMNS = 16
# The loop version is O(T^2 d) Python calls; above this many tokens it is timed on a prefix.
LOOPS_MAX_TOKENS = 64
SELF_MATCH_DIMS = (3, 16, 768)

QUEUE_CONCURRENCY = 2  # a CPU Space has 2 vCPUs; more parallel torch work only adds contention
QUEUE_MAX_SIZE = 64
# Gradio keeps every session's last inputs and outputs, and each API call is a session of its own: a
# 256 x 768 /attend answer holds about 23 MB. The default (10,000 sessions) would let that grow without
# bound; the least recently used sessions beyond this many are dropped.
STATE_SESSION_CAPACITY = 64
# The three named endpoints are also MCP tools for AI assistants, at /gradio_api/mcp/ (gradio[mcp] extra).
MCP_SERVER = True
EXPIRED_RUN = "There is no run to show: none has finished yet, or the server no longer keeps this page's run. Press Run."
GENERIC_ERROR = "Something went wrong on our side, and it has been logged. Please try again, or try a smaller input."

CSS = """
.tok-row { line-height: 2.2; }
.tok-count { color: var(--body-text-color-subdued); margin-right: 0.4em; }
.tok-chip { display: inline-block; padding: 0 0.45em; margin: 0 0.2em 0.2em 0; border-radius: 0.4em;
            background: var(--color-accent-soft); border: 1px solid var(--border-color-accent);
            font-family: var(--font-mono); white-space: pre; }
.tok-chip.tok-bytes { background: var(--block-background-fill); border-style: dashed; }
.tok-id { font-size: 0.7em; color: var(--body-text-color-subdued); margin-left: 0.35em; }
"""

LATEX = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "\\(", "right": "\\)", "display": False},
]

F = TypeVar("F", bound=Callable[..., Any])
# An attention_core.Attended. Gradio evaluates handlers' type hints when the page is built, and naming the
# class there would import torch before the page is served.
Run = Any


# --- Gradio's per-request cost ----------------------------------------------------------------
# Every API call is a new Gradio session, and Gradio 6.31's SessionState builds the config of every
# block up front (about 50 µs a block, over 3 ms for this page) although an API call touches two or
# three of them. This fills those configs when first needed instead. It relies on SessionState's
# internals, so it is applied only to the pinned Gradio version; tests/test_app.py checks that the
# lazy configs equal Gradio's own.
LAZY_SESSIONS_FOR = "6.31.0"


class _LazyConfigs(dict):
    """``SessionState.config_values``, computed per block on first use; iteration computes them all."""

    def __init__(self, session: Any, block_ids: Any) -> None:
        super().__init__()
        self._session = session
        self._block_ids = block_ids
        self._complete = False

    def _compute(self, key: int) -> Any:
        config = self._session.blocks_config
        value = config.config_for_block(key, [], config.blocks[key])
        dict.__setitem__(self, key, value)
        return value

    def _complete_all(self) -> None:
        if not self._complete:
            self._complete = True
            for key in self._session.blocks_config.blocks:
                if key in self._block_ids and not dict.__contains__(self, key):
                    self._compute(key)

    def __getitem__(self, key: int) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if key in self._block_ids and key in self._session.blocks_config.blocks:
            return self._compute(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        # True for every key Gradio's eager dict would hold, computed or not yet.
        return dict.__contains__(self, key) or (key in self._block_ids and key in self._session.blocks_config.blocks)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __iter__(self):
        self._complete_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._complete_all()
        return dict.__len__(self)

    def items(self):  # type: ignore[override]
        self._complete_all()
        return dict.items(self)

    def keys(self):  # type: ignore[override]
        self._complete_all()
        return dict.keys(self)

    def values(self):  # type: ignore[override]
        self._complete_all()
        return dict.values(self)


def _lazy_session_init(self: Any, blocks: Any) -> None:
    self.blocks_config = copy.copy(blocks.default_config)
    self.config_values = _LazyConfigs(self, blocks.blocks)
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def lighten_sessions() -> bool:
    """Make new Gradio sessions cheap (see above); returns whether it applied."""
    from gradio import state_holder

    if gr.__version__ != LAZY_SESSIONS_FOR:
        return False
    state_holder.SessionState.__init__ = _lazy_session_init  # type: ignore[method-assign]
    return True


def user_errors(fn: F) -> F:
    """Turn the core's input errors into gr.Error messages; hide and log anything unexpected.

    Only ``InputError`` is shown: its messages are written for users, while another library's
    ValueError may carry internals.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ac.InputError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    return wrapper  # type: ignore[return-value]


# --- mapping inputs onto the core ----------------------------------------------------------


def attend_from_ui(text: str, source: str, dim: Any, seed: Any, table: str) -> Run:
    if source == SOURCE_TABLE:
        if not (table or "").strip():
            raise ac.InputError("The table is empty. Paste one row of numbers per token, or choose the seeded random table.")
        return ac.attend(text, table=table)
    return ac.attend(text, dim=dim, seed=seed)


def pytorch_recipe(run: Run, text: str) -> str:
    """The notebook lines that rebuild this run's inputs with torch and tiktoken only."""
    if run.source == "table":
        return "# Your own table: paste it into torch.tensor([...]) in a notebook."
    return (
        "import tiktoken, torch\n"
        f'ids = tiktoken.get_encoding("gpt2").encode({text!r}, allowed_special={{"<|endoftext|>"}})\n'
        f"torch.manual_seed({run.seed}); inputs = torch.nn.Embedding(50257, {run.dim}).weight[ids]"
    )


def heatmap_image(run: Run, raw_scores: bool) -> Any:
    attention = run.attention
    if raw_scores:
        figure = ac.plots.heatmap_figure(
            attention.scores, run.tokens, title="Attention scores ω = X Xᵀ (raw dot products)", colorbar_label="score ω"
        )
    else:
        figure = ac.plots.heatmap_figure(
            attention.weights,
            run.tokens,
            title="Attention weights α = softmax(ω), row by row (each row sums to 1)",
            colorbar_label="weight α",
        )
    return ac.plots.figure_to_array(figure)


def walkthrough(run: Run, query: int) -> tuple[str, Any]:
    inputs = run.attention.inputs
    steps = ac.query_steps(inputs, query)
    text = ac.explain.query_walkthrough(run.tokens, inputs, steps)
    bars = ac.plots.figure_to_array(ac.plots.weights_bar_figure(steps.weights, run.tokens, query=query))
    return text, bars


def table_value(tokens: list[str], matrix: Any) -> dict[str, Any]:
    headers, rows = ac.explain.matrix_rows(tokens, matrix, TABLE_MAX_COLUMNS)
    return {"headers": headers, "data": rows}


def table_label(what: str, run: Run) -> str:
    dim = run.attention.inputs.shape[1]
    if dim > TABLE_MAX_COLUMNS:
        return f"{what} (first {TABLE_MAX_COLUMNS} of {dim} dimensions, 4 decimals)"
    return f"{what} (4 decimals)"


def query_choices(run: Run) -> list[tuple[str, int]]:
    return [(f"{i + 1}: {ac.visible_token(token)}", i) for i, token in enumerate(run.tokens)]


def default_query(run: Run) -> int:
    return 1 if len(run.tokens) > 1 else 0  # the book walks through x^(2), "journey"


# --- UI handlers -----------------------------------------------------------------------------


@user_errors
def run_attention(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool):
    run = attend_from_ui(text, source, dim, seed, table)
    query = default_query(run)
    walk_text, bars = walkthrough(run, query)
    return (
        run,
        ac.explain.token_chips_html(run.tokens, run.ids),
        heatmap_image(run, raw_scores),
        gr.Dataframe(value=table_value(run.tokens, run.attention.inputs), label=table_label("Input embeddings x", run)),
        gr.Dataframe(value=table_value(run.tokens, run.attention.context), label=table_label("Context vectors z", run)),
        gr.Dropdown(choices=query_choices(run), value=query),
        walk_text,
        bars,
        ac.explain.self_match_markdown(run.tokens, run.attention),
        pytorch_recipe(run, text),
    )


@user_errors
def self_match_by_dim() -> str:
    """The cat sentence's diagonal at a few dimensions, with the default seed (computed when the section opens)."""
    rows = []
    for dim in SELF_MATCH_DIMS:
        run = ac.attend(CAT_SENTENCE, dim=dim, seed=DEFAULT_SEED)
        rows.append((dim, ac.explain.self_match_count(run.attention.scores), len(run.tokens)))
    return ac.explain.self_match_by_dim_markdown(CAT_SENTENCE, DEFAULT_SEED, rows)


@user_errors
def redraw_heatmap(run: Run | None, raw_scores: bool):
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    return heatmap_image(run, raw_scores)


@user_errors
def show_query(run: Run | None, query: Any):
    if query is None:
        return gr.skip(), gr.skip()
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    try:
        index = int(query)
    except (TypeError, ValueError):
        index = -1
    if isinstance(query, bool) or not 0 <= index < len(run.tokens):
        raise ac.InputError(f"Choose a query token between 1 and {len(run.tokens)}.")
    return walkthrough(run, index)


@user_errors
def time_both(run: Run | None) -> str:
    if run is None:
        return ""
    inputs = run.attention.inputs[:LOOPS_MAX_TOKENS]
    loops_seconds, matrix_seconds, difference = ac.explain.compare_implementations(inputs)
    note = ""
    if run.attention.inputs.shape[0] > LOOPS_MAX_TOKENS:
        note = f"\n\n(Timed on the first {LOOPS_MAX_TOKENS} tokens: the loops make T² Python calls.)"
    return ac.explain.timings_markdown(inputs, loops_seconds, matrix_seconds, difference) + note


@user_errors
def load_upload(path: str | None):
    if not path:
        return gr.skip(), gr.skip()
    name = Path(path).name
    check_upload_size(os.path.getsize(path), name)
    with open(path, "rb") as handle:  # a Gradio temp file, never a user-typed path
        data = handle.read(ac.MAX_UPLOAD_BYTES + 1)
    text = decode_upload(data, name)
    ac.parse_embedding_table(text)  # report a bad table now, not on the next Run
    return text, SOURCE_TABLE


def toggle_source(source: str):
    random_source = source == SOURCE_RANDOM
    return gr.Column(visible=random_source), gr.Column(visible=not random_source)


@user_errors
def run_lab(values: str, dtype: str):
    result = ac.compare_normalizations(values, dtype)
    columns = {
        "sum-normalized": result.sum_normalized.tolist(),
        "naive softmax": result.softmax_naive.tolist(),
        "stable softmax": result.softmax_stable.tolist(),
    }
    rows = [
        [ac.explain.num(v), ac.explain.num(s), ac.explain.num(n), ac.explain.num(t)]
        for v, s, n, t in zip(result.values.tolist(), *columns.values())
    ]
    sums = result.sums()
    rows.append(["sum: " + ac.explain.num(sums["values"])] + [ac.explain.num(sums[k]) for k in ("sum_normalized", "softmax_naive", "softmax_stable")])
    table = {"headers": ["value", "sum-normalized", "naive softmax", "stable softmax"], "data": rows}
    figure = ac.plots.normalization_figure(result.values.tolist(), columns)
    notes = "\n".join(f"- {note}" for note in result.notes) or "- Nothing surprising: all three give finite weights."
    return table, ac.plots.figure_to_array(figure), f"**Notes ({result.dtype})**\n\n{notes}"


# --- the named API ---------------------------------------------------------------------------


@user_errors
def tokenize_api(text: str) -> dict:
    """Tokenize text with GPT-2's BPE. Returns {"ids": [...], "tokens": [...]}."""
    text = ac.check_text(text)
    tokens = ac.tokenize(text)
    ac.check_token_count(len(tokens.ids))
    return {"ids": tokens.ids, "tokens": tokens.tokens}


@user_errors
def attend_api(text: str, dim: int = DEFAULT_DIM, seed: int = DEFAULT_SEED, table: str = "") -> dict:
    """Weight-free self-attention. Returns tokens, ids, inputs (T x d), scores (T x T), weights (T x T), context (T x d).

    A non-empty table (CSV, TSV, JSON or a torch.tensor literal, one row per token) replaces the seeded random
    embeddings. If text is empty and the table has a label column, the labels are the tokens.
    """
    return ac.serialize.attended_json(ac.attend(text, dim=dim, seed=seed, table=table))


@user_errors
def normalize_api(values: str, dtype: str = "float32") -> dict:
    """Sum normalization, naive softmax and stable softmax of comma-separated values in float16, float32 or float64.

    Non-finite results are null, and a note explains each one.
    """
    return ac.serialize.comparison_json(ac.compare_normalizations(values, dtype))


# --- layout ----------------------------------------------------------------------------------


def intro_section() -> None:
    gr.Markdown(
        "# Self-attention without trainable weights\n"
        "Chapter 3.3 of *Build a Large Language Model (From Scratch)*, live. Type a sentence: each GPT-2 token gets "
        "an embedding vector \\(x^{(i)}\\), and every token attends to every token.\n\n"
        "$$\\omega = X X^\\top \\qquad \\alpha = \\operatorname{softmax}(\\omega)\\ \\text{row by row} \\qquad Z = \\alpha X$$",
        latex_delimiters=LATEX,
    )


def attention_section() -> None:
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=BOOK_SENTENCE, label="Text", lines=2, max_lines=8, max_length=ac.MAX_TEXT_CHARS,
                              info=f"Up to {ac.MAX_TEXT_CHARS:,} characters and {ac.MAX_TOKENS} GPT-2 tokens.")
            run_button = gr.Button("Run", variant="primary")
            gr.Examples([[BOOK_SENTENCE], [CAT_SENTENCE], [BOOK_TOKENIZER_SENTENCE], [UNICODE_SENTENCE]], inputs=[text],
                        api_visibility="private",
                        label="Examples")
        with gr.Column(scale=2):
            source = gr.Radio([SOURCE_RANDOM, SOURCE_TABLE], value=SOURCE_RANDOM, label="Embeddings")
            with gr.Column(visible=True) as random_box:
                with gr.Row():
                    # No minimum/maximum here: the core's check gives the message, the same one the API gives.
                    dim = gr.Number(value=DEFAULT_DIM, label=f"dim d ({ac.MIN_DIM}–{ac.MAX_DIM})")
                    seed = gr.Number(value=DEFAULT_SEED, label=f"seed (0–{ac.MAX_SEED:,})")
                recipe = gr.Code(language="python", label="The same inputs in a notebook", interactive=False, lines=3,
                                 wrap_lines=True)
            with gr.Column(visible=False) as table_box:
                table = gr.Textbox(value=BOOK_TABLE, label="Embedding table (one row per token)", lines=8, max_lines=16,
                                   info="CSV, TSV, spaces, JSON [[...]] or a pasted torch.tensor(...); a label column is optional.")
                upload = gr.File(label=f"…or upload a table ({', '.join(UPLOAD_TYPES)}, ≤ 1 MB)", file_types=list(UPLOAD_TYPES),
                                 type="filepath", height=90)

    tokens_html = gr.HTML(label="Tokens", elem_id="tokens")
    with gr.Row():
        with gr.Column(scale=3):
            raw_scores = gr.Checkbox(value=False, label="Show raw scores ω instead of weights α")
            heatmap = gr.Image(label="Heatmap (rows: queries, columns: keys)", show_label=False, type="numpy",
                               format="png", interactive=False, buttons=["download", "fullscreen"], elem_id="heatmap")
        with gr.Column(scale=2):
            inputs_table = gr.Dataframe(label="Input embeddings x", interactive=False, max_height=320, elem_id="inputs-table")
            context_table = gr.Dataframe(label="Context vectors z", interactive=False, max_height=320,
                                         elem_id="context-table")

    with gr.Accordion("Walk through one query", open=True):
        query = gr.Dropdown(label="Query token", choices=[], type="value", interactive=True)
        with gr.Row():
            walk_text = gr.Markdown(latex_delimiters=LATEX)
        bars = gr.Image(label="This query's weights", show_label=False, type="numpy", format="png", interactive=False)

    with gr.Accordion("Loops vs matrices", open=False):
        loops_code, matrix_code = lessons.code_of_both()
        with gr.Row():
            gr.Code(loops_code, language="python", label="Loops: torch.dot, one pair at a time", interactive=False)
            gr.Code(matrix_code, language="python", label="Matrices: two matrix products and a softmax", interactive=False)
        timings = gr.Markdown()

    with gr.Accordion("Why the next step adds trainable weights", open=False) as why_box:
        gr.Markdown(lessons.WHY_TRAINABLE, latex_delimiters=LATEX)
        by_dim = gr.Markdown(latex_delimiters=LATEX)
        cat_button = gr.Button("Run “" + CAT_SENTENCE + "” above", size="sm")
        gr.Markdown("**In the current run:**")
        self_match = gr.Markdown(latex_delimiters=LATEX)

    state = gr.State(None, time_to_live=900)  # a 256 x 768 run holds about 2 MB
    run_inputs = [text, source, dim, seed, table, raw_scores]
    run_outputs = [state, tokens_html, heatmap, inputs_table, context_table, query, walk_text, bars, self_match, recipe]
    private = {"api_visibility": "private"}

    source.change(toggle_source, source, [random_box, table_box], queue=False, **private)
    upload.upload(load_upload, upload, [table, source], **private)
    gr.on([run_button.click, text.submit], run_attention, run_inputs, run_outputs, **private).then(
        time_both, state, timings, **private
    )
    raw_scores.change(redraw_heatmap, [state, raw_scores], heatmap, **private)
    query.input(show_query, [state, query], [walk_text, bars], **private)
    why_box.expand(self_match_by_dim, None, by_dim, **private)
    cat_button.click(lambda: (CAT_SENTENCE, SOURCE_RANDOM), None, [text, source], queue=False, **private).then(
        run_attention, run_inputs, run_outputs, **private
    ).then(time_both, state, timings, **private)
    return run_inputs, run_outputs, state, timings


def lab_section() -> None:
    gr.Markdown(
        "Three ways to turn scores into weights. Type values, extreme ones included, and watch naive softmax overflow."
    )
    with gr.Row():
        values = gr.Textbox(value="1, 2, 3, 400", label=f"Values (up to {ac.MAX_LAB_VALUES:,})", scale=3)
        dtype = gr.Radio(list(ac.DTYPES), value="float32", label="dtype", scale=2)
    lab_button = gr.Button("Compare", variant="primary")
    gr.Examples([[BOOK_SCORES_2], ["1000, 1001, 1002"], ["-1, 1"], ["0, 0, 0"], ["1, 2, 3, 400"]], inputs=[values],
                api_visibility="private",
                label="Examples (the first is the book's attn_scores_2)")
    with gr.Row():
        lab_table = gr.Dataframe(label="Side by side (last row: the sums)", interactive=False)
        lab_notes = gr.Markdown()
    lab_chart = gr.Image(label="Grouped bars", show_label=False, type="numpy", format="png", interactive=False)
    gr.Markdown(lessons.LAB_FORMULAS, latex_delimiters=LATEX)
    lab_outputs = [lab_table, lab_chart, lab_notes]
    gr.on([lab_button.click, values.submit, dtype.change], run_lab, [values, dtype], lab_outputs, api_visibility="private")
    return [values, dtype], lab_outputs


def api_section() -> None:
    gr.api(tokenize_api, api_name="tokenize")
    gr.api(attend_api, api_name="attend")
    gr.api(normalize_api, api_name="normalize")


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Self-attention without trainable weights", analytics_enabled=False) as blocks:
        intro_section()
        with gr.Tabs():
            with gr.Tab("Self-attention"):
                run_inputs, run_outputs, state, timings = attention_section()
            with gr.Tab("Normalization lab"):
                lab_inputs, lab_outputs = lab_section()
        api_section()
        blocks.load(run_attention, run_inputs, run_outputs, api_visibility="private").then(
            time_both, state, timings, api_visibility="private"
        )
        blocks.load(run_lab, lab_inputs, lab_outputs, api_visibility="private")
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return blocks


lighten_sessions()
demo = build_demo()


def launch(**overrides: Any):
    """Launch ``demo`` with the Space's settings; tests pass a port and ``prevent_thread_lock=True``."""
    settings: dict[str, Any] = {
        "css": CSS,
        "theme": gr.themes.Soft(),
        "show_error": False,
        "max_file_size": ac.MAX_UPLOAD_BYTES,
        "state_session_capacity": STATE_SESSION_CAPACITY,
        "mcp_server": MCP_SERVER,
    }
    settings.update(overrides)
    return demo.launch(**settings)


def warm_up() -> None:
    """Import torch and matplotlib, load the tokenizer and the default table: the first visitor's run is then quick."""
    try:
        run_attention(BOOK_SENTENCE, SOURCE_RANDOM, DEFAULT_DIM, DEFAULT_SEED, "", False)
    except gr.Error:
        log.exception("warm-up failed")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    launch(prevent_thread_lock=True)  # serve the page first, then warm up while it is read
    warm_up()
    demo.block_thread()
