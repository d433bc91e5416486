"""A bounded load test of the named API: ``python benchmarks/load.py`` from the repository root.

It starts ``python app.py`` in a subprocess on a free loopback port, warms it up, then sends a burst of
/attend, /normalize and /tokenize calls over plain HTTP (POST /gradio_api/call/<name>, then read the
event stream until ``complete`` or ``error``), a fixed number at a time. It prints the successes and
errors, the p50/p95 latency, the server's RSS before and after the burst (VmRSS in /proc/<pid>/status),
one PASS/MISS line per target, and the server's peak RSS (VmHWM) while it serves the largest request the
limits allow: 256 tokens at dim 768. Everything has a timeout, and the server is stopped at the end.

The burst is sent twice by default (``--bursts``): the RSS target is judged on the first burst, and the
second one tells a bounded cache filling up (growth near 0 the second time) from memory kept per request.
Loopback only; ``--requests`` and ``--concurrency`` are capped (5,000 and 64). The burst comes from
``--sources`` loopback addresses (127.0.0.1 ...; default 4), as from that many clients: the server
(web/guard/) gives each client address a share of its queue, which 32 calls at a time from one address
would exceed.

Two more scenarios, each on a fresh server (``--scenario``; the default is the burst above):

- ``never-read``: 3 bursts of 66 ``POST /gradio_api/call/attend`` at 256 tokens x 768 whose answers are
  never read. It prints how many were accepted or refused (429, 503), and the server's RSS before, at the
  peak, after the queue drains and ``--settle`` seconds more (unread answers expire after 60 s), and once 80
  small calls have pushed the flood's sessions out of Gradio's per-session store (which keeps each of the
  last 64 sessions' outputs, read or not).
  ``--clients N`` spreads the POSTs over N loopback source addresses (127.0.0.2 ...), so the limit on all
  clients together is measured too, not only the one on each client.
- ``greedy``: a greedy client (127.0.0.1) keeps ``--greedy-concurrency`` heavy calls in flight and reads
  the answers (after a refusal it tries again 0.25 s later), while a polite client on another source
  address (127.0.0.2; Linux answers on all of 127/8) calls /tokenize, /normalize and GET / every 0.5 s.
  It prints the polite client's p50/p95/max latency and errors. A separate source address is a different
  client for the server without trusting any header, so nothing about proxies changes for the benchmark.

Round three's scenarios (issue 18), each printing RSS before, at the peak and after, and a newcomer's latency:

- ``unread``: ``--clients`` clients (127.0.0.2 ...) each POST their share + 2 of 256 x 768 /attend and never read;
  once computed, a newcomer (127.0.0.50) makes 20 sequential 6-token /attend calls (p50/p95); RSS while the answers
  wait (against their JSON size), and 75 s later, once they are dropped.
- ``held-stream``: one client joins its share of 256 x 768 runs in one session and opens /queue/data with a 4 kB
  receive buffer that it never reads: how long until its share frees, and RSS meanwhile.
- ``big-body``: 100 MB bodies (declared, and chunked) to /queue/join and /call/tokenize: time to the 413.
- ``export-loop``: one client runs and exports 256 x 768 30 times; then another client exports once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from attention_core import MAX_DIM, MAX_TOKENS, gpt2_encoding, tokenize  # noqa: E402
from benchmarks import harness  # noqa: E402
from benchmarks.harness import Report  # noqa: E402

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
    status: int = 0  # of the POST; 0 when it got no answer


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
            return Outcome(
                False,
                time.perf_counter() - start,
                f"POST {posted.status_code}: {posted.text[:120]}",
                posted.status_code,
            )
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
                        return Outcome(False, seconds, f"error event: {payload}", 200)
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
    return Outcome(ok, seconds, "" if ok else f"unexpected {request.name} result", 200)


def source_client(source: str, *, connections: int) -> httpx.Client:
    """An HTTP client whose connections leave from ``source`` (a loopback address: another client for the server)."""
    transport = httpx.HTTPTransport(
        local_address=source, limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    )
    return httpx.Client(transport=transport, timeout=httpx.Timeout(REQUEST_SECONDS, connect=10.0), trust_env=False)


def run_all(base: str, requests: list[Request], concurrency: int, *, sources: int = 1) -> tuple[list[Outcome], float]:
    """Send ``requests``, ``concurrency`` at a time, request i from loopback address 127.0.0.(1 + i % sources)."""
    start = time.perf_counter()
    https = [source_client(f"127.0.0.{1 + i}", connections=-(-concurrency // sources)) for i in range(sources)]
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(lambda item: call(https[item[0] % sources], base, item[1]), enumerate(requests)))
    finally:
        for http in https:
            http.close()
    return outcomes, time.perf_counter() - start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def burst_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    """The original benchmark: warm-up, bursts of the mix, then the largest requests."""
    requests_in_burst = max(1, min(args.requests, 5_000))
    concurrency = max(1, min(args.concurrency, 64))
    bursts = max(1, min(args.bursts, 10))
    mix = request_mix()
    # The warm-up is the burst itself, repeated: Gradio keeps the last STATE_SESSION_CAPACITY answers, so the
    # memory they hold depends on which requests came last, and must be the same before and after a burst.
    burst = [mix[i % len(mix)] for i in range(requests_in_burst)]
    rounds = max(1, -(-WARMUP_REQUESTS // requests_in_burst))
    sources = max(1, min(args.sources, 64))
    warmup, _ = run_all(base, burst * rounds, concurrency, sources=sources)
    warmed = {tuple(r.data[1:3]) for r in burst if r.name == "attend"}
    print(
        f"warm-up: {sum(o.ok for o in warmup)}/{len(warmup)} ok, covering {len(warmed)} of the "
        f"{len(ATTEND_SETTINGS)} (dim, seed) pairs of the mix, and filling the session store (the steady state)",
        flush=True,
    )

    failures: list[Outcome] = []
    growths: list[float] = []
    for number in range(1, bursts + 1):
        rss_before = status_kb(process.pid, "VmRSS")
        outcomes, wall = run_all(base, burst, concurrency, sources=sources)
        time.sleep(1.0)  # let the queue's last bookkeeping finish
        rss_after = status_kb(process.pid, "VmRSS")
        failed = [o for o in outcomes if not o.ok]
        failures += failed
        latencies = [o.seconds for o in outcomes]
        counts = {name: sum(r.name == name for r in burst) for name in ("attend", "normalize", "tokenize")}
        growth = mb(rss_after - rss_before)
        growths.append(growth)
        print(
            f"burst {number}: {len(burst)} requests ({', '.join(f'{n} /{k}' for k, n in counts.items())}), "
            f"{concurrency} at a time from {sources} address(es), {wall:.1f} s, {len(burst) / wall:.1f} requests/s"
        )
        print(f"  successes: {len(outcomes) - len(failed)}  errors: {len(failed)}")
        for failure in failed[:5]:
            print(f"    failed after {failure.seconds:.2f} s: {failure.detail}")
        print(
            f"  latency p50: {percentile(latencies, 0.50) * 1e3:.0f} ms  "
            f"p95: {percentile(latencies, 0.95) * 1e3:.0f} ms  max: {max(latencies) * 1e3:.0f} ms"
        )
        print(
            f"  RSS before: {mb(rss_before):.1f} MB  after: {mb(rss_after):.1f} MB  growth: {growth:+.1f} MB "
            f"({growth * 1024 / len(burst):+.0f} kB per request)",
            flush=True,
        )
    total = requests_in_burst * bursts
    report.target("no request failed", not failures, f"{len(failures)} of {total} failed")
    report.target(
        f"RSS growth ≤ {RSS_GROWTH_LIMIT_MB:.0f} MB",
        growths[0] <= RSS_GROWTH_LIMIT_MB,
        f"burst 1: {growths[0]:+.1f} MB",
    )
    if bursts > 1:
        print(
            f"REPORT RSS growth in the later bursts: {', '.join(f'{g:+.1f} MB' for g in growths[1:])} "
            "(near 0 once bounded caches are full; steady growth means memory is kept per request)"
        )

    text = largest_text()
    hwm_since_start = status_kb(process.pid, "VmHWM")
    was_reset = reset_peak(process.pid)
    rss_start = status_kb(process.pid, "VmRSS")
    largest = [Request("attend", [text, MAX_DIM, 1000 + i, ""]) for i in range(max(1, args.largest_repeats))]
    big, big_wall = run_all(base, largest, 2)
    peak = status_kb(process.pid, "VmHWM")
    print(
        f"largest request: {MAX_TOKENS} tokens, dim {MAX_DIM}, {len(largest)} seeds (2 at a time): "
        f"{sum(o.ok for o in big)}/{len(big)} ok, median {statistics.median(o.seconds for o in big):.2f} s"
    )
    scope = "since the reset before these requests" if was_reset else "since the server started (reset not allowed)"
    print(
        f"peak RSS (VmHWM) {scope}: {mb(peak):.1f} MB; RSS when they started: {mb(rss_start):.1f} MB; "
        f"VmHWM before: {mb(hwm_since_start):.1f} MB; RSS after: {mb(status_kb(process.pid, 'VmRSS')):.1f} MB"
    )
    report.target("largest requests succeed", all(o.ok for o in big), f"{big_wall:.1f} s in all")


# --- never read the answers ---------------------------------------------------------------------

NEVER_READ_BURSTS = 3
NEVER_READ_PER_BURST = 66  # the attack's numbers: just over Gradio's queue of 64
QUEUE_IDLE_SECONDS = 300.0
PUSH_OUT_SESSIONS = 80  # more than app.STATE_SESSION_CAPACITY


class RssSampler:
    """Samples a process's VmRSS every 0.2 s in a thread, keeping the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = status_kb(pid, "VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            except (OSError, KeyError):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def post_only(http: httpx.Client, base: str, request: Request) -> int:
    """POST one call and drop the connection's interest in the answer: the status code (0 without one)."""
    try:
        return http.post(f"{base}/gradio_api/call/{request.name}", json={"data": request.data}).status_code
    except httpx.HTTPError:
        return 0


