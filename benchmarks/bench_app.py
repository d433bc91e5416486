"""App speed targets, measured against Gradio's own floor: ``python benchmarks/bench_app.py``.

Launches ``python app.py`` (the guard in front of Gradio, as on the Space) and the minimal
``benchmarks/floor_app.py``, built with as many blocks as ``app.demo`` has, on free loopback ports. It times
the named API over plain HTTP (``POST /gradio_api/call/<name>``, then the SSE stream until ``event: complete``)
with our requests and the floor's alternating, times the UI's Run chain (``run_attention``, the first view,
then ``run_extras``, what lies below it) through the server as a browser sends it and in-process (each piece,
the handler, Gradio's postprocess + serialization), and times start-up. Each target line says PASS or MISS
and the ratio of medians; INFO lines are numbers without a target. The exit code is 0 even on MISS: this is
a report. Every server it starts is stopped before it exits, also on error or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import BOOK_SENTENCE, Report, Server, compare, info, ms, p95, section  # noqa: E402

harness.quiet_gradio()  # before gradio is imported

import httpx  # noqa: E402
import numpy as np  # noqa: E402

SEED = 123
REQUESTS = 30  # timed requests per side of each HTTP comparison
WARMUP = 5
UI_RUNS = 10  # in-process runs of the Run chain, per size
E2E_RUNS = 10  # runs of the Run chain through the server, per size
STARTUP_ROUNDS = 3
READ_TIMEOUT = 60.0
MAX_JSON_BYTES = 8_000_000  # 8 MB
LAB_VALUES = 1_000
FLOOR = "benchmarks/floor_app.py"


def megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB ({size:,} bytes)"


def floor_env() -> dict[str, str]:
    """The floor app builds as many blocks as app.demo has (counted here, at run time)."""
    import app

    return {"FLOOR_BLOCKS": str(len(app.demo.blocks))}


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

    @classmethod
    def of(cls, calls: list[Call]) -> Samples:
        samples = cls()
        for call in calls:
            samples.last = call
            if call.ok:
                samples.times.append(call.seconds)
            else:
                if not samples.errors:
                    print(f"      error: {call.payload[:300]}", flush=True)
                samples.errors.append(call.payload)
        return samples


def call_api(http: httpx.Client, base: str, name: str, data: list[Any]) -> Call:
    """POST /gradio_api/call/<name>, then read its SSE stream; the clock stops when the complete event's data is in."""
    start = time.perf_counter()
    posted = http.post(f"{base}gradio_api/call/{name}", json={"data": data})
    if posted.status_code != 200:
        return Call(time.perf_counter() - start, False, f"HTTP {posted.status_code}: {posted.text}")
    event_id = posted.json()["event_id"]
    event, result = None, None
    with http.stream("GET", f"{base}gradio_api/call/{name}/{event_id}") as stream:
        for line in stream.iter_lines():  # read to the end, so the connection goes back to the pool
            if result is not None:
                continue
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event in ("complete", "error"):
                result = Call(time.perf_counter() - start, event == "complete", line[6:])
    return result or Call(
        time.perf_counter() - start, False, f"stream ended without a complete event (last event {event})"
    )


def timed_call(function: Callable[[], Any]) -> Call:
    start = time.perf_counter()
    try:
        function()
    except Exception as error:
        return Call(time.perf_counter() - start, False, f"{type(error).__name__}: {error}")
    return Call(time.perf_counter() - start, True, "")


def alternate(ours: Callable[[], Call], floor: Callable[[], Call]) -> tuple[Samples, Samples]:
    a, b = harness.alternate(ours, floor, count=REQUESTS, warmup=WARMUP)
    return Samples.of(a), Samples.of(b)


def lab_values(count: int) -> str:
    rng = np.random.default_rng(0)
    return ", ".join(f"{value:.4f}" for value in rng.uniform(-10, 10, count))


# --- the named API over HTTP -------------------------------------------------------------------


def bench_blocks(report: Report, ours: Server, floor: Server) -> None:
    import app

    with httpx.Client(trust_env=False, timeout=10.0) as http:
        counts = [len(http.get(f"{server.url}config").json()["components"]) for server in (ours, floor)]
    queue = {"default_concurrency_limit": app.QUEUE_CONCURRENCY, "max_size": app.QUEUE_MAX_SIZE}
    report.target(
        "the floor page has as many blocks as ours, and our queue settings",
        counts[0] == counts[1] and queue == harness.FLOOR_QUEUE,
        f"blocks (components in GET /config): ours {counts[0]}, floor "
        f"{counts[1]}; queue: ours {queue}, floor {harness.FLOOR_QUEUE}",
    )


