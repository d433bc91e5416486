"""The page described once: every panel a run fills, what computes its value, what a refused run leaves in it, when
it is filled, whether it shows the progress overlay, and what filling it costs.

app.py derives from ``PANELS`` the outputs of each stage of a run, what a refused run clears, and the guard's cost
classes. Adding a panel is one row here and one line of layout in app.py (``ui.<name> = gr.Markdown(...)``).

The stages of a run, in order:
    first view  the tokens and the matrix, as soon as the run is computed;
    beside      the trace of the matrix's selected cell, right after: its formulas cost the browser a typesetting
                pass, which would hold back the matrix's first frame;
    below       the tables and everything under the matrix, right after (Gradio's tables cost the browser more to
                lay out than the whole matrix: benchmarks/bench_ui.py);
    last        the loop timing, which takes a while and nothing waits for;
    on demand   filled by an event of its own (a button, an accordion opened); a run only clears it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import gradio as gr

from . import links, panels

if TYPE_CHECKING:
    from attention_core import Attended

Stage = Literal["first view", "beside", "below", "last", "on demand"]
Cost = Literal["heavy", "light"]
STAGES: tuple[Stage, ...] = ("first view", "beside", "below", "last", "on demand")
HEAVY_LINE = "heavy"  # the concurrency line of the named API's heavy endpoint (app.py): heavy whatever it fills


@dataclass(frozen=True)
class RunView:
    """A run and the page's choices that its panels read. Indices are 0-based and fit the run."""

    run: Attended
    text: str  # the text box as it was for this run ("" when a table's labels are the tokens)
    table: str = ""  # the table box: a link can name the book's table, never another
    raw_scores: bool = False  # the matrix colours ω instead of α
    query: int = 0  # the walk-through's query
    trace_query: int = 0  # the traced cell's row
    trace_key: int = 0  # and column


def view_of(
    run: Attended,
    text: str,
    *,
    table: str = "",
    raw_scores: bool = False,
    query: Any = None,
    trace_query: Any = None,
    trace_key: Any = None,
) -> RunView:
    """The view of ``run`` with the page's choices kept where they still fit it (after a new τ), else the defaults
    (after a new run): the book's query x^(2) and the cell (x^(2), x^(1))."""
    first = panels.default_query(run)
    return RunView(
        run,
        text,
        table,
        raw_scores,
        panels.index_in_run(run, query, first),
        panels.index_in_run(run, trace_query, first),
        panels.index_in_run(run, trace_key, 0),
    )


@dataclass(frozen=True)
class Panel:
    """One component of the page that shows something of a run."""

    name: str  # its attribute on app.ui
    build: Callable[[RunView], Any] | None  # its value for a run; None: its own event fills it ("on demand")
    empty: Any  # what a refused run leaves in it (and an unrun page shows)
    stage: Stage
    progress: bool = False  # the progress overlay shows on it while its stage computes
    cost: Cost = "light"  # heavy: an event that fills it counts against a client's share of large runs


def _table_of(table: Callable[[Attended], panels.Table]) -> Callable[[RunView], gr.Dataframe]:
    """A table panel's builder: the run's table, shown (a refused run hides it)."""

    def build(view: RunView) -> gr.Dataframe:
        shown = table(view.run)
        return gr.Dataframe(value=shown.value, label=shown.label, visible=True)

    return build


def _tokens(run: Attended, chosen: int) -> gr.Dropdown:
    """A dropdown of the run's tokens, ``chosen`` selected."""
    return gr.Dropdown(choices=panels.choices(run), value=chosen)


def _link(view: RunView) -> str:
    run = view.run
    return links.link_to(view.text, run.source, view.table, run.dim, run.seed, run.temperature, view.raw_scores)


def embeddings_label(run: Attended) -> str:
    """The folded embeddings' header: where this run's vectors come from."""
    if run.source == "random":
        return f"Embeddings: seeded random vectors, d = {run.dim}, seed = {run.seed}"
    return f"Embeddings: your table, {len(run.tokens)} × {run.dim}"


def _embeddings_header(view: RunView) -> dict:
    return gr.update(label=embeddings_label(view.run))


def _token_chips(view: RunView) -> str:
    from attention_core.views.tokens import token_chips_html

    return token_chips_html(view.run.tokens, view.run.ids)


def _timings(view: RunView) -> str:
    from attention_core.views.loops import timings_markdown  # torch's timer: loaded when first timed

    return timings_markdown(view.run.attention.inputs)


NO_CHOICES = gr.update(choices=[], value=None)
HIDDEN_FILES = gr.update(value=None, visible=False)
SHUFFLE_FIRST = "Press “Shuffle the tokens” to see this run's matrix with its tokens in a new order."
NO_TABLE = gr.update(value=None, visible=False)  # an empty gr.Dataframe still shows a "1 2 3" header

