"""The "Watch the weights learn" panel: pick a query and a key of the page's run, press Train, and see the loss
fall, the query's weight row move from before to after (with a scrubber over the checkpoints), and the learned
W_query and W_key. The math is ``attention_core.training``; the figures and texts ``attention_core.views.training``.

app.py calls ``build()`` where the panel goes and ``wire()`` with the page's run; nothing else here knows the page.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import gradio as gr

import attention_core as ac

from .errors import need_run, user_errors

# The panel's lecture example: the query and key it starts with when the sentence has both.
LECTURE_QUERY, LECTURE_KEY = "warm", "mat"
ELEM_ID = "watch-learn"
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "\\(", "right": "\\)", "display": False}]


@dataclass(frozen=True)
class Trained:
    """What the panel last trained on and what the scrubber needs of the result: an ac.Training without its
    learned matrices (at d = 768 they are 4.7 MB, and every session keeps its own; the page already shows them).

    fingerprint: the run's inputs' dtype, shape and bytes, hashed, to tell a new run's embeddings from these.
    """

    tokens: list[str]
    fingerprint: str
    result: Any


def fingerprint(inputs: Any) -> str:
    """A short digest of a (T, d) tensor's dtype, shape and values."""
    array = inputs.detach().cpu().contiguous().numpy()
    return hashlib.sha256(f"{array.dtype}{array.shape}".encode() + array.tobytes()).hexdigest()


@dataclass(frozen=True)
class TrainingPanel:
    """The panel's components."""

    box: gr.Accordion
    query: gr.Dropdown
    key: gr.Dropdown
    steps: gr.Slider
    button: gr.Button
    summary: gr.Markdown
    loss: gr.HTML
    scrubber: gr.Slider
    row: gr.HTML
    matrices: gr.HTML
    trained: gr.State

    def results(self) -> list:
        """What a training fills, and a new run empties."""
        return [self.summary, self.loss, self.scrubber, self.row, self.matrices, self.trained]


# --- choosing the pair ----------------------------------------------------------------------------------------


def default_pair(run: Any) -> tuple[int, int]:
    """``warm`` → ``mat`` when the run has both tokens; otherwise the last token, and the key it attends to least.

    The last token because the lecture's query, ``warm``, ends its sentence; the weakest key because training
    a query toward a key it already favours would show little.
    """
    words = [token.strip().lower() for token in run.tokens]
    if LECTURE_QUERY in words and LECTURE_KEY in words:
        return words.index(LECTURE_QUERY), words.index(LECTURE_KEY)
    query = len(run.tokens) - 1
    return query, int(run.attention.weights[query].argmin())


def _choices(run: Any) -> list[tuple[str, int]]:
    return [(f"{i + 1}: {ac.visible_token(token)}", i) for i, token in enumerate(run.tokens)]


def _same_inputs(trained: Trained | None, run: Any) -> bool:
    return (
        trained is not None
        and trained.tokens == run.tokens
        and trained.fingerprint == fingerprint(run.attention.inputs)
    )


# A new run's results: empty, until Train is pressed (summary, loss, scrubber, row, matrices, trained).
def _cleared() -> tuple:
    return (
        "Press **Train** to train W_query and W_key on the run above.",
        "",
        gr.Slider(value=0, maximum=1, interactive=False),
        "",
        "",
        None,
    )


@user_errors
def follow_run(run: Any, query: Any, key: Any, trained: Trained | None) -> tuple:
    """After the page's run changed: the pair's choices follow its tokens. A run with the same tokens and embeddings
    (a new τ) keeps the chosen pair and the training shown; any other run starts over, so no result of other
    embeddings stays on the page. Returns (query, key, *results)."""
    if run is None:
        empty = gr.Dropdown(choices=[], value=None)
        return (empty, empty, *_cleared())
    choices = _choices(run)
    if _same_inputs(trained, run):
        kept = (gr.Dropdown(choices=choices, value=query), gr.Dropdown(choices=choices, value=key))
        return (*kept, *(gr.skip() for _ in _cleared()))
    first_query, first_key = default_pair(run)
    return (gr.Dropdown(choices=choices, value=first_query), gr.Dropdown(choices=choices, value=first_key), *_cleared())


# --- training and scrubbing -----------------------------------------------------------------------------------


def _chosen(value: Any, name: str, count: int) -> int:
    if value is None:
        raise ac.InputError(f"Choose the {name} token first (the dropdowns list the run's tokens).")
    return ac.check_index(value, name, count)


@user_errors
def train_pair(run: Any, query: Any, key: Any, steps: Any) -> tuple:
    """Train on the page's run; every figure at the last checkpoint (after training). Returns the results."""
    from attention_core.views import figures
    from attention_core.views import training as view

    run = need_run(run)
    count = len(run.tokens)
    result = ac.train_query_key(
        run.attention.inputs, _chosen(query, "query", count), _chosen(key, "key", count), steps=steps
    )
    last = len(result.checkpoint_steps) - 1
    loss, row = _checkpoint_figures(run.tokens, result, last)
    matrices = figures.figure_markup(
        view.matrices_figure(result),
        name="train-matrices",
        title=view.matrices_title(result),
        description=view.matrices_description(result),
    )
    return (
        view.summary_markdown(run.tokens, result),
        loss,
        gr.Slider(value=last, maximum=last, interactive=True),
        row,
        matrices,
        Trained(list(run.tokens), fingerprint(run.attention.inputs), _without_matrices(result)),
    )


