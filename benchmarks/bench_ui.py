"""The attention matrix's speed in a real browser, against Gradio's own floor: ``python benchmarks/bench_ui.py``.

Launches ``python app.py`` and the minimal ``benchmarks/floor_ui.py`` (a Run button returning a precomputed image
of the heatmap's size, and a small table) on free loopback ports, drives Debian's Chromium with Playwright (it
downloads no browser), and measures with the page's own clock (``performance.now()``), ours and the floor's
alternating (A B B A ...) so that drift in machine speed hits both alike:

1. cold page → first matrix: a fresh browser context opens the page; from navigation start to the first frame
   after the matrix is on screen (target ≤ 1.2× the floor); then, for our page, how long after that first matrix
   what lies below the first screen (#below) is visible (target ≤ 1 s), and the time to "everything settled"
   (every queued event answered and the page idle), both as INFO against the floor's settled time;
2. Run clicked → new matrix: from the click to the first frame after the new matrix (target ≤ 1.5× the floor);
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
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import BOOK_SENTENCE, ROOT, Report, Server, info, section  # noqa: E402

harness.quiet_gradio()

OTHER_SIX = "The cat sat on the mat"  # six tokens too: Run alternates between the two, so each run is new
COLD_ROUNDS = 9  # page loads per side (a cold page varies more than a click)
RUN_CLICKS = 10  # timed clicks per side
TAU_CHANGES = 15  # timed τ changes per size (the app drawing images: TAU_CHANGES_IMAGE)
TAU_CHANGES_IMAGE = 5
WARMUP = 2
EVENT_TIMEOUT_MS = 60_000
SETTLE_TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
TARGETS = {"cold": 1.2, "run": 1.5, "tau_ms_256": 50.0, "below_s": 1.0}

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
COLD_JS = SIGNATURE_JS + f"\nwindow.benchFirstMatrix = window.benchNext(null, {EVENT_TIMEOUT_MS});\n"

RUN_JS = """async timeoutMs => {
    const old = window.benchSignature();
    const button = Array.from(document.querySelectorAll('button')).find(b => b.textContent.trim() === 'Run');
    const next = window.benchNext(old, timeoutMs);
    const start = performance.now();
    window.benchMark?.('click');
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
    const typed = document.querySelector('#tau .tau-box');  // the τ control (web/tau.js) takes any τ typed
    if (typed) {
        typed.value = String(tau);
        typed.dispatchEvent(new Event('change', {bubbles: true}));
    } else {  // a gr.Slider (the app before issue 20)
        range.value = String(tau);
        range.dispatchEvent(new Event('input', {bubbles: true}));
        if (!matrix) range.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
    }
    return (await next) - start;
}"""

# Our page: when what lies below the first screen (#below) became visible, on the page's clock; null without one.
BELOW_JS = """async timeoutMs => {
    const below = () => document.getElementById('below');
    if (!below()) {
        const present = await new Promise(resolve => {
            const timer = setTimeout(() => resolve(false), 3000);
            const observer = new MutationObserver(() => {
                if (below()) { clearTimeout(timer); observer.disconnect(); resolve(true); }
            });
            observer.observe(document, {subtree: true, childList: true});
        });
        if (!present) return null;
    }
    while (below().offsetHeight === 0) await new Promise(resolve => requestAnimationFrame(resolve));
    return performance.now();
}"""

# The queue as the page sees it, for every page: each join (its fn_index, then its event_id) and each message on the
# queue/data stream (heartbeats left out) goes to window.benchMark when a trace is on (TRACE_JS), and
# window.benchPending counts the events in flight: joins up, process_completed down. Follow-ups whose progress is
# hidden show no status tracker, so the trackers alone cannot say the page is idle.
STREAM_JS = r"""
window.benchPending = 0;
(() => {
    const mark = (what, detail) => window.benchMark?.(what, detail);
    const realFetch = window.fetch;
    window.fetch = async function (input, init) {
        const url = typeof input === 'string' ? input : (input instanceof URL ? input.href : input.url);
        if (url.includes('/queue/join')) {
            window.benchPending += 1;
            let body = init && init.body;
            if (body === undefined && input instanceof Request) body = await input.clone().text();
            let fn = null;
            try { fn = JSON.parse(body).fn_index; } catch (error) { /* not JSON: leave it unnamed */ }
            mark('join', fn);
            const response = await realFetch.apply(this, arguments);
            response.clone().json().then(answer => mark('joined', [fn, answer.event_id])).catch(() => {});
            return response;
        }
        const response = await realFetch.apply(this, arguments);
        if (!url.includes('/queue/data') || !response.body) return response;
        const [mine, theirs] = response.body.tee();
        (async () => {
            const reader = mine.getReader();
            const decoder = new TextDecoder();
            let buffer = '';
            for (;;) {
                const {done, value} = await reader.read();
                if (done) return;
                buffer += decoder.decode(value, {stream: true});
                let end;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                    const head = buffer.slice(0, Math.min(end, 400));
                    buffer = buffer.slice(end + 2);
                    const kind = /"msg":\s*"(\w+)"/.exec(head);
                    const id = /"event_id":\s*"(\w+)"/.exec(head);
                    if (!kind || kind[1] === 'heartbeat') continue;
                    if (kind[1] === 'process_completed' || kind[1] === 'unexpected_error') {
                        window.benchPending = Math.max(0, window.benchPending - 1);
                    }
                    mark(kind[1], id ? id[1] : null);
                }
            }
        })();
        return new Response(theirs, {status: response.status, statusText: response.statusText,
                                     headers: response.headers});
    };
})();
"""

# No queue event in flight and every Gradio status tracker idle: the next sample starts from a quiet page.
IDLE_JS = """() => window.benchPending === 0 && Array.from(document.querySelectorAll('[data-testid="status-tracker"]'))
    .every(tracker => tracker.classList.contains('hide') || tracker.offsetParent === null)"""

# For the timelines printed after a miss: window.benchTrace gets [performance.now(), what, detail] for each queue
# join and message (from STREAM_JS), each long task (its duration), each matrix drawn and each image loaded in
# #heatmap.
TRACE_JS = r"""
window.benchTrace = [];
(() => {
    const mark = (what, detail) => window.benchTrace.push([performance.now(), what, detail ?? null]);
    window.benchMark = mark;  // STREAM_JS reports the queue's joins and messages here
    new PerformanceObserver(list => list.getEntries().forEach(
        entry => window.benchTrace.push([entry.startTime, 'long task', entry.duration]))
    ).observe({type: 'longtask', buffered: true});
    new MutationObserver(records => records.forEach(record => {
        if (record.attributeName === 'data-version' && record.target.closest('#heatmap')
                && record.target.dataset.version !== '0') mark('matrix drawn', record.target.dataset.version);
    })).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-version']});
    document.addEventListener('load', event => {
        if (event.target.closest && event.target.closest('#heatmap')) mark('image loaded');
    }, true);
})();
"""


# --- reporting and inputs ---------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    """Samples in ms."""
    return (
        f"median {statistics.median(values):.1f} ms, p95 {harness.p95(values):.1f} ms, max {max(values):.1f} ms, "
        f"n={len(values)}"
    )


def app_of_revision(revision: str) -> Path:
    """Extract ``revision`` of this repository into a temporary folder; return its app.py."""
    folder = harness.temp_dir() / f"rev-{revision}"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True, timeout=60
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True, timeout=60)
    return folder / "app.py"


def heatmap_size() -> str:
    """The app's heatmap PNG for six tokens, in pixels, "width,height" (what the floor's pictures measure)."""
    from attention_core import tokenize
    from attention_core.views import figures

    layout = figures.heatmap_layout(tokenize(BOOK_SENTENCE).tokens)
    return f"{int(layout.width * figures.DPI)},{int(layout.height * figures.DPI)}"


# --- the measurements ------------------------------------------------------------------------------------


IDLE_QUIET_S = 0.6  # wait_idle's quiet spell, taken off "settled"


def wait_idle(page, quiet_ms: int = int(IDLE_QUIET_S * 1e3)) -> None:
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


def open_page(browser, url: str, *, trace: bool = False):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(COLD_JS)
    context.add_init_script(STREAM_JS)
    if trace:
        context.add_init_script(TRACE_JS)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=EVENT_TIMEOUT_MS)
    return context, page


@dataclass
class Cold:
    """One cold page: seconds from navigation start to the first matrix, to #below visible (None: no #below), and
    to the page settled (every event answered, then idle)."""

    first: float
    below: float | None
    settled: float


def cold_page(browser, url: str) -> Cold:
    """A fresh context (empty cache) opens the page, and waits until it has settled."""
    context, page = open_page(browser, url)
    try:
        first = float(page.evaluate("() => window.benchFirstMatrix")) / 1e3
        below = page.evaluate(BELOW_JS, EVENT_TIMEOUT_MS)
        wait_idle(page)  # the run's follow-ups finish before the next page loads
        settled = float(page.evaluate("() => performance.now()")) / 1e3 - IDLE_QUIET_S
        return Cold(first, None if below is None else float(below) / 1e3, settled)
    finally:
        context.close()


def fill_text(page, text: str) -> None:
    page.locator("#run-form textarea, textarea").first.fill(text)


def bench_cold(report: Report, browser, ours: Server, floor: Server) -> None:
    section(
        f"Cold page → first matrix (fresh context, page clock from navigation start), {COLD_ROUNDS} each, alternating"
    )
    ours_cold, floor_cold = harness.alternate(
        lambda: cold_page(browser, ours.url), lambda: cold_page(browser, floor.url), count=COLD_ROUNDS, warmup=1
    )
    a, b = [cold.first for cold in ours_cold], [cold.first for cold in floor_cold]
    below = [cold.below - cold.first for cold in ours_cold if cold.below is not None]
    if below:
        report.target(
            "what lies below visible ≤ 1 s after the first matrix",
            statistics.median(below) <= TARGETS["below_s"],
            f"median {statistics.median(below) * 1e3:.0f} ms (max {max(below) * 1e3:.0f} ms)",
        )
    info(
        "everything settled (navigation start → every event answered)",
        f"ours {statistics.median([c.settled for c in ours_cold]):.2f} s, "
        f"floor {statistics.median([c.settled for c in floor_cold]):.2f} s",
    )
    if not report.ratio("cold page → first matrix vs floor", a, b, TARGETS["cold"]):
        for server in (ours, floor):
            explain(server, [traced_cold(browser, server.url) for _ in range(TRACED)], "navigation start")


class RunClicker:
    """One open page that clicks Run with a new six-token text each time."""

    def __init__(self, browser, url: str, *, trace: bool = False) -> None:
        self.context, self.page = open_page(browser, url, trace=trace)
        self.page.evaluate("() => window.benchFirstMatrix")
        wait_idle(self.page)
        self.count = 0

    def __call__(self) -> float:
        self.count += 1
        fill_text(self.page, OTHER_SIX if self.count % 2 else BOOK_SENTENCE)
        elapsed = float(self.page.evaluate(RUN_JS, EVENT_TIMEOUT_MS)) / 1e3
        wait_idle(self.page)
        return elapsed

    def close(self) -> None:
        self.context.close()


def bench_run(report: Report, browser, ours: Server, floor: Server) -> None:
    section(f"Run clicked → new matrix (page clock), {RUN_CLICKS} each, alternating")
    pages = [RunClicker(browser, ours.url), RunClicker(browser, floor.url)]
    try:
        a, b = harness.alternate(pages[0], pages[1], count=RUN_CLICKS, warmup=WARMUP)
    finally:
        for page in pages:
            page.close()
    if not report.ratio("Run clicked → new matrix vs floor", a, b, TARGETS["run"]):
        for server in (ours, floor):
            explain(server, traced_runs(browser, server.url), "the click")


# --- where the time goes (printed after a miss) ------------------------------------------------------------

TRACED = 3  # traced page loads or clicks per side; the one with the median time is printed
# The network's own clock for the queue's requests (a queue/data stream ends when its event's answer is complete),
# which the main thread's long tasks cannot delay; and, for a page load, the navigation and every resource.
RESOURCES_JS = """() => {
    const navigation = performance.getEntriesByType('navigation')[0];
    return {html: navigation.responseEnd, dom: navigation.domContentLoadedEventEnd, load: navigation.loadEventEnd,
            resources: performance.getEntriesByType('resource').map(
                entry => [entry.name, entry.startTime, entry.responseEnd,
                          entry.transferSize || entry.encodedBodySize])};
}"""


@dataclass
class Trace:
    start: float  # page clock, ms: navigation start (0) or the click
    frame: float  # the first frame after the new matrix, what the benchmark times
    events: list  # [time, what, detail], from TRACE_JS
    resources: dict  # from RESOURCES_JS

    @property
    def drawn(self) -> float:
        """When the new matrix was drawn (or the image loaded), after the start."""
        return min(
            (t for t, what, _ in self.events if t >= self.start and what in ("matrix drawn", "image loaded")),
            default=self.frame,
        )


def traced_cold(browser, url: str) -> Trace:
    context, page = open_page(browser, url, trace=True)
    try:
        frame = float(page.evaluate("() => window.benchFirstMatrix"))
        wait_idle(page)
        return Trace(0.0, frame, page.evaluate("() => window.benchTrace"), page.evaluate(RESOURCES_JS))
    finally:
        context.close()


def traced_runs(browser, url: str) -> list[Trace]:
    clicker = RunClicker(browser, url, trace=True)
    try:
        traces = []
        for _ in range(TRACED):
            clicker.page.evaluate("() => { window.benchTrace.length = 0; performance.clearResourceTimings(); }")
            elapsed = clicker() * 1e3
            events = clicker.page.evaluate("() => window.benchTrace")
            click = next(t for t, what, _ in events if what == "click")
            traces.append(Trace(click, click + elapsed, events, clicker.page.evaluate(RESOURCES_JS)))
        return traces
    finally:
        clicker.close()


def explain(server: Server, traces: list[Trace], origin: str) -> None:
    """Print the median trace's timeline up to the frame that shows the matrix: queue joins and answers by handler
    (the answer's arrival on the network clock too), long tasks, and for a page load the HTML, DOMContentLoaded and
    the resources fetched before the matrix."""
    import httpx

    with httpx.Client(trust_env=False, timeout=10.0) as http:
        dependencies = http.get(f"{server.url}config").json()["dependencies"]
    names = {d["id"]: d.get("api_name") or "(unnamed)" for d in dependencies}
    trace = sorted(traces, key=lambda trace: trace.frame - trace.start)[len(traces) // 2]
    handler = {detail[1]: names.get(detail[0], detail[0]) for _, what, detail in trace.events if what == "joined"}
    rows = []
    for t, what, detail in trace.events:
        if what == "join":
            rows.append((t, f"join {names.get(detail, detail)}"))
        elif what == "long task":
            rows.append((t, f"long task {detail:.0f} ms"))
        elif what in ("process_completed", "process_starts"):
            rows.append((t, f"{what.removeprefix('process_')} {handler.get(detail, '?')}"))
        elif what in ("matrix drawn", "image loaded"):
            rows.append((t, what))
    for name, _started, ended, _ in trace.resources["resources"]:
        if "/queue/data" in name:
            rows.append((ended, "[network] answer complete"))
    rows.append((trace.frame, "frame shown"))
    timeline = [f"{t - trace.start:.0f} {label}" for t, label in sorted(rows) if trace.start <= t <= trace.frame]
    info(f"timeline, {server.name}", f"ms after {origin} (median of {len(traces)} traced): " + "; ".join(timeline))
    long_tasks = [(t, d) for t, what, d in trace.events if what == "long task" and trace.start <= t <= trace.frame]
    after = sum(d for t, d in long_tasks if t >= trace.drawn)
    info(
        f"long tasks, {server.name}",
        f"{len(long_tasks)} between {origin} and the frame, "
        f"{sum(d for _, d in long_tasks):.0f} ms in all ({after:.0f} ms of them from the matrix drawn to its frame); "
        f"drawn at {trace.drawn - trace.start:.0f} ms, shown at {trace.frame - trace.start:.0f} ms",
    )
    if trace.start == 0.0:
        found = trace.resources
        before = [r for r in found["resources"] if r[2] <= trace.frame]
        info(
            f"page load, {server.name}",
            f"HTML at {found['html']:.0f} ms, DOMContentLoaded {found['dom']:.0f} ms, load {found['load']:.0f} ms; "
            f"{len(before)} resources before the matrix ({sum(r[3] for r in before) / 1e3:.0f} kB); "
            f"{sum(1 for t, what, _ in trace.events if what == 'join' and t <= trace.frame)} queue joins before it",
        )


def bench_tau(report: Report, browser, ours: Server, text_256: str) -> None:
    section("τ change → repaint (page clock, slider input event to the next frame)")
    context, page = open_page(browser, ours.url)
    try:
        page.evaluate("() => window.benchFirstMatrix")
        wait_idle(page)
        component = page.locator("#heatmap [data-attention-matrix]").count() > 0
        info(
            "matrix",
            "drawn in the browser (web/matrix.js)"
            if component
            else "an image from the server; τ redraws only on release, through the server",
        )
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
                report.target(
                    "τ repaint at T = 256 ≤ 50 ms", statistics.median(samples) <= TARGETS["tau_ms_256"], spread(samples)
                )
            else:
                info(f"τ repaint at T = {size}", spread(samples))
    finally:
        context.close()


# --- main --------------------------------------------------------------------------------------------


PHASES = ("cold", "run", "tau")


def bench(report: Report, revision: str | None, phases: tuple[str, ...] = PHASES) -> None:
    from playwright.sync_api import sync_playwright

    chromium = harness.chromium_path()
    if chromium is None:
        raise RuntimeError("Chromium was not found: apt-get install chromium (Playwright downloads no browser here).")
    app_path = app_of_revision(revision) if revision else ROOT / "app.py"
    info("app", f"{revision or 'working tree'} ({app_path}); Chromium {chromium}")
    text_256 = harness.text_of_tokens(256)
    with (
        harness.served("app", app_path) as ours,
        harness.served("floor", "benchmarks/floor_ui.py", env={"FLOOR_IMAGE_SIZE": heatmap_size()}) as floor,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, args=harness.CHROMIUM_ARGS, headless=True)
        for server in (ours, floor):
            harness.wait_quiet(server)  # past the app's warm-up, which runs after its first page is served
        try:
            info("browser", f"Chromium {browser.version}")
            if "cold" in phases:
                report.phase("cold page", lambda: bench_cold(report, browser, ours, floor))
            if "run" in phases:
                report.phase("Run", lambda: bench_run(report, browser, ours, floor))
            if "tau" in phases:
                report.phase("τ", lambda: bench_tau(report, browser, ours, text_256))
        finally:
            browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", help="benchmark the app.py of this git revision instead of the working tree's")
    parser.add_argument("--only", choices=PHASES, action="append", help="run only this part (repeatable)")
    arguments = parser.parse_args()
    sys.exit(harness.main("bench_ui", lambda report: bench(report, arguments.rev, tuple(arguments.only or PHASES))))
