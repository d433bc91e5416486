"""The Lecture tab: the chapter's steps in order, on the book's table or the learner's own run, each pointing into a
live matrix of its own.

The texts and questions come from ``attention_core.views.lecture``; this module holds the components, the handlers
and the browser side (web/lecture.js, which highlights the matrix, writes ?step=k and moves the focus).

The lecture has its own matrix instance rather than driving the first tab's: it must show the book's table while
the first tab shows the learner's sentence, and a highlight is only useful beside the text that explains it.
``build()`` makes the components inside a ``gr.Tab``; ``wire()`` attaches their events.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from web.errors import user_errors
from web.matrix import attention_matrix

HERE = Path(__file__).resolve().parent
# The lecture's texts import torch; they load with the first step, after the page is served.
texts: Any = None
LECTURE_JS = (HERE / "lecture.js").read_text(encoding="utf-8")
QUESTION_JS = (HERE / "question.js").read_text(encoding="utf-8")
QUESTION_CSS = (HERE / "question.css").read_text(encoding="utf-8")
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "\\(", "right": "\\)", "display": False}]
SOURCES = [("The book's example", "book"), ("My run on the first tab", "run")]
TAB_ID = "lecture-tab"
# When the lecture tab is left, ?step=k leaves the address bar (a link then opens the tab it shows).
# Only once the lecture has shown a step: Gradio also fires select for the first tab as the page opens, before a
# link's ?step=k has been read.
DROP_STEP_JS = """() => {
    const lecture = document.getElementById("lecture");
    if (!lecture?.dataset.step) return;
    delete lecture.dataset.step;
    const params = new URLSearchParams(location.search);
    params.delete("step");
    history.replaceState(null, "", "?" + params.toString());
}"""
# After the first tab rewrites the address bar with its run's settings, the lecture's step goes back in: after
# the next frame, as web/page.py's LINK_JS does, so that it runs after that rewrite.
KEEP_STEP_JS = """() => { requestAnimationFrame(() => setTimeout(() => {
    const step = document.getElementById("lecture")?.dataset.step;
    if (!step) return;
    const params = new URLSearchParams(location.search);
    params.set("step", step);
    history.replaceState(null, "", "?" + params.toString());
})); }"""


@dataclasses.dataclass
class Lecture:
    """The tab's components."""

    source: gr.Radio
    notice: gr.Markdown
    text: gr.Markdown
    figure: gr.HTML
    question: gr.HTML
    answer: gr.Markdown
    back: gr.Button
    counter: gr.Markdown
    next: gr.Button
    matrix: gr.HTML
    signal: gr.Textbox
    run: gr.State
    step: gr.State


def build() -> Lecture:
    """The lecture's components, laid out inside the current ``gr.Tab``: the text beside its live matrix."""
    with gr.Column(elem_id="lecture"):
        source = gr.Radio(SOURCES, value="book", label="Follow the lecture on", elem_id="lecture-source")
        notice = gr.Markdown(elem_id="lecture-notice")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                text = gr.Markdown(
                    "Open this tab to start the lecture.", latex_delimiters=LATEX, elem_id="lecture-text"
                )
                figure = gr.HTML(elem_id="lecture-figure")
                question = question_group(elem_id="lecture-question")
                answer = gr.Markdown(latex_delimiters=LATEX, elem_id="lecture-answer")
                with gr.Row(elem_id="lecture-nav"):
                    back = gr.Button("Back", size="sm", scale=0, min_width=90, elem_id="lecture-back")
                    counter = gr.Markdown(elem_id="lecture-counter")
                    next_button = gr.Button("Next", variant="primary", size="sm", scale=0, min_width=90)
            with gr.Column(scale=2, min_width=320):
                matrix = attention_matrix(elem_id="lecture-matrix", selectable=False)
    signal = gr.Textbox(visible=False)
    return Lecture(
        source=source,
        notice=notice,
        text=text,
        figure=figure,
        question=question,
        answer=answer,
        back=back,
        counter=counter,
        next=next_button,
        matrix=matrix,
        signal=signal,
        run=gr.State(None, time_to_live=900),
        step=gr.State(1),
    )


def question_group(*, elem_id: str) -> gr.HTML:
    """A radio group for one question, drawn in the browser (web/question.js) from ``{prompt, choices}``; choosing
    fires ``select`` with the choice's index. Not a gr.Radio: Gradio 6.31 names each of its radios apart, so they
    do not form one group that the arrow keys move through, and its fieldset has no legend to name it."""
    return gr.HTML(
        html_template="<div data-lecture-question></div>",
        css_template=QUESTION_CSS,
        js_on_load=QUESTION_JS,
        apply_default_css=False,
        elem_id=elem_id,
    )


# --- handlers --------------------------------------------------------------------------------------


def _texts() -> Any:
    global texts
    if texts is None:
        from attention_core.views import lecture

        texts = lecture
    return texts


def sweeps() -> None:
    """Compute the lecture's sweeps now (the app's warm-up), not on the first visit to the steps that show them."""
    _texts().sweeps()


@functools.lru_cache(maxsize=1)
def book_run() -> Any:
    import attention_core as ac
    from attention_core.book import BOOK_TABLE

    return ac.attend("Your journey starts with one step", table=BOOK_TABLE)


