"""The guard on a real Gradio server: a tiny demo with short limits (answers expire 6 s after they are ready), and
the app itself. Each test is an attack from issue 18 that succeeded on main."""

from __future__ import annotations

import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from web import guard

# --- a tiny demo behind the guard ------------------------------------------------------------------


def big_answer(size: int) -> list[float]:
    """A large answer: ``size`` floats."""
    return [0.123456789] * int(size)


def small_answer(text: str) -> str:
    return text.upper()


def slow_answer(seconds: float) -> list[float]:
    """A large answer that takes ``seconds`` to compute."""
    time.sleep(float(seconds))
    return [0.5] * 100_000


TTL = 6.0  # long enough for a loaded CI machine to finish a test's calls before any answer expires


@pytest.fixture(scope="module")
def tiny_url():
    """A small Gradio demo behind the guard, launched under an inherited FORWARDED_ALLOW_IPS=* (which the guard's
    launch overrides, as app.launch does); yields its URL."""
    import gradio as gr

    with gr.Blocks(analytics_enabled=False) as demo:
        gr.api(big_answer, api_name="big")
        gr.api(small_answer, api_name="small")
        gr.api(slow_answer, api_name="slow")
    demo.queue(default_concurrency_limit=2, api_open=False)
    limits = guard.middleware(
        demo,
        light=[small_answer],
        heavy_per_client=2,
        heavy_total=3,
        answer_ttl=TTL,
        sweep_every=0.2,
        admission_wait=0.5,
        proxy_hops=0,
        max_body_bytes=1_000_000,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FORWARDED_ALLOW_IPS", "*")
        assert guard.distrust_forwarded_headers() == "*"
        demo.launch(
            server_name="127.0.0.1",
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            enable_monitoring=False,
            app_kwargs={"middleware": [limits]},
        )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def bound(source: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source, limits=httpx.Limits(max_connections=64))
    return httpx.Client(transport=transport, timeout=httpx.Timeout(60, connect=10), trust_env=False)


def read_event(http: httpx.Client, url: str, api: str, event_id: str) -> tuple[str, str]:
    """The first complete/error event of a call's stream: (its kind, its data)."""
    kind = ""
    with http.stream("GET", f"{url}gradio_api/call/{api}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind in ("complete", "error"):
                return kind, line.removeprefix("data: ")
    return kind, ""


def call_and_read(http: httpx.Client, url: str, api: str, data: list[Any]) -> httpx.Response | str:
    """POST a call; when accepted, read its answer and return the kind of its event."""
    posted = http.post(f"{url}gradio_api/call/{api}", json={"data": data})
    if posted.status_code != 200:
        return posted
    return read_event(http, url, api, posted.json()["event_id"])[0]


def fn_index(url: str, api_name: str) -> int:
    config = httpx.get(f"{url}config", timeout=30, trust_env=False).json()
    return next(dep["id"] for dep in config["dependencies"] if dep["api_name"] == api_name)


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_clients_holding_unread_answers_leave_a_newcomer_served(tiny_url):
    """On main, unread answers held the global slots: a newcomer got 503 while two clients sat on theirs."""
    with bound("127.0.0.11") as first, bound("127.0.0.12") as second, bound("127.0.0.13") as newcomer:
        for http in (first, second):
            for _ in range(2):
                assert http.post(f"{tiny_url}gradio_api/call/big", json={"data": [300_000]}).status_code == 200
            assert http.post(f"{tiny_url}gradio_api/call/big", json={"data": [1]}).status_code == 429
        time.sleep(0.5)  # the four answers are ready, unread
        assert call_and_read(newcomer, tiny_url, "big", [10]) == "complete"
        assert first.post(f"{tiny_url}gradio_api/call/big", json={"data": [1]}).status_code == 429, "still unread"


@pytest.mark.slow
def test_unread_answers_are_dropped_a_ttl_after_they_are_ready(tiny_url):
    with bound("127.0.0.14") as http:
        first = http.post(f"{tiny_url}gradio_api/call/big", json={"data": [200_000]})
        session = uuid.uuid4().hex
        second = http.post(
            f"{tiny_url}gradio_api/queue/join",
            json={"data": [200_000], "fn_index": fn_index(tiny_url, "big"), "session_hash": session},
        )
        assert first.status_code == second.status_code == 200
        refused = http.post(f"{tiny_url}gradio_api/call/big", json={"data": [10]})
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= TTL + 2
        assert wait_until(lambda: call_and_read(http, tiny_url, "big", [10]) == "complete", TTL + 5)
        kind, data = read_event(http, tiny_url, "big", first.json()["event_id"])
        assert kind == "error" and "This answer expired" in data


@pytest.mark.slow
def test_a_held_open_stream_that_is_never_read_frees_its_share(tiny_url):
    """On main, a stream opened with a tiny receive buffer and never read pinned the client's slots for as long as
    the socket stayed open."""
    session, index = uuid.uuid4().hex, fn_index(tiny_url, "big")
    port = int(tiny_url.rstrip("/").rsplit(":", 1)[1])
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.bind(("127.0.0.15", 0))
    reader.connect(("127.0.0.1", port))
    try:
        with bound("127.0.0.15") as http:
            for _ in range(2):  # 2 x 6 MB of JSON: far more than the socket's buffers
                joined = http.post(
                    f"{tiny_url}gradio_api/queue/join",
                    json={"data": [500_000], "fn_index": index, "session_hash": session},
                )
                assert joined.status_code == 200
            assert http.post(f"{tiny_url}gradio_api/call/big", json={"data": [1]}).status_code == 429
            reader.sendall(f"GET /gradio_api/queue/data?session_hash={session} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            started = time.monotonic()
            assert wait_until(lambda: call_and_read(http, tiny_url, "big", [1]) == "complete", 3 * TTL + 10)
            assert time.monotonic() - started >= 1.0, "the share was held while the answers were fresh"
    finally:
        reader.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["gradio_api/queue/join", "gradio_api/call/small", "gradio_api/component_server"])
def test_a_huge_declared_body_is_refused_before_it_is_sent(tiny_url, path):
    """On main, a 100 MB body was read whole and parsed on the event loop before any check."""
    port = int(tiny_url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: 100000000\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):  # nothing of the body was sent: the answer cannot wait for it
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"larger than the limit of 1000000 bytes" in answer


@pytest.mark.slow
def test_a_huge_chunked_body_is_refused_while_it_streams(tiny_url):
    port = int(tiny_url.rstrip("/").rsplit(":", 1)[1])
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 65536
        try:
            while sent < 100_000_000:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413") and sent < 100_000_000


@pytest.mark.slow
def test_multipart_is_refused_outside_the_upload_route(tiny_url):
    with bound("127.0.0.16") as http:
        files = [("files", ("a.csv", b"1,2\n"))] * 3
        refused = http.post(f"{tiny_url}gradio_api/component_server", files=files)
        assert refused.status_code == 415


@pytest.mark.slow
def test_a_spoofed_forwarded_for_is_one_client_even_under_an_inherited_allow_all(tiny_url):
    """The demo was launched with FORWARDED_ALLOW_IPS=* inherited: uvicorn would have believed any header."""
    with bound("127.0.0.17") as http:
        statuses = [
            http.post(
                f"{tiny_url}gradio_api/call/big", json={"data": [1]}, headers={"x-forwarded-for": f"10.7.0.{number}"}
            ).status_code
            for number in range(3)
        ]
    assert statuses == [200, 200, 429]


@pytest.mark.slow
def test_gradio_client_reads_free_the_share_at_once(tiny_url, monkeypatch):
    """gradio_client reads answers on the /queue/data stream of its one session: each read frees a slot, so six
    calls in a row are all served (the share is two)."""
    from gradio_client import Client

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    client = Client(tiny_url, verbose=False, analytics_enabled=False)
    try:
        for size in range(6):
            assert client.predict(size, api_name="/big") == [0.123456789] * size
    finally:
        client.close()


@pytest.mark.slow
def test_a_reader_that_leaves_early_frees_the_share_at_once(tiny_url):
    """A page closed while its runs are still going: Gradio cancels the session's events when its stream drops,
    and the guard gives the client's slots back then."""
    session = uuid.uuid4().hex
    index = fn_index(tiny_url, "slow")
    with bound("127.0.0.18") as http:
        for _ in range(2):
            joined = http.post(
                f"{tiny_url}gradio_api/queue/join", json={"data": [2.0], "fn_index": index, "session_hash": session}
            )
            assert joined.status_code == 200
        assert http.post(f"{tiny_url}gradio_api/call/big", json={"data": [1]}).status_code == 429
        with http.stream("GET", f"{tiny_url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            next(stream.iter_lines())
        time.sleep(0.5)
        assert call_and_read(http, tiny_url, "big", [1]) == "complete"


# --- the app itself -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_light_calls_are_served_during_a_heavy_flood(server_url):
    """One client floods /attend from 127.0.0.1 (a peer whose X-Forwarded-For uvicorn believes by default),
    changing that header each time; another calls /tokenize, /normalize and the page. The flood gets 429
    (the header is not believed, so it stays one client) and never 503; the light calls are served, none
    queued behind the flood (which takes ten seconds or more). benchmarks/load.py --scenario greedy
    measures the latency itself."""
    text = "attention " * 120
    flood_results: list[Any] = []

    def flood(number: int) -> None:
        with bound("127.0.0.1") as http:
            http.headers["x-forwarded-for"] = f"10.1.{number}.1"
            flood_results.append(call_and_read(http, server_url, "attend", [text, 768, number, ""]))

    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = [pool.submit(flood, number) for number in range(40)]
        time.sleep(1.0)
        latencies = []
        with bound("127.0.0.3") as polite:
            for api, data in [
                ("tokenize", ["Your journey starts with one step"]),
                ("normalize", ["1, 2, 3", "float32"]),
                ("tokenize", [text]),
                ("normalize", ["1000, 1001", "float16"]),
            ]:
                started = time.perf_counter()
                assert call_and_read(polite, server_url, api, data) == "complete"
                latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert polite.get(server_url).status_code == 200
            latencies.append(time.perf_counter() - started)
        for future in futures:
            future.result(timeout=180)
    assert max(latencies) < 5.0, latencies
    refused = [r for r in flood_results if isinstance(r, httpx.Response)]
    assert {r.status_code for r in refused} == {429}, [(r.status_code, r.text[:80]) for r in refused]
    assert refused[0].json()["detail"].startswith("Too many requests from you")
    assert int(refused[0].headers["retry-after"]) >= 1
    assert flood_results.count("complete") >= 2


@pytest.mark.slow
def test_monitoring_is_closed(server_url):
    with httpx.Client(timeout=30, trust_env=False) as http:
        for path in (
            "monitoring",
            "monitoring/summary",
            "monitoring/some-guessed-key",
            "gradio_api/monitoring/summary",
        ):
            response = http.get(f"{server_url}{path}")
            assert response.status_code in (403, 404), path
            assert "attend" not in response.text and "tokenize" not in response.text


@pytest.mark.slow
def test_refused_uploads_write_nothing(server_url):
    from gradio.utils import get_upload_folder

    tag = uuid.uuid4().hex[:12]
    refused = {
        f"{tag}-a.exe": [("files", (f"{tag}-a.exe", b"MZ"))],
        f"{tag}-b.csv": [("files", (f"{tag}-b.csv", b"1")), ("files", (f"{tag}-c.csv", b"2"))],
        f"{tag}-d.csv": [("files", (f"{tag}-d.csv", b"1" * 1_000_001))],
    }
    with httpx.Client(timeout=30, trust_env=False) as http:
        for files in refused.values():
            assert 400 <= http.post(f"{server_url}gradio_api/upload", files=files).status_code < 500
        kept = http.post(f"{server_url}gradio_api/upload", files=[("files", (f"{tag}-ok.csv", b"1,2\n"))])
    assert kept.status_code == 200
    stored = {path.name for path in Path(get_upload_folder()).rglob(f"{tag}*")}
    assert stored == {f"{tag}-ok.csv"}


@pytest.mark.slow
def test_a_hidden_event_that_reruns_the_pipeline_counts_as_a_large_run(server_url):
    """refused_run is private (not in the API docs) but callable through /queue/join, and it recomputes a run: on
    main it was light, so eight of them at 256 x 768 ran beside a client's eight large runs."""
    index = fn_index(server_url, "refused_run")
    session = uuid.uuid4().hex
    data = ["Your journey starts with one step", "random", 3, 123, "", False, 1.0]
    with bound("127.0.0.40") as http:
        for _ in range(8):
            joined = http.post(
                f"{server_url}gradio_api/queue/join", json={"data": data, "fn_index": index, "session_hash": session}
            )
            assert joined.status_code == 200
        refused = http.post(
            f"{server_url}gradio_api/queue/join", json={"data": data, "fn_index": index, "session_hash": session}
        )
        assert refused.status_code == 429 and "8 of your large runs" in refused.json()["detail"]
        with http.stream("GET", f"{server_url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():  # read them all: the share frees for the tests that follow
                if '"close_stream"' in line:
                    break


@pytest.mark.slow
def test_two_clients_at_their_share_leave_the_app_to_a_newcomer(server_url):
    """The attack of issue 18 on the app: two clients each leave 8 /attend answers unread (16, everyone's limit on
    main, so a newcomer's 6-token /attend got 503 after 4 s); the newcomer is answered."""
    data = ["Your journey starts with one step", 3, 123, ""]
    with bound("127.0.0.41") as first, bound("127.0.0.42") as second, bound("127.0.0.43") as newcomer:
        for http in (first, second):
            for _ in range(8):
                assert http.post(f"{server_url}gradio_api/call/attend", json={"data": data}).status_code == 200
        assert wait_until(lambda: call_and_read(newcomer, server_url, "attend", data) == "complete", 10)
        assert first.post(f"{server_url}gradio_api/call/attend", json={"data": data}).status_code == 429
