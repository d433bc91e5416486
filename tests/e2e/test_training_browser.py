"""The "Watch the weights learn" panel in Chromium: Train on the lecture's cat sentence, the loss shown, the query's
row moving, the scrubber, the keyboard alone, axe-core, and a phone's width. Screenshots go to $SCREENSHOT_DIR or
tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pages import Page, expect, open_accordion, run_text, screenshot, wait_until_settled

pytestmark = pytest.mark.slow

CAT = "The cat sat on the mat because it is warm"
PANEL = "Watch the weights learn"
SERIOUS = ("critical", "serious")


def cat_panel(page: Page) -> None:
    """The cat sentence run, and the panel open with its default pair."""
    run_text(page, CAT)
    expect(page.locator(".tok-chip")).to_have_count(10)
    open_accordion(page, PANEL)
    expect(page.get_by_label("Query (the token that attends)")).to_have_value("10: ␣warm")
    expect(page.get_by_label("Key (where it should look)")).to_have_value("6: ␣mat")


def test_train_shows_the_loss_falling_and_the_row_moving_to_mat(page: Page, tmp_path: Path):
    cat_panel(page)
    expect(page.locator("#train-summary")).to_contain_text("Press Train")
    page.get_by_role("button", name="Train", exact=True).click()
    summary = page.locator("#train-summary")
    expect(summary).to_contain_text("after 100 Adam steps")
    before, after = (float(v) for v in re.findall(r"went from (\d\.\d{4}) to (\d\.\d{4})", summary.inner_text())[0])
    assert before < 0.2 and after >= 0.8
    expect(page.locator("#fig-train-loss svg")).to_be_visible()
    expect(page.locator("#fig-train-loss figcaption")).to_contain_text("1.7888 before training")
    expect(page.locator("#fig-train-row figcaption")).to_contain_text("after 100 of 100 steps")
    expect(page.locator("#fig-train-matrices svg")).to_be_visible()
    wait_until_settled(page)
    screenshot(page, tmp_path, "training-1280.png", region=[page.locator("#watch-learn")])

    # The scrubber: back to the checkpoint after 9 steps, where mat's weight is on its way.
    scrubber = page.locator("#train-scrubber input[type=range]")
    scrubber.fill("3")
    expect(page.locator("#fig-train-row figcaption")).to_contain_text("after 9 of 100 steps")
    row = page.locator("#fig-train-row figcaption").inner_text()
    midway = float(re.search(r"gets \d\.\d{4} before and (\d\.\d{4}) after 9 steps", row)[1])
    assert before < midway < after
    expect(page.locator("#fig-train-loss figcaption")).to_contain_text("the diamond marks step 9")


def test_a_new_run_clears_the_training_and_picks_the_weakest_key(page: Page):
    cat_panel(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator("#fig-train-loss svg")).to_be_visible()
    run_text(page, "Your journey starts with one step")
    expect(page.locator(".tok-chip")).to_have_count(6)
    expect(page.locator("#train-summary")).to_contain_text("Press Train")
    expect(page.locator("#fig-train-loss")).to_have_count(0)
    expect(page.get_by_label("Query (the token that attends)")).to_have_value("6: ␣step")


def test_the_panel_works_from_the_keyboard_alone(page: Page):
    cat_panel(page)
    train = page.get_by_role("button", name="Train", exact=True)
    train.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#train-summary")).to_contain_text("after 100 Adam steps")
    scrubber = page.locator("#train-scrubber input[type=range]")
    scrubber.focus()
    page.keyboard.press("Home")
    expect(page.locator("#fig-train-row figcaption")).to_contain_text("after 0 of 100 steps")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#fig-train-row figcaption")).to_contain_text("after 1 of 100 steps")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violation_in_the_trained_panel(open_app, theme: str, tmp_path: Path):
    from axe_playwright_python.sync_playwright import Axe

    page = open_app("?__theme=dark" if theme == "dark" else "")
    expect(page.locator(".tok-chip")).to_have_count(6)
    cat_panel(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator("#fig-train-matrices svg")).to_be_visible()
    wait_until_settled(page)
    violations = Axe().run(page, context="#watch-learn").response["violations"]
    serious = {v["id"]: [n["target"] for n in v["nodes"]] for v in violations if v["impact"] in SERIOUS}
    assert serious == {}


def test_the_trained_panel_on_a_phone(open_app, tmp_path: Path):
    page = open_app("", viewport={"width": 390, "height": 844})
    expect(page.locator(".tok-chip")).to_have_count(6)
    cat_panel(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.locator("#fig-train-matrices svg")).to_be_visible()
    wait_until_settled(page)
    # No box wider than the screen, except inside the figures' own sideways-scrolling boxes (and KaTeX's glyphs,
    # wide SVGs that KaTeX clips itself).
    too_wide = page.evaluate("""() => Array.from(document.querySelectorAll('#watch-learn *'))
        .filter(e => e instanceof HTMLElement && !e.closest('.fig-scroll, .katex'))
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""")
    assert too_wide == []
    screenshot(page, tmp_path, "training-390.png", region=[page.locator("#watch-learn")])


def test_the_why_panel_opens_the_training_panel(page: Page):
    open_accordion(page, "Why the next step adds trainable weights")
    expect(page.get_by_text("they are untrained")).to_be_visible()
    expect(page.get_by_text("Does a token attend mostly to itself?")).to_be_visible()  # the panel's own content
    page.get_by_role("button", name="Train W_q and W_k on this sentence ↓").click()
    expect(page.get_by_role("button", name=PANEL)).to_have_class(re.compile(r"\bopen\b"))
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_in_viewport()
