"""Helpers for the browser tests (tests/e2e): Playwright on Debian's Chromium, and what the page looks like.

Playwright never downloads a browser here: it launches the system Chromium (``apt-get install chromium``).
Without it the browser tests are skipped, unless REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
Screenshots go to pytest's tmp_path (scripts/screenshots.py draws the README's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from golden import SENTENCE as BOOK_SENTENCE
from golden import WEIGHTS_2
from reference import book_dot_line

from attention_core import MAX_TOKENS, tokenize, visible_token

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}
TEXT = f"Text (up to {MAX_TOKENS} GPT-2 tokens)"  # the label of the first tab's text box
INSTALL_HINT = (
    "Install Debian's Chromium with `apt-get install chromium` (Playwright launches it; it downloads no browser)."
)


def unavailable(reason: str, *, module: bool = False) -> None:
    """Skip, or fail when REQUIRE_BROWSER=1 says the browser tests are mandatory."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} Set REQUIRE_BROWSER=1 to make this a failure.", allow_module_level=module)


try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: F401 (for conftest)
except ImportError:  # pragma: no cover - depends on the environment
    unavailable("the playwright package is missing: run `pip install -r requirements-dev.txt`.", module=True)


def expected_chips(text: str) -> list[str]:
    """A chip's text is the visible piece, a visually hidden ", id ", then its id: ``␣journey, id 7002``."""
    tokens = tokenize(text)
    return [f"{visible_token(piece)}, id {token_id}" for piece, token_id in zip(tokens.tokens, tokens.ids)]


def visible_tokens(text: str) -> list[str]:
    return [visible_token(piece) for piece in tokenize(text).tokens]


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
    box = textbox(page, TEXT)
    box.fill(text)
    page.get_by_role("button", name="Run", exact=True).click()


def expect_context_table(page: Page, text: str) -> None:
    open_tables(page)
    table = grid(page, "context-table")
    tokens = visible_tokens(text)
    expect(table).to_have_attribute("aria-rowcount", str(len(tokens) + 1))  # the header row counts too
    titles = column_titles(table)
    assert titles[:2] == ["#", "token"], titles
    expect(table.locator('[role=gridcell][data-col="1"]')).to_have_text(tokens)


def screenshot(
    page: Page,
    tmp_path: Path,
    name: str,
    *,
    region: Sequence[Locator] = (),
    max_height: int | None = None,
    full_page: bool = True,
) -> Path:
    """A PNG in tmp_path, checked to be a real picture.

    Without ``region``, the full page. With it, the smallest rectangle (plus a small margin) holding every
    locator in ``region``, cut to ``max_height`` pixels when given. ``full_page=False`` shoots the viewport as it
    is (a hovered tooltip stays; a full-page capture resizes the page, which hides it).
    """
    path = tmp_path / name
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


# The trace of the book's cell (2, 1), the one the book works out: ω_21 and α_21.
BOOK_DOT_LINE = book_dot_line(1, 0)
BOOK_ALPHA_21 = f"{WEIGHTS_2[0]:.4f}"


def url_params(page: Page) -> dict[str, str]:
    """The page's query string, URL-decoded (``+`` and ``%xx`` included)."""
    return dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))


def open_tab(page: Page, name: str) -> None:
    """Choose the tab ``name``: on a narrow screen Gradio moves the tabs that do not fit into its "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.is_visible():
        tab.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown").get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")


def accordion(page: Page, label: str) -> Locator:
    """The whole accordion block (header and content) whose header reads ``label``."""
    return page.locator(".gr-accordion").filter(has=page.get_by_role("button", name=label))


def open_accordion(page: Page, label: str) -> Locator:
    """Open the accordion whose header reads ``label`` (those below the first screen wait for #below)."""
    header = page.get_by_role("button", name=label)
    if "open" not in (header.get_attribute("class") or "").split():
        header.click()
    expect(header).to_have_class(re.compile(r"\bopen\b"))
    return accordion(page, label)


def open_box(page: Page, elem_id: str) -> Locator:
    """Open the accordion with this elem_id (``examples-box``, ``embeddings-box``: their headers change)."""
    header = page.locator(f"#{elem_id} button.label-wrap").first
    if "open" not in (header.get_attribute("class") or "").split():
        header.click()
    expect(header).to_have_class(re.compile(r"\bopen\b"))
    return page.locator(f"#{elem_id}")


def open_embeddings(page: Page) -> Locator:
    """The form's folded "Embeddings: …" box, open: the source radio, dim, seed, the recipe and the table."""
    return open_box(page, "embeddings-box")


TABLES = "Tables: the inputs x, the weights α and the context vectors z"


def below(page: Page) -> Locator:
    """Everything under the first screen (#below), once the page's load event has shown it."""
    shown = page.locator("#below")
    expect(shown).to_be_visible()
    return shown


def open_tables(page: Page) -> Locator:
    """The accordion of the three tables (inputs x, weights α, context z), open."""
    below(page)
    return open_accordion(page, TABLES)


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
    expect(textbox(page, TEXT)).to_have_value(text)
    open_embeddings(page)
    expect(page.get_by_label(re.compile(r"^dim d"))).to_have_value(str(dim))
    expect(page.get_by_label(re.compile(r"^seed"))).to_have_value(str(seed))
    expect(page.locator("#tau .tau-box")).to_have_value(tau)
    expect(page.locator("#tau [data-tau-control]")).to_have_attribute("data-tau", tau)
    expect(page.locator("#heatmap [data-attention-matrix]")).to_have_attribute("data-tau", tau)
    expect(page.get_by_label("Show raw scores ω instead of weights α")).to_be_checked(checked=raw_scores)

    open_tables(page)
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