def wait_for_idle_queue(base: str) -> float:
    """Seconds until Gradio's queue holds no waiting event (bounded by QUEUE_IDLE_SECONDS)."""
    start = time.perf_counter()
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        while time.perf_counter() - start < QUEUE_IDLE_SECONDS:
            try:
                if http.get(f"{base}/gradio_api/queue/status").json().get("queue_size", 1) == 0:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
    time.sleep(3.0)  # the last two events were still running when the queue emptied
    return time.perf_counter() - start


def never_read_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    text = largest_text()
    clients = max(1, min(args.clients, 200))
    sources = ["127.0.0.1"] if clients == 1 else [f"127.0.0.{2 + i}" for i in range(clients)]
    warm, _ = run_all(base, [Request("attend", [text, MAX_DIM, 123, ""])] * 2, 2)  # torch, tokenizer, allocator
    time.sleep(2.0)
    rss_before = status_kb(process.pid, "VmRSS")
    print(
        f"never read the answers: {NEVER_READ_BURSTS} bursts of {NEVER_READ_PER_BURST} POST /call/attend "
        f"({MAX_TOKENS} tokens, dim {MAX_DIM}) from {clients} client address(es); "
        f"warm-up {sum(o.ok for o in warm)}/2 ok"
    )
    print(f"  RSS before: {mb(rss_before):.1f} MB", flush=True)
    totals: Counter[int] = Counter()
    request = Request("attend", [text, MAX_DIM, 123, ""])
    https = {source: source_client(source, connections=NEVER_READ_PER_BURST) for source in sources}
    try:
        with RssSampler(process.pid) as sampler:
            for number in range(1, NEVER_READ_BURSTS + 1):
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=NEVER_READ_PER_BURST) as pool:
                    statuses = list(
                        pool.map(
                            lambda i: post_only(https[sources[i % clients]], base, request), range(NEVER_READ_PER_BURST)
                        )
                    )
                posted = time.perf_counter() - started
                idle = wait_for_idle_queue(base)
                counts = Counter(statuses)
                totals.update(counts)
                print(
                    f"  burst {number}: accepted {counts[200]}, refused 429: {counts[429]}, 503: {counts[503]}, "
                    f"other: {sum(n for code, n in counts.items() if code not in (200, 429, 503))}; "
                    f"POSTs answered in {posted:.1f} s, queue idle {idle:.1f} s later; "
                    f"RSS {mb(status_kb(process.pid, 'VmRSS')):.1f} MB",
                    flush=True,
                )
            rss_drained = status_kb(process.pid, "VmRSS")
            settle = max(0.0, args.settle)
            print(f"  waiting {settle:.0f} s for unread answers to expire ...", flush=True)
            time.sleep(settle)
            peak = sampler.peak_kb
    finally:
        for http in https.values():
            http.close()
    rss_after = status_kb(process.pid, "VmRSS")
    # Gradio also keeps each session's last outputs, for the STATE_SESSION_CAPACITY most recent sessions, and each
    # API call is a session: small calls push the flood's sessions out, leaving what unread answers still hold.
    light, _ = run_all(base, [Request("tokenize", [f"session {i}"]) for i in range(PUSH_OUT_SESSIONS)], 4)
    time.sleep(2.0)
    rss_pushed = status_kb(process.pid, "VmRSS")
    print(
        f"  accepted {totals[200]}, refused 429: {totals[429]}, 503: {totals[503]}, "
        f"other: {sum(n for code, n in totals.items() if code not in (200, 429, 503))} (of {sum(totals.values())})"
    )
    print(
        f"  RSS before: {mb(rss_before):.1f} MB  peak: {mb(peak):.1f} MB ({mb(peak - rss_before):+.1f})  "
        f"queue drained: {mb(rss_drained):.1f} MB  after {settle:.0f} s more: {mb(rss_after):.1f} MB "
        f"({mb(rss_after - rss_before):+.1f})",
        flush=True,
    )
    print(
        f"  after {sum(o.ok for o in light)} small calls pushed the flood's sessions out of Gradio's session store: "
        f"{mb(rss_pushed):.1f} MB ({mb(rss_pushed - rss_before):+.1f})",
        flush=True,
    )


