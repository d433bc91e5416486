"""The app in a real browser: Playwright driving Debian's Chromium against a launched server.

Playwright never downloads a browser here: it launches the system Chromium (``apt-get install chromium``).
Without it these tests are skipped, unless REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
The tests save screenshots to pytest's tmp_path, or to $SCREENSHOT_DIR when it is set:
``SCREENSHOT_DIR=docs python -m pytest tests/test_browser.py`` refreshes the README's pictures.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from golden import SENTENCE as BOOK_SENTENCE
from golden import WEIGHTS_2
from reference import CAT_SENTENCE, book_dot_line

from attention_core import tokenize, visible_token
from benchmarks.harness import CHROMIUM_ARGS, chromium_path  # Debian's Chromium, as the benchmarks launch it

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}
INSTALL_HINT = (
    "Install Debian's Chromium with `apt-get install chromium` (Playwright launches it; it downloads no browser)."
)


def _unavailable(reason: str, *, module: bool = False) -> None:
    """Skip, or fail when REQUIRE_BROWSER=1 says the browser tests are mandatory."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} Set REQUIRE_BROWSER=1 to make this a failure.", allow_module_level=module)


try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    _unavailable("the playwright package is missing: run `pip install -r requirements-dev.txt`.", module=True)


def expected_chips(text: str) -> list[str]:
    """A chip's text is the visible piece followed by its id, e.g. ``␣journey7002``."""
    tokens = tokenize(text)
    return [visible_token(piece) + str(token_id) for piece, token_id in zip(tokens.tokens, tokens.ids)]


