"""App speed targets, measured against Gradio's own floor: ``python benchmarks/bench_app.py``.

Launches ``python app.py`` and the minimal ``benchmarks/floor_app.py`` on free loopback ports,
times the named API over plain HTTP (``POST /gradio_api/call/<name>``, then the SSE stream until
``event: complete``) with our requests and the floor's alternating, times the UI's main event
in-process (compute, figures, Gradio's postprocess + serialization) and through the server as a
browser would, and times start-up. Each target line says PASS or MISS and the ratio of medians;
INFO lines are numbers without a target. The exit code is 0 even on MISS: this is a report.
Every server it starts is stopped before it exits, also on error or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import itertools
import json
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Gradio's file cache (the PNGs of gr.Image outputs) goes to a directory we remove at the end.
TEMP_DIR = Path(tempfile.mkdtemp(prefix="bench_app_"))
os.environ["GRADIO_TEMP_DIR"] = str(TEMP_DIR / "gradio")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402

BOOK_SENTENCE = "Your journey starts with one step"
SEED = 123
REQUESTS = 30  # timed requests per side of each HTTP comparison
WARMUP = 5
UI_RUNS = 10  # in-process runs of the main UI event, per size
E2E_RUNS = 10  # runs of the main UI event through the server, per size
STARTUP_ROUNDS = 3
LAUNCH_TIMEOUT = 90.0
READ_TIMEOUT = 60.0
MAX_JSON_BYTES = 8_000_000  # 8 MB
LAB_VALUES = 1_000

_running: list[subprocess.Popen] = []


# --- reporting ---------------------------------------------------------------------------------


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

    def ratio(self, name: str, ours: list[float], floor: list[float], limit: float, *, unit: float = 1e3) -> None:
        if not ours or not floor:
            self.target(name, False, "no successful timings")
            return
        ratio = statistics.median(ours) / statistics.median(floor)
        self.target(name, ratio <= limit, f"{ratio:.2f}x (target ≤ {limit:g}x; {compare(ours, floor, unit=unit)})")


def info(name: str, detail: str) -> None:
    print(f"{'INFO':<5} {name}: {detail}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def compare(ours: list[float], floor: list[float], *, unit: float = 1e3) -> str:
    suffix = " ms" if unit == 1e3 else " s"
    digits = 1 if unit == 1e3 else 2
    return (
        f"median {statistics.median(ours) * unit:.{digits}f}{suffix} vs {statistics.median(floor) * unit:.{digits}f}{suffix}, "
        f"p95 {p95(ours) * unit:.{digits}f}{suffix} vs {p95(floor) * unit:.{digits}f}{suffix}, n={len(ours)}/{len(floor)}"
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB ({size:,} bytes)"


# --- servers -----------------------------------------------------------------------------------


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


def launch(name: str, script: str) -> tuple[Server, float]:
    """Start ``python <script>`` on a free loopback port; return it and the seconds until GET / served the page."""
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log_path = TEMP_DIR / f"{name}-{port}.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, script], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches anything it spawns
        )
    _running.append(process)
    server = Server(name, url, process, log_path)
    with httpx.Client(trust_env=False, timeout=5.0) as probe:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} before serving a page:\n{server.log_tail()}")
            try:
                page = probe.get(url)
                if page.status_code == 200 and "<html" in page.text[:4000].lower():
                    return server, time.perf_counter() - start
            except httpx.TransportError:
                pass
            if time.perf_counter() - start > LAUNCH_TIMEOUT:
                stop(server.process)
                raise RuntimeError(f"{name} served no page within {LAUNCH_TIMEOUT:.0f} s:\n{server.log_tail()}")
            time.sleep(0.02)


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


# --- HTTP calls --------------------------------------------------------------------------------


@dataclass
class Call:
    seconds: float
    ok: bool
    payload: str  # the JSON text of the complete (or error) event's data


@dataclass
class Samples:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last: Call | None = None

    def add(self, call: Call) -> None:
        self.last = call
        if call.ok:
            self.times.append(call.seconds)
        else:
            if not self.errors:
                print(f"      error: {call.payload[:300]}", flush=True)
            self.errors.append(call.payload)


def call_api(http: httpx.Client, base: str, name: str, data: list[Any]) -> Call:
    """POST /gradio_api/call/<name>, then read its SSE stream; the clock stops when the complete event's data arrives."""
    start = time.perf_counter()
    posted = http.post(f"{base}gradio_api/call/{name}", json={"data": data})
    if posted.status_code != 200:
        return Call(time.perf_counter() - start, False, f"HTTP {posted.status_code}: {posted.text}")
    event_id = posted.json()["event_id"]
    event, result, seconds = None, None, None
    with http.stream("GET", f"{base}gradio_api/call/{name}/{event_id}") as stream:
        for line in stream.iter_lines():  # read to the end, so the connection goes back to the pool
            if result is not None:
                continue
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event in ("complete", "error"):
                seconds = time.perf_counter() - start
                result = Call(seconds, event == "complete", line[6:])
    return result or Call(time.perf_counter() - start, False, f"stream ended without a complete event (last event {event})")


