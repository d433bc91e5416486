"""The attention matrix in a real browser (issue 11): Playwright driving Debian's Chromium.

Two kinds of test:
- against the launched app (``page`` / ``open_app`` from test_browser.py): hover, keyboard, live region, Enter,
  τ from the keyboard and the server's follow-up (follow_tau), the canvas at 40 and 256 tokens, dark mode and a
  phone-sized viewport, axe-core, tokens that look like HTML;
- against web/matrix.js alone, run the way Gradio runs js_on_load on a blank page (``harness``): the browser's
  float64 softmax against the server's float32 weights on random runs, and the events it fires.

Screenshots go to pytest's tmp_path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from pages import (
    BOOK_SENTENCE,
    TEXT,
    Browser,
    Locator,
    Page,
    below,
    book_matrices,
    expect,
    expect_matrix,
    expected_chips,
    grid,
    load_book_example,
    matrix_cell,
    open_embeddings,
    open_tables,
    recipe_embeddings,
    run_text,
    screenshot,
    textbox,
    url_params,
    visible_tokens,
)
from reference import unpacked

import attention_core as ac
from attention_core.parity import tolerance
from web.matrix import matrix_value

pytestmark = pytest.mark.slow

MATRIX = "#heatmap [data-attention-matrix]"
BOOK_TOKENS = visible_tokens(BOOK_SENTENCE)
FORTY_TOKEN_TEXT = (
    "The quick brown fox jumps over the lazy dog while the small cat sleeps on a warm mat near the old red "
    "barn and the farmer walks slowly to the big house by the river at dusk with his tired"
)
PHONE = {"width": 390, "height": 844}
SERIOUS = ("critical", "serious")


def live_text(page: Page) -> str:
    return page.locator(f"{MATRIX} [aria-live=polite]").inner_text()


NUMBER = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"


def last_unit(text: str) -> float:
    """The value of one unit in the last printed digit: "763.87" -> 0.01, "5.12e-5" -> 1e-7."""
    mantissa, _, power = text.partition("e")
    return 10.0 ** (int(power or 0) - len(mantissa.partition(".")[2]))


def expect_true_digits(text: str, exact: float, *, at_least_decimals: int = 0) -> None:
    """A printed number is within one unit of its last digit of the float64 value (only the last digit may be
    off, by one), and prints at least this many decimals."""
    assert abs(float(text) - exact) <= last_unit(text), (text, exact)
    assert last_unit(text) <= 10.0**-at_least_decimals * 1.0001, (text, at_least_decimals)


def float64_attention(inputs, tau: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores and weights in float64 from the (float32) inputs the page shows: the truth its digits are held to."""
    x = torch.as_tensor(inputs, dtype=torch.float32).double()  # (T, d)
    scores = x @ x.T  # (T, d) @ (d, T) -> (T, T)
    return scores, torch.softmax(scores / tau, dim=-1)


def expect_announced(live: Locator, tokens: list[str], inputs, row: int, col: int, *, tau: float = 1.0) -> None:
    """The live region names cell (row, col), 1-based, with its score and weight true to every printed digit but
    the last, and at least the book's 4 decimals (every run these tests announce has scores below 100)."""
    head = f"query {tokens[row - 1]} ({row}), key {tokens[col - 1]} ({col}): score "
    expect(live).to_have_text(re.compile("^" + re.escape(head)))
    match = re.fullmatch(re.escape(head) + NUMBER + ", weight " + NUMBER, live.inner_text())
    assert match, live.inner_text()
    scores, weights = float64_attention(inputs, tau)
    expect_true_digits(match[1], float(scores[row - 1, col - 1]), at_least_decimals=4)
    expect_true_digits(match[2], float(weights[row - 1, col - 1]), at_least_decimals=4)


def expect_tip(tip: Locator, inputs, row: int, col: int, *, tau: float = 1.0) -> None:
    """The tooltip's score and weight for cell (row, col), 1-based, true to every printed digit but the last."""
    expect(tip).to_be_visible()
    score, weight = tip.locator("dd").all_inner_texts()
    scores, weights = float64_attention(inputs, tau)
    expect_true_digits(score, float(scores[row - 1, col - 1]), at_least_decimals=4)
    expect_true_digits(weight, float(weights[row - 1, col - 1]), at_least_decimals=4)


def expect_labels_every_k_tokens(matrix, count: int) -> int:
    """The canvas labels token 1, 1 + k, 1 + 2k... on both axes, at least LABEL_SPACING_PX apart; returns k."""
    for axis in (".am-xl", ".am-yl"):
        positions = [int(text) for text in matrix.locator(f"{axis} .am-pos").all_inner_texts()]
        step = positions[1] - positions[0] if len(positions) > 1 else count
        assert positions == list(range(1, count + 1, step)), positions
    side = matrix.locator(".am-wrap").bounding_box()["width"]
    assert side / count * step >= 14, (side, count, step)
    return step