def visible_tokens(text: str) -> list[str]:
    return [visible_token(piece) for piece in tokenize(text).tokens]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        _unavailable(f"Chromium was not found. {INSTALL_HINT}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_app(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """Opens the app at ``server_url + query`` in a fresh browser context (``viewport=`` sets its size), as often as
    a test needs.

    Every context is closed after the test, which fails if any page raised a JavaScript error.
    """
    contexts = []
    page_errors: list[str] = []
    expect.set_options(timeout=TIMEOUT_MS)

    def open_page(query: str = "", *, viewport: dict[str, int] = VIEWPORT) -> Page:
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        new_page = context.new_page()
        new_page.on("pageerror", lambda error: page_errors.append(str(error)))
        new_page.goto(server_url + query)
        return new_page

    try:
        yield open_page
        assert page_errors == [], f"JavaScript errors in the page: {page_errors}"
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_app: Callable[[str], Page]) -> Page:
    """A fresh page on the app, after the first run (six chips for the book's sentence) has finished."""
    new_page = open_app("")
    expect(new_page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
    return new_page


# --- helpers -----------------------------------------------------------------------------------


def textbox(page: Page, label: str) -> Locator:
    """The textarea of the Gradio Textbox whose label is exactly ``label`` (its info line is not part of it)."""
    block_label = page.get_by_test_id("block-info").get_by_text(label, exact=True)
    return page.locator("label").filter(has=block_label).locator("textarea")


def grid(page: Page, elem_id: str) -> Locator:
    return page.locator(f"#{elem_id} [role=grid]")


def column_titles(table: Locator) -> list[str]:
    return [header.get_attribute("title") or "" for header in table.locator("[role=columnheader]").all()]


def expect_matrix(page: Page, text: str, elem_id: str = "heatmap") -> Locator:
    """The matrix component (web/matrix.js) has drawn these tokens: one row header per token, T × T cells.

    For T ≤ 32, where every cell is an element; returns the component's root.
    """
    tokens = visible_tokens(text)
    matrix = page.locator(f"#{elem_id} [data-attention-matrix]")
    expect(matrix.locator("[role=rowheader] .am-tok")).to_have_text(tokens)
    expect(matrix.locator("[role=gridcell]")).to_have_count(len(tokens) ** 2)
    return matrix


def matrix_cell(page: Page, row: int, column: int, *, count: int, elem_id: str = "heatmap") -> Locator:
    """The cell (row, column) of the drawn matrix, 1-based, for T = count ≤ 32."""
    return page.locator(f"#{elem_id} [role=gridcell]").nth((row - 1) * count + column - 1)


def wait_until_settled(page: Page) -> None:
    """Every visible image decoded, every status tracker idle, and the web fonts loaded: ready for a screenshot.

    Gradio's images load lazily, only once scrolled near; a full-page screenshot needs them all, so they are made
    eager first. Images in a hidden tab or a closed accordion are not in the picture and are not waited for.
    """
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
    page.wait_for_function(
        """() => Array.from(document.images).filter(img => img.offsetParent !== null)
                      .every(img => img.complete && img.naturalWidth > 0)
              && Array.from(document.querySelectorAll('[data-testid="status-tracker"]'))
                      .every(tracker => tracker.classList.contains('hide') || tracker.offsetParent === null)"""
    )
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)  # no hover highlight in the picture


def run_text(page: Page, text: str) -> None:
    box = textbox(page, "Text")
    box.fill(text)
    page.get_by_role("button", name="Run", exact=True).click()


def expect_context_table(page: Page, text: str) -> None:
    table = grid(page, "context-table")
    tokens = visible_tokens(text)
    expect(table).to_have_attribute("aria-rowcount", str(len(tokens) + 1))  # the header row counts too
    titles = column_titles(table)
    assert titles[:2] == ["#", "token"], titles
    expect(table.locator('[role=gridcell][data-col="1"]')).to_have_text(tokens)


# --- tests -------------------------------------------------------------------------------------


def test_first_run_shows_tokens_heatmap_and_context(page: Page):
    expect(page.locator(".tok-count")).to_have_text("6 tokens:")
    expect_matrix(page, BOOK_SENTENCE)
    expect_context_table(page, BOOK_SENTENCE)
    expect(grid(page, "inputs-table")).to_have_attribute("aria-rowcount", "7")


def screenshot(
    page: Page,
    tmp_path: Path,
    name: str,
    *,
    region: Sequence[Locator] = (),
    max_height: int | None = None,
    full_page: bool = True,
) -> Path:
    """A PNG in $SCREENSHOT_DIR (for the README) or in tmp_path; checked to be a real picture.

    Without ``region``, the full page. With it, the smallest rectangle (plus a small margin) holding every
    locator in ``region``, cut to ``max_height`` pixels when given. ``full_page=False`` shoots the viewport as it
    is (a hovered tooltip stays; a full-page capture resizes the page, which hides it).
    """
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if region:
        page.screenshot(path=str(path), full_page=full_page, clip=region_clip(page, region, max_height=max_height))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    data = path.read_bytes()
    min_bytes = 20_000 if region else 50_000
    assert data.startswith(b"\x89PNG") and len(data) > min_bytes, (path, len(data))
    return path


def region_clip(page: Page, region: Sequence[Locator], *, max_height: int | None, margin: int = 8) -> dict:
    """The union of the locators' boxes in page coordinates (what a full-page screenshot's clip expects)."""
    scroll_x, scroll_y = page.evaluate("() => [window.scrollX, window.scrollY]")
    boxes = []
    for locator in region:
        box = locator.bounding_box()
        assert box is not None, f"{locator} is not visible"
        boxes.append(box)
    left = max(0.0, min(box["x"] for box in boxes) + scroll_x - margin)
    top = max(0.0, min(box["y"] for box in boxes) + scroll_y - margin)
    right = max(box["x"] + box["width"] for box in boxes) + scroll_x + margin
    bottom = max(box["y"] + box["height"] for box in boxes) + scroll_y + margin
    height = bottom - top if max_height is None else min(bottom - top, max_height)
    return {"x": left, "y": top, "width": right - left, "height": height}


def test_a_new_sentence_replaces_the_run(page: Page, tmp_path: Path):
    expect_matrix(page, BOOK_SENTENCE)

    run_text(page, CAT_SENTENCE)

    chips = expected_chips(CAT_SENTENCE)
    assert len(chips) == 10
    expect(page.locator(".tok-chip")).to_have_text(chips)
    expect(page.locator(".tok-count")).to_have_text(f"{len(chips)} tokens:")
    expect_matrix(page, CAT_SENTENCE)
    expect_context_table(page, CAT_SENTENCE)
    # The walk-through follows the new run: query 2 is now " cat".
    expect(page.get_by_role("heading", name="Query 2:")).to_contain_text(visible_token(" cat"))

    wait_until_settled(page)
    # The README's first picture: the inputs, the chips, the matrix with one cell's tooltip, and the tables, in a
    # viewport tall enough to hold them all (the tooltip must stay where the mouse left it).
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1900})
    page.evaluate("() => window.scrollTo(0, 0)")
    matrix_cell(page, 8, 4, count=10).hover()  # " it" attending to " on"
    expect(page.locator("#heatmap .am-tip")).to_contain_text("weight α")
    screenshot(
        page,
        tmp_path,
        "screenshot.png",
        full_page=False,
        region=[page.locator("h1").first, page.locator("#heatmap"), page.locator("#context-table")],
    )


