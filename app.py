"""Self-attention without trainable weights: a Gradio Space for chapter 3.3 of
"Build a Large Language Model (From Scratch)".

Run it with ``python app.py``. Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
All the math lives in ``attention_core``; this file maps inputs onto it and results onto components.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
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
# Exports are written here, one folder per click, and removed after a while (Gradio keeps its own copy to serve).
EXPORT_ROOT = Path(tempfile.gettempdir()) / "attention-space-exports"
EXPORT_TTL_SECONDS = 900

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


def attend_from_ui(text: str, source: str, dim: Any, seed: Any, table: str, tau: Any = 1.0) -> Run:
    if source == SOURCE_TABLE:
        if not (table or "").strip():
            raise ac.InputError("The table is empty. Paste one row of numbers per token, or choose the seeded random table.")
        return ac.attend(text, table=table, temperature=tau)
    return ac.attend(text, dim=dim, seed=seed, temperature=tau)


def pytorch_recipe(run: Run, text: str) -> str:
    """The notebook lines that rebuild this run's inputs (shown beside the seed)."""
    if run.source == "table":
        return "# Your own table: paste it into torch.tensor([...]) in a notebook."
    return ac.export.embedding_recipe(text, dim=run.dim, seed=run.seed)


def heatmap_figure(run: Run, raw_scores: bool) -> Any:
    attention = run.attention
    if raw_scores:
        return ac.plots.heatmap_figure(
            attention.scores, run.tokens, title="Attention scores ω = X Xᵀ (raw dot products)", colorbar_label="score ω"
        )
    softmax = "softmax(ω)" if run.temperature == 1.0 else f"softmax(ω / {run.temperature:g})"
    return ac.plots.heatmap_figure(
        attention.weights,
        run.tokens,
        title=f"Attention weights α = {softmax}, row by row (each row sums to 1)",
        colorbar_label="weight α",
    )


def heatmap_image(run: Run, raw_scores: bool) -> Any:
    return ac.plots.figure_to_array(heatmap_figure(run, raw_scores))


def walkthrough(run: Run, query: int) -> tuple[str, Any]:
    inputs = run.attention.inputs
    steps = ac.query_steps(inputs, query, temperature=run.temperature)
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
def run_attention(text: str, source: str, dim: Any, seed: Any, table: str, raw_scores: bool, tau: Any = 1.0):
    run = attend_from_ui(text, source, dim, seed, table, tau)
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
def run_extras(run: Run | None, text: str):
    """Everything below the main views: trace, parity, facts, temperature, notebook snippet."""
    if run is None:
        return (gr.skip(),) * 8
    attention, tokens = run.attention, run.tokens
    query, key = default_query(run), 0
    choices = query_choices(run)
    groups = ac.facts.repeated_tokens(run.ids, attention.inputs)
    wins = ac.explain.self_match_count(attention.scores)
    facts = (
        ac.facts.repeated_tokens_markdown(tokens, groups, attention)
        + f"\n\n**Self-attention:** {wins} of {len(tokens)} tokens have their largest score with themselves "
        "(see *Why the next step adds trainable weights*)."
    )
    hull = ac.plots.figure_to_array(ac.plots.convex_hull_figure(attention.inputs, attention.context, tokens))
    snippet = ac.export.pytorch_snippet(
        tokens, run.ids, run.source, run.dim, run.seed, text, attention.inputs, temperature=run.temperature
    )
    return (
        gr.Dropdown(choices=choices, value=query),
        gr.Dropdown(choices=choices, value=key),
        trace_text(run, query, key),
        parity_text(run),
        facts,
        hull,
        snippet,
        ac.explain.temperature_markdown(attention.scores, run.temperature, attention.inputs.shape[1]),
    )


def trace_text(run: Run, query: int, key: int) -> str:
    trace = ac.trace_cell(run.attention.inputs, query, key, temperature=run.temperature)
    return ac.trace_markdown(run.tokens, trace, run.attention.inputs)


def parity_text(run: Run) -> str:
    if run.source != "table" or tuple(run.attention.inputs.shape) != (6, 3):
        return (
            "The book's printed values are for its 6 × 3 example. Press **Load the book's example** to compare them "
            "with this app's numbers."
        )
    note = "" if run.temperature == 1.0 else " (the book uses τ = 1; the comparison below does too)"
    return f"Computed from this run's 6 × 3 inputs{note}.\n\n" + ac.parity_markdown(ac.book_parity(run.attention.inputs))


