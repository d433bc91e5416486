"""In Chromium: clicking a lab example replaces the previous result (issue 23, "Also found" 1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.slow


def test_clicking_a_lab_example_replaces_the_previous_result(page: Page):
    page.get_by_role("tab", name="Normalization lab").click()
    notes = page.locator("[data-testid=markdown]").filter(has_text="Notes (float32)")
    expect(page.locator("#fig-lab svg")).to_be_visible()
    examples = page.locator(".gallery").filter(has_text="1000, 1001, 1002")
    examples.get_by_text("0, 0, 0", exact=True).click()
    expect(notes).to_contain_text("All 3 values are equal")
    examples.get_by_text("1000, 1001, 1002", exact=True).click()
    expect(notes).not_to_contain_text("All 3 values are equal")
    expect(notes).to_contain_text("exp(1002) overflows float32")
    expect(page.get_by_role("gridcell", name="1001", exact=True)).to_be_visible()  # the table followed too