def timed_call(function: Callable[[], Any]) -> Call:
    start = time.perf_counter()
    try:
        function()
    except Exception as error:
        return Call(time.perf_counter() - start, False, f"{type(error).__name__}: {error}")
    return Call(time.perf_counter() - start, True, "")


def alternate(ours: Callable[[], Call], floor: Callable[[], Call], *, count: int = REQUESTS,
              warmup: int = WARMUP) -> tuple[Samples, Samples]:
    """Warm both up, then time them alternately (A B B A A B ...), so drift in machine speed hits both alike."""
    for _ in range(warmup):
        ours()
        floor()
    ours_samples, floor_samples = Samples(), Samples()
    for index in range(count):
        if index % 2:
            floor_samples.add(floor())
            ours_samples.add(ours())
        else:
            ours_samples.add(ours())
            floor_samples.add(floor())
    return ours_samples, floor_samples


# --- inputs ------------------------------------------------------------------------------------


def text_of_tokens(count: int) -> str:
    """Prose-like text of exactly ``count`` GPT-2 tokens: "The" and then single-token words with a leading space."""
    from attention_core import tokenize

    words = (
        "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
        "you were her she there one all we their can has more when will would if so no what up out about who them "
        "some could him into its then two time like other these may first new any only attention journey starts step "
        "token vector weight context query matrix language model sequence chapter reader example sentence meaning "
        "words numbers"
    ).split()
    single = [word for word in words if len(tokenize(" " + word).ids) == 1]
    text = "The" + "".join(" " + word for word in itertools.islice(itertools.cycle(single), count - 1))
    got = len(tokenize(text).ids)
    if got != count:
        raise RuntimeError(f"the benchmark text has {got} GPT-2 tokens, not {count}; change the word list in text_of_tokens.")
    return text


def lab_values(count: int) -> str:
    rng = np.random.default_rng(0)
    return ", ".join(f"{value:.4f}" for value in rng.uniform(-10, 10, count))


# --- 1-3: the named API over HTTP --------------------------------------------------------------


