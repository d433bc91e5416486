"""The app in a real browser: Playwright driving Debian's Chromium against a launched server.

Playwright never downloads a browser here: it launches the system Chromium (``apt-get install chromium``).
Without it these tests are skipped, unless REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
The tests save screenshots to pytest's tmp_path, or to $SCREENSHOT_DIR when it is set:
``SCREENSHOT_DIR=docs python -m pytest tests/test_browser.py`` refreshes the README's pictures.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from attention_core import tokenize, visible_token

REPO_ROOT = Path(__file__).resolve().parents[1]

BOOK_SENTENCE = "Your journey starts with one step"
CAT_SENTENCE = "The cat sat on the mat because it is warm"
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
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


def chromium_path() -> str | None:
    """Debian's Chromium: on PATH, or at its usual place."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


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
def page(browser: Browser, server_url: str) -> Iterator[Page]:
    """A fresh page on the app, after the first run (six chips for the book's sentence) has finished."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    new_page = context.new_page()
    page_errors: list[str] = []
    new_page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        new_page.goto(server_url)
        expect(new_page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
        yield new_page
        assert page_errors == [], f"JavaScript errors in the page: {page_errors}"
    finally:
        context.close()


# --- helpers -----------------------------------------------------------------------------------


def textbox(page: Page, label: str) -> Locator:
    """The textarea of the Gradio Textbox whose label is exactly ``label`` (its info line is not part of it)."""
    block_label = page.get_by_test_id("block-info").get_by_text(label, exact=True)
    return page.locator("label").filter(has=block_label).locator("textarea")


def grid(page: Page, elem_id: str) -> Locator:
    return page.locator(f"#{elem_id} [role=grid]")


def column_titles(table: Locator) -> list[str]:
    return [header.get_attribute("title") or "" for header in table.locator("[role=columnheader]").all()]


def wait_for_image(page: Page, selector: str) -> None:
    page.wait_for_function(
        "selector => { const img = document.querySelector(selector); return !!img && img.complete && img.naturalWidth > 0; }",
        arg=selector,
    )


def wait_until_settled(page: Page) -> None:
    """Every image decoded, every status tracker idle, and the web fonts loaded: ready for a screenshot."""
    page.wait_for_function(
        """() => Array.from(document.images).every(img => img.complete && img.naturalWidth > 0)
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
    heatmap = page.locator("#heatmap img")
    expect(heatmap).to_have_attribute("src", re.compile(r".+"))
    wait_for_image(page, "#heatmap img")
    expect_context_table(page, BOOK_SENTENCE)
    expect(grid(page, "inputs-table")).to_have_attribute("aria-rowcount", "7")


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """A full-page PNG in $SCREENSHOT_DIR (for the README) or in tmp_path; checked to be a real picture."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000, (path, len(data))
    return path


def test_a_new_sentence_replaces_the_run(page: Page, tmp_path: Path):
    wait_for_image(page, "#heatmap img")
    first_heatmap = page.locator("#heatmap img").get_attribute("src")
    assert first_heatmap

    run_text(page, CAT_SENTENCE)

    chips = expected_chips(CAT_SENTENCE)
    assert len(chips) == 10
    expect(page.locator(".tok-chip")).to_have_text(chips)
    expect(page.locator(".tok-count")).to_have_text(f"{len(chips)} tokens:")
    expect(page.locator("#heatmap img")).not_to_have_attribute("src", first_heatmap)
    wait_for_image(page, "#heatmap img")
    expect_context_table(page, CAT_SENTENCE)
    # The walk-through follows the new run: query 2 is now " cat".
    expect(page.get_by_role("heading", name="Query 2:")).to_contain_text(visible_token(" cat"))

    wait_until_settled(page)
    screenshot(page, tmp_path, "screenshot.png")


def test_empty_text_shows_the_error_and_keeps_the_last_run(page: Page):
    run_text(page, "")

    toast = page.get_by_test_id("toast-text")
    expect(toast).to_contain_text("The text is empty")
    expect(page.get_by_test_id("toast-body")).to_have_class(re.compile(r"\berror\b"))
    # Nothing was replaced: the book's tokens are still there.
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))


def test_lab_shows_nan_for_naive_softmax_of_400(page: Page, tmp_path: Path):
    page.get_by_role("tab", name="Normalization lab").click()
    expect(textbox(page, "Values (up to 1,000)")).to_have_value("1, 2, 3, 400")

    table = page.locator('[role=grid][aria-label^="Side by side"]')
    expect(table).to_have_attribute("aria-rowcount", "6")  # header, four values, the sums
    titles = column_titles(table)
    assert titles == ["value", "sum-normalized", "naive softmax", "stable softmax"], titles
    naive, stable = titles.index("naive softmax"), titles.index("stable softmax")
    value_cells = table.locator('[role=gridcell][data-col="0"]')
    expect(value_cells).to_have_text(["1.0000", "2.0000", "3.0000", "400.0000", "sum: 406.0000"])
    row = 3  # the row of 400
    expect(table.locator(f'[data-testid="cell-{row}-{naive}"]')).to_have_text("NaN")
    expect(table.locator(f'[data-testid="cell-{row}-{stable}"]')).to_have_text("1.0000")
    expect(page.get_by_text("overflows float32")).to_be_visible()

    wait_until_settled(page)
    screenshot(page, tmp_path, "lab.png")
