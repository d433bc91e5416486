"""The first screen in Chromium (issue 20): the matrix and its trace at once, painted with the page; τ for learning;
a bad upload that says why; a shared link that never shows another run's numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from pages import TIMEOUT_MS, Browser, Page, expect, visible_tokens

from web import first_screen

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
GRID = "#heatmap [data-attention-matrix] [role=grid]"
MATRIX = "#heatmap [data-attention-matrix]"
LINK = "?text=the+cat+and+the+hat&dim=4&seed=7&tau=2&show=scores"


@pytest.fixture
def visit(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """Opens the app in a fresh context; ``offline=True`` refuses every queued call, so only what came with the
    page can be on screen. Fails the test on any JavaScript error."""
    contexts, errors = [], []
    expect.set_options(timeout=TIMEOUT_MS)

    def visit_page(query: str = "", *, viewport: dict = DESKTOP, offline: bool = False, touch: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, has_touch=touch)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        if offline:
            page.route(re.compile(r".*/gradio_api/queue/join.*"), lambda route: route.abort())
        page.goto(server_url + query)
        return page

    try:
        yield visit_page
        assert errors == [], errors
    finally:
        for context in contexts:
            context.close()


def box(page: Page, selector: str) -> dict:
    """An element's box in page coordinates."""
    return page.locator(selector).first.evaluate(
        "e => { const b = e.getBoundingClientRect(); return {top: b.top + scrollY, bottom: b.bottom + scrollY, "
        "left: b.left, right: b.right}; }"
    )


def test_the_matrix_and_its_trace_are_painted_with_the_page_inside_1280_by_800(visit):
    """No round trip at all (every queued call refused): the default run's grid and trace come with the page, and
    the whole grid and the start of the trace fit the first screen."""
    page = visit(offline=True)
    shipped = first_screen.load()
    expect(page.locator(f"{MATRIX} [role=rowheader] .am-tok")).to_have_text(shipped["heatmap"]["tokens"])
    expect(page.locator("#trace")).to_contain_text("Cell (2, 1)")
    assert page.evaluate("() => scrollY") == 0
    grid, trace = box(page, GRID), box(page, "#trace")
    assert grid["bottom"] <= DESKTOP["height"] and grid["right"] <= DESKTOP["width"], grid
    assert trace["top"] + 40 <= DESKTOP["height"], trace  # at least its heading line
    first = page.locator(f"{MATRIX} [role=gridcell]").first
    assert first.inner_text().strip() == f"{float(shipped['heatmap']['weights'].split()[0]):.2f}"


def test_on_a_phone_the_grid_starts_within_one_and_a_half_screens(visit):
    page = visit(viewport=PHONE, offline=True, touch=True)
    expect(page.locator(f"{MATRIX} [role=gridcell]")).to_have_count(36)
    assert box(page, GRID)["top"] < 1.5 * PHONE["height"]


def test_what_lies_below_appears_after_the_load_event(visit):
    page = visit()
    expect(page.locator("#below")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Tables")).click()
    expect(page.locator("#context-table [role=grid]")).to_have_attribute("aria-rowcount", "7")


def test_a_shared_link_never_shows_the_default_runs_numbers(visit):
    """Until the link's own run is on screen, the first screen's numbers are hidden; then they are the link's."""
    waiting = visit(LINK, offline=True)
    expect(waiting.locator(MATRIX)).to_be_attached()
    assert waiting.evaluate("() => 'linkPending' in document.documentElement.dataset")
    for selector in ("#heatmap", "#tokens", "#trace"):
        assert waiting.locator(selector).evaluate("e => getComputedStyle(e).visibility") == "hidden", selector
    page = visit(LINK)
    expect(page.locator(f"{MATRIX} [role=rowheader] .am-tok")).to_have_text(visible_tokens("the cat and the hat"))
    expect(page.locator(MATRIX)).to_have_attribute("data-view", "scores")
    page.wait_for_function("() => !('linkPending' in document.documentElement.dataset)")
    assert page.locator("#heatmap").evaluate("e => getComputedStyle(e).visibility") == "visible"


def test_tau_is_logarithmic_with_presets_and_takes_any_typed_value_in_range(visit):
    page = visit()
    matrix = page.locator(MATRIX)
    track, typed = page.locator("#tau .tau-track"), page.locator("#tau .tau-box")
    expect(page.locator("#below")).to_be_visible()  # the page's run is in place: the server can follow
    track.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(matrix).to_have_attribute("data-tau", "1.58")  # 10 even steps: 10^(10 · 0.02)
    expect(typed).to_have_value("1.58")
    page.keyboard.press("PageDown")
    expect(matrix).to_have_attribute("data-tau", "1")  # PageDown: ten steps back
    page.get_by_role("button", name="τ = 2", exact=True).click()
    expect(matrix).to_have_attribute("data-tau", "2")
    expect(page.get_by_role("button", name="τ = 2", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#trace")).to_contain_text("temperature")  # the server followed: the trace is at τ = 2
    typed.fill("abc")
    typed.press("Enter")
    expect(page.locator("#tau .tau-problem")).to_contain_text("τ must be a number from 0.05 to 50")
    expect(matrix).to_have_attribute("data-tau", "2")  # unchanged
    typed.fill("27.7")
    typed.press("Enter")
    expect(matrix).to_have_attribute("data-tau", "27.7")  # beyond the track's 10: the box takes it
    expect(page.locator("#tau .tau-problem")).to_be_hidden()
    assert track.input_value() == "100"


def test_a_bad_upload_clears_itself_and_says_why(visit, tmp_path):
    page = visit()
    expect(page.locator("#below")).to_be_visible()
    page.locator("#embeddings-box").get_by_role("button").first.click()
    page.get_by_label("My own table").check()
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2\n0.3,zwei\n", encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    note = page.locator("#upload-note")
    expect(note).to_contain_text("Not loaded. Row 2, column 2 is 'zwei'")
    expect(page.locator("#upload")).not_to_contain_text("bad.csv")  # the box is empty again
    assert page.locator(".toast-body").count() == 0  # no overlay over the form
    good = tmp_path / "good.csv"
    good.write_text("0.1,0.2\n0.3,0.4\n", encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(good))
    expect(note).to_contain_text("Loaded: 2 rows of 2 numbers. Press Run.")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_axe_finds_nothing_serious_on_the_first_screen(visit, theme, viewport):
    from axe_playwright_python.sync_playwright import Axe

    page = visit("?__theme=dark" if theme == "dark" else "", viewport=viewport)
    expect(page.locator("#below")).to_be_visible()
    results = Axe().run(page, context="#first-screen, #run-form, #run-options, #meaning-note")
    serious = [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("critical", "serious")
    ]
    assert serious == []