def bench_api(report: Report, ours: Server, floor: Server, text_256: str) -> None:
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT)) as http:
        section("Named API over HTTP (POST /gradio_api/call/<name> + SSE), ours and the floor alternating")
        a, b = alternate(lambda: call_api(http, ours.url, "attend", [BOOK_SENTENCE, 3, SEED, ""]),
                         lambda: call_api(http, floor.url, "echo", [BOOK_SENTENCE]))
        report.ratio("/attend 6 tokens vs echo floor", a.times, b.times, 1.3)

        values = lab_values(LAB_VALUES)
        a, b = alternate(lambda: call_api(http, ours.url, "normalize", [values, "float32"]),
                         lambda: call_api(http, floor.url, "echo", [BOOK_SENTENCE]))
        report.ratio(f"/normalize {LAB_VALUES:,} values (float32) vs echo floor", a.times, b.times, 1.3)
        if a.last and a.last.ok:
            info("/normalize response size", megabytes(len(a.last.payload.encode())))
        # Gradio's own per-byte work (JSON, walking the answer for files) is part of the echo comparison;
        # this shows how much of the gap is that, against a precomputed answer of the same shape.
        a, b = alternate(lambda: call_api(http, ours.url, "normalize", [values, "float32"]),
                         lambda: call_api(http, floor.url, "lab", [values, "float32"]))
        if a.times and b.times:
            ratio = statistics.median(a.times) / statistics.median(b.times)
            info(f"/normalize {LAB_VALUES:,} values vs same-size precomputed floor", f"{ratio:.2f}x ({compare(a.times, b.times)})")

        a, b = alternate(lambda: call_api(http, ours.url, "attend", [text_256, 768, SEED, ""]),
                         lambda: call_api(http, floor.url, "payload", [256, 768]))
        report.ratio("/attend 256 tokens x 768 vs same-size payload floor", a.times, b.times, 1.3)
        if a.last is None or not a.last.ok or b.last is None or not b.last.ok:
            report.target("JSON size at 256x768 ≤ 8 MB", False, "no successful response to measure")
            report.target("float32 round trip", False, "no successful response to check")
        else:
            ours_size, floor_size = len(a.last.payload.encode()), len(b.last.payload.encode())
            info("response size at 256x768", f"ours {megabytes(ours_size)}, floor (float64 repr) {megabytes(floor_size)}, "
                                             f"{ours_size / floor_size:.2f}x")
            report.target("JSON size at 256x768 ≤ 8 MB", ours_size <= MAX_JSON_BYTES,
                          f"{megabytes(ours_size)} (limit {MAX_JSON_BYTES:,} bytes)")
            check_round_trip(report, json.loads(a.last.payload)[0], text_256)

    section("gradio_client round trip (Client(url).predict), alternating")
    from gradio_client import Client

    clients = [Client(server.url, verbose=False, analytics_enabled=False, download_files=False) for server in (ours, floor)]
    try:
        ours_client, floor_client = clients
        a, b = alternate(
            lambda: timed_call(lambda: ours_client.predict(BOOK_SENTENCE, 3, SEED, "", api_name="/attend")),
            lambda: timed_call(lambda: floor_client.predict(BOOK_SENTENCE, api_name="/echo")),
        )
        if a.times and b.times:
            ratio = statistics.median(a.times) / statistics.median(b.times)
            info("gradio_client /attend 6 tokens vs echo floor", f"{ratio:.2f}x ({compare(a.times, b.times)})")
        else:
            info("gradio_client /attend 6 tokens vs echo floor", "no successful calls")
    finally:
        for client in clients:
            close = getattr(client, "close", None)
            if close:
                close()


