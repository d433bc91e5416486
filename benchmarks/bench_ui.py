"""The attention matrix's speed in a real browser, against Gradio's own floor: ``python benchmarks/bench_ui.py``.

Launches ``python app.py`` and the minimal ``benchmarks/floor_ui.py`` (a Run button returning a precomputed image
of the heatmap's size, and a small table) on free loopback ports, drives Debian's Chromium with Playwright (it
downloads no browser), and measures with the page's own clock (``performance.now()``), ours and the floor's
alternating (A B B A ...) so that drift in machine speed hits both alike:

1. cold page → first matrix: a fresh browser context opens the page; from navigation start to the first frame
   after the matrix is on screen (target ≤ 1.5× the floor);
2. Run clicked → new matrix: from the click to the first frame after the new matrix (target ≤ 2× the floor);
3. a τ change → repaint, at T = 6 and T = 256: from the slider's input event to the first frame after the
   matrix is redrawn (target ≤ 50 ms at T = 256). The floor has no τ; this one is absolute.

"The matrix is on screen" means: web/matrix.js has drawn a new value (its data-version goes up), or, for an
image heatmap (the floor, and the app before issue 11), a new ``#heatmap img`` has loaded. Before issue 11, τ
redrew only on a mouse release, through the server; that is what is timed for such an app.

``--rev REV`` benchmarks the app of a git revision (extracted to a temporary folder) instead of the working
tree's, for before/after figures: ``python benchmarks/bench_ui.py --rev d5981fa``.
Each target line says PASS or MISS and the ratio of medians; INFO lines are numbers without a target. The exit
code is 0 even on MISS: this is a report. Every server it starts is stopped before it exits, also on error.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench_ui_"))
os.environ["GRADIO_TEMP_DIR"] = str(TEMP_DIR / "gradio")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402

BOOK_SENTENCE = "Your journey starts with one step"
OTHER_SIX = "The cat sat on the mat"  # six tokens too: Run alternates between the two, so each run is new
COLD_ROUNDS = 5  # page loads per side
RUN_CLICKS = 10  # timed clicks per side
TAU_CHANGES = 15  # timed τ changes per size (the app drawing images: TAU_CHANGES_IMAGE)
TAU_CHANGES_IMAGE = 5
WARMUP = 2
LAUNCH_TIMEOUT = 90.0
EVENT_TIMEOUT_MS = 60_000
SETTLE_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
# As in tests/test_browser.py: Debian's Chromium, headless, with nothing that calls out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TARGETS = {"cold": 1.5, "run": 2.0, "tau_ms_256": 50.0}

_running: list[subprocess.Popen] = []

# --- in the page --------------------------------------------------------------------------------------

# What identifies the matrix on screen: web/matrix.js's data-version, or a loaded #heatmap img's address.
SIGNATURE_JS = """
window.benchSignature = () => {
    const host = document.getElementById('heatmap');
    if (!host) return null;
    const matrix = host.querySelector('[data-attention-matrix]');
    if (matrix) return matrix.dataset.version && matrix.dataset.version !== '0' ? 'v' + matrix.dataset.version : null;
    const img = host.querySelector('img');
    return img && img.complete && img.naturalWidth > 0 ? img.currentSrc || img.src : null;
};
// Resolves with performance.now() at the first frame after the signature differs from `old` (and exists).
window.benchNext = (old, timeoutMs) => new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
        const now = window.benchSignature();
        if (done || now === null || now === old) return;
        done = true;
        observer.disconnect();
        document.removeEventListener('load', check, true);
        clearTimeout(timer);
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    };
    const observer = new MutationObserver(check);
    observer.observe(document, {subtree: true, childList: true, attributes: true,
                                attributeFilter: ['src', 'data-version']});
    document.addEventListener('load', check, true);  // an img's load does not bubble, but it is captured
    const timer = setTimeout(() => { if (!done) { done = true; observer.disconnect();
                                                   reject(new Error('no new matrix')); } }, timeoutMs);
    check();
});
"""

# Installed before any page script: the first matrix's time, on the page's own clock (0 = navigation start).
COLD_JS = SIGNATURE_JS + """
window.benchFirstMatrix = window.benchNext(null, %d);
""" % EVENT_TIMEOUT_MS

RUN_JS = """async timeoutMs => {
    const old = window.benchSignature();
    const button = Array.from(document.querySelectorAll('button')).find(b => b.textContent.trim() === 'Run');
    const next = window.benchNext(old, timeoutMs);
    const start = performance.now();
    button.click();
    return (await next) - start;
}"""

# A τ change as the slider makes it. The component: an input event, then the first frame after data-tau says
# the new τ. An image heatmap: input and a pointer release (the only trigger it had), then a new image.
TAU_JS = """async ([tau, timeoutMs]) => {
    const range = document.querySelector('#tau input[type=range]');
    const matrix = document.querySelector('#heatmap [data-attention-matrix]');
    let next;
    if (matrix) {
        next = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no repaint')), timeoutMs);
            const observer = new MutationObserver(() => {
                if (matrix.dataset.tau !== String(tau)) return;
                observer.disconnect();
                clearTimeout(timer);
                requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
            });
            observer.observe(matrix, {attributes: true, attributeFilter: ['data-tau']});
        });
    } else {
        next = window.benchNext(window.benchSignature(), timeoutMs);
    }
    const start = performance.now();
    range.value = String(tau);
    range.dispatchEvent(new Event('input', {bubbles: true}));
    if (!matrix) range.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
    return (await next) - start;
}"""

# Every Gradio status tracker idle: the run's follow-ups are done, the next sample starts from a quiet machine.
IDLE_JS = """() => Array.from(document.querySelectorAll('[data-testid="status-tracker"]'))
    .every(tracker => tracker.classList.contains('hide') || tracker.offsetParent === null)"""


# --- reporting (as bench_app.py) -----------------------------------------------------------------------


@dataclass
class Report:
    passed: int = 0
    missed: int = 0

    def target(self, name: str, ok: bool, detail: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.missed += 1
        print(f"{'PASS' if ok else 'MISS':<5} {name}: {detail}", flush=True)

    def ratio(self, name: str, ours: list[float], floor: list[float], limit: float) -> None:
        if not ours or not floor:
            self.target(name, False, "no successful timings")
            return
        ratio = statistics.median(ours) / statistics.median(floor)
        self.target(name, ratio <= limit, f"{ratio:.2f}x (target ≤ {limit:g}x; {compare(ours, floor)})")


def info(name: str, detail: str) -> None:
    print(f"{'INFO':<5} {name}: {detail}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def compare(ours: list[float], floor: list[float]) -> str:
    return (f"median {statistics.median(ours):.0f} ms vs {statistics.median(floor):.0f} ms, "
            f"p95 {p95(ours):.0f} ms vs {p95(floor):.0f} ms, n={len(ours)}/{len(floor)}")


def spread(values: list[float]) -> str:
    return (f"median {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, max {max(values):.1f} ms, "
            f"n={len(values)}")


# --- servers -----------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(name: str, script: Path, extra_env: dict[str, str] | None = None) -> Server:
    """Start ``python <script>`` in its folder on a free loopback port; return once GET / serves the page."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
    log_path = TEMP_DIR / f"{name}-{port}.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(script)], cwd=script.parent if script.name == "app.py" else ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches anything it spawns
        )
    _running.append(process)
    server = Server(name, url, process, log_path)
    start = time.perf_counter()
    with httpx.Client(trust_env=False, timeout=5.0) as probe:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode} before serving a page:\n{server.log_tail()}")
            try:
                page = probe.get(url)
                if page.status_code == 200 and "<html" in page.text[:4000].lower():
                    return server
            except httpx.TransportError:
                pass
            if time.perf_counter() - start > LAUNCH_TIMEOUT:
                stop(process)
                raise RuntimeError(f"{name} served no page within {LAUNCH_TIMEOUT:.0f} s:\n{server.log_tail()}")
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    """Stop one server we started: SIGTERM to its process group, SIGKILL after 10 s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
    if process in _running:
        _running.remove(process)


def stop_all() -> None:
    for process in list(_running):
        try:
            stop(process)
        except Exception as error:  # keep stopping the others
            print(f"could not stop pid {process.pid}: {error}", file=sys.stderr)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally, which stops the servers


def app_of_revision(revision: str) -> Path:
    """Extract ``revision`` of this repository into a temporary folder; return its app.py."""
    folder = TEMP_DIR / f"rev-{revision}"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True,
                             timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True, timeout=60)
    return folder / "app.py"


# --- inputs --------------------------------------------------------------------------------------------


def text_of_tokens(count: int) -> str:
    """Prose-like text of exactly ``count`` GPT-2 tokens (the recipe of bench_app.text_of_tokens)."""
    from attention_core import tokenize

    words = (
        "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
        "you were her she there one all we their can has more when will would if so no what up out about who them "
        "some could him into its then two time like other these may first new any only attention journey starts step "
        "token vector weight context query matrix language model sequence chapter reader example sentence meaning"
    ).split()
    single = [word for word in words if len(tokenize(" " + word).ids) == 1]
    text = "The" + "".join(" " + word for word in itertools.islice(itertools.cycle(single), count - 1))
    if len(tokenize(text).ids) != count:
        raise RuntimeError(f"the benchmark text does not have {count} GPT-2 tokens; change the word list.")
    return text


def heatmap_size() -> str:
    """The app's heatmap PNG for six tokens, in pixels, "width,height" (what the floor's pictures measure)."""
    from attention_core import plots, tokenize

    layout = plots.heatmap_layout(tokenize(BOOK_SENTENCE).tokens)
    return f"{int(layout.width * plots.DPI)},{int(layout.height * plots.DPI)}"


# --- the measurements ------------------------------------------------------------------------------------


def wait_idle(page, quiet_ms: int = 600) -> None:
    """Every status tracker idle for ``quiet_ms`` in a row: a chain's next event has had time to start."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT_MS / 1e3
    quiet_since = None
    while time.perf_counter() < deadline:
        if page.evaluate(IDLE_JS):
            quiet_since = quiet_since or time.perf_counter()
            if time.perf_counter() - quiet_since >= quiet_ms / 1e3:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(100)
    raise TimeoutError(f"the page was still busy after {SETTLE_TIMEOUT_MS / 1e3:.0f} s")