def test_empty_text_shows_the_error_and_clears_the_last_run(page: Page):
    run_text(page, "")

    toast = page.get_by_test_id("toast-text")
    expect(toast).to_contain_text("The text is empty")
    expect(page.get_by_test_id("toast-body")).to_have_class(re.compile(r"\berror\b"))
    # Nothing of the last run stays beside the new text: the reason stands where the tokens were.
    expect(page.locator(".run-refused")).to_contain_text("Not run. The text is empty.")
    expect(page.locator(".tok-chip")).to_have_count(0)
    expect(page.locator("#heatmap [role=gridcell]")).to_have_count(0)


def test_lab_shows_nan_for_naive_softmax_of_400(page: Page, tmp_path: Path):
    page.get_by_role("tab", name="Normalization lab").click()
    expect(textbox(page, "Values (up to 1,000)")).to_have_value("1, 2, 3, 400")

    table = page.locator('[role=grid][aria-label^="Side by side"]')
    expect(table).to_have_attribute("aria-rowcount", "6")  # header, four values, the sums
    titles = column_titles(table)
    assert titles == ["value", "sum-normalized", "naive softmax", "stable softmax"], titles
    naive, stable = titles.index("naive softmax"), titles.index("stable softmax")
    value_cells = table.locator('[role=gridcell][data-col="0"]')
    # float32 carries 6 significant digits: 400.000, not 400.0000.
    expect(value_cells).to_have_text(["1.0000", "2.0000", "3.0000", "400.000", "sum: 406.000"])
    row = 3  # the row of 400
    expect(table.locator(f'[data-testid="cell-{row}-{naive}"]')).to_have_text("NaN")
    expect(table.locator(f'[data-testid="cell-{row}-{stable}"]')).to_have_text("1.0000")
    expect(page.get_by_text("overflows float32")).to_be_visible()

    wait_until_settled(page)
    screenshot(page, tmp_path, "lab.png")


# --- shared links, the book's example, tracing, facts, exports ---------------------------------

SHARED_TEXT = "the cat and the hat"
SHARED_LINK = "?text=the+cat+and+the+hat&dim=4&seed=7&tau=2&view=scores"
SHARED_SETTINGS = {"dim": "4", "seed": "7", "tau": "2", "view": "scores"}
NEXT_TEXT = "A dog chased the ball across the park"
# The trace of the book's cell (2, 1), the one the book works out: ω_21 and α_21.
BOOK_DOT_LINE = book_dot_line(1, 0)
BOOK_ALPHA_21 = f"{WEIGHTS_2[0]:.4f}"
# A link's warnings come with the restored settings, before the run: once the chips are there, a toast
# that has not appeared within this long never will. (Toasts stay 10 s, so a present one is found at once.)
TOAST_WAIT_MS = 2_000


def url_params(page: Page) -> dict[str, str]:
    """The page's query string, URL-decoded (``+`` and ``%xx`` included)."""
    return dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))


def accordion(page: Page, label: str) -> Locator:
    """The whole accordion block (header and content) whose header reads ``label``."""
    return page.locator(".gr-accordion").filter(has=page.get_by_role("button", name=label))


def open_accordion(page: Page, label: str) -> Locator:
    header = page.get_by_role("button", name=label)
    if "open" not in (header.get_attribute("class") or "").split():
        header.click()
    expect(header).to_have_class(re.compile(r"\bopen\b"))
    return accordion(page, label)


def recipe_embeddings(text: str, *, dim: int, seed: int) -> list[list[float]]:
    """The notebook recipe the app shows: ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim).weight[ids]``.

    Run under fork_rng, so the global generator (shared with the in-process server) is left as it was.
    """
    import torch

    ids = tokenize(text).ids
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight[ids].tolist()  # (T, dim)