def lecture_run(source: str, main_run: Any) -> tuple[Any, str]:
    """The run the lecture follows, at τ = 1, and a notice when it had to differ from the learner's choice."""
    import attention_core as ac

    if source != "run":
        return book_run(), ""
    if main_run is None:
        return book_run(), "There is no run on the first tab yet: the lecture follows the book's example."
    if len(main_run.tokens) < 2:
        return book_run(), "The lecture needs at least two tokens: it follows the book's example."
    if main_run.temperature == 1.0:
        return main_run, ""
    attention = ac.self_attention(main_run.attention.inputs)
    note = "The lecture uses τ = 1, as the chapter does: the first tab's run is shown here at τ = 1."
    return dataclasses.replace(main_run, attention=attention), note


def matrix_value(run: Any) -> dict:
    """The lecture matrix's value: the run, with a note when nearly all rows are one-hot."""
    from .matrix import matrix_value as value

    return value(run.tokens, run.ids, run.attention, caption=_texts().one_hot_note(run.attention.weights))


def make_show(parts: Lecture, *, delta: int = 0, focus: bool = False):
    """A handler that shows the step ``delta`` away from the current one (Back: -1, Next: +1, else 0).

    focus: the browser moves the focus to the step's heading (after Back and Next, not when the tab opens)."""

    @user_errors
    def show(source: str, main_run: Any, shown_run: Any, number: Any) -> dict:
        run, notice = lecture_run(source, main_run)
        current = number if isinstance(number, int) and not isinstance(number, bool) else 1
        lecture = _texts()
        step = lecture.lecture_step(run, lecture.check_step(current + delta))
        question = step.question
        signal = {
            "step": step.number,
            "total": step.total,
            "title": step.title,
            "highlight": step.highlight.as_json(),
            "view": step.view,
            "focus": focus,
        }
        return {
            parts.run: run,
            parts.step: step.number,
            parts.notice: notice,
            parts.text: f"## {step.heading}\n\n{step.markdown}",
            parts.figure: step.figure,
            parts.question: {"prompt": question.prompt, "choices": list(question.choices)} if question else "",
            parts.answer: "",
            parts.counter: f"Step {step.number} of {step.total}",
            parts.matrix: gr.skip() if run is shown_run else matrix_value(run),
            parts.signal: json.dumps(signal),
        }

    return show


@user_errors
def answer(run: Any, number: Any, event: gr.SelectData) -> str:
    """Right or not, with the run's numbers that decide it. The event carries the chosen index."""
    choice = event.index
    if run is None or choice is None:
        return ""
    lecture = _texts()
    question = lecture.lecture_step(run, lecture.check_step(number)).question
    if question is None or not isinstance(choice, int) or isinstance(choice, bool):
        return ""
    return lecture.reveal(question, choice)


def step_from_link(request: gr.Request | None) -> int | None:
    """The ?step=k of the page's address, or None when it has none."""
    params = dict(request.query_params) if request is not None else {}
    return _texts().check_step(params["step"]) if "step" in params else None


# --- wiring ----------------------------------------------------------------------------------------


def wire(
    parts: Lecture,
    *,
    blocks: gr.Blocks,
    tabs: gr.Tabs,
    tab: gr.Tab,
    main_run: gr.State,
    link: gr.Textbox,
    other_tabs: tuple[gr.Tab, ...] = (),
) -> tuple[Callable[..., Any], ...]:
    """Back, Next, the source switch, the tab opening, a link's ?step=k, and the questions.

    Returns the handlers that build a step: on the learner's run (up to 256 tokens × 768) they are heavy events for
    the guard, like a run."""
    private = {"api_visibility": "private"}
    inputs = [parts.source, main_run, parts.run, parts.step]
    outputs = [
        parts.run,
        parts.step,
        parts.notice,
        parts.text,
        parts.figure,
        parts.question,
        parts.answer,
        parts.counter,
        parts.matrix,
        parts.signal,
    ]
    stayed = make_show(parts)
    forward, backward = make_show(parts, delta=+1, focus=True), make_show(parts, delta=-1, focus=True)
    progress = {"show_progress_on": [parts.text]}
    parts.next.click(forward, inputs, outputs, **progress, **private)
    parts.back.click(backward, inputs, outputs, **progress, **private)
    parts.source.input(stayed, inputs, outputs, **progress, **private)
    # The tab renders its step when first opened, and follows a new run on the first tab when opened again.
    tab.select(stayed, inputs, outputs, **progress, **private)

    def from_link(source: str, run: Any, shown: Any, number: Any, request: gr.Request) -> Any:
        step = step_from_link(request)
        if step is None:
            return gr.skip()
        return {tabs: gr.Tabs(selected=TAB_ID)} | stayed(source, run, shown, step)  # type: ignore[operator]

    # Not queued: every page load asks, and most have no ?step to answer.
    blocks.load(from_link, inputs, [tabs, *outputs], queue=False, **progress, **private)
    parts.signal.change(None, parts.signal, None, js=LECTURE_JS, **private)
    # Arrow keys move through the choices faster than the answers come back: one at a time, and the last one counts
    # (two in parallel could finish out of order).
    parts.question.select(
        answer,
        [parts.run, parts.step],
        parts.answer,
        trigger_mode="always_last",
        concurrency_limit=1,
        concurrency_id="lecture-answer",
        **private,
    )
    link.change(None, None, None, js=KEEP_STEP_JS, **private)
    for other in other_tabs:
        other.select(None, None, None, js=DROP_STEP_JS, **private)
    return stayed, forward, backward, from_link