def open_page(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(COLD_JS)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=EVENT_TIMEOUT_MS)
    return context, page


def cold_page(browser, url: str) -> float:
    """A fresh context (empty cache) opens the page: ms from navigation start to the first matrix's frame."""
    context, page = open_page(browser, url)
    try:
        elapsed = float(page.evaluate("() => window.benchFirstMatrix"))
        wait_idle(page)  # the run's follow-ups finish before the next page loads
        return elapsed
    finally:
        context.close()


def fill_text(page, text: str) -> None:
    page.locator("textarea").first.fill(text)


def alternate(ours: Callable[[], float], floor: Callable[[], float], count: int, warmup: int = WARMUP
              ) -> tuple[list[float], list[float]]:
    for _ in range(warmup):
        ours()
        floor()
    a, b = [], []
    for index in range(count):
        pair = [(ours, a), (floor, b)] if index % 2 == 0 else [(floor, b), (ours, a)]
        for function, samples in pair:
            samples.append(function())
    return a, b


def bench_cold(report: Report, browser, ours: Server, floor: Server) -> None:
    section(f"Cold page → first matrix (fresh context, page clock from navigation start), {COLD_ROUNDS} each, "
            "alternating")
    a, b = alternate(lambda: cold_page(browser, ours.url), lambda: cold_page(browser, floor.url), COLD_ROUNDS,
                     warmup=1)
    report.ratio("cold page → first matrix vs floor", a, b, TARGETS["cold"])


