"""web/guard.py: per-client shares, unread answers that expire, and the upload quota.

The fast tests drive the middleware in process, in front of a small Starlette app that answers like
Gradio's queue routes. The slow ones run against the real app (``server_url``) and against a tiny Gradio
demo launched here with short limits, so that expiry takes seconds rather than a minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from web import guard

# --- who is asking ------------------------------------------------------------------------------


def scope_from(peer: str, *forwarded: str) -> dict[str, Any]:
    return {"client": (peer, 1234), "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded]}


@pytest.mark.parametrize(
    ("scope", "hops", "expected"),
    [
        pytest.param(scope_from("127.0.0.1"), 0, "127.0.0.1", id="peer"),
        pytest.param(scope_from("127.0.0.1", "6.6.6.6"), 0, "127.0.0.1", id="no-hops-ignores-the-header"),
        pytest.param(scope_from("10.0.0.2", "6.6.6.6, 1.2.3.4"), 1, "1.2.3.4", id="one-hop-takes-the-right-entry"),
        pytest.param(scope_from("10.0.0.2", "6.6.6.6", "1.2.3.4"), 1, "1.2.3.4", id="two-headers-read-in-order"),
        pytest.param(scope_from("10.0.0.2", "6.6.6.6, 1.2.3.4"), 2, "6.6.6.6", id="two-hops"),
        pytest.param(scope_from("10.0.0.2"), 1, "10.0.0.2", id="no-header-means-the-peer"),
        pytest.param(scope_from("2001:db8::1"), 0, "2001:db8::/64", id="ipv6-per-64"),
    ],
)
def test_client_address(scope, hops, expected):
    assert guard.client_address(scope, hops) == expected


def test_spoofed_forwarded_for_does_not_make_a_new_client():
    one = guard.client_address(scope_from("127.0.0.1", "10.0.0.1"), 0)
    other = guard.client_address(scope_from("127.0.0.1", "10.0.0.2"), 0)
    assert one == other == "127.0.0.1"


@pytest.mark.parametrize(
    ("environ", "hops"),
    [
        ({}, 0),
        ({"SPACE_ID": "someone/space"}, 1),
        ({"SPACE_ID": "x", "ATTENTION_PROXY_HOPS": "0"}, 0),
        ({"ATTENTION_PROXY_HOPS": "2"}, 2),
    ],
    ids=["local", "space", "space-overridden", "two-proxies"],
)
def test_proxy_hops_default_trusts_a_proxy_only_on_a_space(environ, hops):
    assert guard.proxy_hops_from_env(environ) == hops


def test_negative_proxy_hops_is_refused():
    with pytest.raises(ValueError, match="number of trusted proxies"):
        guard.proxy_hops_from_env({"ATTENTION_PROXY_HOPS": "-1"})


# --- the books ----------------------------------------------------------------------------------

LIMITS = guard.Limits(heavy_per_client=2, light_per_client=3, heavy_total=3, answer_ttl=60, proxy_hops=0)


def accept(ledger: guard.Ledger, client: str, heavy: bool, now: float = 0.0) -> str:
    ticket = ledger.reserve(client, heavy=heavy, now=now)
    assert isinstance(ticket, guard.Ticket), ticket
    event_id = uuid.uuid4().hex
    ledger.confirm(ticket, event_id, event_id, now=now)
    return event_id


def test_a_client_over_its_heavy_share_gets_429_with_when_to_retry():
    ledger = guard.Ledger(LIMITS)
    accept(ledger, "a", True, now=0.0)
    accept(ledger, "a", True, now=10.0)
    refusal = ledger.reserve("a", heavy=True, now=20.0)
    assert refusal == guard.Refusal(
        429,
        "Too many requests from you: 2 of your large runs are still pending. Read their answers, or retry in 41 s.",
        41,
    )


def test_shares_are_per_client_and_per_kind():
    ledger = guard.Ledger(LIMITS)
    accept(ledger, "a", True)
    accept(ledger, "a", True)
    assert isinstance(ledger.reserve("b", heavy=True, now=0), guard.Ticket)
    assert isinstance(ledger.reserve("a", heavy=False, now=0), guard.Ticket)


def test_all_clients_together_are_capped_with_503():
    ledger = guard.Ledger(LIMITS)
    for client in "abc":
        accept(ledger, client, True, now=5.0)
    refusal = ledger.reserve("d", heavy=True, now=15.0)
    assert refusal.status == 503
    assert refusal.detail == "The server is busy: 3 large runs are pending. Retry in 51 s."
    assert isinstance(ledger.reserve("d", heavy=False, now=15.0), guard.Ticket), "light calls have no total cap"


def test_light_share_message_names_requests():
    ledger = guard.Ledger(LIMITS)
    for _ in range(3):
        accept(ledger, "a", False)
    assert ledger.reserve("a", heavy=False, now=0).detail.startswith(
        "Too many requests from you: 3 of your requests are still pending."
    )


def test_reading_an_answer_or_cancelling_gives_the_slot_back():
    ledger = guard.Ledger(LIMITS)
    first = accept(ledger, "a", True)
    ticket = ledger.reserve("a", heavy=True, now=0)
    ledger.cancel(ticket)  # Gradio refused that call
    assert ledger.outstanding("a", heavy=True) == 1
    assert ledger.note_done(first) is True
    assert ledger.outstanding("a", heavy=True) == 0 and ledger.heavy_total == 0 and not ledger.sessions


def test_an_answer_read_before_its_post_returned_is_not_counted():
    ledger = guard.Ledger(LIMITS)
    ticket = ledger.reserve("a", heavy=True, now=0)
    assert ledger.note_done("early") is False  # the stream was already open
    ledger.confirm(ticket, "early", "session", now=0)
    assert ledger.outstanding("a", heavy=True) == 0 and not ledger.entries


def test_sessions_expire_after_the_ttl():
    ledger = guard.Ledger(LIMITS)
    old = accept(ledger, "a", True, now=0.0)
    accept(ledger, "b", True, now=30.0)
    assert ledger.expired_sessions(59.0) == []
    assert ledger.expired_sessions(60.0) == [old]
    assert [entry.event_id for entry in ledger.release_session(old)] == [old]
    assert ledger.heavy_total == 1


def test_a_call_stream_releases_the_event_it_names_first():
    ledger = guard.Ledger(LIMITS)
    tickets = [ledger.reserve("a", heavy=False, now=0) for _ in range(2)]
    ledger.confirm(tickets[0], "e1", "shared", now=0)
    ledger.confirm(tickets[1], "e2", "shared", now=1)
    assert ledger.note_done_in_session("shared", preferred="e2")
    assert list(ledger.entries) == ["e1"]
    assert ledger.note_done_in_session("shared", preferred="gone")
    assert not ledger.entries and not ledger.note_done_in_session("shared")


# --- reading server-sent events -----------------------------------------------------------------


def queue_data_stream() -> bytes:
    """What Gradio's /queue/data sends for one event, built from Gradio's own message models."""
    from gradio.server_messages import EstimationMessage, ProcessCompletedMessage, ProcessStartsMessage

    messages = [
        EstimationMessage(event_id="e1", rank=0, queue_size=1),
        ProcessStartsMessage(event_id="e1"),
        ProcessCompletedMessage(event_id="e1", output={"data": [[0.5] * 5000]}, success=True),
    ]
    return b"".join(b"data: " + orjson.dumps(m.model_dump(), default=str) + b"\n\n" for m in messages)


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 100, 10**6])
def test_the_completion_in_gradios_queue_stream_is_found_however_it_is_cut(chunk_size):
    stream = queue_data_stream()
    heads = guard.SseHeads()
    found = []
    for start in range(0, len(stream), chunk_size):
        found += [guard.completion(head) for head in heads.feed(stream[start : start + chunk_size])]
    assert found == [(False, None), (False, None), (True, "e1")]


def test_heads_stay_short_for_a_large_event():
    heads = guard.SseHeads()
    (head,) = heads.feed(b"data: " + b"1" * 10**6 + b"\n\n")
    assert len(head) == guard.HEAD_BYTES


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"event: complete\ndata: [1]", (True, None)),
        (b"event: error\ndata: null", (True, None)),
        (b"event: heartbeat\ndata: null", (False, None)),
        (b"event: generating\ndata: [1]", (False, None)),
        (b'data: {"msg":"close_stream","event_id":null}', (False, None)),
    ],
    ids=["complete", "error", "heartbeat", "generating", "close-stream"],
)
def test_call_stream_events(head, expected):
    assert guard.completion(head) == expected


# --- uploads ------------------------------------------------------------------------------------


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body of (field, filename or None, content) parts, and its content type."""
    boundary = "guard-test-boundary"
    chunks = []
    for field, filename, content in parts:
        disposition = f'form-data; name="{field}"' + ("" if filename is None else f'; filename="{filename}"')
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def refusal_of(*parts: tuple[str, str | None, bytes]) -> guard.Refusal | None:
    body, content_type = multipart(*parts)
    return guard.upload_refusal(body, content_type, types=(".csv", ".tsv", ".txt", ".json"), max_bytes=1_000_000)


