"""Redraw the README's pictures (docs/*.png) from the running app: Playwright on Debian's Chromium.

    python scripts/screenshots.py            # every picture, into docs/
    python scripts/screenshots.py --out /tmp/shots trace phone

It launches the app on a free loopback port, opens it at 1280 px (the phone picture at 390 px), does what each
picture shows (a run, a hovered cell, an opened accordion...) and saves the region the README shows. The browser
tests (tests/e2e) check the same states; this script only draws them.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import CHROMIUM_ARGS, chromium_path  # noqa: E402 (Debian's Chromium, as the tests launch it)

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CAT_SENTENCE = "The cat sat on the mat because it is warm"
TIMEOUT_MS = 60_000

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page


def settled(page: Page) -> None:
    """Every status tracker idle and the web fonts loaded; the mouse out of the way unless a tooltip is wanted."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="status-tracker"]'))
                   .every(tracker => tracker.classList.contains('hide') || tracker.offsetParent === null)"""
    )
    page.evaluate("() => document.fonts.ready.then(() => true)")


def region(page: Page, locators: list[Locator], *, max_height: float | None = None, margin: int = 8) -> dict:
    """The smallest rectangle, in page coordinates, holding every locator (plus a margin)."""
    scroll_x, scroll_y = page.evaluate("() => [window.scrollX, window.scrollY]")
    boxes = [locator.bounding_box() for locator in locators]
    left = max(0.0, min(box["x"] for box in boxes) + scroll_x - margin)
    top = max(0.0, min(box["y"] for box in boxes) + scroll_y - margin)
    right = max(box["x"] + box["width"] for box in boxes) + scroll_x + margin
    bottom = max(box["y"] + box["height"] for box in boxes) + scroll_y + margin
    height = bottom - top if max_height is None else min(bottom - top, max_height)
    return {"x": left, "y": top, "width": right - left, "height": height}


def accordion(page: Page, label: str) -> Locator:
    """The accordion whose header reads ``label``, opened."""
    header = page.get_by_role("button", name=label)
    if "open" not in (header.get_attribute("class") or "").split():
        header.click()
    return page.locator(".gr-accordion").filter(has=header)


def first_run(page: Page) -> None:
    """The page has painted its first screen, and what lies below it is shown."""
    page.locator(".tok-chip").first.wait_for()
    page.locator("#below").wait_for()
    settled(page)


def cell(page: Page, row: int, column: int, count: int) -> Locator:
    """The matrix's cell (row, column), 1-based, for T = count tokens."""
    return page.locator("#heatmap [role=gridcell]").nth((row - 1) * count + column - 1)


def screenshot(page: Page) -> dict:
    """The first screen at 1280 x 800 as a visitor sees it: the default run's matrix, its cell (2, 3) clicked and
    hovered (the mouse moved there without scrolling), beside that cell's trace."""
    target = cell(page, 2, 3, count=6)
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#trace").filter(has_text="Cell (2, 3)").wait_for()
    settled(page)
    page.mouse.move(box["x"] + box["width"] / 2 + 1, box["y"] + box["height"] / 2)
    page.locator("#heatmap .am-tip").wait_for()
    return {"full_page": False}


def trace(page: Page) -> dict:
    """The book's example, its cell (4, 5) clicked: the matrix and, beside it, the trace."""
    page.get_by_role("button", name="Load the book's example").click()
    page.locator("#trace").filter(has_text="Cell (2, 1)").wait_for()
    cell(page, 4, 5, count=6).click()
    page.locator("#trace").filter(has_text="Cell (4, 5)").wait_for()
    settled(page)
    page.mouse.move(0, 0)
    return {"clip": region(page, [page.locator("#heatmap"), page.locator("#trace-column")])}


def parity(page: Page) -> dict:
    """The book's printed values beside the book's example's."""
    page.get_by_role("button", name="Load the book's example").click()
    page.locator("#trace").filter(has_text="Cell (2, 1)").wait_for()
    box = accordion(page, "The book's printed values, side by side")
    page.locator("#parity").filter(has_text="printed numbers match").wait_for()
    settled(page)
    box.scroll_into_view_if_needed()
    return {"clip": region(page, [box], max_height=900)}


def facts(page: Page) -> dict:
    """The facts accordion after one shuffle: repeated tokens, the shuffled matrix and the convex hull."""
    box = accordion(page, "What attention without weights cannot do")
    box.locator("#fig-hull figcaption").wait_for()
    box.get_by_role("button", name="Shuffle the tokens").click()
    page.locator("#shuffled [role=gridcell]").first.wait_for()
    settled(page)
    page.mouse.move(0, 0)
    return {"clip": region(page, [box])}


def lab(page: Page) -> dict:
    """The normalization lab's first comparison: 1, 2, 3, 400 in float32."""
    page.get_by_role("tab", name="Normalization lab").click()
    page.locator("#fig-lab svg").wait_for()
    settled(page)
    page.mouse.move(0, 0)
    return {"full_page": True}


def phone(page: Page) -> dict:
    """On a 390 x 844 phone: the first screen and a half, down to the whole matrix."""
    bottom = page.locator("#heatmap").evaluate("e => e.getBoundingClientRect().bottom + scrollY")
    return {"clip": {"x": 0, "y": 0, "width": PHONE["width"], "height": bottom + 12}, "full_page": True}


PICTURES: dict[str, tuple[Callable[[Page], dict], dict]] = {
    "screenshot": (screenshot, DESKTOP),
    "trace": (trace, DESKTOP),
    "parity": (parity, DESKTOP),
    "facts": (facts, DESKTOP),
    "lab": (lab, DESKTOP),
    "phone": (phone, PHONE),
}


@contextmanager
def served() -> Iterator[str]:
    """The app, launched with the Space's settings on a free loopback port."""
    import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.demo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"pictures to draw: {', '.join(PICTURES)} (default: all)")
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder for the PNGs (default: docs/)")
    options = parser.parse_args()
    unknown = set(options.names) - set(PICTURES)
    if unknown:
        parser.error(f"no picture named {', '.join(sorted(unknown))}; choose from {', '.join(PICTURES)}")
    executable = chromium_path()
    if executable is None:
        sys.exit("Chromium was not found: apt-get install chromium (Playwright launches it; it downloads none).")
    from playwright.sync_api import sync_playwright

    options.out.mkdir(parents=True, exist_ok=True)
    with served() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        for name in options.names or PICTURES:
            draw, viewport = PICTURES[name]
            context = browser.new_context(viewport=viewport)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto(url)
            first_run(page)
            shot = draw(page)
            path = options.out / f"{name}.png"
            page.screenshot(path=str(path), animations="disabled", caret="hide", **{"full_page": True, **shot})
            print(f"{path} ({path.stat().st_size / 1e3:.0f} kB)")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