@user_errors
def trace_pair(run: Run | None, query: Any, key: Any) -> str:
    if query is None or key is None:
        return gr.skip()
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    return trace_text(run, query, key)


@user_errors
def trace_click(run: Run | None, event: gr.SelectData):
    """A click on the heatmap picks the (query, key) cell under it."""
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    x, y = event.index
    cell = ac.plots.heatmap_cell_at(run.tokens, x, y)
    if cell is None:
        return gr.skip(), gr.skip(), gr.skip()
    query, key = cell
    return query, key, trace_text(run, query, key)


@user_errors
def shuffle_tokens(run: Run | None, shuffles: Any):
    """Permute the tokens, differently from the last click, and show that the heatmap permutes with them.

    ``shuffles`` is the page's (clicks, last permutation), or 0 before the first click.
    """
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    count = len(run.tokens)
    if count < 2:
        raise ac.InputError("There is only one token: type a sentence with at least two tokens to shuffle.")
    clicks, previous = shuffles if isinstance(shuffles, tuple) else (0, None)
    if previous is not None and len(previous) != count:
        previous = None  # a new run since the last shuffle
    permutation = ac.random_permutation(count, seed=clicks, avoid=previous)
    inputs = ac.permute(run.attention.inputs, permutation)
    shuffled = ac.self_attention(inputs, temperature=run.temperature)
    tokens = [run.tokens[i] for i in permutation]
    image = ac.plots.figure_to_array(
        ac.plots.heatmap_figure(shuffled.weights, tokens, title="Shuffled: weights of the permuted tokens",
                                colorbar_label="weight α")
    )
    return image, ac.facts.shuffle_markdown(run.tokens, permutation, run.attention, shuffled), (clicks + 1, permutation)


@user_errors
def prepare_exports(run: Run | None, raw_scores: bool) -> list[str]:
    """Write this run as CSV, JSON and the heatmap as PNG, for download."""
    if run is None:
        raise ac.InputError(EXPIRED_RUN)
    folder = export_folder()
    attention = run.attention
    (folder / "attention.csv").write_text(
        ac.run_csv(run.tokens, run.ids, attention, temperature=run.temperature), encoding="utf-8", newline=""
    )
    (folder / "attention.json").write_text(
        ac.run_json(run.tokens, run.ids, attention, temperature=run.temperature), encoding="utf-8"
    )
    (folder / "heatmap.png").write_bytes(ac.plots.figure_to_png(heatmap_figure(run, raw_scores)))
    return [str(folder / name) for name in ("attention.csv", "attention.json", "heatmap.png")]


def export_folder() -> Path:
    """A fresh folder for one export; folders older than EXPORT_TTL_SECONDS are removed first."""
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in EXPORT_ROOT.iterdir():
        try:
            if now - old.stat().st_mtime > EXPORT_TTL_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass  # another request removed it first
    return Path(tempfile.mkdtemp(dir=EXPORT_ROOT))


def restore_from_url(request: gr.Request):
    """Settings from a shared link's query string (?text=…&seed=…&dim=…&tau=…&view=…); bad ones are ignored."""
    params = dict(request.query_params) if request is not None else {}
    text = params.get("text")
    values: dict[str, Any] = {}
    if isinstance(text, str) and text.strip() and len(text) <= ac.MAX_TEXT_CHARS:
        values["text"] = text
    for name, check in (("dim", ac.check_dim), ("seed", ac.check_seed), ("tau", ac.check_temperature)):
        if name in params:
            try:
                values[name] = check(params[name])
            except ac.InputError as error:
                gr.Warning(f"The link's {name} was ignored: {error}")
    view = params.get("view")
    book = params.get("table") == "book"
    return (
        values.get("text", gr.skip()),
        SOURCE_TABLE if book else (SOURCE_RANDOM if params else gr.skip()),
        BOOK_TABLE if book else gr.skip(),
        values.get("dim", gr.skip()),
        values.get("seed", gr.skip()),
        values.get("tau", gr.skip()),
        (view == "scores") if view in ("scores", "weights") else gr.skip(),
    )


@user_errors
def root_temperature(dim: Any) -> float:
    """τ = √d, what scaled dot-product attention (section 3.4) divides the scores by."""
    return ac.check_dim(dim) ** 0.5


def load_book_example():
    return BOOK_SENTENCE, SOURCE_TABLE, BOOK_TABLE, 1.0, gr.Accordion(open=True)


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