@pytest.mark.parametrize("name", ["table.csv", "TABLE.CSV", "t.tsv", "notes.txt", "rows.json", "a b (1).csv"])
def test_one_allowed_file_passes(name):
    assert refusal_of(("files", name, b"1,2\n3,4\n")) is None


@pytest.mark.parametrize(
    ("parts", "status", "says"),
    [
        pytest.param([("files", "x.exe", b"MZ")], 415, "Only .csv, .tsv, .txt, .json files", id="exe"),
        pytest.param([("files", "x.csv.exe", b"MZ")], 415, "'x.csv.exe' is not one", id="double-extension"),
        pytest.param([("files", "x", b"1")], 415, "Only .csv", id="no-extension"),
        pytest.param([("files", "..\\..\\x.exe", b"1")], 415, "Only .csv", id="windows-path"),
        pytest.param([("files", "a.csv", b"1"), ("files", "b.csv", b"2")], 400, "exactly one file", id="two-files"),
        pytest.param([("files", f"{i}.exe", b"1") for i in range(50)], 400, "50 files", id="fifty-files"),
        pytest.param([("data", None, b"hello")], 400, "0 files", id="no-file"),
        pytest.param([("files", "a.csv", b"1"), ("extra", None, b"2")], 400, "exactly one file", id="extra-field"),
        pytest.param([("other", "a.csv", b"1")], 400, "form field 'files'", id="other-field"),
        pytest.param([("files", "big.csv", b"1" * 1_000_001)], 413, "limit of 1000000 bytes", id="over-1MB"),
    ],
)
def test_uploads_are_refused(parts, status, says):
    refusal = refusal_of(*parts)
    assert refusal is not None and refusal.status == status
    assert says in refusal.detail