def check_round_trip(report: Report, response: dict, text_256: str) -> None:
    """Our JSON numbers must read back as exactly the float32 values attention_core computes."""
    import attention_core as ac

    attention = ac.attend(text_256, dim=768, seed=SEED).attention
    problems = []
    for key in ("inputs", "scores", "weights", "context"):
        expected = getattr(attention, key).numpy()
        try:
            got = np.array(response[key], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{key}: unreadable ({type(error).__name__})")
            continue
        if got.shape != expected.shape:
            problems.append(f"{key}: shape {got.shape} != {expected.shape}")
        elif not np.array_equal(got, expected):
            problems.append(f"{key}: {int((got != expected).sum()):,} of {expected.size:,} differ")
    report.target("float32 round trip (inputs, scores, weights, context at 256x768)", not problems,
                  "; ".join(problems) or "every number reads back as the same float32")


# --- 4b: the main UI event through the server, as a browser sends it ---------------------------


def ui_event(http: httpx.Client, base: str, fn_index: int, trigger_id: int | None, data: list[Any],
             session_hash: str) -> tuple[float, dict]:
    """POST /gradio_api/queue/join with fn_index, then read /gradio_api/queue/data until process_completed."""
    start = time.perf_counter()
    joined = http.post(f"{base}gradio_api/queue/join", json={
        "data": data, "event_data": None, "fn_index": fn_index, "trigger_id": trigger_id, "session_hash": session_hash,
    })
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    seconds, completed = None, None
    with http.stream("GET", f"{base}gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
        for line in stream.iter_lines():
            if completed is not None or not line.startswith("data: "):
                continue
            if '"process_completed"' in line[:200] or '"unexpected_error"' in line[:200]:
                seconds = time.perf_counter() - start
                message = json.loads(line[6:])
                if message.get("msg") == "unexpected_error" or message.get("event_id") == event_id:
                    completed = message
    if completed is None:
        raise RuntimeError(f"no process_completed for event {event_id}")
    if not completed.get("success"):
        raise RuntimeError(f"event failed: {str(completed)[:300]}")
    return seconds, completed["output"]


def bench_ui_over_http(ours: Server, text_256: str) -> None:
    section("Main UI event through the server, as the browser sends it (queue/join + queue/data)")
    import app

    with httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT)) as http:
        config = http.get(f"{ours.url}config").json()
        dependencies = config["dependencies"]
        # Run's click first updates the page's URL in the browser (no server call), then runs run_attention,
        # then run_extras (trace, parity, facts...) and time_both. Each is timed as the browser sends it.
        main = next((d for d in dependencies if d.get("api_name") == "run_attention" and len(d["inputs"]) == 7), None)
        if main is None:
            info("UI event end to end", "skipped: no run_attention event with 7 inputs in /config")
            return
        then = next((d for d in dependencies if d.get("trigger_after") == main["id"]), None)
        trigger = None
        cases = {6: (BOOK_SENTENCE, 3), 256: (text_256, 768)}
        sessions = {size: uuid.uuid4().hex[:11] for size in cases}
        times: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}

        def once(size: int, record: bool) -> None:
            text, dim = cases[size]
            data = [text, app.SOURCE_RANDOM, dim, SEED, app.BOOK_TABLE, False, 1.0]
            seconds, output = ui_event(http, ours.url, main["id"], trigger, data, sessions[size])
            files = [value["url"] for value in output["data"] if isinstance(value, dict) and value.get("url")]
            start = time.perf_counter()
            file_bytes = 0
            for url in files:  # absolute or relative to the app
                image = http.get(httpx.URL(ours.url).join(url))
                image.raise_for_status()
                file_bytes += len(image.content)
            fetch = time.perf_counter() - start
            then_data = [None] * len(then["inputs"]) if then else []
            if then and len(then_data) == 2:
                then_data[1] = text  # run_extras(state, text): the state is the session's own
            then_seconds = ui_event(http, ours.url, then["id"], None, then_data, sessions[size])[0] if then else 0.0
            if record:
                times.setdefault(f"{size} event", []).append(seconds)
                times.setdefault(f"{size} files", []).append(fetch)
                times.setdefault(f"{size} then", []).append(then_seconds)
                sizes[f"{size} json"] = len(json.dumps(output))
                sizes[f"{size} files"] = file_bytes
                sizes[f"{size} nfiles"] = len(files)

        for size in cases:
            for _ in range(2):
                once(size, record=False)
        for index in range(E2E_RUNS):
            for size in (cases if index % 2 == 0 else reversed(list(cases))):
                once(size, record=True)
        for size in cases:
            event, fetch, then_times = times[f"{size} event"], times[f"{size} files"], times[f"{size} then"]
            info(f"UI event end to end, {size} tokens",
                 f"run_attention {ms(statistics.median(event))} (p95 {ms(p95(event))}, output JSON "
                 f"{sizes[f'{size} json'] / 1e3:.1f} kB); fetching its {sizes[f'{size} nfiles']} images "
                 f"{ms(statistics.median(fetch))} ({sizes[f'{size} files'] / 1e3:.1f} kB); "
                 f"then run_extras {ms(statistics.median(then_times))}; n={len(event)}")


