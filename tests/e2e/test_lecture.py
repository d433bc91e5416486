"""The Lecture tab in Chromium (issue 21): every step by keyboard, Back, ?step=k, every question answered both ways
on the book's table and on a random run, the live matrix's highlight read back from the component, axe inside
#lecture, and the README's picture (``SCREENSHOT_DIR=docs`` refreshes docs/lecture.png).

What each step should show is computed in-process from the same run with ``attention_core.views.lecture``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pages import BOOK_SENTENCE, TEXT, Page, expect, expected_chips, open_embeddings, screenshot, textbox, url_params
from reference import CAT_SENTENCE

import attention_core as ac
from attention_core.views import lecture as texts
from web.lecture import book_run

pytestmark = pytest.mark.slow

N = texts.STEP_COUNT
MATRIX = "#lecture-matrix [data-attention-matrix]"
SERIOUS = ("critical", "serious")
RANDOM_DIM, RANDOM_SEED = 16, 7


def heading(page: Page):
    return page.locator("#lecture-text h2")


def expect_step(page: Page, run, number: int, *, focused: bool) -> None:
    """Step ``number`` is on the page: heading, counter, address, live region, matrix view and highlight."""
    step = texts.lecture_step(run, number)
    expect(heading(page)).to_have_text(step.heading)
    expect(page.locator("#lecture-counter")).to_have_text(f"Step {number} of {N}")
    expect(page.locator("#lecture .lecture-live")).to_have_text(step.heading)
    page.wait_for_function("n => new URLSearchParams(location.search).get('step') === String(n)", arg=number)
    wanted = json.dumps(step.highlight.as_json(), separators=(",", ":"))
    page.wait_for_function(
        "([selector, wanted]) => document.querySelector(selector)?.dataset.highlight === wanted", arg=[MATRIX, wanted]
    )
    read_back = page.evaluate(f"() => document.querySelector('{MATRIX}').attentionMatrix.highlighted()")
    assert read_back == step.highlight.as_json()
    expect(page.locator(MATRIX)).to_have_attribute("data-view", step.view)
    marked = page.locator(f"{MATRIX} .am-cell.am-mark")
    count = len(run.tokens)
    cells = {tuple(cell) for cell in read_back["cells"]}
    cells |= {(r, c) for r in read_back["rows"] for c in range(count)}
    cells |= {(r, c) for c in read_back["cols"] for r in range(count)}
    expect(marked).to_have_count(len(cells))
    if focused:
        page.wait_for_function("() => document.activeElement?.matches('#lecture-text h2')")


def open_lecture(page: Page) -> None:
    page.get_by_role("tab", name="Lecture").click()
    expect(heading(page)).to_have_text(re.compile(r"^Step 1 of"))


def next_button(page: Page):
    return page.locator("#lecture").get_by_role("button", name="Next", exact=True)


def back_button(page: Page):
    return page.locator("#lecture").get_by_role("button", name="Back", exact=True)


# --- walking the lecture ---------------------------------------------------------------------------------


def test_every_step_by_keyboard_then_back(page: Page):
    run = book_run()
    open_lecture(page)
    expect_step(page, run, 1, focused=False)
    heading(page).focus()
    for _ in range(12):  # from the heading, Tab reaches Next
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.textContent.trim() === 'Next'"):
            break
    else:
        pytest.fail("Tab from the step's heading never reached Next")
    page.keyboard.press("Enter")
    expect_step(page, run, 2, focused=True)
    for number in range(3, N + 1):
        next_button(page).press("Enter")
        expect_step(page, run, number, focused=True)
    expect(heading(page)).to_contain_text("Why trainable weights come next")
    expect(page.locator('#lecture-text a[href="#learn"]')).to_have_text("Watch the weights learn")
    next_button(page).press("Enter")  # past the last step: it stays
    expect_step(page, run, N, focused=False)
    back_button(page).press("Enter")
    expect_step(page, run, N - 1, focused=True)
    back_button(page).click()
    expect_step(page, run, N - 2, focused=True)


LINKS = [("?step=5", 5, None), ("?text=hello+world&step=13", 13, "hello world"), (f"?step={N + 5}", N, None)]


@pytest.mark.parametrize(("query", "number", "text"), LINKS, ids=["step5", "step13-with-text", "past-the-end"])
def test_a_link_opens_its_step(open_app, query: str, number: int, text: str | None):
    page = open_app(query)
    expect(page.get_by_role("tab", name="Lecture")).to_have_attribute("aria-selected", "true")
    expect_step(page, book_run(), number, focused=False)
    # The first tab's run happened too: a link's own, or the default run that came with the page.
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(text or BOOK_SENTENCE))
    params = url_params(page)
    assert params["step"] == str(number), params
    if text:  # the run's own settings stay in the link
        assert params["text"] == text and {"dim", "seed", "tau", "show"} <= set(params), params
    else:  # the default run needs none: its address stays bare
        assert params == {"step": str(number)}, params
    page.get_by_role("tab", name="Self-attention").click()
    page.wait_for_function("() => !new URLSearchParams(location.search).has('step')")


def test_the_vectors_and_the_split_on_the_dot_product_step(open_app):
    page = open_app("?step=5")
    expect_step(page, book_run(), 5, focused=False)
    figure = page.locator("#lecture-figure #fig-aligned")
    expect(figure.locator("svg[role=img]")).to_have_attribute("aria-label", re.compile(r"^The vectors x\(2\)"))
    expect(figure.locator("figcaption")).to_contain_text("cos θ = 0.9997")
    expect(page.locator("#lecture-text .katex").first).to_be_visible()


# --- predict, then see -----------------------------------------------------------------------------------


def answer_both_ways(page: Page, run) -> int:
    """Walk every step; at each question choose a wrong choice (click), then move to the right one with the arrow
    keys. Returns how many questions were answered."""
    answered = 0
    for number in range(1, N + 1):
        if number > 1:
            next_button(page).press("Enter")
        expect_step(page, run, number, focused=number > 1)
        question = texts.lecture_step(run, number).question
        group = page.locator("#lecture-question fieldset")
        answer = page.locator("#lecture-answer")
        if question is None:
            expect(group).to_have_count(0)
            continue
        expect(group.locator("legend")).to_have_text(question.prompt)
        radios = group.get_by_role("radio")
        expect(radios).to_have_count(len(question.choices))
        expect(group.locator("label")).to_have_text(list(question.choices))
        wrong = (question.answer + 1) % len(question.choices)
        group.locator("label").nth(wrong).click()
        expect(answer).to_contain_text("Not quite: the answer is " + question.choices[question.answer])
        for _ in range((question.answer - wrong) % len(question.choices)):
            page.keyboard.press("ArrowDown")
        expect(radios.nth(question.answer)).to_be_checked()
        expect(answer).to_contain_text("Right: " + question.choices[question.answer])
        expect(answer).to_have_attribute("aria-live", "polite")
        answered += 1
    return answered


def test_every_question_both_ways_on_the_books_table(page: Page):
    open_lecture(page)
    assert answer_both_ways(page, book_run()) >= N // 3


def test_every_question_both_ways_on_a_random_run(page: Page):
    textbox(page, TEXT).fill(CAT_SENTENCE)
    open_embeddings(page)
    page.get_by_label(re.compile(r"^dim d")).fill(str(RANDOM_DIM))
    page.get_by_label(re.compile(r"^seed")).fill(str(RANDOM_SEED))
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(CAT_SENTENCE))
    page.wait_for_function("() => new URLSearchParams(location.search).get('dim') === '16'")
    open_lecture(page)
    page.locator("#lecture-source").get_by_text("My run on the first tab").click()
    run = ac.attend(CAT_SENTENCE, dim=RANDOM_DIM, seed=RANDOM_SEED)
    expect(page.locator(f"{MATRIX} [role=rowheader] .am-tok")).to_have_count(len(run.tokens))
    expect_step(page, run, 1, focused=False)
    note = texts.one_hot_note(run.attention.weights)
    if note:
        expect(page.locator(f"{MATRIX} .am-caption")).to_have_text(note)
    assert answer_both_ways(page, run) >= N // 3


# --- accessibility and the README's picture -------------------------------------------------------------------


def serious_violations_in(page: Page, context: str) -> dict[str, list[str]]:
    from axe_playwright_python.sync_playwright import Axe

    found: dict[str, list[str]] = {}
    for violation in Axe().run(page, context=context).response["violations"]:
        if violation["impact"] in SERIOUS:
            found[violation["id"]] = [f"{node['target']}: {node['html'][:160]}" for node in violation["nodes"]]
    return found


@pytest.mark.parametrize(
    ("number", "width", "theme"),
    [(5, 1280, "light"), (5, 390, "dark"), (13, 1280, "dark"), (13, 390, "light")],
    ids=["step5-1280-light", "step5-390-dark", "step13-1280-dark", "step13-390-light"],
)
def test_axe_finds_no_serious_violation_inside_the_lecture(open_app, number: int, width: int, theme: str):
    query = f"?step={number}" + ("&__theme=dark" if theme == "dark" else "")
    page = open_app(query, viewport={"width": width, "height": 900})
    run = book_run()
    expect_step(page, run, number, focused=False)
    question = texts.lecture_step(run, number).question
    if question is not None:
        page.locator("#lecture-question label").nth(question.answer).click()
        expect(page.locator("#lecture-answer")).to_contain_text("Right")
    page.evaluate("() => document.querySelectorAll('#lecture details').forEach(d => { d.open = true; })")
    page.mouse.move(0, 0)
    assert serious_violations_in(page, "#lecture") == {}


def test_a_step_with_its_highlight_for_the_readme(open_app, tmp_path: Path):
    page = open_app("?step=5")
    expect_step(page, book_run(), 5, focused=False)
    question = texts.lecture_step(book_run(), 5).question
    page.locator("#lecture-question label").nth(question.answer).click()
    expect(page.locator("#lecture-answer")).to_contain_text("Right")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)
    screenshot(page, tmp_path, "lecture.png", region=[page.locator("#lecture")], max_height=1300)
    phone = open_app("?step=4", viewport={"width": 390, "height": 844})
    expect_step(phone, book_run(), 4, focused=False)
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the lecture scrolls sideways on a phone: {width} px"
    phone.locator("#lecture").screenshot(path=str(tmp_path / "lecture-phone.png"))  # to look at; not for the README