class RunClicker:
    """One open page that clicks Run with a new six-token text each time."""

    def __init__(self, browser, url: str) -> None:
        self.context, self.page = open_page(browser, url)
        self.page.evaluate("() => window.benchFirstMatrix")
        wait_idle(self.page)
        self.count = 0

    def __call__(self) -> float:
        self.count += 1
        fill_text(self.page, OTHER_SIX if self.count % 2 else BOOK_SENTENCE)
        elapsed = float(self.page.evaluate(RUN_JS, EVENT_TIMEOUT_MS))
        wait_idle(self.page)
        return elapsed

    def close(self) -> None:
        self.context.close()


def bench_run(report: Report, browser, ours: Server, floor: Server) -> None:
    section(f"Run clicked → new matrix (page clock), {RUN_CLICKS} each, alternating")
    pages = [RunClicker(browser, ours.url), RunClicker(browser, floor.url)]
    try:
        a, b = alternate(pages[0], pages[1], RUN_CLICKS)
    finally:
        for page in pages:
            page.close()
    report.ratio("Run clicked → new matrix vs floor", a, b, TARGETS["run"])


def bench_tau(report: Report, browser, ours: Server, text_256: str) -> None:
    section("τ change → repaint (page clock, slider input event to the next frame)")
    context, page = open_page(browser, ours.url)
    try:
        page.evaluate("() => window.benchFirstMatrix")
        wait_idle(page)
        component = page.locator("#heatmap [data-attention-matrix]").count() > 0
        info("matrix", "drawn in the browser (web/matrix.js)" if component else
             "an image from the server; τ redraws only on release, through the server")
        taus = itertools.cycle([1.25, 2.5, 0.8, 4.0])
        for size, text in ((6, BOOK_SENTENCE), (256, text_256)):
            if size != 6:
                fill_text(page, text)
                page.evaluate(RUN_JS, EVENT_TIMEOUT_MS)
                wait_idle(page)
            samples = []
            for index in range(WARMUP + (TAU_CHANGES if component else TAU_CHANGES_IMAGE)):
                elapsed = float(page.evaluate(TAU_JS, [next(taus), EVENT_TIMEOUT_MS]))
                wait_idle(page)  # past the component's 250 ms debounce, and the server's follow-up
                if index >= WARMUP:
                    samples.append(elapsed)
            if size == 256:
                report.target("τ repaint at T = 256 ≤ 50 ms", statistics.median(samples) <= TARGETS["tau_ms_256"],
                              spread(samples))
            else:
                info(f"τ repaint at T = {size}", spread(samples))
    finally:
        context.close()