def test_a_long_refused_name_is_cut():
    refusal = refusal_of(("files", "x" * 300 + ".exe", b"1"))
    assert refusal.status == 415 and len(refusal.detail) < 140


def test_not_multipart_is_refused():
    assert guard.upload_refusal(b"{}", "application/json", types=(".csv",), max_bytes=10).status == 400


# --- which events are heavy: the one place that reads Gradio's Blocks.fns -------------------------


def test_heavy_events_of_the_app():
    import app

    events = guard.heavy_events(app.demo, app.HEAVY)
    names = {index: block_fn.fn for index, block_fn in app.demo.fns.items()}
    assert events.heavy_api_names >= {"attend"}
    assert not events.is_heavy_api("tokenize") and not events.is_heavy_api("normalize")
    assert events.is_heavy_api("attend") and events.is_heavy_api("no-such-api")
    runs = {index for index, fn in names.items() if fn in (app.run_attention, app.open_page)}
    assert len(runs) >= 6 and runs <= events.heavy_indexes, "every event that computes a run is heavy"
    light = {index for index, fn in names.items() if fn in (app.tokenize, app.run_lab, app.trace_pair)}
    assert light and not any(events.is_heavy_index(index) for index in light)
    assert events.is_heavy_index(None) and events.is_heavy_index(10_000)


def test_a_function_that_is_no_event_is_refused():
    import app

    def not_wired() -> None: ...

    with pytest.raises(ValueError, match="not_wired run"):
        guard.heavy_events(app.demo, [app.attend_endpoint, not_wired])


