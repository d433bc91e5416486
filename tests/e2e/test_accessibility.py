"""Everyone can use the whole page (issue 12): axe-core, the keyboard alone, a phone, a tablet and dark mode.

Playwright drives Debian's Chromium against the launched app (the fixtures of test_browser.py). axe-core runs on
sixteen states (the first screen as it opens, a refused run, the main tab with every accordion open, and the lab,
each in light and dark mode, at 1280 px and 390 px) and must find no critical or serious violation beyond those the
README lists as Gradio's own. Screenshots go to pytest's tmp_path (scripts/screenshots.py draws the README's
docs/phone.png).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pages import (
    BOOK_SENTENCE,
    TEXT,
    Browser,
    Locator,
    Page,
    below,
    expect,
    expected_chips,
    open_embeddings,
    open_tab,
    open_tables,
    textbox,
)

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTES = REPO_ROOT / "README.md"  # its section "Accessibility", subsection "Known violations"
TIMEOUT_MS = 30_000
DESKTOP, TABLET, PHONE = 1280, 768, 390
SERIOUS = ("critical", "serious")
CAT = "The cat sat on the mat"


# --- opening the page in a given size and theme ---------------------------------------------------------------


@pytest.fixture
def open_page(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """Opens the app at a width and in a theme, after its first run; fails the test on any JavaScript error."""
    contexts, errors = [], []
    expect.set_options(timeout=TIMEOUT_MS)

    def open_at(width: int = DESKTOP, theme: str = "light", *, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server_url + ("?__theme=dark" if theme == "dark" else ""))
        expect(page.locator(".tok-chip")).to_have_text(expected_chips(BOOK_SENTENCE))
        return page

    try:
        yield open_at
        assert errors == [], f"JavaScript errors in the page: {errors}"
    finally:
        for context in contexts:
            context.close()


def settled(page: Page) -> None:
    """Every status tracker idle, the fonts loaded, no hover: ready for axe or a screenshot."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="status-tracker"]'))
                      .every(tracker => tracker.classList.contains('hide') || tracker.offsetParent === null)"""
    )
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)  # a frame for web/a11y.js's tab stops, and for CSS transitions


def open_every_accordion(page: Page) -> None:
    below(page)  # shown by the load event: its accordions are not on the page before
    for _ in range(20):
        closed = page.locator("button.label-wrap:not(.open)")
        if closed.count() == 0:
            break
        closed.first.click()
    expect(page.locator("button.label-wrap:not(.open)")).to_have_count(0)


def everything_open(page: Page) -> None:
    """The book's example, then every accordion and every <details> open, with their contents drawn."""
    page.get_by_role("button", name="Load the book's example").click()
    expect(page.locator("#trace")).to_contain_text("Cell (2, 1)")
    open_every_accordion(page)
    expect(page.locator("#parity")).to_contain_text("printed numbers match")
    expect(page.locator("#fig-hull svg")).to_be_visible()
    expect(page.locator("#fig-bars svg")).to_be_visible()
    expect(page.get_by_text("Does a token attend mostly to itself?")).to_be_visible()
    expect(page.get_by_text("times, interleaved")).to_be_visible()
    page.evaluate("() => document.querySelectorAll('details').forEach(details => { details.open = true; })")
    settled(page)


def first_screen(page: Page) -> None:
    """The page as it opens: the default run's first view, everything folded, and #below shown."""
    below(page)
    settled(page)


def refused(page: Page) -> None:
    """A refused Run (empty text), its reason where the tokens were, then every accordion open on the empty run."""
    below(page)
    textbox(page, TEXT).fill("")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#tokens .run-refused")).to_contain_text("Not run. The text is empty")
    open_every_accordion(page)
    settled(page)
    expect(page.get_by_test_id("toast-body").filter(has_text="The text is empty")).to_be_visible()  # axe sees it


def lab(page: Page) -> None:
    open_tab(page, "Normalization lab")  # in the "More tabs" menu on a phone
    expect(page.locator("#fig-lab svg")).to_be_visible()
    settled(page)