# Keeps the page's URL in step with the settings, so the address bar is always a shareable link.
URL_JS = """
(text, source, table, dim, seed, tau, raw) => {
    const params = new URLSearchParams();
    params.set("text", text ?? "");
    params.set("dim", dim);
    params.set("seed", seed);
    params.set("tau", tau);
    params.set("view", raw ? "scores" : "weights");
    if (source === %s && table === %s) params.set("table", "book");
    history.replaceState(null, "", "?" + params.toString());
}
"""


def attention_section() -> SimpleNamespace:
    ui = SimpleNamespace()
    with gr.Row():
        with gr.Column(scale=3):
            ui.text = gr.Textbox(value=BOOK_SENTENCE, label="Text", lines=2, max_lines=8, max_length=ac.MAX_TEXT_CHARS,
                                 info=f"Up to {ac.MAX_TEXT_CHARS:,} characters and {ac.MAX_TOKENS} GPT-2 tokens.")
            with gr.Row():
                ui.run_button = gr.Button("Run", variant="primary", scale=2)
                ui.book_button = gr.Button("Load the book's example", variant="secondary", scale=1)
            gr.Examples([[BOOK_SENTENCE], [CAT_SENTENCE], [BOOK_TOKENIZER_SENTENCE], [UNICODE_SENTENCE]],
                        inputs=[ui.text], api_visibility="private", label="Examples")
        with gr.Column(scale=2):
            ui.source = gr.Radio([SOURCE_RANDOM, SOURCE_TABLE], value=SOURCE_RANDOM, label="Embeddings")
            with gr.Column(visible=True) as ui.random_box:
                with gr.Row():
                    # No minimum/maximum here: the core's check gives the message, the same one the API gives.
                    ui.dim = gr.Number(value=DEFAULT_DIM, label=f"dim d ({ac.MIN_DIM}–{ac.MAX_DIM})")
                    ui.seed = gr.Number(value=DEFAULT_SEED, label=f"seed (0–{ac.MAX_SEED:,})")
                ui.recipe = gr.Code(language="python", label="The same inputs in a notebook", interactive=False,
                                    lines=3, wrap_lines=True)
            with gr.Column(visible=False) as ui.table_box:
                ui.table = gr.Textbox(value=BOOK_TABLE, label="Embedding table (one row per token)", lines=8,
                                      max_lines=16, info="CSV, TSV, spaces, JSON [[...]] or a pasted torch.tensor(...); "
                                      "a label column is optional.")
                ui.upload = gr.File(label=f"…or upload a table ({', '.join(UPLOAD_TYPES)}, ≤ 1 MB)",
                                    file_types=list(UPLOAD_TYPES), type="filepath", height=90)

    ui.tokens_html = gr.HTML(label="Tokens", elem_id="tokens")
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                ui.tau = gr.Slider(ac.MIN_TEMPERATURE, ac.MAX_TEMPERATURE, value=1.0, step=0.01, scale=4, elem_id="tau",
                                   label="temperature τ in softmax(ω / τ)",
                                   info="1 is the book's case; √d is what scaled dot-product attention will use.")
                ui.root_button = gr.Button("τ = √d", size="sm", scale=1, min_width=90)
            ui.raw_scores = gr.Checkbox(value=False, label="Show raw scores ω instead of weights α")
            ui.heatmap = gr.Image(label="Heatmap (rows: queries, columns: keys)", show_label=False, type="numpy",
                                  format="png", interactive=False, buttons=["download", "fullscreen"], elem_id="heatmap")
            gr.Markdown("Click a cell to trace it below.")
        with gr.Column(scale=2):
            ui.inputs_table = gr.Dataframe(label="Input embeddings x", interactive=False, max_height=320,
                                           elem_id="inputs-table")
            ui.context_table = gr.Dataframe(label="Context vectors z", interactive=False, max_height=320,
                                            elem_id="context-table")

    with gr.Accordion("Trace one cell", open=True):
        with gr.Row():
            ui.trace_query = gr.Dropdown(label="query (row)", choices=[], type="value", interactive=True)
            ui.trace_key = gr.Dropdown(label="key (column)", choices=[], type="value", interactive=True)
        ui.trace_md = gr.Markdown(latex_delimiters=LATEX, elem_id="trace")

    with gr.Accordion("Walk through one query", open=True):
        ui.query = gr.Dropdown(label="Query token", choices=[], type="value", interactive=True)
        ui.walk_text = gr.Markdown(latex_delimiters=LATEX)
        ui.bars = gr.Image(label="This query's weights", show_label=False, type="numpy", format="png",
                           interactive=False)

    with gr.Accordion("The book's printed values, side by side", open=False) as ui.parity_box:
        ui.parity_md = gr.Markdown(latex_delimiters=LATEX, elem_id="parity")

    with gr.Accordion("What attention without weights cannot do", open=False):
        ui.facts_md = gr.Markdown(latex_delimiters=LATEX)
        ui.shuffle_button = gr.Button("Shuffle the tokens", size="sm")
        with gr.Row():
            ui.shuffled = gr.Image(label="Shuffled heatmap", show_label=False, type="numpy", format="png",
                                   interactive=False)
            ui.shuffle_md = gr.Markdown(latex_delimiters=LATEX)
        gr.Markdown(
            "**Convex combinations.** Each context vector is a weighted average with weights ≥ 0 that sum to 1, so it "
            "lies inside the convex hull of the inputs. For d = 3 the figure is 3-D, like the book's, with a line from "
            "each input to its context vector; otherwise it is a 2-D projection with the inputs' hull outlined and an "
            "arrow from each input to its context vector, which never leaves the outline."
        )
        ui.hull = gr.Image(label="Inputs and their context vectors", show_label=False, type="numpy", format="png",
                           interactive=False)

    with gr.Accordion("Temperature", open=False):
        ui.tau_md = gr.Markdown(latex_delimiters=LATEX)

    with gr.Accordion("Loops vs matrices", open=False):
        loops_code, matrix_code = lessons.code_of_both()
        with gr.Row():
            gr.Code(loops_code, language="python", label="Loops: torch.dot, one pair at a time", interactive=False)
            gr.Code(matrix_code, language="python", label="Matrices: two matrix products and a softmax",
                    interactive=False)
        ui.timings = gr.Markdown()

    with gr.Accordion("Why the next step adds trainable weights", open=False) as ui.why_box:
        gr.Markdown(lessons.WHY_TRAINABLE, latex_delimiters=LATEX)
        ui.by_dim = gr.Markdown(latex_delimiters=LATEX)
        ui.cat_button = gr.Button("Run “" + CAT_SENTENCE + "” above", size="sm")
        gr.Markdown("**In the current run:**")
        ui.self_match = gr.Markdown(latex_delimiters=LATEX)

    with gr.Accordion("Take this run home", open=False):
        ui.export_button = gr.Button("Prepare CSV, JSON and PNG", size="sm")
        ui.exports = gr.File(label="Downloads", file_count="multiple", interactive=False)
        ui.snippet = gr.Code(language="python", label="Copy as PyTorch (torch and tiktoken only)", interactive=False,
                             buttons=["copy"], wrap_lines=True)

    ui.state = gr.State(None, time_to_live=900)  # a 256 x 768 run holds about 2 MB
    ui.shuffles = gr.State(0)  # then (clicks, last permutation)
    ui.run_inputs = [ui.text, ui.source, ui.dim, ui.seed, ui.table, ui.raw_scores, ui.tau]
    ui.run_outputs = [ui.state, ui.tokens_html, ui.heatmap, ui.inputs_table, ui.context_table, ui.query,
                      ui.walk_text, ui.bars, ui.self_match, ui.recipe]
    ui.extras_outputs = [ui.trace_query, ui.trace_key, ui.trace_md, ui.parity_md, ui.facts_md, ui.hull, ui.snippet,
                         ui.tau_md]
    wire_attention(ui)
    return ui