def expect_restored(page: Page, text: str, *, dim: int, seed: int, tau: str, raw_scores: bool) -> None:
    """The controls show the link's settings, and the run they describe has finished."""
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(text))
    expect(textbox(page, "Text")).to_have_value(text)
    expect(page.get_by_label(re.compile(r"^dim d"))).to_have_value(str(dim))
    expect(page.get_by_label(re.compile(r"^seed"))).to_have_value(str(seed))
    expect(page.locator("#tau input[type=number]")).to_have_value(tau)
    expect(page.get_by_label("Show raw scores ω instead of weights α")).to_be_checked(checked=raw_scores)

    table = grid(page, "inputs-table")
    expect(table).to_have_attribute("aria-rowcount", str(len(tokenize(text).ids) + 1))
    assert column_titles(table) == ["#", "token"] + [f"d{i + 1}" for i in range(dim)], column_titles(table)
    first_row = [f"{value:.4f}" for value in recipe_embeddings(text, dim=dim, seed=seed)[0]]
    first_cells = table.locator('[role=gridcell][data-testid^="cell-0-"]')
    expect(first_cells).to_have_text(["1", visible_tokens(text)[0]] + first_row)


def expect_settings_in_url(page: Page, text: str, settings: dict[str, str]) -> None:
    page.wait_for_function("text => new URLSearchParams(location.search).get('text') === text", arg=text)
    params = url_params(page)
    assert params == {"text": text, **settings}, params


def load_book_example(page: Page) -> None:
    """Click the button and wait for the book's run: its trace of cell (2, 1) is the sign it has finished."""
    page.get_by_role("button", name="Load the book's example").click()
    expect(page.locator("#trace")).to_contain_text(BOOK_DOT_LINE)
    expect_matrix(page, BOOK_SENTENCE)


def book_matrices() -> tuple[list[list[float]], list[list[float]], list[list[float]]]:
    """The book's inputs (6, 3), scores ω = X Xᵀ (6, 6) and weights α = softmax(ω) (6, 6), by torch directly."""
    import torch

    from attention_core.book import BOOK_INPUTS

    inputs = torch.tensor(BOOK_INPUTS)  # (T, d) = (6, 3)
    scores = inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)
    weights = torch.softmax(scores, dim=-1)  # (T, T), each row sums to 1
    return inputs.tolist(), scores.tolist(), weights.tolist()


def test_a_shared_link_restores_the_run_and_follows_the_next_one(open_app: Callable[[str], Page]):
    page = open_app(SHARED_LINK)
    expect_restored(page, SHARED_TEXT, dim=4, seed=7, tau="2", raw_scores=True)

    run_text(page, NEXT_TEXT)
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(NEXT_TEXT))
    expect_settings_in_url(page, NEXT_TEXT, SHARED_SETTINGS)

    shared = open_app("?" + urlsplit(page.url).query)
    expect_restored(shared, NEXT_TEXT, dim=4, seed=7, tau="2", raw_scores=True)


def test_a_bad_link_parameter_falls_back_to_its_default(open_app: Callable[[str], Page]):
    import app

    page = open_app("?text=hello+world&seed=abc")
    expect_restored(page, "hello world", dim=app.DEFAULT_DIM, seed=app.DEFAULT_SEED, tau="1", raw_scores=False)


def test_a_bad_link_parameter_is_reported_in_a_toast(open_app: Callable[[str], Page]):
    page = open_app("?text=hello+world&seed=abc")
    expect(page.locator(".tok-chip")).to_have_text(expected_chips("hello world"))
    toast = page.get_by_test_id("toast-body").filter(has_text="seed")
    expect(toast).to_be_visible(timeout=TOAST_WAIT_MS)
    expect(toast).to_have_class(re.compile(r"\bwarning\b"))


MARKUP_LINK = (
    "?text=hello+world"
    "&tau=%3Cform+id%3Devil-form+action%3Dhttps%3A%2F%2Fevil.example%2Flogin%3E%3Cinput+name%3Dpassword%3E%3C%2Fform%3E"
    "&seed=%3Cimg+id%3Devil-img+src%3Dhttps%3A%2F%2Ftracker.example%2Fpixel.gif%3E"
    "&dim=%3Ca+id%3Devil-link+href%3Dhttps%3A%2F%2Fevil.example%3Eclick%3C%2Fa%3E"
)