def bench_api(report: Report, ours: Server, floor: Server, text_256: str) -> None:
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT)) as http:
        section("Named API over HTTP (POST /gradio_api/call/<name> + SSE), ours and the floor alternating")
        a, b = alternate(
            lambda: call_api(http, ours.url, "attend", [BOOK_SENTENCE, 3, SEED, ""]),
            lambda: call_api(http, floor.url, "echo", [BOOK_SENTENCE]),
        )
        report.ratio("/attend 6 tokens vs echo floor", a.times, b.times, 1.3)

        values = lab_values(LAB_VALUES)
        a, b = alternate(
            lambda: call_api(http, ours.url, "normalize", [values, "float32"]),
            lambda: call_api(http, floor.url, "echo", [BOOK_SENTENCE]),
        )
        if a.times and b.times:
            ratio = statistics.median(a.times) / statistics.median(b.times)
            info(
                f"/normalize {LAB_VALUES:,} values (float32) vs echo floor",
                f"{ratio:.2f}x ({compare(a.times, b.times)})",
            )
        if a.last and a.last.ok:
            info("/normalize response size", megabytes(len(a.last.payload.encode())))
        # The answer is ~50 kB against the echo's few bytes, and Gradio's per-byte work (JSON, SSE, walking the
        # answer for files) is most of that gap: the right floor is a precomputed answer of the same shape.
        a, b = alternate(
            lambda: call_api(http, ours.url, "normalize", [values, "float32"]),
            lambda: call_api(http, floor.url, "lab", [values, "float32"]),
        )
        report.ratio(f"/normalize {LAB_VALUES:,} values vs same-size precomputed floor", a.times, b.times, 1.3)

        a, b = alternate(
            lambda: call_api(http, ours.url, "attend", [text_256, 768, SEED, ""]),
            lambda: call_api(http, floor.url, "payload", [256, 768]),
        )
        report.ratio("/attend 256 tokens x 768 vs same-size payload floor", a.times, b.times, 1.3)
        if a.last is None or not a.last.ok or b.last is None or not b.last.ok:
            report.target("JSON size at 256x768 ≤ 8 MB", False, "no successful response to measure")
            report.target("float32 round trip", False, "no successful response to check")
        else:
            ours_size, floor_size = len(a.last.payload.encode()), len(b.last.payload.encode())
            info(
                "response size at 256x768",
                f"ours {megabytes(ours_size)}, floor (float64 repr) {megabytes(floor_size)}, "
                f"{ours_size / floor_size:.2f}x",
            )
            report.target(
                "JSON size at 256x768 ≤ 8 MB",
                ours_size <= MAX_JSON_BYTES,
                f"{megabytes(ours_size)} (limit {MAX_JSON_BYTES:,} bytes)",
            )
            check_round_trip(report, json.loads(a.last.payload)[0], text_256)

    section("gradio_client round trip (Client(url).predict), alternating")
    from gradio_client import Client

    clients = [
        Client(server.url, verbose=False, analytics_enabled=False, download_files=False) for server in (ours, floor)
    ]
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
            client.close()


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
    report.target(
        "float32 round trip (inputs, scores, weights, context at 256x768)",
        not problems,
        "; ".join(problems) or "every number reads back as the same float32",
    )


# --- the Run chain through the server, as a browser sends it -----------------------------------


def ui_event(http: httpx.Client, base: str, fn_index: int, data: list[Any], session_hash: str) -> tuple[float, dict]:
    """POST /gradio_api/queue/join with fn_index, then read /gradio_api/queue/data until process_completed."""
    start = time.perf_counter()
    joined = http.post(
        f"{base}gradio_api/queue/join",
        json={
            "data": data,
            "event_data": None,
            "fn_index": fn_index,
            "trigger_id": None,
            "session_hash": session_hash,
        },
    )
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


def fetch_files(http: httpx.Client, base: str, output: dict) -> tuple[float, int, int]:
    """Fetch the files (figures) an event's output points at, as the browser does: seconds, bytes, count."""
    urls = [value["url"] for value in output["data"] if isinstance(value, dict) and value.get("url")]
    start = time.perf_counter()
    size = 0
    for url in urls:  # absolute or relative to the app
        response = http.get(httpx.URL(base).join(url))
        response.raise_for_status()
        size += len(response.content)
    return time.perf_counter() - start, size, len(urls)