# --- the middleware in front of a stand-in for Gradio's queue routes ----------------------------


class FakeGradio:
    """Answers like Gradio's queue routes: every call is answered at once and its answer waits to be read."""

    def __init__(self) -> None:
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)  # session -> unread messages
        self.sessions: dict[str, str] = {}  # event id -> session
        self.uploads: list[bytes] = []
        self.paths: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/gradio_api/call/{api}", self.submit, methods=["POST"]),
                Route("/gradio_api/queue/join", self.submit, methods=["POST"]),
                Route("/gradio_api/call/{api}/{event_id}", self.read_call, methods=["GET"]),
                Route("/gradio_api/queue/data", self.read_queue, methods=["GET"]),
                Route("/gradio_api/upload", self.upload, methods=["POST"]),
                Route("/", lambda request: JSONResponse({"page": True})),
            ]
        )

    async def submit(self, request: Request) -> JSONResponse:
        self.paths.append(request.url.path)
        body = await request.json()
        event_id = uuid.uuid4().hex
        session = body.get("session_hash") or event_id
        self.sessions[event_id] = session
        if not body.get("cancelled"):  # else: as if its client left, so that Gradio cancelled it
            self.pending[session].append({"msg": "process_completed", "event_id": event_id, "output": {"data": [1]}})
        return JSONResponse({"event_id": event_id})

    async def read_queue(self, request: Request) -> StreamingResponse:
        self.paths.append(request.url.path)
        session = request.query_params["session_hash"]

        async def stream():
            while self.pending.get(session):
                yield b"data: " + json.dumps(self.pending[session].pop(0)).encode() + b"\n\n"
            yield b'data: {"msg":"close_stream","event_id":null}\n\n'

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def read_call(self, request: Request) -> StreamingResponse:
        session = self.sessions.get(request.path_params["event_id"], request.path_params["event_id"])

        async def stream():
            if self.pending.get(session):
                message = self.pending[session].pop(0)
                yield b"event: complete\ndata: " + json.dumps(message["output"]["data"]).encode() + b"\n\n"
            else:
                yield b"event: error\ndata: null\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def upload(self, request: Request) -> JSONResponse:
        self.uploads.append(await request.body())
        return JSONResponse(["/tmp/stored"])


FAST = dict(
    heavy_per_client=2,
    light_per_client=2,
    heavy_total=3,
    admission_wait=0.0,
    waiting_per_client=4,
    answer_ttl=0.3,
    sweep_every=0.05,
    drain_wait=2.0,
    proxy_hops=0,
    max_upload_bytes=1000,
)
EVENTS = guard.Events(frozenset({1}), frozenset({"attend"}), frozenset({1, 2}), frozenset({"attend", "tokenize"}))


