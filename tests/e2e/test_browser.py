"""The app in a real browser: Playwright driving Debian's Chromium against a launched server.

Playwright never downloads a browser here: it launches the system Chromium (``apt-get install chromium``).
Without it these tests are skipped, unless REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
The tests save screenshots to pytest's tmp_path; ``python scripts/screenshots.py`` redraws the README's pictures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pages import (
    BOOK_SENTENCE,
    TEXT,
    WEIGHTS_2,
    Page,
    book_dot_line,
    book_matrices,
    column_titles,
    expect,
    expect_context_table,
    expect_matrix,
    expect_restored,
    expect_settings_in_url,
    expected_chips,
    grid,
    load_book_example,
    matrix_cell,
    open_accordion,
    open_box,
    open_embeddings,
    recipe_embeddings,
    run_text,
    screenshot,
    textbox,
    url_params,
    visible_tokens,
    wait_until_settled,
)
from reference import CAT_SENTENCE

from attention_core import tokenize, visible_token

pytestmark = pytest.mark.slow

# --- tests -------------------------------------------------------------------------------------


def test_first_run_shows_tokens_heatmap_and_context(page: Page):
    expect(page.locator(".tok-count")).to_have_text("6 tokens:")
    expect_matrix(page, BOOK_SENTENCE)
    expect_context_table(page, BOOK_SENTENCE)
    expect(grid(page, "inputs-table")).to_have_attribute("aria-rowcount", "7")


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
    # The first screen: the form, the chips, the matrix with one cell's tooltip, and the trace beside it (the
    # tooltip must stay where the mouse left it).
    page.evaluate("() => window.scrollTo(0, 0)")
    matrix_cell(page, 8, 4, count=10).hover()  # " it" attending to " on"
    expect(page.locator("#heatmap .am-tip")).to_contain_text("weight α")
    screenshot(
        page,
        tmp_path,
        "screenshot.png",
        full_page=False,
        region=[page.locator("h1").first, page.locator("#first-screen")],
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
    # The stored values exactly (each is a float32 integer); their sum to float32's 6 significant digits.
    expect(value_cells).to_have_text(["1", "2", "3", "400", "sum: 406.000"])
    row = 3  # the row of 400
    expect(table.locator(f'[data-testid="cell-{row}-{naive}"]')).to_have_text("NaN")
    expect(table.locator(f'[data-testid="cell-{row}-{stable}"]')).to_have_text("1.0000")
    expect(page.get_by_text("overflows float32")).to_be_visible()

    wait_until_settled(page)
    screenshot(page, tmp_path, "lab.png")


# --- shared links, the book's example, tracing, facts, exports ---------------------------------

SHARED_TEXT = "the cat and the hat"
SHARED_LINK = "?text=the+cat+and+the+hat&dim=4&seed=7&tau=2&show=scores"
OLD_LINK = SHARED_LINK.replace("&show=", "&view=")  # links written before show= replaced view=
SHARED_SETTINGS = {"dim": "4", "seed": "7", "tau": "2", "show": "scores"}
NEXT_TEXT = "A dog chased the ball across the park"
# The trace of the book's cell (2, 1), the one the book works out: ω_21 and α_21.
BOOK_DOT_LINE = book_dot_line(1, 0)
BOOK_ALPHA_21 = f"{WEIGHTS_2[0]:.4f}"
# A link's warnings come with the restored settings, before the run: once the chips are there, a toast
# that has not appeared within this long never will. (Toasts stay 10 s, so a present one is found at once.)
TOAST_WAIT_MS = 2_000


@pytest.mark.parametrize("link", [SHARED_LINK, OLD_LINK], ids=["show", "old-view"])
def test_a_shared_link_restores_the_run_and_follows_the_next_one(open_app: Callable[[str], Page], link: str):
    page = open_app(link)
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
    examples = open_box(page, "examples-box")
    examples.get_by_role("button", name=CAT_SENTENCE, exact=True).click()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(CAT_SENTENCE))
    expect(textbox(page, TEXT)).to_have_value(CAT_SENTENCE)
    open_embeddings(page)
    expect(page.get_by_role("radio", name="Seeded random table")).to_be_checked()
    expect_context_table(page, CAT_SENTENCE)


@pytest.mark.parametrize("link", [SHARED_LINK, OLD_LINK], ids=["show", "old-view"])
def test_a_scores_link_opens_without_an_error(open_app: Callable[[str], Page], link: str):
    page = open_app(link)
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(SHARED_TEXT))
    expect(page.locator("#trace")).to_contain_text("Cell (2, 1)")
    expect(page.locator("#heatmap [data-attention-matrix]")).to_have_attribute("data-view", "scores")
    expect(page.locator("#walkthrough")).to_contain_text("Query 2")  # the whole chain has run
    # Checked once, not retried: a toast goes away by itself after 10 s.
    toasts = page.get_by_test_id("toast-body").all_inner_texts()
    assert toasts == [], toasts


def test_the_book_example_matches_every_printed_number(page: Page, tmp_path: Path):
    from attention_core import book_parity

    load_book_example(page)

    open_embeddings(page)
    expect(page.get_by_role("radio", name="My own table")).to_be_checked()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
    expect(page.locator(".tok-count")).to_have_text("6 tokens:")
    expect(page.locator("#trace")).to_contain_text(BOOK_ALPHA_21)
    # τ is back to the book's 1; dim and seed are not in the link: they do not apply to a table.
    book_link = {"text": BOOK_SENTENCE, "tau": "1", "show": "weights", "table": "book"}
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
    # The matrix with the trace beside it, on the first screen.
    region = [page.locator("#heatmap"), page.locator("#trace-column")]
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