def _without_matrices(result: Any) -> Any:
    import torch

    empty = torch.empty(0, 0)
    return dataclasses.replace(result, w_query=empty, w_key=empty)


def _checkpoint_figures(tokens: list[str], result: Any, checkpoint: int) -> tuple[str, str]:
    """The loss curve with ``checkpoint`` marked, and the weight row at it."""
    from attention_core.views import figures
    from attention_core.views import training as view

    loss = figures.figure_markup(
        view.loss_figure(tokens, result, checkpoint=checkpoint),
        name="train-loss",
        title=view.loss_title(tokens, result),
        description=view.loss_description(tokens, result, checkpoint=checkpoint),
    )
    row = figures.figure_markup(
        view.row_figure(tokens, result, checkpoint),
        name="train-row",
        title=view.row_title(tokens, result, checkpoint),
        description=view.row_description(tokens, result, checkpoint),
    )
    return loss, row


@user_errors
def scrub(trained: Trained | None, checkpoint: Any) -> Any:
    """The loss curve and the weight row at another checkpoint of the last training."""
    if trained is None:
        return gr.skip()
    index = ac.check_index(checkpoint, "checkpoint", len(trained.result.checkpoint_steps))
    return _checkpoint_figures(trained.tokens, trained.result, index)


# --- the panel on the page ------------------------------------------------------------------------------------


def build() -> TrainingPanel:
    """The panel's components, in a closed accordion (inside a gr.Blocks)."""
    from attention_core.views.lessons import TRAINING_EXPLANATION, TRAINING_INTRO

    with gr.Accordion("Watch the weights learn", open=False, elem_id=ELEM_ID) as box:
        gr.Markdown(TRAINING_INTRO, latex_delimiters=LATEX)
        with gr.Row():
            query = gr.Dropdown(label="Query (the token that attends)", choices=[], type="value", interactive=True)
            key = gr.Dropdown(label="Key (where it should look)", choices=[], type="value", interactive=True)
            steps = gr.Slider(
                ac.MIN_STEPS, ac.MAX_STEPS, value=100, step=1, label=f"Adam steps ({ac.MIN_STEPS}–{ac.MAX_STEPS})"
            )
        button = gr.Button("Train", variant="primary", elem_id="train-button")
        summary = gr.Markdown(elem_id="train-summary")
        loss = gr.HTML(elem_id="train-loss")
        scrubber = gr.Slider(
            0,
            1,
            value=0,
            step=1,
            interactive=False,
            label="Checkpoint (0: before training; the last: after)",
            elem_id="train-scrubber",
        )
        row = gr.HTML(elem_id="train-row")
        matrices = gr.HTML(elem_id="train-matrices")
        gr.Markdown(TRAINING_EXPLANATION, latex_delimiters=LATEX)
    return TrainingPanel(
        box, query, key, steps, button, summary, loss, scrubber, row, matrices, gr.State(None, time_to_live=900)
    )


def opener() -> gr.Button:
    """A button, for a text that mentions the panel, that opens it and scrolls to it."""
    return gr.Button("Train W_q and W_k on this sentence ↓", size="sm", elem_id="open-watch-learn")


# Scroll the panel's header to the top of the window, once the opened panel is drawn (until then, the page may be
# too short to scroll that far: the panel is near its end).
_SCROLL_JS = "() => { setTimeout(() => document.getElementById('" + ELEM_ID + "')?.scrollIntoView(), 150); }"


def wire(panel: TrainingPanel, run_state: gr.State, run_shown: Any, *, open_with: gr.Button | None = None) -> None:
    """Listeners: ``run_shown`` (an event trigger, e.g. the matrix's ``change``) refreshes the pair's choices;
    Train trains; the scrubber redraws; ``open_with`` (an ``opener()``) opens the panel. ``train_pair`` computes:
    it belongs on the guard's heavy list."""
    private = {"api_visibility": "private"}
    if open_with is not None:
        # Progress on the button, not the accordion: Gradio copies a progress target's contents at every status.
        opened = open_with.click(
            lambda: gr.Accordion(open=True), None, panel.box, queue=False, show_progress_on=open_with, **private
        )
        opened.then(None, None, None, js=_SCROLL_JS, **private)  # once open: its content is laid out
    run_shown(
        follow_run,
        [run_state, panel.query, panel.key, panel.trained],
        [panel.query, panel.key, *panel.results()],
        show_progress="hidden",
        show_progress_on=panel.query,  # Gradio copies each progress target at every status change: one, and small
        **private,
    )
    # On the heavy line, one at a time, with /attend and /train: training at d = 768 is CPU-bound.
    panel.button.click(
        train_pair,
        [run_state, panel.query, panel.key, panel.steps],
        panel.results(),
        show_progress_on=[panel.loss],
        concurrency_id="heavy",
        concurrency_limit=1,
        **private,
    )
    panel.scrubber.input(
        scrub,
        [panel.trained, panel.scrubber],
        [panel.loss, panel.row],
        show_progress="hidden",
        trigger_mode="always_last",
        **private,
    )