def shot(page: Page, tmp_path: Path, name: str, *, full_page: bool = True, clip: dict | None = None) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full_page, clip=clip)
    assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 10_000, path
    return path


# --- axe-core on the eight states ------------------------------------------------------------------------------


def documented_violations() -> set[tuple[str, str]]:
    """The (axe rule id, Gradio component) pairs the README lists as only Gradio can fix.

    The list is the bullets of its section "Known violations"; a bullet reads "- `rule-id` in `Component`: why".
    """
    text = NOTES.read_text(encoding="utf-8")
    section = text.split("## Known violations", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([a-z0-9-]+)` in `([A-Za-z.]+)`", section, flags=re.M))


def serious_violations(page: Page) -> dict[str, list[str]]:
    return serious_violations_in(page, None)


def serious_violations_in(page: Page, context: str | None) -> dict[str, list[str]]:
    """axe-core's critical and serious violations in the page (or in the ``context`` selector): rule id -> nodes."""
    from axe_playwright_python.sync_playwright import Axe

    found: dict[str, list[str]] = {}
    for violation in Axe().run(page, context=context).response["violations"]:
        if violation["impact"] in SERIOUS:
            found[violation["id"]] = [f"{node['target']}: {node['html'][:160]}" for node in violation["nodes"]]
    return found


# The page as it opens, a refused run, the main tab with everything open, and the lab.
SHOWN = {"first": first_screen, "refused": refused, "main": everything_open, "lab": lab}
STATES = [(tab, theme, width) for width in (DESKTOP, PHONE) for theme in ("light", "dark") for tab in SHOWN]


@pytest.mark.parametrize(("tab", "theme", "width"), STATES, ids=[f"{t}-{th}-{w}" for t, th, w in STATES])
def test_axe_finds_no_serious_violation(open_page, tab: str, theme: str, width: int):
    page = open_page(width, theme)
    SHOWN[tab](page)
    found = serious_violations(page)
    allowed = {rule for rule, _ in documented_violations()}
    assert set(found) <= allowed, {rule: nodes for rule, nodes in found.items() if rule not in allowed}


def test_the_notes_list_what_the_tests_allow():
    """The README's list is the one place where Gradio-only violations are allowed,
    and today it is empty: every violation axe found had a fix of ours."""
    assert NOTES.exists()
    assert documented_violations() == set()
    assert "None at the time of writing" in NOTES.read_text(encoding="utf-8")


def test_headings_go_down_one_level_at_a_time(open_page):
    page = open_page()
    everything_open(page)
    levels = page.evaluate("""() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
                                    .filter(h => h.offsetParent !== null).map(h => Number(h.tagName[1]))""")
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


# --- the keyboard alone ------------------------------------------------------------------------------------------

RING_TARGET_JS = """() => {
    // The element that draws the focus ring: the focused one, or the nearest ancestor with an outline.
    let node = document.activeElement;
    while (node && node !== document.body) {
        const style = getComputedStyle(node);
        if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) {
            const box = node.getBoundingClientRect();
            return {x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height,
                    outline: parseFloat(style.outlineWidth), offset: parseFloat(style.outlineOffset)};
        }
        node = node.parentElement;
    }
    return null;
}"""


def page_box(element: Locator) -> dict:
    """The element's box in page coordinates (what a full-page screenshot's clip expects)."""
    return element.evaluate(
        """e => { const b = e.getBoundingClientRect();
                  return {x: b.x + scrollX, y: b.y + scrollY, width: b.width, height: b.height}; }"""
    )


def tab_to(page: Page, target: Locator, *, key: str = "Tab", limit: int = 250) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus: it is reachable by keyboard."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{target} was not reached with {limit} presses of {key}")


def band(page: Page, box: dict) -> bytes:
    """A screenshot of the box with room for a ring around it (the outline, its offset and 2 px more)."""
    margin = box["outline"] + max(0.0, box["offset"]) + 2
    clip = {
        "x": max(0.0, box["x"] - margin),
        "y": max(0.0, box["y"] - margin),
        "width": box["width"] + 2 * margin,
        "height": box["height"] + 2 * margin,
    }
    return page.screenshot(clip=clip, full_page=True, animations="disabled", caret="hide")


def expect_visible_focus(page: Page, target: Locator, what: str) -> None:
    """Tab to ``target``; its ring is at least 2 px wide, and the pixels around it differ from before the focus."""
    target.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    box = page_box(target)
    tab_to(page, target)
    ring = page.evaluate(RING_TARGET_JS)
    assert ring is not None, f"{what}: no element draws a focus outline"
    assert ring["outline"] >= 2, (what, ring)
    focused = band(page, ring)
    page.evaluate("() => document.activeElement.blur()")
    unfocused = band(page, ring)
    assert focused != unfocused, f"{what}: the focus changes no pixel around {box}"
    page.keyboard.press("Shift+Tab")  # back to where the search starts, and onto the target again
    tab_to(page, target)


def test_the_keyboard_alone_runs_the_whole_lesson(open_page, tmp_path: Path):
    page = open_page()
    page.locator("body").focus()

    # Type a sentence, then Run.
    text = textbox(page, TEXT)
    expect_visible_focus(page, text, "the text box")
    page.keyboard.press("Control+A")
    page.keyboard.type(CAT)
    run = page.get_by_role("button", name="Run", exact=True)
    expect_visible_focus(page, run, "Run")
    page.keyboard.press("Enter")
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(CAT))

    # τ with the arrow keys.
    slider = page.locator("#tau .tau-track")
    expect_visible_focus(page, slider, "the τ slider")
    page.keyboard.press("ArrowRight")  # logarithmic: one step multiplies τ by 10^(1/50), shown to 3 digits
    expect(page.locator("#tau .tau-box")).to_have_value("1.05")
    expect(page.locator("#heatmap [data-attention-matrix]")).to_have_attribute("data-tau", "1.05")

    # Trace a cell: the matrix is one tab stop; the arrow keys move its cursor and Enter traces.
    grid = page.locator("#heatmap [role=grid]")
    expect_visible_focus(page, grid, "the attention matrix")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    live = page.locator("#heatmap [aria-live=polite]")  # "query ␣sat (3), key ␣cat (2): score …"
    expect(live).to_contain_text("key")
    row, column = re.search(r"\((\d+)\), key .* \((\d+)\):", live.inner_text()).groups()
    page.keyboard.press("Enter")
    expect(page.locator("#trace")).to_contain_text(f"Cell ({row}, {column})")

    # Open an accordion, prepare the exports: the links name their files.
    home = page.get_by_role("button", name="Take this run home")
    expect_visible_focus(page, home, "an accordion's header")
    page.keyboard.press("Enter")
    prepare = page.get_by_role("button", name="Prepare JSON, CSV and PNG")
    expect_visible_focus(page, prepare, "Prepare JSON, CSV and PNG")
    page.keyboard.press("Enter")
    for name in ("attention-run.json", "attention-weights.csv", "attention-matrix.png"):
        link = page.get_by_role("link", name=re.compile(re.escape(name)))
        expect(link).to_have_count(1)
        expect(link).to_have_attribute("download", name)
    expect_visible_focus(page, page.get_by_role("link", name=re.compile("attention-run.json")), "a download link")
    assert serious_violations_in(page, "#exports") == {}  # the Downloads box, once it has files
    shot(page, tmp_path, "exports.png", clip=page_box(page.locator("#exports")))

    # Switch to the lab (back up the page), change the values and compare.
    lab_tab = page.get_by_role("tab", name="Normalization lab")
    tab_to(page, lab_tab, key="Shift+Tab")
    lab_tab.evaluate("tab => tab.blur()")
    expect_visible_focus(page, lab_tab, "the lab's tab")
    page.keyboard.press("Enter")
    values = textbox(page, "Values (up to 1,000)")
    expect_visible_focus(page, values, "the lab's values")
    page.keyboard.press("Control+A")
    page.keyboard.type("1000, 1001, 1002")
    compare = page.get_by_role("button", name="Compare")
    expect_visible_focus(page, compare, "Compare")
    page.keyboard.press("Enter")
    expect(page.locator("#fig-lab figcaption")).to_contain_text("Grouped bars for the 3 values 1000, 1001, 1002")
    settled(page)
    shot(page, tmp_path, "keyboard-lab.png", full_page=False)


@pytest.mark.parametrize("what", ["radio", "checkbox", "dropdown", "number"])
def test_every_kind_of_control_shows_its_focus(open_page, what: str):
    page = open_page()
    open_embeddings(page)
    targets = {
        "radio": page.get_by_role("radio", name="Seeded random table"),  # the checked one: its group's tab stop
        "checkbox": page.get_by_label("Show raw scores ω instead of weights α"),
        "dropdown": page.get_by_label("query (row)"),
        "number": page.get_by_label(re.compile(r"^seed")),
    }
    page.locator("body").focus()
    expect_visible_focus(page, targets[what], what)


# --- phones, tablets, dark mode ------------------------------------------------------------------------------


def expect_nothing_cut_off(page: Page, width: int, *, tables: bool = True) -> None:
    """The page never scrolls sideways; tables keep each number on one line and scroll in their own box."""
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {width} px screen"
    cells = page.evaluate("""() => Array.from(document.querySelectorAll('.prose td'))
                                   .filter(td => td.offsetParent !== null)
                                   .map(td => [getComputedStyle(td).whiteSpace, td.closest('.scroll-x') !== null])""")
    assert bool(cells) == tables and all(space == "nowrap" and boxed for space, boxed in cells), cells[:5]
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('.scroll-x, .fig-scroll, .katex-display'))
                                  .filter(box => box.offsetParent !== null && box.scrollWidth > box.clientWidth + 1)
                                  .map(box => [box.className, box.tabIndex, box.getAttribute('aria-label')])""")
    assert all(tab_index == 0 and label for _, tab_index, label in wide), wide  # a keyboard can scroll them


@pytest.mark.parametrize("width", [PHONE, TABLET])
def test_phone_and_tablet_show_everything(open_page, tmp_path: Path, width: int):
    page = open_page(width, height=844 if width == PHONE else 1024)
    everything_open(page)
    expect_nothing_cut_off(page, width)
    # The τ = √d button is a button, not a tall blank card.
    assert page.locator("#root-button").bounding_box()["height"] < 60
    # Figures stay readable: at least FIGURE_MIN_SCALE of their natural width, scrolling sideways if need be.
    from attention_core.views.figures import FIGURE_MIN_SCALE

    for figure in ("#fig-bars", "#fig-hull"):
        natural, shown = page.locator(figure).evaluate(
            "f => [parseFloat(getComputedStyle(f).getPropertyValue('--fig-width')), f.querySelector('svg').clientWidth]"
        )
        assert shown >= min(natural * FIGURE_MIN_SCALE, width - 60) - 1, (figure, natural, shown)
    shot(page, tmp_path, f"main-{width}px.png")
    lab(page)
    expect_nothing_cut_off(page, width, tables=False)
    # The lab's notes go under its table rather than squeezing it.
    table, notes = page.locator("[aria-label^='Side by side']").first, page.get_by_text("Notes (float32)")
    if width == PHONE:
        assert notes.bounding_box()["y"] > table.bounding_box()["y"] + table.bounding_box()["height"] - 1
    shot(page, tmp_path, f"lab-{width}px.png")


@pytest.mark.parametrize("tab", ["main", "lab"])
def test_dark_mode_figures_follow_the_theme(open_page, tmp_path: Path, tab: str):
    page = open_page(DESKTOP, "dark")
    everything_open(page) if tab == "main" else lab(page)
    figure = "#fig-bars" if tab == "main" else "#fig-lab"
    # The figure's text and axes take the page's text colour; its background is the page's own.
    text = page.locator(figure).evaluate("f => getComputedStyle(f).color")
    assert sum(int(v) for v in re.findall(r"\d+", text)[:3]) > 3 * 200, text  # the dark theme's light text
    glyph = page.locator(f"{figure} svg g[style^='fill: var(--fig-ink']").first  # a label's glyphs
    assert glyph.evaluate("p => getComputedStyle(p).fill") == text  # light text on the dark page
    blue = page.locator(f"{figure} svg [style^='fill: var(--fig-blue']").first.evaluate("p => getComputedStyle(p).fill")
    assert blue == "rgb(86, 180, 233)"  # Okabe-Ito sky blue: the light theme's blue is too dark here
    shot(page, tmp_path, f"{tab}-dark.png")


# --- errors ---------------------------------------------------------------------------------------------------


def test_a_refused_run_clears_the_last_run_and_says_why(open_page):
    page = open_page()
    textbox(page, TEXT).fill("")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("toast-text")).to_contain_text("The text is empty")
    refused = page.locator("#tokens .run-refused")
    expect(refused).to_contain_text("Not run. The text is empty")
    open_tables(page)  # open, so that an empty table is seen, not merely folded away
    assert refused.evaluate("p => Array.from(p.querySelectorAll('*')).map(e => e.tagName)") == ["STRONG"]
    expect(page.locator(".tok-chip")).to_have_count(0)
    expect(page.locator("#heatmap [role=gridcell]")).to_have_count(0)
    expect(page.locator("#context-table [role=gridcell]")).to_have_count(0)
    expect(page.locator("#walkthrough")).not_to_contain_text("Query 2")
    expect(page.locator("#fig-bars")).to_have_count(0)
    # The next good Run brings everything back.
    textbox(page, TEXT).fill(CAT)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".tok-chip")).to_have_text(expected_chips(CAT))
    expect(page.locator("#fig-bars svg")).to_be_visible()


# --- radio groups -----------------------------------------------------------------------------------------------

RADIO_NAMES_JS = """() => Array.from(document.querySelectorAll('fieldset'))
    .map(group => Array.from(group.querySelectorAll('input[type=radio]'), radio => radio.name))
    .filter(names => names.length > 0)"""


def test_a_radio_group_is_one_tab_stop_and_the_arrow_keys_choose(open_page):
    """Issue 20: Gradio names each radio input on its own, so each option was a tab stop and the arrows did nothing;
    web/a11y.js gives a group's inputs one name."""
    page = open_page()
    open_embeddings(page)
    seeded = page.get_by_role("radio", name="Seeded random table")
    own = page.get_by_role("radio", name="My own table")
    expect(seeded).to_be_checked()
    page.locator("body").focus()
    tab_to(page, seeded)
    page.keyboard.press("Tab")  # past the whole group, not onto its second option
    assert not own.evaluate("radio => radio === document.activeElement")
    page.keyboard.press("Shift+Tab")
    expect(seeded).to_be_focused()

    page.keyboard.press("ArrowRight")

    expect(own).to_be_checked()
    expect(own).to_be_focused()
    expect(textbox(page, "Embedding table (one row per token)")).to_be_visible()  # Gradio has the new value
    expect(page.get_by_label(re.compile(r"^dim d"))).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(seeded).to_be_checked()
    expect(page.get_by_label(re.compile(r"^dim d"))).to_be_visible()

    page.get_by_role("tab", name="Normalization lab").click()
    expect(page.locator("#fig-lab svg")).to_be_visible()
    groups = page.evaluate(RADIO_NAMES_JS)
    assert len(groups) >= 2 and all(len(set(names)) == 1 for names in groups), groups
    assert len({names[0] for names in groups}) == len(groups), groups  # and no two groups share one
