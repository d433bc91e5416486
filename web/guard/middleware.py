"""The ASGI middleware that joins the guard's parts, in front of Gradio's routes.

Every request: a body over its limit is refused (413) before it is read, and multipart bodies only go to the
upload route. Calls (``/call/<api>``, ``/queue/join``) are admitted against their client's share and, for large
runs, against the number of large runs computing in all. Streams that deliver answers (``/queue/data``,
``/call/<api>/<event_id>``) give a call's slot back once its answer is sent; an answer unread ``answer_ttl``
seconds after it was produced is dropped, whether or not a stream is open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from web.guard.body import (
    ASGIApp,
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    declared_length,
    is_multipart,
    parse_json,
    read_body,
    replay,
    streams_body,
    too_large,
)
from web.guard.gradio_wire import Events, SseHeads, completion, route_of
from web.guard.identity import Relay, client_address
from web.guard.ledger import Ledger, Limits, Refusal, Ticket
from web.guard.uploads import UPLOAD_OVERHEAD_BYTES, upload_refusal
from web.guard.uploads import too_large as file_too_large

log = logging.getLogger("web.guard")

SEND_PIECE_BYTES = 64 * 1024  # a large event goes out in pieces, so a stalled reader holds at most about this much


class AnswerStore(Protocol):
    """Where Gradio keeps answers until they are read (:class:`web.guard.gradio_wire.Answers`)."""

    def listen(self, on_answered: Callable[[str], None]) -> None: ...
    def install(self) -> None: ...
    def drop(self, event_id: str, detail: str) -> bool: ...


@dataclass(frozen=True)
class Policy:
    events: Events
    limits: Limits
    answers: AnswerStore | None = None
    relay: Relay = field(default_factory=Relay)


class Guard:
    """ASGI middleware; see the module's docstring. All its state lives on the server's event loop."""

    def __init__(self, app: ASGIApp, *, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.events = policy.events
        self.limits = policy.limits
        self.answers = policy.answers
        self.relay = policy.relay
        self.ledger = Ledger(policy.limits)
        self.clock = clock
        self._waiting: Counter[str] = Counter()
        self._changed: asyncio.Event | None = None
        self._sweeper: asyncio.Task[None] | None = None
        if self.answers is not None:
            self.answers.listen(self.answered)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_of(scope.get("method", ""), scope.get("path", ""))
        kind, parts = route if route is not None else (None, {})
        if kind == "upload":
            limit, detail = (
                self.limits.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
                file_too_large(self.limits.max_upload_bytes),
            )
        else:
            limit, detail = self.limits.max_body_bytes, too_large(self.limits.max_body_bytes)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, Refusal(413, detail), scope)
            return
        if kind != "upload" and is_multipart(scope):
            await self._refuse(
                send, Refusal(415, "Files are accepted only by the upload route, one per request."), scope
            )
            return
        if kind == "closed":
            await self._refuse(send, Refusal(404, "Not found."), scope)
            return
        if kind == "mcp":  # Gradio's loopback call for this tool then counts against this client
            self.relay.stamp(scope, client_address(scope, self.limits.proxy_hops))
        try:
            if kind == "submit":
                await self._submit(scope, receive, send, parts)
            elif kind == "read":
                await self._read(scope, receive, send, parts)
            elif kind == "upload":
                await self._upload(scope, receive, send, limit)
            elif streams_body(scope):
                body = await read_body(receive, limit=limit)
                if body is not None:
                    await self.app(scope, replay(body, receive), send)
            else:
                await self.app(scope, receive, send)
        except BodyTooLarge:
            await self._refuse(send, Refusal(413, detail), scope)

    # -- submitting a call ----------------------------------------------------------------------

    async def _submit(self, scope: Scope, receive: Receive, send: Send, parts: dict[str, str]) -> None:
        body = await read_body(receive, limit=self.limits.max_body_bytes)
        if body is None:
            return  # the client left before sending its call
        request = await parse_json(body)
        session = request.get("session_hash")
        session = session if isinstance(session, str) and 0 < len(session) <= 256 else None
        if "api" in parts:
            heavy = self.events.is_heavy_api(parts["api"])
        else:
            heavy = self.events.is_heavy_index(request.get("fn_index"))
        client = self.relay.client_of(scope, self.limits.proxy_hops)
        if self.answers is not None:
            self.answers.install()
        outcome = await self._admit(client, heavy)
        if isinstance(outcome, Refusal):
            if client != client_address(scope, self.limits.proxy_hops):
                # Gradio's MCP loopback call: gradio_client turns a 503 into "Queue is full! Please try again."
                # and any other status into an error that shows the internal URL.
                outcome = Refusal(503, outcome.detail, outcome.retry_after)
            await self._refuse(send, outcome, scope, client)
            return
        await self._forward_call(scope, replay(body, receive), send, outcome, session)

    async def _forward_call(
        self, scope: Scope, receive: Receive, send: Send, ticket: Ticket, session: str | None
    ) -> None:
        status = 0
        answer: list[bytes] = []
        settled = False

        async def watch(message: Message) -> None:
            nonlocal status, settled
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200 and not settled:
                answer.append(message.get("body", b""))
                if not message.get("more_body", False):
                    event_id = (await parse_json(b"".join(answer))).get("event_id")
                    if isinstance(event_id, str):
                        settled = True  # before the client can hear of the event id
                        self.ledger.confirm(ticket, event_id, session or event_id, now=self.clock())
                        self._start_sweeper()
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not settled:
                self.ledger.cancel(ticket)
                self._notify()

    async def _admit(self, client: str, heavy: bool) -> Ticket | Refusal:
        """A slot for this call, waiting up to ``admission_wait`` seconds for one to free."""
        deadline = self.clock() + self.limits.admission_wait
        while True:
            outcome = self.ledger.reserve(client, heavy=heavy, now=self.clock())
            remaining = deadline - self.clock()
            if isinstance(outcome, Ticket) or remaining <= 0 or self._waiting[client] >= self.limits.waiting_per_client:
                return outcome
            changed = self._change_signal()
            self._waiting[client] += 1
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._waiting[client] -= 1
                if self._waiting[client] <= 0:
                    del self._waiting[client]

    def _change_signal(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        """Wake the calls waiting for a slot: one may have freed."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def answered(self, event_id: str) -> None:
        """Gradio produced a call's answer (called on the event loop): its large run no longer counts for all."""
        self.ledger.answered(event_id, now=self.clock())
        self._notify()

    # -- reading answers ------------------------------------------------------------------------

    async def _read(self, scope: Scope, receive: Receive, send: Send, parts: dict[str, str]) -> None:
        event_id = parts.get("event_id")
        if event_id is None:
            values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [])
            session = values[0] if values else None
        else:
            session = self.ledger.session_of(event_id) or event_id
        if session is None:
            await self.app(scope, receive, send)
            return
        heads = SseHeads()
        last_sent = self.clock()
        send_failed = False
        abandoned = False

        def settle(done: list[str | None]) -> None:
            for done_id in done:
                if done_id is None:
                    self.ledger.read_in_session(session, preferred=event_id)
                else:
                    self.ledger.read(done_id)
            if done:
                self._notify()

        async def watch(message: Message) -> None:
            nonlocal last_sent, send_failed, abandoned
            if abandoned:
                return  # the reader stopped reading: what Gradio still sends is dropped here
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            fresh = [done_id for done, done_id in map(completion, heads.feed(body)) if done]
            more = message.get("more_body", False)
            pieces = [body[start : start + SEND_PIECE_BYTES] for start in range(0, len(body), SEND_PIECE_BYTES)] or [
                b""
            ]
            for number, piece in enumerate(pieces):
                last = number == len(pieces) - 1
                try:
                    # The server holds a send while the client has not taken what came before: a reader that
                    # stops for answer_ttl seconds has its answers dropped, like one that never came.
                    piece_message = {"type": "http.response.body", "body": piece, "more_body": more or not last}
                    await asyncio.wait_for(send(piece_message), self.limits.answer_ttl)
                except TimeoutError:
                    abandoned = True
                    self._expire_unsent(session, fresh, event_id)
                    return
                except BaseException as error:
                    # A cancelled send is Starlette ending the response on a disconnect, after which Gradio drops
                    # the session; another error leaves the session to Gradio as it is.
                    send_failed = not isinstance(error, asyncio.CancelledError)
                    settle(fresh)  # taken off Gradio's queue all the same
                    raise
            last_sent = self.clock()
            settle(fresh)  # all but the last piece has left, and the server took that one

        ended_cleanly = False
        try:
            await self.app(scope, receive, watch)
            ended_cleanly = not send_failed and not abandoned
        finally:
            # Gradio ended this stream itself: the session has nothing pending (a natural close), or the client
            # left, and Gradio then drops the session's messages and cancels its events. Either way, calls
            # accepted before the last message are settled.
            if ended_cleanly and self.ledger.release_session(session, accepted_before=last_sent):
                self._notify()

    def _expire_unsent(self, session: str, done: list[str | None], event_id: str | None) -> None:
        for done_id in done:
            target = (
                done_id
                if done_id is not None
                else (event_id or next(iter(self.ledger.sessions.get(session, ())), None))
            )
            if target is not None and (entry := self.ledger.expire(target)) is not None:
                log.info(
                    "dropped an answer of client %s: its stream took nothing for %g s",
                    entry.client,
                    self.limits.answer_ttl,
                )
        self._notify()

    # -- answers nobody reads -------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        ttl = f"{self.limits.answer_ttl:g}"
        detail = f"This answer expired: answers not read within {ttl} s of being ready are dropped. Call again."
        try:
            while self.ledger.entries:
                await asyncio.sleep(self.limits.sweep_every)
                dropped: Counter[str] = Counter()
                for entry in self.ledger.due(self.clock()):
                    if entry.answered is not None and self.answers is not None:
                        self.answers.drop(entry.event_id, detail)
                    self.ledger.expire(entry.event_id)
                    dropped[entry.client] += 1
                if dropped:
                    self._notify()
                    for client, count in dropped.items():
                        log.info(
                            "dropped %d answer(s) of client %s, unread %s s after they were ready", count, client, ttl
                        )
        finally:
            self._sweeper = None

    # -- uploads --------------------------------------------------------------------------------

    async def _upload(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        body = await read_body(receive, limit=limit)
        if body is None:
            return
        refusal = upload_refusal(
            body,
            dict(scope.get("headers", [])).get(b"content-type", b"").decode("latin-1"),
            types=self.limits.upload_types,
            max_bytes=self.limits.max_upload_bytes,
        )
        if refusal is not None:
            await self._refuse(send, refusal, scope)
            return
        await self.app(scope, replay(body, receive), send)

    async def _refuse(self, send: Send, refusal: Refusal, scope: Scope, client: str | None = None) -> None:
        """An expected refusal: a JSON ``detail``, and one log line without a traceback."""
        client = client or client_address(scope, self.limits.proxy_hops)
        log.info(
            "refused %s %s from %s with %d: %s",
            scope.get("method"),
            scope.get("path"),
            client,
            refusal.status,
            refusal.detail,
        )
        body = json.dumps({"detail": refusal.detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if refusal.retry_after is not None:
            headers.append((b"retry-after", str(refusal.retry_after).encode()))
        if refusal.status == 413:
            headers.append((b"connection", b"close"))  # the rest of the body is never read
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def middleware(blocks: Any, *, light: Any, **limits: Any) -> Any:
    """The Starlette ``Middleware`` entry for ``app_kwargs={"middleware": [...]}``; ``limits`` are Limits fields.

    ``light`` lists the functions (or their names) whose events are cheap; every other event of ``blocks``, and
    any event it does not know, counts as a large run.
    """
    from starlette.middleware import Middleware

    from web.guard.gradio_wire import Answers, light_events

    policy = Policy(light_events(blocks, light), Limits(**limits), Answers(blocks))
    return Middleware(Guard, policy=policy)