def test_a_link_with_markup_puts_no_element_on_the_page(open_app: Callable[[str], Page]):
    """Issue 9: a refused link parameter is named in the toast, never quoted, so its markup never reaches the DOM."""
    page = open_app(MARKUP_LINK)
    expect(page.locator(".tok-chip")).to_have_text(expected_chips("hello world"))
    toasts = page.get_by_test_id("toast-body")
    for name in ("tau", "seed", "dim"):
        expect(toasts.filter(has_text=f"The link's {name} was ignored")).to_be_visible(timeout=TOAST_WAIT_MS)
    for selector in (
        "#evil-form",
        "form[action*='evil']",
        "input[name=password]",
        "#evil-img",
        "img[src*='tracker']",
        "#evil-link",
        "a[href*='evil']",
    ):
        expect(page.locator(selector)).to_have_count(0)
    assert "evil" not in " ".join(toasts.all_inner_texts()) and "tracker.example" not in page.content()


def test_an_example_runs_when_clicked(page: Page):
    page.get_by_role("button", name=CAT_SENTENCE, exact=True).click()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(CAT_SENTENCE))
    expect(textbox(page, "Text")).to_have_value(CAT_SENTENCE)
    expect(page.get_by_role("radio", name="Seeded random table")).to_be_checked()
    expect_context_table(page, CAT_SENTENCE)


def test_a_scores_link_opens_without_an_error(open_app: Callable[[str], Page]):
    page = open_app(SHARED_LINK)
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(SHARED_TEXT))
    expect(page.locator("#trace")).to_contain_text("Cell (2, 1)")  # the whole chain has run
    # Checked once, not retried: a toast goes away by itself after 10 s.
    toasts = page.get_by_test_id("toast-body").all_inner_texts()
    assert toasts == [], toasts


def test_the_book_example_matches_every_printed_number(page: Page, tmp_path: Path):
    from attention_core import book_parity

    load_book_example(page)

    expect(page.get_by_role("radio", name="My own table")).to_be_checked()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
    expect(page.locator(".tok-count")).to_have_text("6 tokens:")
    expect(page.locator("#trace")).to_contain_text(BOOK_ALPHA_21)
    # τ is back to the book's 1; dim and seed are not in the link: they do not apply to a table.
    book_link = {"text": BOOK_SENTENCE, "tau": "1", "view": "weights", "table": "book"}
    assert url_params(page) == book_link, page.url

    # The comparison waits, closed, until the reader opens it.
    header = page.get_by_role("button", name="The book's printed values, side by side")
    expect(header).not_to_have_class(re.compile(r"\bopen\b"))
    parity_box = open_accordion(page, "The book's printed values, side by side")
    parity = page.locator("#parity")
    expect(parity).to_be_visible()
    expect(parity).to_contain_text("printed numbers match")
    headline = re.search(r"(\d+) of (\d+) printed numbers match.*?(\d+) of (\d+) typed-in", parity.inner_text())
    assert headline is not None
    matched, total, typed_matched, typed = (int(headline[i]) for i in range(1, 5))
    entries = book_parity()
    assert matched == total == sum(entry.count for entry in entries if not entry.typed)
    assert typed_matched == typed == sum(entry.count for entry in entries if entry.typed)
    # One ✓ per printed row (a vector is one row), none ✗.
    rows = sum(entry.shape[0] if len(entry.shape) == 2 else 1 for entry in entries)
    expect(parity.locator("td", has_text="✓")).to_have_count(rows)
    expect(parity.locator("td", has_text="✗")).to_have_count(0)
    assert "✗" not in parity.inner_text()

    wait_until_settled(page)
    parity_box.scroll_into_view_if_needed()
    screenshot(page, tmp_path, "parity.png", region=[parity_box], max_height=900)