def seeded_inputs(text: str, *, dim: int = 3, seed: int = 123) -> list[list[float]]:
    """The (T, d) float32 inputs of a random run, from the notebook recipe."""
    return recipe_embeddings(text, dim=dim, seed=seed)


# --- against the app ---------------------------------------------------------------------------------


def test_hover_shows_the_cells_score_and_weight(page: Page):
    load_book_example(page)
    _, scores, weights = book_matrices()

    matrix_cell(page, 2, 3, count=6).hover()  # the book's ω_23 and α_23: "journey" attending to "starts"

    tip = page.locator(f"{MATRIX} .am-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("query ␣journey (2)")
    expect(tip).to_contain_text("key ␣starts (3)")
    expect(tip).to_contain_text("weight α at τ = 1")
    expect_tip(tip, book_matrices()[0], 2, 3)
    # The book prints 1.4754 and 0.2333: the tooltip keeps one more digit, each true.
    assert tip.locator("dd").all_inner_texts() == ["1.47540", "0.23327"]
    # Every cell shows its weight at 2 decimals; the weights table beside it holds the same run at 4, with row sums.
    expect(page.locator(f"{MATRIX} [role=gridcell]")).to_have_text([f"{w:.2f}" for row in weights for w in row])
    open_tables(page)
    table = grid(page, "weights-table")
    for i, row in enumerate(weights):
        cells = table.locator(f'[role=gridcell][data-testid^="cell-{i}-"]')
        expect(cells).to_have_text([str(i + 1), BOOK_TOKENS[i], "1.0000"] + [f"{w:.4f}" for w in row])


def test_arrow_keys_move_the_cursor_and_the_live_region_names_the_cell(page: Page):
    load_book_example(page)
    inputs, _, weights = book_matrices()
    matrix = page.locator(MATRIX)
    cells = matrix.locator("[role=grid]")
    live = matrix.locator("[aria-live=polite]")

    # One tab stop: from the scale switch, Tab lands on the matrix, with a visible focus ring.
    matrix.locator(".am-scale input").focus()
    page.keyboard.press("Tab")
    expect(cells).to_be_focused()
    assert cells.evaluate("g => g.matches(':focus-visible')")
    ring = matrix.locator(".am-scroll").evaluate(
        "s => [getComputedStyle(s).outlineStyle, getComputedStyle(s).outlineWidth]"
    )
    assert ring == ["solid", "3px"], ring
    expect(matrix.locator(".am-tip")).to_be_visible()  # focus explains the cursor cell too

    # The cursor starts where "Trace one cell" starts: query 2, key 1.
    expect_announced(live, BOOK_TOKENS, inputs, 2, 1)
    moves = [
        ("ArrowRight", 2, 2),
        ("ArrowRight", 2, 3),
        ("ArrowDown", 3, 3),
        ("ArrowUp", 2, 3),
        ("ArrowLeft", 2, 2),
        ("End", 2, 6),
        ("Home", 2, 1),
        ("PageDown", 6, 1),
        ("PageUp", 1, 1),
        ("ArrowUp", 1, 1),  # stays inside
        ("Control+End", 6, 6),
        ("ArrowRight", 6, 6),
    ]
    for key, row, col in moves:
        page.keyboard.press(key)
        expect_announced(live, BOOK_TOKENS, inputs, row, col)
        active = cells.get_attribute("aria-activedescendant")
        expect(matrix.locator(f"[id='{active}']")).to_have_class(re.compile(r"\bam-cursor\b"))
        assert matrix.locator(f"[id='{active}']").inner_text() == f"{weights[row - 1][col - 1]:.2f}", (key, row, col)
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert live_text(page) == "query ␣journey (2), key ␣journey (2): score 1.49500, weight 0.23789"


def test_enter_traces_the_cursor_cell(page: Page):
    load_book_example(page)
    inputs, scores, weights = book_matrices()
    page.locator(f"{MATRIX} [role=grid]").focus()
    for key in ["ArrowDown", "ArrowDown", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight"]:
        page.keyboard.press(key)  # from (2, 1) to (4, 5): " with" attending to " one"
    assert live_text(page).startswith("query ␣with (4), key ␣one (5):")

    page.keyboard.press("Enter")

    expect(page.get_by_label("query (row)")).to_have_value("4: ␣with")
    expect(page.get_by_label("key (column)")).to_have_value("5: ␣one")
    dot_line = " + ".join(f"{a:.4f}·{b:.4f}" for a, b in zip(inputs[3], inputs[4])) + f" = {scores[3][4]:.4f}"
    trace = page.locator("#trace")
    expect(trace).to_contain_text("Cell (4, 5)")
    expect(trace).to_contain_text(dot_line)
    expect(trace).to_contain_text(f"{weights[3][4]:.4f}")


def test_tau_from_the_keyboard_redraws_the_matrix_at_once_then_the_context_table(page: Page):
    load_book_example(page)
    x = torch.tensor(book_matrices()[0], dtype=torch.float64)  # (T, d) = (6, 3)
    tau = 0.1  # the logarithmic track's low end: Home on it (the box alone goes down to 0.05)
    sharp = torch.softmax(x @ x.T / tau, dim=-1)  # (T, T)
    open_tables(page)
    context_row_2 = page.locator('#context-table [role=gridcell][data-testid^="cell-1-"]')
    before = context_row_2.all_inner_texts()
    assert before[2:] == ["0.4419", "0.6515", "0.5683"]  # the book's z^(2)
    # Note what the context table shows at the moment the matrix repaints.
    page.evaluate(
        """matrix => {
            const root = document.querySelector(matrix);
            window.contextAtRepaint = null;
            new MutationObserver((_, observer) => {
                observer.disconnect();
                window.contextAtRepaint = Array.from(
                    document.querySelectorAll('#context-table [role=gridcell][data-testid^="cell-1-"]'),
                    cell => cell.innerText);
            }).observe(root, {attributes: true, attributeFilter: ["data-tau"]});
        }""",
        MATRIX,
    )

    page.locator("#tau .tau-track").focus()
    page.keyboard.press("Home")

    matrix = page.locator(MATRIX)
    expect(page.locator("#tau [data-tau-control]")).to_have_attribute("data-tau", "0.1")
    expect(page.locator("#tau .tau-box")).to_have_value("0.1")
    expect(matrix).to_have_attribute("data-tau", "0.1")
    assert page.evaluate("() => window.contextAtRepaint") == before  # drawn in the browser, before any reply
    expect(matrix.locator("[role=gridcell]")).to_have_text([f"{w:.2f}" for row in sharp.tolist() for w in row])
    expect(matrix.locator(".am-title")).to_contain_text("softmax(ω / 0.1)")
    # Then the server follows, with no mouse release: the context table and the address bar.
    expected = [f"{v:.4f}" for v in (sharp @ x)[1].tolist()]
    expect(context_row_2).to_have_text(before[:2] + expected)
    assert url_params(page)["tau"] == "0.1"
    matrix_cell(page, 2, 2, count=6).hover()
    expect(matrix.locator(".am-tip")).to_contain_text("weight α at τ = 0.1")
    expect_tip(matrix.locator(".am-tip"), book_matrices()[0], 2, 2, tau=tau)


def test_the_server_follows_tau_with_the_runs_own_inputs_and_keeps_the_chosen_cells(page: Page):
    """follow_tau recomputes the run on screen at the new τ: not what the controls now say (Run was not pressed),
    and the traced cell and the walked-through query stay where the reader put them."""
    load_book_example(page)
    x = torch.tensor(book_matrices()[0], dtype=torch.float64)  # (T, d) = (6, 3)
    sharp = torch.softmax(x @ x.T / 0.1, dim=-1)  # (T, T) at the track's low end
    matrix_cell(page, 5, 3, count=6).click()  # " one" attending to " starts"
    trace = page.locator("#trace")
    expect(trace).to_contain_text("Cell (5, 3)")
    open_tables(page)  # below the first screen: the walk-through, and the tables
    page.get_by_label("Query token").click()
    page.get_by_role("option", name="5: ␣one").click()
    walk = page.locator("#walkthrough")
    expect(walk.get_by_role("heading", name="Query 5:")).to_be_visible()
    # New text in the box, not run: the box's edit also switches the embeddings back to the random table.
    box = textbox(page, TEXT)
    box.fill("A different sentence")
    box.press_sequentially(" never run")  # typed: Gradio's input event fires on keystrokes, not on fill()
    open_embeddings(page)
    expect(page.get_by_role("radio", name="Seeded random table")).to_be_checked()

    page.locator("#tau .tau-track").focus()
    page.keyboard.press("Home")

    context_row_5 = page.locator('#context-table [role=gridcell][data-testid^="cell-4-"]')
    expect(context_row_5).to_have_text(["5", "␣one"] + [f"{v:.4f}" for v in (sharp @ x)[4].tolist()])
    expect(page.locator(f"{MATRIX} [role=rowheader] .am-tok")).to_have_text(BOOK_TOKENS)
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
    expect(trace).to_contain_text("Cell (5, 3)")
    expect(trace).to_contain_text(f"{sharp[4][2]:.4f}")  # α_53 at τ = 0.1 (0.1988 at τ = 1)
    expect(page.get_by_label("query (row)")).to_have_value("5: ␣one")
    expect(page.get_by_label("key (column)")).to_have_value("3: ␣starts")
    expect(walk.get_by_role("heading", name="Query 5:")).to_be_visible()
    for value in (sharp @ x)[4].tolist():  # z^(5) at τ = 0.05 ends the walk-through's step 4
        expect(walk).to_contain_text(f"{value:.4f}")
    weights_row_5 = page.locator('#weights-table [role=gridcell][data-testid^="cell-4-"]')
    expect(weights_row_5).to_contain_text(["5", "␣one", "1.0000"] + [f"{w:.4f}" for w in sharp[4].tolist()[:4]])


def test_the_raw_scores_switch_and_the_fixed_scale_redraw_in_the_browser(page: Page):
    load_book_example(page)
    _, scores, weights = book_matrices()
    low, high = min(map(min, weights)), max(map(max, weights))
    matrix = page.locator(MATRIX)
    ticks = matrix.locator(".am-ticks span")
    expect(ticks).to_have_text([f"{v:.2f}" for v in (low, (low + high) / 2, high)])  # this run's range

    matrix.locator(".am-scale input").check()
    expect(ticks).to_have_text(["0.00", "0.50", "1.00"])
    page.get_by_label("Show raw scores ω instead of weights α").check()

    expect(matrix).to_have_attribute("data-view", "scores")
    expect(matrix.locator("[role=gridcell]")).to_have_text([f"{s:.2f}" for row in scores for s in row])
    expect(matrix.locator(".am-scale input")).to_be_disabled()  # scores have no fixed range
    expect(matrix.locator(".am-title")).to_contain_text("Attention scores ω")
    assert url_params(page)["show"] == "scores"


def hover_canvas_cell(page: Page, matrix: Locator, row: int, column: int, *, count: int) -> Locator:
    """Move the mouse to the centre of cell (row, column), 1-based, of a canvas matrix of count tokens; its tooltip."""
    wrap = matrix.locator(".am-wrap")
    wrap.scroll_into_view_if_needed()
    box = wrap.bounding_box()
    side = box["width"] / count
    page.mouse.move(box["x"] + (column - 0.5) * side, box["y"] + (row - 0.5) * side)
    return matrix.locator(".am-tip")


def test_more_than_32_tokens_draw_a_canvas_that_answers_hover_and_keys(page: Page, tmp_path: Path):
    run_text(page, FORTY_TOKEN_TEXT)
    tokens = visible_tokens(FORTY_TOKEN_TEXT)
    count = len(tokens)
    assert count == 40
    matrix = page.locator(MATRIX)
    expect(matrix).to_have_attribute("data-version", "2")
    canvas = matrix.locator("canvas")
    assert canvas.evaluate("c => [c.width, c.height, getComputedStyle(c).imageRendering]") == [40, 40, "pixelated"]
    expect_labels_every_k_tokens(matrix, count)
    inputs = seeded_inputs(FORTY_TOKEN_TEXT)

    row, col = 18, 4
    tip = hover_canvas_cell(page, matrix, row, col, count=count)
    expect(tip).to_contain_text(f"query {tokens[row - 1]} ({row})")
    expect(tip).to_contain_text(f"key {tokens[col - 1]} ({col})")
    expect_tip(tip, inputs, row, col)

    matrix.locator("[role=grid]").focus()
    page.keyboard.press("PageDown")
    expect_announced(matrix.locator("[aria-live=polite]"), tokens, inputs, 40, 1)
    # The virtual grid names the cursor cell for a screen reader: its row and column in the 41 × 41 grid.
    cell = matrix.locator("[role=gridcell]")
    expect(cell).to_have_attribute("aria-colindex", "2")
    expect(matrix.locator("[role=row]").last).to_have_attribute("aria-rowindex", "41")
    screenshot(page, tmp_path, "matrix-canvas.png", region=[page.locator("#heatmap")])


def test_256_tokens_draw_one_pixel_per_cell_and_hover_reads_the_run(page: Page, tmp_path: Path):
    """The largest run the app takes: T² = 65,536 cells through Gradio as packed floats, drawn on a canvas."""
    text = text_of(256)
    run_text(page, text)
    matrix = page.locator(MATRIX)
    expect(matrix).to_have_attribute("data-version", "2")
    expect(matrix.locator(".am-yl .am-tok").first).to_have_text(visible_tokens(text)[0])
    canvas = matrix.locator("canvas")
    assert canvas.evaluate("c => [c.width, c.height, getComputedStyle(c).imageRendering]") == [256, 256, "pixelated"]
    assert expect_labels_every_k_tokens(matrix, 256) > 1
    tokens = visible_tokens(text)

    row, col = 200, 37
    tip = hover_canvas_cell(page, matrix, row, col, count=256)
    expect(tip).to_contain_text(f"query {tokens[row - 1]} ({row})")
    expect(tip).to_contain_text(f"key {tokens[col - 1]} ({col})")
    expect(tip).to_contain_text("weight α at τ = 1")
    expect_tip(tip, seeded_inputs(text), row, col)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    screenshot(page, tmp_path, "matrix-256.png", region=[page.locator("#heatmap")])


def test_tokens_that_look_like_html_stay_text(page: Page):
    text = '<img src=x onerror="window.pwned=1"> <b>bold</b>'
    run_text(page, text)
    matrix = expect_matrix(page, text)
    assert matrix.locator("img, b").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert "<" in visible_tokens(text) and "img" in visible_tokens(text)  # shown above as text, piece by piece


CONTRAST_JS = """root => {
    const rgb = text => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => [r, g, b]
        .map(c => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4))
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (a, b) => {
        const [hi, lo] = [luminance(rgb(a)), luminance(rgb(b))].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
    };
    const cells = Array.from(root.querySelectorAll('[role=gridcell]'), cell => {
        const style = getComputedStyle(cell);
        return {ratio: ratio(style.color, style.backgroundColor), px: parseFloat(style.fontSize)};
    });
    const header = getComputedStyle(root.querySelector('[role=rowheader]'));
    const scroller = root.querySelector('.am-scroll');
    return {
        cells,
        headerRatio: ratio(header.color, header.backgroundColor),
        headerPx: parseFloat(header.fontSize),
        overflow: scroller.scrollWidth - scroller.clientWidth,
        width: root.getBoundingClientRect().width,
    };
}"""


@pytest.mark.parametrize(
    "theme, viewport", [("dark", None), ("dark", PHONE), ("light", PHONE)], ids=["dark", "dark-390px", "light-390px"]
)
def test_dark_mode_and_a_phone_render_the_matrix_legibly(
    open_app: Callable[..., Page], tmp_path: Path, theme, viewport
):
    query = "?__theme=dark" if theme == "dark" else ""
    page = open_app(query, viewport=viewport) if viewport else open_app(query)
    matrix = expect_matrix(page, BOOK_SENTENCE)
    if theme == "dark":
        assert page.evaluate("() => document.querySelector('.dark') !== null")
    measured = matrix.evaluate(CONTRAST_JS)
    assert min(cell["ratio"] for cell in measured["cells"]) >= 4.5, measured["cells"]  # WCAG AA for text
    assert min(cell["px"] for cell in measured["cells"]) >= 12
    assert measured["headerRatio"] >= 4.5 and measured["headerPx"] >= 12, measured
    if viewport:
        assert measured["overflow"] <= 0, measured  # all six columns fit a 390 px phone
        assert measured["width"] <= PHONE["width"]
    matrix_cell(page, 2, 3, count=6).hover()
    tip = page.locator(f"{MATRIX} .am-tip")
    expect(tip).to_be_visible()
    tip_box, viewport_width = tip.bounding_box(), page.viewport_size["width"]
    assert tip_box["x"] >= 0 and tip_box["x"] + tip_box["width"] <= viewport_width, tip_box
    page.evaluate("() => document.fonts.ready.then(() => true)")  # (a phone leaves images below the fold unloaded)
    name = f"matrix-{theme}" + ("-390px" if viewport else "") + ".png"
    screenshot(page, tmp_path, name, region=[page.locator("#heatmap")])


def axe_serious(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context="#heatmap")
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def test_axe_finds_no_serious_violation_in_the_matrix(page: Page):
    load_book_example(page)
    assert axe_serious(page) == []
    page.locator(f"{MATRIX} [role=grid]").focus()  # the cursor and the live region in use
    page.keyboard.press("ArrowRight")
    # Escape hides the tooltip: axe would measure a cell's text under it against the tooltip's background.
    page.keyboard.press("Escape")
    page.locator(f"{MATRIX} details summary").click()
    assert axe_serious(page) == []
    run_text(page, FORTY_TOKEN_TEXT)  # the canvas and its virtual grid
    expect(page.locator(MATRIX)).to_have_attribute("data-version", "2")
    page.locator(f"{MATRIX} [role=grid]").focus()
    page.keyboard.press("Escape")  # as above: the tooltip that focus shows would cover cells
    expect(page.locator(f"{MATRIX} .am-tip")).to_be_hidden()
    assert axe_serious(page) == []


# --- web/matrix.js alone, as Gradio runs it -----------------------------------------------------------

HARNESS_JS = """([code, value, selectable]) => {
    const host = document.getElementById('host');
    host.replaceChildren();
    const root = document.createElement('div');
    root.className = 'am';
    root.setAttribute('data-attention-matrix', '');
    host.append(root);
    window.events = [];
    window.watchers = [];
    const props = {value, selectable};
    new Function('element', 'trigger', 'props', 'server', 'upload', 'watch', code)(
        host, (name, data) => window.events.push([name, data]), props, {}, null,
        (_names, callback) => window.watchers.push(callback));
    window.props = props;
}"""


@pytest.fixture(scope="module")
def harness(browser: Browser) -> Iterator[Callable[..., Page]]:
    """A blank page that runs web/matrix.js on a value, the way gr.HTML runs js_on_load."""
    from web import matrix as web_matrix

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content(f"<style>#host {{ {web_matrix.MATRIX_CSS} }}</style><div id='host'></div>")

    def load(value: dict, *, selectable: bool = True) -> Page:
        page.evaluate(HARNESS_JS, [web_matrix.MATRIX_JS, value, selectable])
        return page

    try:
        yield load
        assert errors == []
    finally:
        context.close()


def text_of(count: int) -> str:
    words = [
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        "and",
        "then",
        "it",
        "saw",
        "one",
        "dog",
        "run",
        "to",
        "its",
        "big",
        "red",
        "ball",
        "by",
        "an",
        "old",
        "tree",
    ]
    text = "The" + "".join(" " + words[i % len(words)] for i in range(count - 1))
    assert len(ac.tokenize(text).ids) == count
    return text


RANDOM_RUNS = [(6, 3, 0), (13, 16, 1), (40, 768, 2), (256, 64, 3)]
TAUS = [0.05, 0.3, 1.0, 1.7320508, 7.0, 50.0]


@pytest.mark.parametrize("count, dim, seed", RANDOM_RUNS, ids=[f"T={t}-d={d}-seed={s}" for t, d, s in RANDOM_RUNS])
def test_the_browsers_softmax_agrees_with_the_servers_float32_weights(harness, count, dim, seed):
    """softmax(ω / τ) in float64 JavaScript, from the scores the page receives, against attention_core's float32."""
    run = ac.attend(text_of(count), dim=dim, seed=seed)
    value = matrix_value(run.tokens, run.ids, run.attention)
    page = harness({**value, "weights": None})  # no weights from the server: the browser computes every τ
    worst = 0.0
    for tau in TAUS:
        ours = torch.tensor(
            page.evaluate(f"() => document.querySelector('[data-attention-matrix]').attentionMatrix.weightsAt({tau})"),
            dtype=torch.float64,
        )
        server = ac.attention_weights(run.attention.scores, temperature=tau).double()  # what app.py sends
        difference = float((ours - server).abs().max())
        worst = max(worst, difference)
        assert difference < tolerance(4), (tau, difference)  # the same numbers to 4 decimals
        torch.testing.assert_close(ours.sum(dim=-1), torch.ones(count, dtype=torch.float64))
    assert worst < 2e-6, worst  # in fact float32 rounding


def test_a_256_token_matrix_labels_every_kth_token(harness):
    run = ac.attend(text_of(256), dim=8, seed=0)
    page = harness(matrix_value(run.tokens, run.ids, run.attention))
    matrix = page.locator("[data-attention-matrix]")
    assert matrix.locator("canvas").evaluate("c => [c.width, c.height]") == [256, 256]
    assert expect_labels_every_k_tokens(matrix, 256) > 1


def test_the_server_weights_are_shown_at_the_runs_tau_and_events_reach_python(harness):
    run = ac.attend(BOOK_SENTENCE, dim=3, seed=123, temperature=2.0)
    value = matrix_value(run.tokens, run.ids, run.attention)
    page = harness(value)
    api = "document.querySelector('[data-attention-matrix]').attentionMatrix"
    weights = unpacked(value["weights"])
    assert page.evaluate(f"() => {api}.weightsAt(2)") == weights  # exactly the server's numbers
    cells = page.locator("[role=gridcell]")
    expect(cells).to_have_text([f"{w:.2f}" for row in weights for w in row])

    page.locator("[role=grid]").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.events") == [
        ["select", {"index": [1, 1], "value": weights[1][1], "selected": True}]
    ]
    page.evaluate(f"() => {{ window.events = []; {api}.setTau(0.5); {api}.setTau(0.75); }}")
    expect(page.locator("[data-attention-matrix]")).to_have_attribute("data-tau", "0.75")
    assert page.evaluate("() => window.events") == []  # not yet: the slider may still be moving
    page.wait_for_function("() => window.events.length > 0", timeout=2_000)
    assert page.evaluate("() => window.events") == [["tau_settled", {"tau": 0.75}]]  # once, for the last τ

    static = harness(value, selectable=False)
    static.locator("[role=gridcell]").nth(7).click()
    assert static.evaluate("() => window.events") == []
    assert "Enter traces" not in static.locator(".am-sr").first.inner_text()


def test_a_new_value_keeps_a_tau_the_server_has_not_heard_of(harness):
    """A run that was already on its way when the slider moved must not undo the move."""
    run = ac.attend(BOOK_SENTENCE, dim=3, seed=123)
    value = matrix_value(run.tokens, run.ids, run.attention)
    page = harness(value)
    api = "document.querySelector('[data-attention-matrix]').attentionMatrix"
    page.evaluate(f"() => {api}.setTau(3)")
    page.evaluate(
        "value => { window.props.value = value; window.watchers.forEach(f => f()); }", {**value, "caption": "late"}
    )
    root = page.locator("[data-attention-matrix]")
    expect(root).to_have_attribute("data-version", "2")
    expect(root).to_have_attribute("data-tau", "3")
    page.wait_for_function("() => window.events.some(([name]) => name === 'tau_settled')", timeout=2_000)
    page.evaluate("value => { window.props.value = value; window.watchers.forEach(f => f()); }", value)
    expect(root).to_have_attribute("data-tau", "1")  # after the hand-over, the server's values rule again


def test_tokens_are_set_as_text_in_the_harness_too(harness):
    value = {
        "tokens": ["<img src=x onerror=window.pwned=1>", "${alert(1)}", "&amp;"],
        "ids": None,
        "scores": "1 0 0 0 1 0 0 0 1",
        "weights": None,
        "tau": 1,
        "view": "weights",
    }
    page = harness(value)
    assert page.locator("#host img").count() == 0
    expect(page.locator("[role=rowheader] .am-tok")).to_have_text(value["tokens"])
    assert page.evaluate("() => window.pwned") is None
    assert math.isclose(float(page.locator("[role=gridcell]").first.inner_text()), 0.58, abs_tol=0.005)


# Walks the cursor over every cell with the keyboard and collects, for each, the live region's text and the
# tooltip's two numbers (the grid has focus, so the tooltip explains the cursor cell).
EVERY_CELL_JS = """count => {
    const root = document.querySelector('[data-attention-matrix]');
    const grid = root.querySelector('[role=grid]');
    const press = (key, ctrlKey = false) => grid.dispatchEvent(new KeyboardEvent('keydown', {key, ctrlKey}));
    grid.focus();
    press('Home', true);
    const seen = [];
    for (let r = 0; r < count; r++) {
        for (let c = 0; c < count; c++) {
            seen.push([root.querySelector('[aria-live=polite]').textContent,
                       Array.from(root.querySelectorAll('.am-tip dd'), dd => dd.textContent)]);
            press('ArrowRight');
        }
        press('Home');
        press('ArrowDown');
    }
    return seen;
}"""


def test_tooltip_and_live_region_print_only_the_digits_float32_supports_at_d_768(harness):
    """At d = 768 a score such as 763.86981 (float64) was printed 763.8699 from float32 noise: every number of all
    1,600 cells of a 40-token run is now within one unit of its last digit of the float64 value."""
    run = ac.attend(FORTY_TOKEN_TEXT, dim=768, seed=2)
    page = harness(matrix_value(run.tokens, run.ids, run.attention))
    scores, weights = float64_attention(run.attention.inputs)  # (T, T) each, float64 from the float32 inputs
    count = len(run.tokens)
    seen = page.evaluate(EVERY_CELL_JS, count)
    assert len(seen) == count * count
    last_digit_off = 0
    for index, (live, (score, weight)) in enumerate(seen):
        r, c = divmod(index, count)
        assert live.endswith(f"({c + 1}): score {score}, weight {weight}"), (live, score, weight)
        assert len(score.split(".")[1]) == 2, score  # largest |ω| ≈ 860: scores carry 2 decimals here
        for text, exact in ((score, float(scores[r, c])), (weight, float(weights[r, c]))):
            expect_true_digits(text, exact)
            mantissa = text.partition("e")[0].lstrip("-0.").replace(".", "")
            assert len(mantissa) <= 7, text  # never more digits than a float32 carries
        last_digit_off += round(float(score) * 100) != round(float(scores[r, c]) * 100)
    # Rounding a value off by ε flips its last digit with probability about ε / unit: rare with 2 decimals.
    assert last_digit_off <= count * count // 50, last_digit_off


def scroll_past_the_first_rows(page: Page, target: Locator) -> None:
    """Scroll the page (and the matrix sideways) so that the target cell is in view and the matrix's first rows
    are not: the cursor that a run leaves on (2, 1) is out of view."""
    target.evaluate(
        """cell => {
            const scroller = cell.closest('.am-scroll');
            scroller.scrollLeft = scroller.scrollWidth;
            const top = cell.closest('[role=grid]').getBoundingClientRect().top + scrollY;
            const box = cell.getBoundingClientRect();
            window.scrollTo(0, box.top + scrollY - innerHeight / 2);
            if (top >= scrollY) throw new Error('the first rows are still in view');
        }"""
    )


CLICKS = [("desktop", 24), ("desktop", 40), ("phone", 24), ("phone", 40)]


@pytest.mark.parametrize("device, count", CLICKS, ids=[f"{d}-{t}-tokens" for d, t in CLICKS])
def test_a_click_or_tap_traces_the_cell_under_it_and_the_page_stays(browser: Browser, server_url: str, device, count):
    """Issue 20: a press used to focus the grid, whose focus handler scrolled the old cursor into view before the
    click read its target: the page jumped and the trace showed another cell."""
    phone = device == "phone"
    context = browser.new_context(viewport=PHONE if phone else {"width": 1280, "height": 800}, has_touch=phone)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server_url)
        expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
        text = text_of(count)
        run_text(page, text)
        matrix = page.locator(MATRIX)
        expect(matrix.locator(".am-yl .am-tok, [role=rowheader] .am-tok").first).to_have_text("The")
        expect(matrix).to_have_attribute("data-version", "2")
        row, col = count - 2, count - 1
        if count <= 32:
            target = matrix_cell(page, row, col, count=count)
            scroll_past_the_first_rows(page, target)
            box = target.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        else:
            wrap = matrix.locator(".am-wrap")
            # the target row 60 px below the viewport's top, so that the first rows are above it
            wrap.evaluate(
                "(w, [row, count]) => { const b = w.getBoundingClientRect();"
                " scrollTo(0, b.top + scrollY + ((row - 0.5) / count) * b.height - 60); }",
                [row, count],
            )
            box = wrap.bounding_box()
            side = box["width"] / count
            x, y = box["x"] + (col - 0.5) * side, box["y"] + (row - 0.5) * side
            assert box["y"] < 0, box  # the first rows are above the viewport
        before = page.evaluate("() => scrollY")

        if phone:
            page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)

        expect(page.locator("#trace")).to_contain_text(f"Cell ({row}, {col})")
        tokens = visible_tokens(text)
        moved = abs(page.evaluate("() => scrollY") - before)
        assert moved <= 60, moved
        assert live_text(page).startswith(f"query {tokens[row - 1]} ({row}), key {tokens[col - 1]} ({col}):")
        assert errors == []
    finally:
        context.close()