def bench_ui_over_http(ours: Server, text_256: str) -> None:
    section("Run chain through the server, as the browser sends it (queue/join + queue/data)")
    from attention_core.book import BOOK_TABLE

    with httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT)) as http:
        dependencies = http.get(f"{ours.url}config").json()["dependencies"]
        # Run's click: run_attention (the first view), then run_extras (what lies below it), then time_loops.
        first = next((d for d in dependencies if d.get("api_name") == "run_attention" and len(d["inputs"]) == 7), None)
        below = first and next(
            (d for d in dependencies if d.get("trigger_after") == first["id"] and d.get("api_name") == "run_extras"),
            None,
        )  # not refused_run, its .failure
        if first is None or below is None or len(below["inputs"]) != 2:
            info("Run chain end to end", "skipped: no run_attention (7 inputs) then run_extras (2 inputs) in /config")
            return
        cases = {6: (BOOK_SENTENCE, 3), 256: (text_256, 768)}
        sessions = {size: uuid.uuid4().hex[:11] for size in cases}
        times: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}

        def once(size: int, record: bool) -> None:
            text, dim = cases[size]
            data = [text, "random", dim, SEED, BOOK_TABLE, False, 1.0]
            first_seconds, first_output = ui_event(http, ours.url, first["id"], data, sessions[size])
            # run_extras(state, text): the state is the session's own, whatever the browser sends for it.
            below_seconds, below_output = ui_event(http, ours.url, below["id"], [None, text], sessions[size])
            fetch_seconds, file_bytes, file_count = fetch_files(http, ours.url, below_output)
            if record:
                for key, value in (("first", first_seconds), ("below", below_seconds), ("files", fetch_seconds)):
                    times.setdefault(f"{size} {key}", []).append(value)
                sizes.update(
                    {
                        f"{size} first json": len(json.dumps(first_output)),
                        f"{size} below json": len(json.dumps(below_output)),
                        f"{size} files": file_bytes,
                        f"{size} nfiles": file_count,
                    }
                )

        for size in cases:
            for _ in range(2):
                once(size, record=False)
        for index in range(E2E_RUNS):
            for size in cases if index % 2 == 0 else reversed(list(cases)):
                once(size, record=True)
        for size in cases:
            first_times, below_times, fetch = (times[f"{size} {key}"] for key in ("first", "below", "files"))
            info(
                f"Run chain end to end, {size} tokens",
                f"run_attention {ms(statistics.median(first_times))} (p95 {ms(p95(first_times))}, output JSON "
                f"{sizes[f'{size} first json'] / 1e3:.1f} kB); then run_extras {ms(statistics.median(below_times))} "
                f"(p95 {ms(p95(below_times))}, output JSON {sizes[f'{size} below json'] / 1e3:.1f} kB); fetching its "
                f"{sizes[f'{size} nfiles']} image(s) {ms(statistics.median(fetch))} "
                f"({sizes[f'{size} files'] / 1e3:.1f} kB); "
                f"n={len(first_times)}",
            )


# --- the Run chain in-process --------------------------------------------------------------------


