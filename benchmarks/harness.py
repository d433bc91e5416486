"""What every benchmark script shares: servers started and stopped, Debian's Chromium, the PASS/MISS report.

- ``launch(name, script)`` starts ``python <script>`` on a free loopback port in its own process group and
  returns once ``GET /`` serves the page; ``stop`` and ``stop_all`` end what was started (SIGTERM, then SIGKILL).
  ``served(script)`` is the same as a context manager.
- ``CHROMIUM_ARGS`` and ``chromium_path()``: Debian's Chromium, headless, with nothing that calls out (the
  browser tests use them too). Playwright never downloads a browser here.
- ``Report`` prints one ``PASS``/``MISS`` line per target, ``info`` one ``INFO`` line per figure without one;
  ``alternate`` times two sides A B B A ..., so drift in the machine's speed hits both alike.
- ``main(title, body)`` runs a script's body with the servers stopped and the temporary folder removed at the
  end, also on error, SIGTERM or Ctrl-C.

Only the standard library at import: the tests import the Chromium settings from here.
"""

from __future__ import annotations

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
LAUNCH_TIMEOUT = 120.0
BOOK_SENTENCE = "Your journey starts with one step"
# The floors' queue: app.QUEUE_CONCURRENCY and app.QUEUE_MAX_SIZE, written here because a floor never imports the
# app (bench_app.py checks that they still agree).
FLOOR_QUEUE = {"default_concurrency_limit": 2, "max_size": 64}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

T = TypeVar("T")
_running: list[subprocess.Popen] = []
_temp_dir: Path | None = None


def temp_dir() -> Path:
    """This run's temporary folder (servers' logs, Gradio's file cache), removed by ``main`` at the end."""
    global _temp_dir
    if _temp_dir is None:
        _temp_dir = Path(tempfile.mkdtemp(prefix="bench_"))
    return _temp_dir


def no_telemetry() -> None:
    """No analytics and no telemetry: call before gradio is imported."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def quiet_gradio() -> None:
    """``no_telemetry``, and Gradio's file cache (ours and the servers') in this run's temporary folder."""
    no_telemetry()
    os.environ["GRADIO_TEMP_DIR"] = str(temp_dir() / "gradio")


def chromium_path() -> str | None:
    """Debian's Chromium: on PATH, or at its usual place."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


# --- servers -----------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str  # ends with "/"
    process: subprocess.Popen
    log_path: Path
    seconds: float  # from start to the first page served

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def launch(name: str, script: Path | str, *, env: dict[str, str] | None = None) -> Server:
    """Start ``python <script>`` (relative to the repository, or absolute) on a free loopback port, from the
    script's folder when it is an app.py and from the repository otherwise; return once GET / serves the page."""
    import httpx

    script = ROOT / script
    port = free_port()
    environment = {
        **os.environ,
        "GRADIO_SERVER_NAME": HOST,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env or {}),
    }
    log_path = temp_dir() / f"{name}-{port}.log"
    url = f"http://{HOST}:{port}/"
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=script.parent if script.name == "app.py" else ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches anything it spawns
        )
    _running.append(process)
    server = Server(name, url, process, log_path, 0.0)
    with httpx.Client(trust_env=False, timeout=5.0) as probe:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with code {process.returncode} before serving a page:\n{server.log_tail()}"
                )
            try:
                page = probe.get(url)
                if page.status_code == 200 and "<html" in page.text[:4000].lower():
                    server.seconds = time.perf_counter() - start
                    return server
            except httpx.TransportError:
                pass
            if time.perf_counter() - start > LAUNCH_TIMEOUT:
                stop(process)
                raise RuntimeError(f"{name} served no page within {LAUNCH_TIMEOUT:.0f} s:\n{server.log_tail()}")
            time.sleep(0.02)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_quiet(server: Server, *, quiet: float = 1.0, busy_share: float = 0.25, timeout: float = 120.0) -> None:
    """Wait until the server has used less than ``busy_share`` of a CPU for ``quiet`` seconds in a row: the app
    warms up (torch, matplotlib) after it serves its first page, and a measurement must not start before that ends.
    (An idle Gradio server, ours or a floor, uses about 8 % of a CPU.)"""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        before = cpu_seconds(server.process.pid)
        time.sleep(quiet)
        if cpu_seconds(server.process.pid) - before < busy_share * quiet:
            return
    raise RuntimeError(f"{server.name} was still busy after {timeout:.0f} s")


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