# Every element of the matrix with text of its own, visible: its font size in CSS pixels.
TEXT_SIZES_JS = """root => Array.from(root.querySelectorAll('*'))
    .filter(e => e.getClientRects().length && !e.closest('.am-sr, [hidden]')
                 && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => [e.className || e.tagName, e.textContent.slice(0, 20), parseFloat(getComputedStyle(e).fontSize)])"""

# With the matrix scrolled sideways: what lies under points just left of, on and just right of a row header, and
# under the corner; and the frozen parts' backgrounds.
FROZEN_JS = """root => {
    root.querySelector('[role=grid]').scrollIntoView({block: 'start'});
    const scroller = root.querySelector('.am-scroll');
    scroller.scrollLeft = 150;
    const header = root.querySelectorAll('[role=rowheader]')[4].getBoundingClientRect();
    const corner = root.querySelector('.am-corner');
    const box = corner.getBoundingClientRect();
    const scrollerBox = scroller.getBoundingClientRect();
    const y = header.top + header.height / 2;
    const at = (x, y) => document.elementFromPoint(x, y);
    const what = e => (e.closest('.am-corner') ? 'corner' : e.closest('.am-ch') ? 'column label'
                       : e.closest('[role=rowheader], [role=gridcell]')?.getAttribute('role') ?? e.className);
    return {
        scrolled: scroller.scrollLeft,
        padding: what(at(scrollerBox.left + 2, y)),
        corner: [0.1, 0.5, 0.9].map(f => what(at(box.left + f * box.width, box.top + f * box.height))),
        backgrounds: [getComputedStyle(root.querySelector('[role=rowheader]')).backgroundColor,
                      getComputedStyle(corner).backgroundColor],
        names: Array.from(root.querySelectorAll('[role=rowheader]'), e => e.textContent).slice(0, 2),
    };
}"""


