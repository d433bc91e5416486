"""A bounded load test of the named API: ``python benchmarks/load.py`` from the repository root.

It starts ``python app.py`` in a subprocess on a free loopback port, warms it up, then sends a burst of
/attend, /normalize and /tokenize calls over plain HTTP (POST /gradio_api/call/<name>, then read the
event stream until ``complete`` or ``error``), a fixed number at a time. It prints the successes and
errors, the p50/p95 latency, the server's RSS before and after the burst (VmRSS in /proc/<pid>/status),
one PASS/MISS line per target, and the server's peak RSS (VmHWM) while it serves the largest request the
limits allow: 256 tokens at dim 768. Everything has a timeout, and the server is stopped at the end.

The burst is sent twice by default (``--bursts``): the RSS target is judged on the first burst, and the
second one tells a bounded cache filling up (growth near 0 the second time) from memory kept per request.
Loopback only; ``--requests`` and ``--concurrency`` are capped (5,000 and 64).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from attention_core import MAX_DIM, MAX_TOKENS, gpt2_encoding, tokenize  # noqa: E402

HOST = "127.0.0.1"
STARTUP_SECONDS = 120.0
REQUEST_SECONDS = 120.0  # one request, queueing included
# Enough to fill Gradio's per-session store (app.STATE_SESSION_CAPACITY = 64 sessions; each API call is one),
# the embedding cache, and the allocator's high-water mark under 32 concurrent requests (measured here: RSS
# rises for about 600 requests, to a plateau near 830 MB, then moves only within about ±40 MB).
WARMUP_REQUESTS = 800
RSS_GROWTH_LIMIT_MB = 50.0

PARAGRAPH = (
    "In the sunlit terraces of the old town, every morning begins the same way: the baker opens his shutters, "
    "the cat on the wall stretches, and a reader at the corner table turns to chapter three, where each token "
    "learns to attend to every other token. The weights are not trained yet; the scores are plain dot products, "
    "softmax turns them into weights, and each context vector is a weighted average of the inputs."
)
TEXTS = [
    "Your journey starts with one step",
    "The cat sat on the mat because it is warm",
    "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.",
    "I love 🦀 and 東京の寿司 🍣!",
    PARAGRAPH,
]
ATTEND_SETTINGS = [(3, 123), (16, 7), (64, 42), (768, 123)]  # (dim, seed)
LAB_VALUES = [
    ("0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865", "float32"),
    ("1, 2, 3, 400", "float32"),
    ("1000, 1001, 1002", "float16"),
    ("-1000, -1001", "float64"),
]


@dataclass(frozen=True)
class Request:
    name: str
    data: list[Any]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    seconds: float
    detail: str = ""


def request_mix() -> list[Request]:
    """A fixed cycle: every text at every (dim, seed), with /normalize and /tokenize in between."""
    mix: list[Request] = []
    lab = itertools.cycle(LAB_VALUES)
    for text, (dim, seed) in itertools.product(TEXTS, ATTEND_SETTINGS):
        mix.append(Request("attend", [text, dim, seed, ""]))
        if len(mix) % 3 == 0:
            mix.append(Request("normalize", list(next(lab))))
        if len(mix) % 5 == 0:
            mix.append(Request("tokenize", [text]))
    return mix


def largest_text() -> str:
    """A text of exactly MAX_TOKENS GPT-2 tokens, checked with the app's own tokenizer."""
    ids = tokenize(PARAGRAPH * 8).ids
    encoding = gpt2_encoding()
    for cut in range(MAX_TOKENS, MAX_TOKENS - 16, -1):
        text = encoding.decode(ids[:cut])
        if len(tokenize(text).ids) == MAX_TOKENS:
            return text
    text = "the" + " the" * (MAX_TOKENS - 1)
    assert len(tokenize(text).ids) == MAX_TOKENS
    return text


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status, such as VmRSS or VmHWM."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def mb(kb: int) -> float:
    return kb / 1024


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0, same user); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def call(http: httpx.Client, base: str, request: Request) -> Outcome:
    """One API call over plain HTTP, bounded by REQUEST_SECONDS whatever the server does."""
    start = time.perf_counter()
    deadline = start + REQUEST_SECONDS
    try:
        posted = http.post(f"{base}/gradio_api/call/{request.name}", json={"data": request.data})
        if posted.status_code != 200:
            return Outcome(False, time.perf_counter() - start, f"POST {posted.status_code}: {posted.text[:120]}")
        event_id = posted.json()["event_id"]
        event = ""
        with http.stream("GET", f"{base}/gradio_api/call/{request.name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if time.perf_counter() > deadline:
                    return Outcome(False, time.perf_counter() - start, "timed out")
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event in ("complete", "error"):
                    payload = json.loads(line.removeprefix("data: "))
                    seconds = time.perf_counter() - start
                    if event == "error":
                        return Outcome(False, seconds, f"error event: {payload}")
                    return check(request, payload[0], seconds)
        return Outcome(False, time.perf_counter() - start, "stream ended without complete/error")
    except (httpx.HTTPError, ValueError, KeyError) as error:
        return Outcome(False, time.perf_counter() - start, f"{type(error).__name__}: {error}")


def check(request: Request, result: Any, seconds: float) -> Outcome:
    """A light sanity check of each answer, so a wrong-shaped success still counts as a failure."""
    if request.name == "attend":
        count, dim = len(result["tokens"]), request.data[1]
        ok = len(result["weights"]) == count and len(result["context"][0]) == dim
    elif request.name == "normalize":
        ok = len(result["softmax_stable"]) == len(request.data[0].split(","))
    else:
        ok = len(result["ids"]) == len(result["tokens"]) > 0
    return Outcome(ok, seconds, "" if ok else f"unexpected {request.name} result")


def run_all(base: str, requests: list[Request], concurrency: int) -> tuple[list[Outcome], float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(REQUEST_SECONDS, connect=10.0)
    start = time.perf_counter()
    with httpx.Client(timeout=timeout, limits=limits, trust_env=False) as http:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(lambda request: call(http, base, request), requests))
    return outcomes, time.perf_counter() - start


def wait_until_serving(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with code {process.returncode} before serving")
            try:
                if http.get(f"{base}/gradio_api/info").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise RuntimeError(f"the server did not serve within {STARTUP_SECONDS:.0f} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def verdict(passed: bool, what: str, detail: str) -> bool:
    print(f"{'PASS' if passed else 'MISS':<5} {what} ({detail})", flush=True)
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests in the burst (default 200)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at once (default 32)")
    parser.add_argument("--bursts", type=int, default=2, help="bursts, one after the other (default 2)")
    parser.add_argument("--largest-repeats", type=int, default=4, help="256-token dim-768 requests (default 4)")
    args = parser.parse_args()
    requests_in_burst = max(1, min(args.requests, 5_000))
    concurrency = max(1, min(args.concurrency, 64))
    bursts = max(1, min(args.bursts, 10))

    port = free_port()
    base = f"http://{HOST}:{port}"
    env = dict(os.environ, GRADIO_SERVER_NAME=HOST, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    log_file = tempfile.NamedTemporaryFile(prefix="load-server-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log_file,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    keep_log = False
    try:
        started = time.perf_counter()
        wait_until_serving(process, base)
        print(f"server pid {process.pid} on {base}, serving after {time.perf_counter() - started:.1f} s", flush=True)

        mix = request_mix()
        # The warm-up is the burst itself, repeated: Gradio keeps the last STATE_SESSION_CAPACITY answers, so the
        # memory they hold depends on which requests came last, and must be the same before and after a burst.
        burst = [mix[i % len(mix)] for i in range(requests_in_burst)]
        rounds = max(1, -(-WARMUP_REQUESTS // requests_in_burst))
        warmup, _ = run_all(base, burst * rounds, concurrency)
        warmed = {tuple(r.data[1:3]) for r in burst if r.name == "attend"}
        print(f"warm-up: {sum(o.ok for o in warmup)}/{len(warmup)} ok, covering {len(warmed)} of the "
              f"{len(ATTEND_SETTINGS)} (dim, seed) pairs of the mix, and filling the session store (the steady state)", flush=True)

        failures: list[Outcome] = []
        growths: list[float] = []
        for number in range(1, bursts + 1):
            rss_before = status_kb(process.pid, "VmRSS")
            outcomes, wall = run_all(base, burst, concurrency)
            time.sleep(1.0)  # let the queue's last bookkeeping finish
            rss_after = status_kb(process.pid, "VmRSS")
            failed = [o for o in outcomes if not o.ok]
            failures += failed
            latencies = [o.seconds for o in outcomes]
            counts = {name: sum(r.name == name for r in burst) for name in ("attend", "normalize", "tokenize")}
            growth = mb(rss_after - rss_before)
            growths.append(growth)
            print(f"burst {number}: {len(burst)} requests ({', '.join(f'{n} /{k}' for k, n in counts.items())}), "
                  f"{concurrency} at a time, {wall:.1f} s, {len(burst) / wall:.1f} requests/s")
            print(f"  successes: {len(outcomes) - len(failed)}  errors: {len(failed)}")
            for failure in failed[:5]:
                print(f"    failed after {failure.seconds:.2f} s: {failure.detail}")
            print(f"  latency p50: {percentile(latencies, 0.50) * 1e3:.0f} ms  "
                  f"p95: {percentile(latencies, 0.95) * 1e3:.0f} ms  max: {max(latencies) * 1e3:.0f} ms")
            print(f"  RSS before: {mb(rss_before):.1f} MB  after: {mb(rss_after):.1f} MB  growth: {growth:+.1f} MB "
                  f"({growth * 1024 / len(burst):+.0f} kB per request)", flush=True)
        total = requests_in_burst * bursts
        results = [
            verdict(not failures, "no request failed", f"{len(failures)} of {total} failed"),
            verdict(growths[0] <= RSS_GROWTH_LIMIT_MB, f"RSS growth ≤ {RSS_GROWTH_LIMIT_MB:.0f} MB",
                    f"burst 1: {growths[0]:+.1f} MB"),
        ]
        if bursts > 1:
            print(f"REPORT RSS growth in the later bursts: {', '.join(f'{g:+.1f} MB' for g in growths[1:])} "
                  "(near 0 once bounded caches are full; steady growth means memory is kept per request)")

        text = largest_text()
        hwm_since_start = status_kb(process.pid, "VmHWM")
        was_reset = reset_peak(process.pid)
        rss_start = status_kb(process.pid, "VmRSS")
        largest = [Request("attend", [text, MAX_DIM, 1000 + i, ""]) for i in range(max(1, args.largest_repeats))]
        big, big_wall = run_all(base, largest, 2)
        peak = status_kb(process.pid, "VmHWM")
        print(f"largest request: {MAX_TOKENS} tokens, dim {MAX_DIM}, {len(largest)} seeds (2 at a time): "
              f"{sum(o.ok for o in big)}/{len(big)} ok, median {statistics.median(o.seconds for o in big):.2f} s")
        scope = "since the reset before these requests" if was_reset else "since the server started (reset not allowed)"
        print(f"peak RSS (VmHWM) {scope}: {mb(peak):.1f} MB; RSS when they started: {mb(rss_start):.1f} MB; "
              f"VmHWM before: {mb(hwm_since_start):.1f} MB; RSS after: {mb(status_kb(process.pid, 'VmRSS')):.1f} MB")
        results.append(verdict(all(o.ok for o in big), "largest requests succeed", f"{big_wall:.1f} s in all"))
        return 0 if all(results) else 1
    except RuntimeError as error:
        keep_log = True
        print(f"error: {error}; server log: {log_file.name}", file=sys.stderr)
        return 2
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log_file.close()
        if not keep_log:
            os.unlink(log_file.name)


if __name__ == "__main__":
    sys.exit(main())
