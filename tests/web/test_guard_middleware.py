"""web/guard/middleware.py, in process: the guard in front of a small Starlette app that answers like Gradio's queue
routes. Calls are answered at once unless told to hold (``"hold": True``: still computing)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from web import guard
from web.guard import identity


class FakeAnswers:
    """The guard's view of Gradio's queue: answers announced when produced, and dropped when told."""

    def __init__(self) -> None:
        self.on_answered: Callable[[str], None] | None = None
        self.dropped: list[str] = []
        self.fake: FakeGradio | None = None

    def listen(self, on_answered: Callable[[str], None]) -> None:
        self.on_answered = on_answered

    def install(self) -> None:
        pass

    def drop(self, event_id: str, detail: str) -> bool:
        self.dropped.append(event_id)
        for messages in self.fake.pending.values():
            for message in messages:
                if message["event_id"] == event_id:
                    message.update(success=False, output={"error": detail})
        return True


class FakeGradio:
    """Answers like Gradio's queue routes: every call is answered at once and its answer waits to be read."""

    def __init__(self, answers: FakeAnswers) -> None:
        self.answers = answers
        answers.fake = self
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)  # session -> unread messages
        self.sessions: dict[str, str] = {}  # event id -> session
        self.uploads: list[bytes] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.app = Starlette(
            routes=[
                Route("/gradio_api/call/{api}", self.submit, methods=["POST"]),
                Route("/gradio_api/queue/join", self.submit, methods=["POST"]),
                Route("/gradio_api/call/{api}/{event_id}", self.read_call, methods=["GET"]),
                Route("/gradio_api/queue/data", self.read_queue, methods=["GET"]),
                Route("/gradio_api/upload", self.upload, methods=["POST"]),
                Route("/gradio_api/mcp/", self.echo, methods=["POST"]),
                Route("/gradio_api/component_server", self.echo, methods=["POST"]),
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
            message = {"msg": "process_completed", "event_id": event_id, "output": {"data": [1]}, "success": True}
            self.pending[session].append(message)
            if not body.get("hold"):
                self.answers.on_answered(event_id)  # produced before the POST returns, as quick calls are
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
                kind = "complete" if message["success"] else "error"
                data = message["output"].get("data") if message["success"] else message["output"]
                yield f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()
            else:
                yield b"event: error\ndata: null\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def upload(self, request: Request) -> JSONResponse:
        self.uploads.append(await request.body())
        return JSONResponse(["/tmp/stored"])

    async def echo(self, request: Request) -> JSONResponse:
        self.paths.append(request.url.path)
        self.headers.append({key: value for key, value in request.headers.items()})
        return JSONResponse({"bytes": len(await request.body())})


FAST = dict(
    heavy_per_client=2,
    light_per_client=2,
    heavy_total=3,
    admission_wait=0.0,
    waiting_per_client=4,
    answer_ttl=0.3,
    sweep_every=0.05,
    proxy_hops=0,
    max_body_bytes=10_000,
    max_upload_bytes=1000,
)
EVENTS = guard.Events(frozenset({2}), frozenset({"tokenize"}))


def run_guarded(scenario, *, relay: identity.Relay | None = None, **limits: Any) -> FakeGradio:
    """Run ``await scenario(call, fake)`` against the guard in front of a FakeGradio; ``call(source, ...)``
    sends one request from that client address."""
    answers = FakeAnswers()
    fake = FakeGradio(answers)
    policy = guard.Policy(EVENTS, guard.Limits(**{**FAST, **limits}), answers, relay or identity.Relay())
    middleware = guard.Guard(fake.app, policy=policy)

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


def test_all_clients_together_get_503_while_runs_compute():
    async def scenario(call, fake):
        for source in ("1.1.1.1", "1.1.1.1", "2.2.2.2"):
            posted = await call(source, "POST", "/gradio_api/call/attend", **attend_body(hold=True))
            assert posted.status_code == 200
        refused = await call("3.3.3.3", "POST", "/gradio_api/call/attend", **attend_body())
        assert refused.status_code == 503 and "retry-after" in refused.headers
        assert refused.json()["detail"].startswith("The server is busy: 3 large runs are in progress.")

    run_guarded(scenario, answer_ttl=60)


def test_clients_holding_unread_answers_do_not_refuse_a_newcomer():
    """On main, two clients at their share with unread answers held every global slot: the newcomer got 503."""

    async def scenario(call, fake):
        for source in ("1.1.1.1", "2.2.2.2"):
            for _ in range(2):
                assert (await call(source, "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        await asyncio.sleep(0.05)  # the answers are produced
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 429
        newcomer = await call("3.3.3.3", "POST", "/gradio_api/call/attend", **attend_body())
        assert newcomer.status_code == 200
        answer = await call("3.3.3.3", "GET", f"/gradio_api/call/attend/{newcomer.json()['event_id']}")
        assert answer.text.startswith("event: complete")

    run_guarded(scenario, heavy_total=3, answer_ttl=60)


def test_unread_answers_are_dropped_a_ttl_after_they_were_produced():
    async def scenario(call, fake):
        first = await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())
        await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body(hold=True))
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 429
        await asyncio.sleep(0.6)
        assert fake.answers.dropped == [first.json()["event_id"]], "the one still computing is not dropped"
        assert (await call("1.1.1.1", "POST", "/gradio_api/call/attend", **attend_body())).status_code == 200
        late = await call("1.1.1.1", "GET", f"/gradio_api/call/attend/{first.json()['event_id']}")
        assert late.text.startswith("event: error") and "not read within 0.3 s" in late.text

    run_guarded(scenario)


def test_a_declared_oversize_body_is_refused_before_it_is_read():
    async def scenario(call, fake):
        for path in ("/gradio_api/call/tokenize", "/gradio_api/queue/join", "/gradio_api/component_server", "/"):
            refused = await call(
                "1.1.1.1", "POST", path, content=b"x" * 10_001, headers={"content-type": "application/json"}
            )
            assert refused.status_code == 413, path
            assert refused.json()["detail"] == "The request body is larger than the limit of 10000 bytes (0.01 MB)."
        fine = await call("1.1.1.1", "POST", "/gradio_api/component_server", content=b"x" * 10_000)
        assert fine.status_code == 200 and fine.json() == {"bytes": 10_000}

    fake = run_guarded(scenario)
    assert fake.paths == ["/gradio_api/component_server"]


def test_a_streamed_oversize_body_is_refused_while_it_streams():
    sent = []

    async def scenario(call, fake):
        async def chunks():
            for _ in range(1000):  # 1 MB in 1 kB chunks, no Content-Length
                sent.append(1)
                yield b"x" * 1000

        for path in ("/gradio_api/call/attend", "/gradio_api/component_server"):
            sent.clear()
            refused = await call("1.1.1.1", "POST", path, content=chunks())
            assert refused.status_code == 413, path
            assert len(sent) < 20, "the guard stopped reading at the limit"

    fake = run_guarded(scenario)
    assert fake.paths == []


def test_multipart_goes_only_to_the_upload_route():
    async def scenario(call, fake):
        files = [("files", ("a.csv", b"1,2\n"))]
        for path in ("/gradio_api/component_server", "/gradio_api/call/tokenize", "/"):
            refused = await call("1.1.1.1", "POST", path, files=files)
            assert refused.status_code == 415 and "upload route" in refused.json()["detail"], path
        assert (await call("1.1.1.1", "POST", "/gradio_api/upload", files=files)).status_code == 200

    fake = run_guarded(scenario)
    assert len(fake.uploads) == 1 and "/gradio_api/component_server" not in fake.paths


def test_mcp_calls_count_against_the_mcp_client_and_are_refused_with_a_plain_503():
    relay = identity.Relay()

    async def scenario(call, fake):
        await call("203.0.113.7", "POST", "/gradio_api/mcp/", json={"method": "tools/call"})
        (headers,) = fake.headers
        signed = {"x-attention-client": headers["x-attention-client"]}
        for _ in range(2):  # Gradio's loopback calls for that client's tools
            posted = await call("127.0.0.1", "POST", "/gradio_api/call/attend", headers=signed, **attend_body())
            assert posted.status_code == 200
        refused = await call("127.0.0.1", "POST", "/gradio_api/call/attend", headers=signed, **attend_body())
        assert refused.status_code == 503 and refused.json()["detail"].startswith("Too many requests from you")
        other = await call("127.0.0.1", "POST", "/gradio_api/call/attend", **attend_body())
        assert other.status_code == 200, "loopback itself is another client"

    run_guarded(scenario, relay=relay, answer_ttl=60)


def test_deep_links_which_write_a_file_per_call_are_closed():
    async def scenario(call, fake):
        for path in ("/gradio_api/deep_link", "/gradio_api/deep_link/"):
            assert (await call("1.1.1.1", "GET", path, params={"session_hash": "x"})).status_code == 404

    run_guarded(scenario)