@pytest.mark.parametrize("width", [1280, 390], ids=["1280px", "390px"])
def test_matrix_text_is_at_least_12px_and_frozen_labels_hide_what_scrolls_under_them(
    open_app: Callable[..., Page], tmp_path: Path, width
):
    page = open_app(viewport={"width": width, "height": 900})
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
    text = text_of(24)
    run_text(page, text)
    matrix = expect_matrix(page, text)
    sizes = matrix.evaluate(TEXT_SIZES_JS)
    assert {name for name, _, _ in sizes} >= {"am-cell", "am-pos", "am-tok", "am-title"}, sizes
    assert [entry for entry in sizes if entry[2] < 12] == [], sizes

    frozen = matrix.evaluate(FROZEN_JS)
    assert frozen["scrolled"] > 0, frozen
    # Nothing scrolled shows through left of the frozen labels (the scroller's padding); the 1px gap right of them
    # is painted over by their shadow (the screenshot shows it: hit-testing ignores shadows).
    assert frozen["padding"] == "rowheader", frozen
    assert frozen["corner"] == ["corner"] * 3, frozen  # column labels pass under the corner, not over it
    assert all(re.fullmatch(r"rgb\(\d+, \d+, \d+\)", colour) for colour in frozen["backgrounds"]), frozen  # opaque
    tokens = visible_tokens(text)
    assert frozen["names"] == [f"1 {tokens[0]}", f"2 {tokens[1]}"]  # read "1 The", not "1The"
    screenshot(page, tmp_path, f"matrix-scrolled-{width}px.png", region=[page.locator("#heatmap")])


def test_tau_on_the_default_run_reaches_the_address_bar(page: Page):
    """The default run comes with the page (no round trip writes its link): a τ chosen on it must still be in the
    address bar, with the run's own settings, so that the link reproduces what is on screen."""
    below(page)  # shown by the load event, which also hands the server the default run's state
    page.locator("#tau").get_by_role("button", name="τ = 2", exact=True).click()
    expect(page.locator(MATRIX)).to_have_attribute("data-tau", "2")
    page.wait_for_function("() => new URLSearchParams(location.search).get('tau') === '2'")
    assert url_params(page) == {"text": BOOK_SENTENCE, "dim": "3", "seed": "123", "tau": "2", "show": "weights"}