def run_chain(ui: SimpleNamespace, event: Any) -> Any:
    """After a trigger: the main views first, then what lies below them, then the loop timing."""
    private = {"api_visibility": "private"}
    return (
        event.then(run_attention, ui.run_inputs, ui.run_outputs, **private)
        .then(run_extras, [ui.state, ui.text], ui.extras_outputs, **private)
        .then(time_both, ui.state, ui.timings, **private)
    )


def wire_attention(ui: SimpleNamespace) -> None:
    private = {"api_visibility": "private"}
    url_inputs = [ui.text, ui.source, ui.table, ui.dim, ui.seed, ui.tau, ui.raw_scores]
    url_js = URL_JS % (json.dumps(SOURCE_TABLE), json.dumps(BOOK_TABLE))

    ui.source.change(toggle_source, ui.source, [ui.random_box, ui.table_box], queue=False, **private)
    ui.upload.upload(load_upload, ui.upload, [ui.table, ui.source], **private)
    triggers = gr.on([ui.run_button.click, ui.text.submit, ui.tau.release], None, url_inputs, None, js=url_js,
                     **private)
    run_chain(ui, triggers)
    root = ui.root_button.click(root_temperature, ui.dim, ui.tau, queue=False, **private)
    run_chain(ui, root.then(None, url_inputs, None, js=url_js, **private))
    # .input, not .change: a shared link that restores the switch must not redraw before its run exists.
    ui.raw_scores.input(redraw_heatmap, [ui.state, ui.raw_scores], ui.heatmap, **private)
    ui.raw_scores.input(None, url_inputs, None, js=url_js, **private)
    ui.query.input(show_query, [ui.state, ui.query], [ui.walk_text, ui.bars], **private)
    gr.on([ui.trace_query.input, ui.trace_key.input], trace_pair, [ui.state, ui.trace_query, ui.trace_key],
          ui.trace_md, **private)
    ui.heatmap.select(trace_click, ui.state, [ui.trace_query, ui.trace_key, ui.trace_md], **private)
    ui.shuffle_button.click(shuffle_tokens, [ui.state, ui.shuffles], [ui.shuffled, ui.shuffle_md, ui.shuffles],
                            **private)
    ui.export_button.click(prepare_exports, [ui.state, ui.raw_scores], ui.exports, **private)
    ui.why_box.expand(self_match_by_dim, None, ui.by_dim, **private)
    book = ui.book_button.click(load_book_example, None, [ui.text, ui.source, ui.table, ui.tau, ui.parity_box],
                                queue=False, **private).then(None, url_inputs, None, js=url_js, **private)
    run_chain(ui, book)
    cat = ui.cat_button.click(lambda: (CAT_SENTENCE, SOURCE_RANDOM), None, [ui.text, ui.source], queue=False,
                              **private).then(None, url_inputs, None, js=url_js, **private)
    run_chain(ui, cat)


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
    # Light and heavy calls wait in separate lines, so a flood of /attend never holds up /tokenize or /normalize.
    # One heavy call at a time: a large run is mostly Python work under the GIL (the answer's lists, then Gradio
    # walking them), so a second one in parallel adds little and starves the event loop that serves everyone.
    light = {"concurrency_id": "light", "concurrency_limit": QUEUE_CONCURRENCY}
    gr.api(tokenize_api, api_name="tokenize", **light)
    gr.api(attend_api, api_name="attend", concurrency_id="heavy", concurrency_limit=1)
    gr.api(normalize_api, api_name="normalize", **light)


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of figures and exports older than an hour are removed every 30 minutes.
    with gr.Blocks(title="Self-attention without trainable weights", analytics_enabled=False,
                   delete_cache=(1800, 3600)) as blocks:
        intro_section()
        with gr.Tabs():
            with gr.Tab("Self-attention"):
                ui = attention_section()
            with gr.Tab("Normalization lab"):
                lab_inputs, lab_outputs = lab_section()
        api_section()
        # A shared link's settings first, then the run they describe.
        # Queued, so that gr.Warning about a bad link parameter reaches the page as a toast.
        restored = blocks.load(
            restore_from_url, None, [ui.text, ui.source, ui.table, ui.dim, ui.seed, ui.tau, ui.raw_scores],
            api_visibility="private",
        )
        run_chain(ui, restored)
        blocks.load(run_lab, lab_inputs, lab_outputs, api_visibility="private")
    # api_open=False: queued functions are reached through the queue only (as on a Space), never by /run/<api>.
    blocks.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE, api_open=False)
    return blocks


lighten_sessions()
demo = build_demo()


def launch(**overrides: Any):
    """Launch ``demo`` with the Space's settings; tests pass a port and ``prevent_thread_lock=True``."""
    from web import guard  # per-client shares, unread answers dropped after a minute, one allowed file per upload

    # uvicorn believes X-Forwarded-For from loopback peers unless told otherwise; the guard takes the client's
    # address from the peer, or from as many proxies as ATTENTION_PROXY_HOPS says (1 on a Space).
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "")
    heavy = [attend_api, run_attention, run_extras, time_both, redraw_heatmap, shuffle_tokens, prepare_exports]
    limits = guard.middleware(demo, heavy=heavy, upload_types=UPLOAD_TYPES, max_upload_bytes=ac.MAX_UPLOAD_BYTES)
    settings: dict[str, Any] = {
        "css": CSS,
        "theme": gr.themes.Soft(),
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