PANELS: tuple[Panel, ...] = (
    Panel("state", lambda v: v.run, None, "first view", cost="heavy"),  # the run itself, for the later events
    Panel("tokens_html", _token_chips, "", "first view"),
    Panel("heatmap", lambda v: panels.matrix(v.run, v.raw_scores), None, "first view", progress=True, cost="heavy"),
    Panel("query", lambda v: _tokens(v.run, v.query), NO_CHOICES, "below"),  # the walk-through's
    Panel("recipe", lambda v: panels.recipe(v.run, v.text), "", "beside"),  # folded with the embeddings
    Panel("embeddings_box", _embeddings_header, gr.update(label="Embeddings"), "beside"),
    Panel("link", _link, "", "first view"),  # "": the address bar stays as it was
    Panel("trace_query", lambda v: _tokens(v.run, v.trace_query), NO_CHOICES, "beside"),
    Panel("trace_key", lambda v: _tokens(v.run, v.trace_key), NO_CHOICES, "beside"),
    Panel("trace_md", lambda v: panels.trace(v.run, v.trace_query, v.trace_key), "", "beside", progress=True),
    Panel("inputs_table", _table_of(panels.inputs_table), NO_TABLE, "below", progress=True, cost="heavy"),
    Panel("weights_table", _table_of(panels.weights_table), NO_TABLE, "below", progress=True, cost="heavy"),
    Panel("context_table", _table_of(panels.context_table), NO_TABLE, "below", progress=True, cost="heavy"),
    Panel("walk_text", lambda v: panels.walk(v.run, v.query), "", "below", progress=True),
    Panel("bars", lambda v: panels.bars(v.run, v.query), "", "below"),
    Panel("parity_md", lambda v: panels.parity_panel(v.run), "", "below"),
    Panel("facts_md", lambda v: panels.repeats(v.run), "", "below"),
    Panel("self_match", lambda v: panels.self_match(v.run), "", "below"),
    Panel("snippet", lambda v: panels.snippet(v.run, v.text), "", "below"),
    Panel("tau_md", lambda v: panels.temperature(v.run), "", "below"),
    Panel("exports", lambda v: copy.deepcopy(HIDDEN_FILES), HIDDEN_FILES, "below", cost="heavy"),  # now stale
    Panel("timings", _timings, "", "last", cost="heavy"),
    Panel("hull", None, "", "on demand", cost="heavy"),
    Panel("shuffled", None, SHUFFLE_FIRST, "on demand", cost="heavy"),
    Panel("shuffle_md", None, "", "on demand"),
)


def stage(name: Stage) -> tuple[Panel, ...]:
    """The panels of one stage, in the table's order."""
    return tuple(panel for panel in PANELS if panel.stage == name)


def filled(name: Stage, view: RunView) -> dict[str, Any]:
    """Each panel of a stage and its value for ``view``, by panel name."""
    return {panel.name: panel.build(view) for panel in stage(name) if panel.build is not None}


def cleared() -> dict[str, Any]:
    """Every panel and what a refused run leaves in it, by panel name (fresh copies: Gradio may edit an update)."""
    return {panel.name: copy.deepcopy(panel.empty) for panel in PANELS}


def with_progress(name: Stage) -> tuple[str, ...]:
    """The names of a stage's panels that show the progress overlay while it computes."""
    return tuple(panel.name for panel in stage(name) if panel.progress)


class Costs(NamedTuple):
    """The handlers of the page's events by cost class (for the guard): heavy ones count against a client's share
    of large runs."""

    heavy: tuple[Callable[..., Any], ...]
    light: tuple[Callable[..., Any], ...]


def costs(blocks: gr.Blocks, components: Any, *, heavy: Iterable[Callable[..., Any]] = ()) -> Costs:
    """Sort the handlers wired in ``blocks``: heavy when one of its events fills a heavy panel (found on
    ``components`` by panel name, e.g. app.ui), runs in the heavy concurrency line or is one of ``heavy`` (events
    that compute outside the page model, such as a lecture step on the learner's run); light otherwise.

    Reads Gradio's ``Blocks.fns`` (fn_index -> BlockFunction), as web/guard.py does: no public API maps an event
    to its function.
    """
    heavy_ids = {getattr(components, panel.name)._id for panel in PANELS if panel.cost == "heavy"}
    also_heavy = set(heavy)
    heavy: dict[Callable[..., Any], None] = {}  # dicts: unique and in wiring order
    light: dict[Callable[..., Any], None] = {}
    for block_fn in blocks.fns.values():
        if block_fn.fn is None:  # a listener with js only: the browser does it all
            continue
        outputs: Iterable[Any] = block_fn.outputs
        in_heavy_line = block_fn.concurrency_id == HEAVY_LINE or block_fn.fn in also_heavy
        if in_heavy_line or any(block._id in heavy_ids for block in outputs):
            heavy[block_fn.fn] = None
        else:
            light[block_fn.fn] = None
    return Costs(tuple(heavy), tuple(fn for fn in light if fn not in heavy))
