"""Fixtures of the browser tests: Debian's Chromium, and pages on the launched app."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pages import (
    BOOK_SENTENCE,
    INSTALL_HINT,
    TIMEOUT_MS,
    VIEWPORT,
    Browser,
    Page,
    expect,
    expected_chips,
    sync_playwright,
    unavailable,
)

from benchmarks.harness import CHROMIUM_ARGS, chromium_path  # Debian's Chromium, as the benchmarks launch it


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        unavailable(f"Chromium was not found. {INSTALL_HINT}")
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