def test_a_click_on_the_heatmap_traces_that_cell(page: Page, tmp_path: Path):
    load_book_example(page)
    tokens = tokenize(BOOK_SENTENCE).tokens
    row, column = 4, 5  # " with" attending to " one"

    matrix_cell(page, row, column, count=len(tokens)).click()

    expect(page.get_by_label("query (row)")).to_have_value(f"{row}: {visible_token(tokens[row - 1])}")
    expect(page.get_by_label("key (column)")).to_have_value(f"{column}: {visible_token(tokens[column - 1])}")
    assert visible_token(tokens[row - 1]) == "␣with" and visible_token(tokens[column - 1]) == "␣one"
    inputs, scores, weights = book_matrices()
    query, key = inputs[row - 1], inputs[column - 1]
    dot_line = " + ".join(f"{a:.4f}·{b:.4f}" for a, b in zip(query, key)) + f" = {scores[row - 1][column - 1]:.4f}"
    trace = page.locator("#trace")
    expect(trace).to_contain_text(f"Cell ({row}, {column})")
    expect(trace).to_contain_text(dot_line)
    expect(trace).to_contain_text(f"{weights[row - 1][column - 1]:.4f}")

    wait_until_settled(page)
    # The matrix with the tables beside it, and the trace below them.
    region = [page.locator("#inputs-table"), page.locator("#heatmap"), accordion(page, "Trace one cell")]
    screenshot(page, tmp_path, "trace.png", region=region)


def test_shuffling_the_tokens_shows_the_permuted_heatmap(page: Page, tmp_path: Path):
    facts = open_accordion(page, "What attention without weights cannot do")
    # Before the click the accordion holds one figure, the convex hull (an SVG with its name), and an empty matrix.
    expect(facts.locator("figure svg[role=img]")).to_have_count(1)
    expect(facts.locator("#fig-hull figcaption")).not_to_be_empty()
    expect(page.locator("#shuffled .am-empty")).to_be_visible()

    facts.get_by_role("button", name="Shuffle the tokens").click()

    expect(facts.get_by_text("Shuffled order")).to_be_visible()
    shuffled = page.locator("#shuffled [data-attention-matrix]")
    expect(shuffled.locator("[role=gridcell]")).to_have_count(36)  # drawn in the browser, beside the hull
    expect(shuffled.locator(".am-caption")).to_have_text("Shuffled: the weights of the permuted tokens")
    shuffled_tokens = shuffled.locator("[role=rowheader] .am-tok").all_inner_texts()
    assert sorted(shuffled_tokens) == sorted(visible_tokens(BOOK_SENTENCE)), shuffled_tokens
    assert shuffled_tokens != visible_tokens(BOOK_SENTENCE)
    # The weights of the permuted inputs: the page's run is the seeded random table (d = 3, seed 123).
    import torch

    order = [visible_tokens(BOOK_SENTENCE).index(token) for token in shuffled_tokens]  # the book's tokens are distinct
    x = torch.tensor(recipe_embeddings(BOOK_SENTENCE, dim=3, seed=123))[order]  # (T, d), rows permuted
    weights = torch.softmax(x @ x.T, dim=-1)  # (T, d) @ (d, T) -> (T, T)
    expect(shuffled.locator("[role=gridcell]")).to_have_text([f"{w:.2f}" for row in weights.tolist() for w in row])
    expect(facts.locator("figure svg[role=img]")).to_have_count(1)

    wait_until_settled(page)
    screenshot(page, tmp_path, "facts.png", region=[facts])


def test_exports_download_the_book_run(page: Page):
    from attention_core.book import book_value
    from attention_core.parity import tolerance

    load_book_example(page)
    home = open_accordion(page, "Take this run home")
    home.get_by_role("button", name="Prepare JSON, CSV and PNG").click()

    links = home.locator("a[download]")
    expect(links).to_have_count(3)
    names = [link.get_attribute("download") for link in links.all()]
    assert names == ["attention-run.json", "attention-weights.csv", "attention-matrix.png"], names

    with page.expect_download() as download_info:
        home.locator('a[download="attention-run.json"]').click()
    exported = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert exported["tokens"] == list(tokenize(BOOK_SENTENCE).tokens)
    printed = [value for row in book_value("attn_weights").printed for value in row]
    ours = [value for row in exported["weights"] for value in row]
    assert ours == pytest.approx(printed, abs=tolerance(4))  # the book's weights, to its 4 decimals

    snippet = home.get_by_test_id("markdown").filter(has_text="Copy as PyTorch")
    expect(snippet).to_contain_text("weights = torch.softmax(scores, dim=-1)")