@contextmanager
def served(name: str, script: Path | str, *, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``launch`` as a context manager: the server is stopped at the end; its log's tail is printed if it died."""
    server = launch(name, script, env=env)
    try:
        yield server
    finally:
        if server.process.poll() is not None:
            print(f"{name} died during the run:\n{server.log_tail()}", file=sys.stderr)
        stop(server.process)


# --- reporting ---------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    """Milliseconds, or seconds from 10 s up: ``12.3 ms``, ``11.18 s``."""
    return f"{seconds:.2f} s" if seconds >= 10 else f"{seconds * 1e3:.1f} ms"


def compare(ours: list[float], floor: list[float]) -> str:
    """Medians and p95 of two samples of seconds: ``median 12.0 ms vs 10.0 ms, p95 ... , n=30/30``."""
    return (
        f"median {ms(statistics.median(ours))} vs {ms(statistics.median(floor))}, "
        f"p95 {ms(p95(ours))} vs {ms(p95(floor))}, n={len(ours)}/{len(floor)}"
    )


def info(name: str, detail: str) -> None:
    print(f"{'INFO':<5} {name}: {detail}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


@dataclass
class Report:
    passed: int = 0
    missed: int = 0

    def target(self, name: str, ok: bool, detail: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.missed += 1
        print(f"{'PASS' if ok else 'MISS':<5} {name}: {detail}", flush=True)
        return ok

    def ratio(self, name: str, ours: list[float], floor: list[float], limit: float) -> bool:
        """PASS when median(ours) / median(floor) ≤ limit; samples in seconds."""
        if not ours or not floor:
            return self.target(name, False, "no successful timings")
        ratio = statistics.median(ours) / statistics.median(floor)
        return self.target(name, ratio <= limit, f"{ratio:.2f}x (target ≤ {limit:g}x; {compare(ours, floor)})")

    def phase(self, name: str, body: Callable[[], object]) -> None:
        """Run one part of a script; if it raises, print the traceback and count a MISS, and go on."""
        try:
            body()
        except Exception:
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            self.target(f"{name} ran to the end", False, "it raised (traceback above on stderr)")


def alternate(ours: Callable[[], T], floor: Callable[[], T], *, count: int, warmup: int) -> tuple[list[T], list[T]]:
    """Warm both up, then call them alternately (A B B A A B ...); each side's results in order."""
    for _ in range(warmup):
        ours()
        floor()
    ours_results: list[T] = []
    floor_results: list[T] = []
    for index in range(count):
        pair = [(ours, ours_results), (floor, floor_results)]
        for function, results in pair if index % 2 == 0 else pair[::-1]:
            results.append(function())
    return ours_results, floor_results


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through main's finally, which stops the servers


def main(title: str, body: Callable[[Report], None]) -> int:
    """Run ``body(report)``, then stop every server and remove the temporary folder, whatever happens; print the
    tally. The exit code is 0 even on MISS: a benchmark is a report."""
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    report = Report()
    began = time.perf_counter()
    print(f"{title}: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, repo {ROOT}", flush=True)
    try:
        report.phase(title, lambda: body(report))
    finally:
        stop_all()
        if _temp_dir is not None:
            shutil.rmtree(_temp_dir, ignore_errors=True)
    print(f"\n{report.passed} PASS, {report.missed} MISS  ({time.perf_counter() - began:.0f} s)", flush=True)
    return 0


# --- inputs ------------------------------------------------------------------------------------------


def text_of_tokens(count: int) -> str:
    """Prose-like text of exactly ``count`` GPT-2 tokens: "The" and then single-token words with a leading space."""
    from attention_core import tokenize

    words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "they",
        "you",
        "were",
        "her",
        "she",
        "there",
        "one",
        "all",
        "we",
        "their",
        "can",
        "has",
        "more",
        "when",
        "will",
        "would",
        "if",
        "so",
        "no",
        "what",
        "up",
        "out",
        "about",
        "who",
        "them",
        "some",
        "could",
        "him",
        "into",
        "its",
        "then",
        "two",
        "time",
        "like",
        "other",
        "these",
        "may",
        "first",
        "new",
        "any",
        "only",
        "attention",
        "journey",
        "starts",
        "step",
        "token",
        "vector",
        "weight",
        "context",
        "query",
        "matrix",
        "language",
        "model",
        "sequence",
        "chapter",
        "reader",
        "example",
        "sentence",
        "meaning",
    ]
    single = [word for word in words if len(tokenize(" " + word).ids) == 1]
    text = "The" + "".join(" " + word for word in itertools.islice(itertools.cycle(single), count - 1))
    got = len(tokenize(text).ids)
    if got != count:
        raise RuntimeError(
            f"the benchmark text has {got} GPT-2 tokens, not {count}; change the word list in text_of_tokens."
        )
    return text