# --- main --------------------------------------------------------------------------------------------


def phase(report: Report, name: str, function: Callable[[], None]) -> None:
    try:
        function()
    except Exception:
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        report.target(f"{name} ran to the end", False, "it raised (traceback above on stderr)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", help="benchmark the app.py of this git revision instead of the working tree's")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    report = Report()
    began = time.perf_counter()
    try:
        app_path = app_of_revision(args.rev) if args.rev else ROOT / "app.py"
        print(f"bench_ui: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, app {args.rev or 'working tree'} "
              f"({app_path}), Chromium {chromium}", flush=True)
        text_256 = text_of_tokens(256)
        servers = [launch("app", app_path),
                   launch("floor", ROOT / "benchmarks" / "floor_ui.py", {"FLOOR_IMAGE_SIZE": heatmap_size()})]
        ours, floor = servers
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                info("browser", f"Chromium {browser.version}")
                phase(report, "cold page", lambda: bench_cold(report, browser, ours, floor))
                phase(report, "Run", lambda: bench_run(report, browser, ours, floor))
                phase(report, "τ", lambda: bench_tau(report, browser, ours, text_256))
            finally:
                browser.close()
        for server in servers:
            if server.process.poll() is not None:
                print(f"{server.name} died during the run:\n{server.log_tail()}", file=sys.stderr)
    finally:
        stop_all()
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    print(f"\n{report.passed} PASS, {report.missed} MISS  ({time.perf_counter() - began:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