def run_guarded(scenario, **limits: Any) -> FakeGradio:
    """Run ``await scenario(call, fake)`` against the guard in front of a FakeGradio; ``call(source, ...)``
    sends one request from that client address."""
    fake = FakeGradio()
    middleware = guard.Guard(fake.app, policy=guard.Policy(EVENTS, guard.Limits(**{**FAST, **limits})))

    async def main() -> None:
        clients: dict[str, httpx.AsyncClient] = {}

        async def call(source: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
            if source not in clients:
                transport = httpx.ASGITransport(app=middleware, client=(source, 4321))
                clients[source] = httpx.AsyncClient(transport=transport, base_url="http://guarded")
            return await clients[source].request(method, path, **kwargs)

        try:
            await asyncio.wait_for(scenario(call, fake), 20)
        finally:
            for client in clients.values():
                await client.aclose()

    asyncio.run(main())
    return fake


def attend_body(**extra: Any) -> dict[str, Any]:
    return {"json": {"data": ["text", 768, 1, ""], **extra}}


def test_the_third_unread_heavy_call_is_refused_and_other_clients_are_not():
    async def scenario(call, fake):
        for _ in range(2):
            assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        refused = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith(
            "Too many requests from you: 2 of your large runs are still pending."
        )
        assert int(refused.headers["retry-after"]) >= 1
        assert (await call("2.2.2.2", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/tokenize", **attend_body())).status_code == 200
        assert (await call("1.1.1.1", "GET", "/")).status_code == 200

    fake = run_guarded(scenario)
    assert fake.paths.count("/gradio_api/call/attend") == 3, "the refused call never reached Gradio"


def test_reading_answers_frees_the_share():
    async def scenario(call, fake):
        for _ in range(5):
            posted = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
            assert posted.status_code == 200
            answer = await call("1.1.1.1", "GET", f"/gradio_api/call/attend/{posted.json()['event_id']}")
            assert answer.text.startswith("event: complete")

    run_guarded(scenario)


def test_reading_the_queue_stream_frees_the_share():
    async def scenario(call, fake):
        session = "browser-tab"
        for _ in range(5):
            joined = await call(
                "1.1.1.1", "POST", "/gradio_api/queue/join", json={"data": [], "fn_index": 1, "session_hash": session}
            )
            assert joined.status_code == 200
            stream = await call("1.1.1.1", "GET", "/gradio_api/queue/data", params={"session_hash": session})
            assert "process_completed" in stream.text

    run_guarded(scenario)


def test_a_stream_that_gradio_ends_settles_its_session():
    async def scenario(call, fake):
        join = {"data": [], "fn_index": 1, "session_hash": "closed-tab", "cancelled": True}
        for _ in range(2):
            assert (await call("1.1.1.1", "POST", "/gradio_api/queue/join", json=join)).status_code == 200
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 429
        await call("1.1.1.1", "GET", "/gradio_api/queue/data", params={"session_hash": "closed-tab"})
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200

    run_guarded(scenario, answer_ttl=60)


def test_queue_joins_are_classified_by_fn_index():
    async def scenario(call, fake):
        join = {"data": [], "session_hash": "tab"}
        for _ in range(2):
            assert (
                await call("1.1.1.1", "POST", "/gradio_api/queue/join", json={**join, "fn_index": 1})
            ).status_code == 200
        assert (
            await call("1.1.1.1", "POST", "/gradio_api/queue/join", json={**join, "fn_index": 1})
        ).status_code == 429
        assert (
            await call("1.1.1.1", "POST", "/gradio_api/queue/join", json={**join, "fn_index": 2})
        ).status_code == 200

    run_guarded(scenario)


def test_a_call_over_its_share_waits_for_a_slot():
    async def scenario(call, fake):
        first = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        waiting = asyncio.ensure_future(call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body()))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await call("1.1.1.1", "GET", f"/gradio_api/call/attend/{first.json()['event_id']}")
        assert (await waiting).status_code == 200

    run_guarded(scenario, admission_wait=5.0, answer_ttl=60)


def test_beyond_the_waiting_room_calls_are_refused_at_once():
    async def timed(call) -> tuple[int, float]:
        started = time.perf_counter()
        response = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        return response.status_code, time.perf_counter() - started

    async def scenario(call, fake):
        for _ in range(2):
            await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        outcomes = sorted(await asyncio.gather(*(timed(call) for _ in range(3))), key=lambda outcome: outcome[1])
        assert [status for status, _ in outcomes] == [429, 429, 429]
        assert outcomes[0][1] < 1.0 <= outcomes[1][1], "two waited for a slot, the third was refused at once"

    run_guarded(scenario, admission_wait=1.0, waiting_per_client=2, answer_ttl=60)


def test_all_clients_together_get_503():
    async def scenario(call, fake):
        for source in ("1.1.1.1", "1.1.1.1", "2.2.2.2"):
            assert (await call(source, "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        refused = await call("3.3.3.3", "POST", "/gradio_api/call/attend", **attend_body())
        assert refused.status_code == 503 and "retry-after" in refused.headers
        assert refused.json()["detail"].startswith("The server is busy: 3 large runs are pending.")

    run_guarded(scenario, answer_ttl=60)


def test_unread_answers_expire_and_are_read_through_the_queue_route():
    async def scenario(call, fake):
        first = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        await call("1.1.1.1", "POST", "/gradio_api/queue/join", json={"data": [], "fn_index": 2, "session_hash": "tab"})
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 429
        await asyncio.sleep(1.0)
        assert not any(fake.pending.values()), "the guard read every unread answer"
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        late = await call("1.1.1.1", "GET", f"/gradio_api/call/attend/{first.json()['event_id']}")
        assert late.status_code == 410 and "not read within 0.3 s" in late.json()["detail"]

    fake = run_guarded(scenario)
    assert fake.paths.count("/gradio_api/queue/data") == 3


def test_a_session_being_read_by_its_client_is_not_drained():
    fake = FakeGradio()
    guarded = guard.Guard(fake.app, policy=guard.Policy(EVENTS, guard.Limits(**FAST)))

    async def main() -> None:
        transport = httpx.ASGITransport(app=guarded, client=("1.1.1.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as http:
            await http.post("/gradio_api/call/attend", **attend_body())
            (session,) = fake.pending
            guarded.readers[session] += 1  # as while a stream of the client's reads it (the fake cannot hold one open)
            await asyncio.sleep(0.6)
            assert fake.pending[session], "the answer is still there for its reader"
            guarded.readers[session] -= 1
            await asyncio.sleep(0.6)
            assert not fake.pending[session]

    asyncio.run(asyncio.wait_for(main(), 10))


def test_forwarded_for_is_believed_only_with_hops():
    async def scenario(call, fake):
        for number in range(2):
            headers = {"x-forwarded-for": f"10.0.0.{number}"}
            assert (
                await call("9.9.9.9", "POST", "/gradio_api/call/attend", headers=headers, **attend_body())
            ).status_code == 200
        third = await call(
            "9.9.9.9", "POST", "/gradio_api/call/attend", headers={"x-forwarded-for": "10.0.0.3"}, **attend_body()
        )
        return third.status_code

    statuses = []

    async def spoof(call, fake):
        statuses.append(await scenario(call, fake))

    run_guarded(spoof, proxy_hops=0, answer_ttl=60)
    run_guarded(spoof, proxy_hops=1, answer_ttl=60)
    assert statuses == [429, 200]


def test_refused_uploads_never_reach_gradio():
    async def scenario(call, fake):
        refused = await call("1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("x.exe", b"MZ"))])
        assert refused.status_code == 415 and "Only .csv" in refused.json()["detail"]
        two = await call(
            "1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("a.csv", b"1")), ("files", ("b.csv", b"2"))]
        )
        assert two.status_code == 400
        big = await call("1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("a.csv", b"1" * 2000))])
        assert big.status_code == 413 and "1000 bytes" in big.json()["detail"]
        huge = await call("1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("a.csv", b"1" * 100_000))])
        assert huge.status_code == 413
        accepted = await call("1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("a.csv", b"1,2\n"))])
        assert accepted.status_code == 200

    fake = run_guarded(scenario)
    assert len(fake.uploads) == 1 and b"1,2\n" in fake.uploads[0]


def test_a_refusal_logs_one_line_without_a_traceback(caplog):
    async def scenario(call, fake):
        await call("1.1.1.1", "POST", "/gradio_api/upload", files=[("files", ("x.exe", b"MZ"))])

    with caplog.at_level(logging.INFO, logger="web.guard"):
        run_guarded(scenario)
    (record,) = [r for r in caplog.records if r.name == "web.guard"]
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert "refused POST /gradio_api/upload from 1.1.1.1 with 415" in record.getMessage()


# --- slow: the real app ---------------------------------------------------------------------------


def bound(source: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source, limits=httpx.Limits(max_connections=64))
    return httpx.Client(transport=transport, timeout=httpx.Timeout(120, connect=10), trust_env=False)


def call_and_read(http: httpx.Client, url: str, api: str, data: list[Any]) -> httpx.Response | str:
    """POST a call; when accepted, read its answer and return the event's first line."""
    posted = http.post(f"{url}gradio_api/call/{api}", json={"data": data})
    if posted.status_code != 200:
        return posted
    with http.stream("GET", f"{url}gradio_api/call/{api}/{posted.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: ") and line != "event: heartbeat":
                return line


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
                assert call_and_read(polite, server_url, api, data) == "event: complete"
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
    assert flood_results.count("event: complete") >= 2


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


# --- slow: a tiny Gradio demo with short limits ---------------------------------------------------


def big_answer(size: int) -> list[float]:
    """A large answer: ``size`` floats."""
    return [0.5] * int(size)


def small_answer(text: str) -> str:
    return text.upper()


def slow_answer(seconds: float) -> list[float]:
    """A large answer that takes ``seconds`` to compute."""
    time.sleep(float(seconds))
    return [0.5] * 100_000


@pytest.fixture(scope="module")
def tiny_url():
    """A small Gradio demo behind the guard, with a 3 s answer lifetime; yields its URL."""
    import socket

    import gradio as gr

    with gr.Blocks(analytics_enabled=False) as demo:
        gr.api(big_answer, api_name="big")
        gr.api(small_answer, api_name="small")
        gr.api(slow_answer, api_name="slow")
    demo.queue(default_concurrency_limit=2, api_open=False)
    limits = guard.middleware(
        demo,
        heavy=[big_answer, slow_answer],
        heavy_per_client=2,
        answer_ttl=3.0,
        sweep_every=0.2,
        admission_wait=0.5,
        drain_wait=5.0,
        proxy_hops=0,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
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


def fn_index(url: str, api_name: str) -> int:
    """An endpoint's fn_index, as the page finds it: from the public /config."""
    config = httpx.get(f"{url}config", timeout=30, trust_env=False).json()
    return next(dep["id"] for dep in config["dependencies"] if dep["api_name"] == api_name)


@pytest.mark.slow
def test_unread_answers_expire_on_a_real_gradio(tiny_url):
    with bound("127.0.0.5") as http:
        first = http.post(f"{tiny_url}gradio_api/call/big", json={"data": [200_000]})
        second = http.post(
            f"{tiny_url}gradio_api/queue/join",
            json={"data": [200_000], "fn_index": fn_index(tiny_url, "big"), "session_hash": "tab-of-a-browser"},
        )
        assert first.status_code == second.status_code == 200
        third = http.post(f"{tiny_url}gradio_api/call/big", json={"data": [10]})
        assert third.status_code == 429
        time.sleep(5.0)  # 3 s to expire, then the guard reads them
        again = http.post(f"{tiny_url}gradio_api/call/big", json={"data": [10]})
        assert again.status_code == 200
        late = http.get(f"{tiny_url}gradio_api/call/big/{first.json()['event_id']}", timeout=10)
        assert late.status_code == 410 and late.json()["detail"].startswith("This answer expired")
        assert call_and_read(http, tiny_url, "big", [10]) == "event: complete"


@pytest.mark.slow
def test_gradio_client_reads_free_the_share_at_once(tiny_url, monkeypatch):
    """gradio_client reads answers on the /queue/data stream of its one session: each read frees a slot, so
    six calls in a row are all served (the share is two)."""
    from gradio_client import Client

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    client = Client(tiny_url, verbose=False, analytics_enabled=False)
    try:
        for size in range(6):  # over the share of 2 without a read in between would be a 429
            assert client.predict(size, api_name="/big") == [0.5] * size
    finally:
        client.close()


@pytest.mark.slow
def test_a_reader_that_leaves_early_frees_the_share_at_once(tiny_url):
    """A page closed while its runs are still going: Gradio cancels the session's events when its stream
    drops, and the guard gives the client's slots back then, not when the answers would have expired."""
    session = uuid.uuid4().hex
    index = fn_index(tiny_url, "slow")
    with bound("127.0.0.6") as http:
        for _ in range(2):
            joined = http.post(
                f"{tiny_url}gradio_api/queue/join", json={"data": [2.0], "fn_index": index, "session_hash": session}
            )
            assert joined.status_code == 200
        assert http.post(f"{tiny_url}gradio_api/call/big", json={"data": [1]}).status_code == 429
        with http.stream("GET", f"{tiny_url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            next(stream.iter_lines())  # the stream is open; then the page goes away
        time.sleep(0.5)
        # Long before the 3 s expiry: still two slots held would mean a 429 after 0.5 s.
        assert call_and_read(http, tiny_url, "big", [1]) == "event: complete"