# --- 4a: the main UI event in-process ------------------------------------------------------------


def bench_ui_in_process(report: Report, text_256: str) -> None:
    section(f"Main UI event in-process (no server), median of {UI_RUNS} runs, 6 and 256 tokens alternating")
    import orjson
    from gradio.state_holder import SessionState

    import app
    import attention_core as ac
    from attention_core import explain

    block_fn = next((f for f in app.demo.fns.values() if f.fn is app.run_attention), None) or next(
        f for f in app.demo.fns.values() if f.name == "run_attention")
    loop = asyncio.new_event_loop()
    cases = {6: (BOOK_SENTENCE, 3), 256: (text_256, 768)}
    timings: dict[int, dict[str, list[float]]] = {size: {} for size in cases}
    missing: set[str] = set()

    def piece(size: int, name: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            result = function()
        except (AttributeError, TypeError, ValueError) as error:  # app's helpers changed shape: report n/a
            missing.add(f"{name} ({type(error).__name__}: {error})")
            return None
        timings[size].setdefault(name, []).append(time.perf_counter() - start)
        return result

    def postprocess(outputs: Any) -> bytes:
        state = SessionState(app.demo)
        data = loop.run_until_complete(app.demo.postprocess_data(block_fn, list(outputs), state))
        return orjson.dumps(data, default=str)  # what /gradio_api/queue/data sends the browser

    def once(size: int) -> None:
        text, dim = cases[size]
        run = piece(size, "attend", lambda: ac.attend(text, dim=dim, seed=SEED))
        query = app.default_query(run)
        inputs = run.attention.inputs

        def markdown() -> str:
            return explain.query_walkthrough(run.tokens, inputs, ac.query_steps(inputs, query))

        def other_text() -> tuple:
            return (explain.token_chips_html(run.tokens, run.ids), app.table_value(run.tokens, inputs),
                    app.table_value(run.tokens, run.attention.context), app.query_choices(run),
                    explain.self_match_markdown(run.tokens, run.attention), app.pytorch_recipe(run, text))

        piece(size, "walkthrough markdown", markdown)
        piece(size, "other text", other_text)
        piece(size, "heatmap", lambda: app.heatmap_image(run, False))
        piece(size, "walkthrough", lambda: app.walkthrough(run, query))
        outputs = piece(size, "handler", lambda: app.run_attention(text, app.SOURCE_RANDOM, dim, SEED, app.BOOK_TABLE, False))
        body = piece(size, "serialize", lambda: postprocess(outputs))
        if body is not None:
            timings[size]["json bytes"] = [len(body)]
        piece(size, "then time_both", lambda: app.time_both(outputs[0]))

    try:
        for size in cases:
            once(size)  # warm-up: the embedding tables, fonts and caches
        for index in range(UI_RUNS):
            for size in (cases if index % 2 == 0 else reversed(list(cases))):
                once(size)
    finally:
        loop.close()

    def median(size: int, name: str) -> float | None:
        values = timings[size].get(name)
        return statistics.median(values) if values else None

    totals = {}
    for size in cases:
        parts = {name: median(size, name) for name in
                 ("attend", "walkthrough markdown", "other text", "heatmap", "walkthrough", "handler", "serialize",
                  "then time_both")}
        handler, serialize = parts["handler"], parts["serialize"]
        totals[size] = handler + serialize if handler is not None and serialize is not None else None
        compute = figures = None
        if None not in (parts["attend"], parts["walkthrough markdown"], parts["other text"]):
            compute = parts["attend"] + parts["walkthrough markdown"] + parts["other text"]
        if None not in (parts["heatmap"], parts["walkthrough"], parts["walkthrough markdown"]):
            figures = parts["heatmap"] + max(0.0, parts["walkthrough"] - parts["walkthrough markdown"])

        def show(value: float | None) -> str:
            return "n/a" if value is None else ms(value)

        bars = None if parts["walkthrough"] is None else max(0.0, parts["walkthrough"] - (parts["walkthrough markdown"] or 0))
        info(f"UI event in-process, {size} tokens",
             f"compute {show(compute)} [attend {show(parts['attend'])}, walkthrough markdown "
             f"{show(parts['walkthrough markdown'])}, chips/tables/self-match/recipe {show(parts['other text'])}]; "
             f"figures {show(figures)} [heatmap {show(parts['heatmap'])}, bars {show(bars)}]; "
             f"handler as a whole {show(handler)}; serialization {show(serialize)} "
             f"[postprocess incl. PNG encode + cache write, orjson; "
             f"{timings[size].get('json bytes', [0])[0] / 1e3:.1f} kB]; "
             f"total {show(totals[size])}; then time_both {show(parts['then time_both'])}")
    for name in sorted(missing):
        info("in-process piece not measured", name)
    if totals[6] and totals[256]:
        ratio = totals[256] / totals[6]
        report.target("UI event 256 tokens total ≤ 3x the 6-token total (handler + serialization)", ratio <= 3.0,
                      f"{ratio:.2f}x ({ms(totals[256])} vs {ms(totals[6])})")
    else:
        report.target("UI event 256 tokens total ≤ 3x the 6-token total", False, "could not time the handler")


# --- 5: start-up -------------------------------------------------------------------------------


def bench_startup(report: Report) -> None:
    section(f"Start-up: launch to first page (GET / 200 with HTML), {STARTUP_ROUNDS} rounds alternating")
    ours_times, floor_times = [], []
    for round_index in range(STARTUP_ROUNDS):
        order = [("app", "app.py", ours_times), ("floor", "benchmarks/floor_app.py", floor_times)]
        for name, script, times in (order if round_index % 2 == 0 else order[::-1]):
            server, seconds = launch(name, script)
            stop(server.process)
            times.append(seconds)
    info("start-up samples", f"ours {', '.join(f'{t:.2f}' for t in ours_times)} s; "
                             f"floor {', '.join(f'{t:.2f}' for t in floor_times)} s")
    report.ratio("start-up vs floor app", ours_times, floor_times, 1.5, unit=1.0)


# --- main --------------------------------------------------------------------------------------


def phase(report: Report, name: str, function: Callable[[], None]) -> None:
    try:
        function()
    except Exception:
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        report.target(f"{name} ran to the end", False, "it raised (traceback above on stderr)")


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    report = Report()
    began = time.perf_counter()
    print(f"bench_app: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, repo {ROOT}", flush=True)
    try:
        text_256 = text_of_tokens(256)
        phase(report, "start-up", lambda: bench_startup(report))

        servers: list[Server] = []
        try:
            def start_servers() -> None:
                for name, script in (("app", "app.py"), ("floor", "benchmarks/floor_app.py")):
                    servers.append(launch(name, script)[0])

            phase(report, "server launch", start_servers)
            if len(servers) == 2:
                ours, floor = servers
                phase(report, "named API", lambda: bench_api(report, ours, floor, text_256))
                phase(report, "UI event through the server", lambda: bench_ui_over_http(ours, text_256))
                for server in servers:
                    if server.process.poll() is not None:
                        print(f"{server.name} died during the run:\n{server.log_tail()}", file=sys.stderr)
        finally:
            for server in servers:
                stop(server.process)

        phase(report, "UI event in-process", lambda: bench_ui_in_process(report, text_256))
    finally:
        stop_all()
        shutil.rmtree(TEMP_DIR, ignore_errors=True)
    print(f"\n{report.passed} PASS, {report.missed} MISS  ({time.perf_counter() - began:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