def bench_ui_in_process(report: Report, text_256: str) -> None:
    section(f"Run chain in-process (no server), median of {UI_RUNS} runs, 6 and 256 tokens alternating")
    import orjson
    from gradio.state_holder import SessionState

    import app
    from attention_core.book import BOOK_TABLE
    from attention_core.views.tokens import token_chips_html
    from web import links, panels

    def block_fn(handler: Callable[..., Any], inputs: int) -> Any:
        return next(f for f in app.demo.fns.values() if f.fn is handler and len(f.inputs) == inputs)

    first_fn, below_fn = block_fn(app.run_attention, 7), block_fn(app.run_extras, 2)
    loop = asyncio.new_event_loop()
    cases = {6: (BOOK_SENTENCE, 3), 256: (text_256, 768)}
    timings: dict[int, dict[str, list[float]]] = {size: {} for size in cases}
    sizes: dict[int, dict[str, int]] = {size: {} for size in cases}

    def piece(size: int, name: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = function()
        timings[size].setdefault(name, []).append(time.perf_counter() - start)
        return result

    def serialized(size: int, name: str, fn: Any, outputs: dict) -> None:
        """Gradio's postprocess (image encoding and cache writes included), then the orjson the queue sends."""

        def work() -> bytes:
            data = loop.run_until_complete(app.demo.postprocess_data(fn, outputs, SessionState(app.demo)))
            return orjson.dumps(data, default=str)

        sizes[size][name] = len(piece(size, name, work))

    def once(size: int) -> None:
        text, dim = cases[size]
        run = piece(size, "attend", lambda: app.run_from_inputs(text, "random", dim, SEED, BOOK_TABLE))
        query = panels.default_query(run)
        piece(size, "matrix value", lambda: panels.matrix(run, False))
        piece(size, "tables", lambda: [panels.inputs_table(run), panels.weights_table(run), panels.context_table(run)])
        piece(
            size,
            "chips, choices, recipe, link",
            lambda: (
                token_chips_html(run.tokens, run.ids),
                panels.choices(run),
                panels.recipe(run, text),
                links.link_to(text, "random", BOOK_TABLE, dim, SEED, 1.0, False),
            ),
        )
        first = piece(
            size, "run_attention", lambda: app.run_attention(text, "random", dim, SEED, BOOK_TABLE, False, 1.0)
        )
        serialized(size, "first serialization", first_fn, first)
        run = first[app.ui.state]
        piece(size, "walkthrough", lambda: panels.walk(run, query))
        piece(size, "bars", lambda: panels.bars(run, query))
        piece(size, "trace", lambda: panels.trace(run, query, 0))
        below = piece(size, "run_extras", lambda: app.run_extras(run, text))
        serialized(size, "below serialization", below_fn, below)
        piece(size, "time_loops", lambda: app.time_loops(run))

    try:
        for size in cases:
            once(size)  # warm-up: the embedding tables, fonts and caches
        for index in range(UI_RUNS):
            for size in cases if index % 2 == 0 else reversed(list(cases)):
                once(size)
    finally:
        loop.close()

    totals = {}
    for size in cases:
        part = {name: statistics.median(values) for name, values in timings[size].items()}
        totals[size] = part["run_attention"] + part["first serialization"]
        info(
            f"first view in-process, {size} tokens",
            f"run_attention {ms(part['run_attention'])} [attend {ms(part['attend'])}, matrix value "
            f"{ms(part['matrix value'])}, tables {ms(part['tables'])}, chips/choices/recipe/link "
            f"{ms(part['chips, choices, recipe, link'])}]; serialization {ms(part['first serialization'])} "
            f"[postprocess + orjson, {sizes[size]['first serialization'] / 1e3:.1f} kB]; total {ms(totals[size])}",
        )
        info(
            f"below the first view in-process, {size} tokens",
            f"run_extras {ms(part['run_extras'])} [walk-through {ms(part['walkthrough'])}, bars figure "
            f"{ms(part['bars'])}, trace {ms(part['trace'])}]; serialization {ms(part['below serialization'])} "
            f"[postprocess incl. PNG encode + cache write, orjson; {sizes[size]['below serialization'] / 1e3:.1f} kB]; "
            f"then time_loops {ms(part['time_loops'])}",
        )
    ratio = totals[256] / totals[6]
    report.target(
        "first view at 256 tokens x 768 ≤ 3x the 6-token one (run_attention + serialization)",
        ratio <= 3.0,
        f"{ratio:.2f}x ({ms(totals[256])} vs {ms(totals[6])})",
    )


# --- start-up ----------------------------------------------------------------------------------


def bench_startup(report: Report, env: dict[str, str]) -> None:
    section(f"Start-up: launch to first page (GET / 200 with HTML), {STARTUP_ROUNDS} rounds alternating")

    def started(name: str, script: str, **options: Any) -> float:
        server = harness.launch(name, script, **options)
        harness.stop(server.process)
        return server.seconds

    ours, floor = harness.alternate(
        lambda: started("app", "app.py"), lambda: started("floor", FLOOR, env=env), count=STARTUP_ROUNDS, warmup=0
    )
    info(
        "start-up samples",
        f"ours {', '.join(f'{t:.2f}' for t in ours)} s; floor {', '.join(f'{t:.2f}' for t in floor)} s",
    )
    report.ratio("start-up vs floor app", ours, floor, 1.5)


# --- main --------------------------------------------------------------------------------------


def bench(report: Report) -> None:
    text_256 = harness.text_of_tokens(256)
    env = floor_env()
    report.phase("start-up", lambda: bench_startup(report, env))
    with harness.served("app", "app.py") as ours, harness.served("floor", FLOOR, env=env) as floor:
        report.phase("block count", lambda: bench_blocks(report, ours, floor))
        report.phase("named API", lambda: bench_api(report, ours, floor, text_256))
        report.phase("Run chain through the server", lambda: bench_ui_over_http(ours, text_256))
    report.phase("Run chain in-process", lambda: bench_ui_in_process(report, text_256))


if __name__ == "__main__":
    sys.exit(harness.main("bench_app", bench))