# --- one greedy client plus one polite client ---------------------------------------------------

POLITE_SOURCE = "127.0.0.2"
POLITE_EVERY_SECONDS = 0.5


def polite_call(http: httpx.Client, base: str, kind: str) -> Outcome:
    if kind == "page":
        start = time.perf_counter()
        try:
            response = http.get(f"{base}/")
            ok = response.status_code == 200 and "<html" in response.text[:2000].lower()
            return Outcome(
                ok, time.perf_counter() - start, "" if ok else f"GET / {response.status_code}", response.status_code
            )
        except httpx.HTTPError as error:
            return Outcome(False, time.perf_counter() - start, f"{type(error).__name__}: {error}")
    request = Request("tokenize", [PARAGRAPH]) if kind == "tokenize" else Request("normalize", list(LAB_VALUES[1]))
    return call(http, base, request)


def greedy_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    text = largest_text()
    concurrency = max(1, min(args.greedy_concurrency, 128))
    seconds = max(5.0, min(args.greedy_seconds, 600.0))
    run_all(base, [Request("attend", [text, MAX_DIM, 123, ""])] * 2, 2)  # warm: torch, tokenizer
    stop = threading.Event()
    greedy: Counter[str] = Counter()
    lock = threading.Lock()

    def greedy_worker(number: int) -> None:
        with source_client("127.0.0.1", connections=1) as http:
            seed = number
            while not stop.is_set():
                outcome = call(http, base, Request("attend", [text, MAX_DIM, seed, ""]))
                if stop.is_set():
                    break  # counted only within the measured time
                key = "answered" if outcome.ok else (f"refused {outcome.status}" if outcome.status else "failed")
                with lock:
                    greedy[key] += 1
                if not outcome.ok:
                    stop.wait(0.25)
                seed += concurrency

    polite: dict[str, list[Outcome]] = {"tokenize": [], "normalize": [], "page": []}

    def polite_worker() -> None:
        kinds = list(polite)
        with source_client(POLITE_SOURCE, connections=2) as http:
            number = 0
            while not stop.is_set():
                kind = kinds[number % len(kinds)]
                polite[kind].append(polite_call(http, base, kind))
                number += 1
                stop.wait(POLITE_EVERY_SECONDS)

    print(
        f"greedy client: {concurrency} heavy calls in flight ({MAX_TOKENS} tokens, dim {MAX_DIM}), reading the "
        f"answers; polite client on {POLITE_SOURCE}: /tokenize, /normalize, GET / every {POLITE_EVERY_SECONDS} s; "
        f"{seconds:.0f} s",
        flush=True,
    )
    threads = [threading.Thread(target=greedy_worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(3.0)  # the flood is under way before the polite client starts
    polite_thread = threading.Thread(target=polite_worker, daemon=True)
    polite_thread.start()
    time.sleep(seconds)
    stop.set()
    polite_thread.join(timeout=REQUEST_SECONDS)
    for thread in threads:
        thread.join(timeout=REQUEST_SECONDS)
    every = [outcome for outcomes in polite.values() for outcome in outcomes]
    print(f"  greedy, in the {seconds + 3:.0f} s: {', '.join(f'{key} {n}' for key, n in sorted(greedy.items()))}")
    for kind, outcomes in [*polite.items(), ("all", every)]:
        if not outcomes:
            continue
        latencies = [o.seconds for o in outcomes]
        errors = [o for o in outcomes if not o.ok]
        print(
            f"  polite {kind:<9} {len(outcomes):>3} calls  p50 {percentile(latencies, 0.5) * 1e3:6.0f} ms  "
            f"p95 {percentile(latencies, 0.95) * 1e3:6.0f} ms  max {max(latencies) * 1e3:6.0f} ms  errors {len(errors)}"
            + (f" (first: {errors[0].detail[:100]})" if errors else ""),
            flush=True,
        )


# --- round three: unread answers, held-open streams, huge bodies, exports -------------------------

SMALL_ATTEND = Request("attend", ["Your journey starts with one step", 3, 123, ""])  # 6 tokens
NEWCOMER = "127.0.0.50"
SHARE = 8  # web/guard's heavy_per_client
EXPIRY_WAIT_SECONDS = 75.0  # answers are dropped 60 s after they are ready; the sweep runs every second


def latencies(http: httpx.Client, base: str, count: int) -> list[float]:
    """``count`` sequential 6-token /attend calls, each POST then read: their latencies (failures are inf)."""
    seconds = []
    for _ in range(count):
        outcome = call(http, base, SMALL_ATTEND)
        seconds.append(outcome.seconds if outcome.ok else float("inf"))
    return seconds


def quantiles(seconds: list[float]) -> str:
    ok = [s for s in seconds if s != float("inf")]
    if not ok:
        return "no call answered"
    return (
        f"p50 {percentile(ok, 0.5) * 1000:.0f} ms, p95 {percentile(ok, 0.95) * 1000:.0f} ms, "
        f"{len(seconds) - len(ok)} of {len(seconds)} failed"
    )


def answer_json_bytes(base: str, text: str) -> int:
    """The JSON size of one 256 x 768 /attend answer, read whole."""
    with source_client("127.0.0.99", connections=1) as http:
        posted = http.post(f"{base}/gradio_api/call/attend", json={"data": [text, MAX_DIM, 7, ""]})
        with http.stream("GET", f"{base}/gradio_api/call/attend/{posted.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: ") and len(line) > 1000:
                    return len(line) - len("data: ")
    return 0


def unread_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    """--clients clients each POST their share (+2) of 256 x 768 /attend and never read; a newcomer then runs."""
    text = largest_text()
    clients = max(1, min(args.clients, 20))
    run_all(base, [Request("attend", [text, MAX_DIM, 123, ""])] * 2, 2)
    size = answer_json_bytes(base, text)
    time.sleep(2.0)
    rss_before = status_kb(process.pid, "VmRSS")
    print(
        f"unread answers: {clients} client(s) x {SHARE + 2} POST /call/attend (256 x 768), never read; "
        f"one answer is {size / 1e6:.2f} MB of JSON"
    )
    request = Request("attend", [text, MAX_DIM, 123, ""])
    sources = [f"127.0.0.{2 + i}" for i in range(clients)]
    https = {source: source_client(source, connections=SHARE + 2) for source in sources}
    try:
        with RssSampler(process.pid) as sampler:
            with ThreadPoolExecutor(max_workers=clients * (SHARE + 2)) as pool:
                statuses = list(
                    pool.map(
                        lambda i: post_only(https[sources[i % clients]], base, request), range(clients * (SHARE + 2))
                    )
                )
            idle = wait_for_idle_queue(base)
            rss_held = status_kb(process.pid, "VmRSS")
            with source_client(NEWCOMER, connections=2) as newcomer:
                seconds = latencies(newcomer, base, 20)
            peak = sampler.peak_kb
            accepted = Counter(statuses)[200]
            print(f"  statuses {dict(Counter(statuses))}; queue idle after {idle:.1f} s", flush=True)
            print(
                f"  newcomer's 6-token /attend while {clients} clients hold {accepted} unread answers: "
                f"{quantiles(seconds)}"
            )
            print(
                f"  RSS before {mb(rss_before):.0f} MB, peak {mb(peak):.0f} MB ({mb(peak - rss_before):+.0f}), "
                f"holding {mb(rss_held):.0f} MB ({mb(rss_held - rss_before):+.0f}) for "
                f"{accepted * size / 1e6:.0f} MB of answers' JSON",
                flush=True,
            )
            time.sleep(EXPIRY_WAIT_SECONDS)
            rss_after = status_kb(process.pid, "VmRSS")
            retry = call(https[sources[0]], base, SMALL_ATTEND)
    finally:
        for http in https.values():
            http.close()
    print(
        f"  after the answers expired ({EXPIRY_WAIT_SECONDS:.0f} s): RSS {mb(rss_after):.0f} MB "
        f"({mb(rss_after - rss_before):+.0f}); the flooder's next call {'answered' if retry.ok else retry.detail}",
        flush=True,
    )


def fn_index_of(base: str, api_name: str) -> int:
    config = httpx.get(f"{base}/config", timeout=30, trust_env=False).json()
    return next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == api_name)


def held_stream_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    """One client joins its share of 256 x 768 runs in one session, opens /queue/data with a 4 kB receive buffer
    and never reads it. How long until its share frees, and what RSS does meanwhile."""
    import socket
    import uuid
    from urllib.parse import urlsplit

    text = largest_text()
    run_all(base, [Request("attend", [text, MAX_DIM, 123, ""])] * 2, 2)
    time.sleep(2.0)
    rss_before = status_kb(process.pid, "VmRSS")
    source, session, index = "127.0.0.7", uuid.uuid4().hex, fn_index_of(base, "attend")
    url = urlsplit(base)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.bind((source, 0))
    reader.connect((url.hostname, url.port))
    reader.sendall(
        f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: x\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    with source_client(source, connections=SHARE) as http, RssSampler(process.pid) as sampler:
        for _ in range(SHARE):
            http.post(
                f"{base}/gradio_api/queue/join",
                json={"data": [text, MAX_DIM, 123, ""], "fn_index": index, "session_hash": session},
            )
        started = time.perf_counter()
        idle = wait_for_idle_queue(base)
        rss_held = status_kb(process.pid, "VmRSS")
        print(
            f"held-open unread stream: {SHARE} runs (256 x 768) in one session, its stream never read; "
            f"computed {idle:.0f} s after the last POST",
            flush=True,
        )
        freed = None
        while time.perf_counter() - started < 150:
            outcome = call(http, base, SMALL_ATTEND)
            if outcome.ok:
                freed = time.perf_counter() - started
                break
            time.sleep(2.0)
        with source_client(NEWCOMER, connections=2) as newcomer:
            seconds = latencies(newcomer, base, 10)
        peak = sampler.peak_kb
    rss_after = status_kb(process.pid, "VmRSS")
    reader.close()
    print(f"  the client's share freed {freed:.0f} s after its last POST" if freed else "  never freed in 150 s")
    print(f"  newcomer's 6-token /attend meanwhile: {quantiles(seconds)}")
    print(
        f"  RSS before {mb(rss_before):.0f} MB, peak {mb(peak):.0f} MB ({mb(peak - rss_before):+.0f}), "
        f"while held {mb(rss_held):.0f} MB, after release {mb(rss_after):.0f} MB ({mb(rss_after - rss_before):+.0f})",
        flush=True,
    )


def big_body_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    """A 100 MB body to /queue/join and /call/tokenize, declared and chunked, streamed as fast as the server takes
    it: seconds until the 413, RSS, and a newcomer's latency meanwhile."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(base)
    run_all(base, [SMALL_ATTEND] * 2, 2)
    rss_before = status_kb(process.pid, "VmRSS")
    print("100 MB bodies, each sent from its own socket while the 413 is awaited:")
    body = b"[" + b"1," * 50_000_000
    with RssSampler(process.pid) as sampler:
        for path, chunked in (
            ("/gradio_api/queue/join", False),
            ("/gradio_api/call/tokenize", False),
            ("/gradio_api/queue/join", True),
        ):
            sock = socket.create_connection((url.hostname, url.port))
            sock.settimeout(10)
            framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
            started = time.perf_counter()
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode()
            )
            answer, sent = b"", 0
            sock.settimeout(0.05)
            while b"\r\n\r\n" not in answer and time.perf_counter() - started < 10:
                try:
                    answer += sock.recv(65536)
                except (BlockingIOError, TimeoutError):
                    pass
                if sent < len(body):
                    piece = body[sent : sent + (1 << 20)]
                    data = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
                    try:
                        sock.sendall(data)  # blocks while the server is not reading; the socket times out
                        sent += len(piece)
                    except (BlockingIOError, BrokenPipeError, ConnectionResetError, TimeoutError):
                        time.sleep(0.001)
            seconds = time.perf_counter() - started
            status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
            sock.close()
            kind = "chunked" if chunked else "Content-Length"
            print(
                f"  {path} ({kind}): '{status}' after {seconds * 1000:.0f} ms, {sent / 1e6:.1f} MB sent by then",
                flush=True,
            )
        with source_client(NEWCOMER, connections=2) as newcomer:
            seconds_list = latencies(newcomer, base, 10)
        peak = sampler.peak_kb
    print(f"  newcomer afterwards: {quantiles(seconds_list)}")
    print(
        f"  RSS before {mb(rss_before):.0f} MB, peak {mb(peak):.0f} MB ({mb(peak - rss_before):+.0f}), "
        f"after {mb(status_kb(process.pid, 'VmRSS')):.0f} MB",
        flush=True,
    )


def export_loop_scenario(report: Report, process: subprocess.Popen, base: str, args: argparse.Namespace) -> None:
    """One client runs 256 x 768 and exports it 30 times; another client then exports once."""
    import uuid

    text = largest_text()
    run_index, export_index = fn_index_of(base, "run_attention"), fn_index_of(base, "prepare_exports")

    def join_and_read(http: httpx.Client, session: str, index: int, data: list) -> dict:
        http.post(f"{base}/gradio_api/queue/join", json={"data": data, "fn_index": index, "session_hash": session})
        with http.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: ") and '"process_completed"' in line[:60]:
                    return json.loads(line.removeprefix("data: "))
        return {}

    def export_once(source: str) -> tuple[bool, str, float]:
        session = uuid.uuid4().hex
        with source_client(source, connections=2) as http:
            join_and_read(http, session, run_index, [text, "random", MAX_DIM, 123, "", False, 1.0])
            started = time.perf_counter()
            done = join_and_read(http, session, export_index, [None, False])
        seconds = time.perf_counter() - started
        if done.get("success"):
            files = done["output"]["data"][0]
            return True, str(Path(files[0]["path"]).parents[1]), seconds  # <exports>/<client>/<export>/<file>
        return False, str(done.get("output", {}).get("error", "no answer"))[:100], seconds

    rss_before = status_kb(process.pid, "VmRSS")
    root, outcomes = None, []
    with RssSampler(process.pid) as sampler:
        for _ in range(30):
            ok, detail, seconds = export_once("127.0.0.8")
            outcomes.append((ok, seconds))
            root = detail if ok else root
        used = sum(f.stat().st_size for f in Path(root).rglob("*") if f.is_file()) if root else 0
        everyone = sum(f.stat().st_size for f in Path(root).parent.rglob("*") if f.is_file()) if root else 0
        victim = export_once("127.0.0.9")
        peak = sampler.peak_kb
    refusals = sum(not ok for ok, _ in outcomes)
    print(
        f"one client exports 256 x 768 in a loop: {len(outcomes) - refusals} of {len(outcomes)} exports written, "
        f"p50 {percentile([s for _, s in outcomes], 0.5) * 1000:.0f} ms; its exports on disk: {used / 1e6:.1f} MB "
        f"(all clients' exports: {everyone / 1e6:.1f} MB of the 200 MB budget)"
    )
    print(
        f"  another client's export then: {'written' if victim[0] else 'refused: ' + victim[1]} "
        f"in {victim[2] * 1000:.0f} ms"
    )
    print(
        f"  RSS before {mb(rss_before):.0f} MB, peak {mb(peak):.0f} MB, after "
        f"{mb(status_kb(process.pid, 'VmRSS')):.0f} MB",
        flush=True,
    )


SCENARIOS = {
    "burst": burst_scenario,
    "never-read": never_read_scenario,
    "greedy": greedy_scenario,
    "unread": unread_scenario,
    "held-stream": held_stream_scenario,
    "big-body": big_body_scenario,
    "export-loop": export_loop_scenario,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests in the burst (default 200)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at once (default 32)")
    parser.add_argument("--bursts", type=int, default=2, help="bursts, one after the other (default 2)")
    parser.add_argument("--largest-repeats", type=int, default=4, help="256-token dim-768 requests (default 4)")
    parser.add_argument(
        "--sources",
        type=int,
        default=4,
        help="burst: loopback addresses the burst comes from, as from that many clients; the "
        "server gives each client a share of its queue (default 4)",
    )
    parser.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "all"],
        default="burst",
        help="burst (default), never-read, greedy, or all, each on a fresh server",
    )
    parser.add_argument(
        "--clients", type=int, default=1, help="never-read: loopback source addresses the POSTs come from (default 1)"
    )
    parser.add_argument(
        "--settle", type=float, default=90.0, help="never-read: seconds to wait after the queue drains (default 90)"
    )
    parser.add_argument(
        "--greedy-concurrency",
        type=int,
        default=32,
        help="greedy: heavy calls the greedy client keeps in flight (default 32)",
    )
    parser.add_argument("--greedy-seconds", type=float, default=30.0, help="greedy: duration (default 30)")
    args = parser.parse_args()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]

    def scenarios(report: Report) -> None:
        for name in names:
            with harness.served("app", "app.py") as server:
                print(
                    f"\n== {name}: server pid {server.process.pid} on {server.url}, serving after "
                    f"{server.seconds:.1f} s",
                    flush=True,
                )
                SCENARIOS[name](report, server.process, server.url.rstrip("/"), args)

    return harness.main("load", scenarios)


if __name__ == "__main__":
    sys.exit(main())
