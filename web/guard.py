"""Admission control in front of Gradio: a memory ceiling, fair shares per client, and an upload quota.

Gradio keeps the answer of every queued call until its caller reads it, with ``GET
/gradio_api/call/<api>/<event_id>`` or the ``/gradio_api/queue/data`` stream, and it keeps up to 2,000
unread ones. One 256 x 768 ``/attend`` answer holds about 17 MB of Python floats, so a client that never
reads its answers can fill the memory of a Space. This ASGI middleware sits between the HTTP server and
Gradio's routes, and:

1. counts each client's *outstanding* calls (accepted and not yet read), heavy and light apart, and the
   heavy ones of all clients together. A call over a share waits up to ``Limits.admission_wait`` seconds
   for a slot; then it gets 429 (its client's share) or 503 (the server's), with ``Retry-After`` and a
   JSON ``detail``. With small shares, one client can never fill Gradio's queue;
2. reads the answers nobody read within ``Limits.answer_ttl`` seconds itself, in process, through
   Gradio's own ``/gradio_api/queue/data`` route, so Gradio lets them go (a later read gets 410). A call
   counts as read once its answer went out on a stream, or once Gradio ended the stream of its session;
3. lets through only uploads of exactly one file, with an allowed extension, within the size limit; a
   refused upload never reaches Gradio, which writes every file part to disk as it parses.

A client is its address: the direct peer or, behind ``proxy_hops`` trusted proxies, the entry that many
places from the right of ``X-Forwarded-For``. Use it with
``demo.launch(app_kwargs={"middleware": [guard.middleware(demo, heavy=[...])]})``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import os
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The routes of Gradio's that the guard watches, under any root path.
_SUBMIT_CALL = re.compile(r"^(?P<root>.*?/gradio_api)/call/(?:v2/)?(?P<api>[^/]+)/?$")
_READ_CALL = re.compile(r"^(?P<root>.*?/gradio_api)/call/(?:v2/)?[^/]+/(?P<event_id>[^/]+)/?$")
_JOIN = re.compile(r"^(?P<root>.*?/gradio_api)/queue/join/?$")
_DATA = re.compile(r"^(?P<root>.*?/gradio_api)/queue/data/?$")
_UPLOAD = re.compile(r"^(?P<root>.*?/gradio_api)/upload/?$")

HEAD_BYTES = 256  # of each server-sent event, enough to see its kind and event id
UPLOAD_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and part headers around the one file
DRAIN_GRACE_SECONDS = 1.0  # after the last expired answer, for Gradio to end the stream on its own
_SCOPE_KEYS = ("type", "http_version", "scheme", "server", "client", "root_path", "app", "state", "extensions")


def proxy_hops_from_env(environ: MutableMapping[str, str] | None = None) -> int:
    """Trusted proxies in front of the app: ``ATTENTION_PROXY_HOPS``, else 1 on a Space (``SPACE_ID``), else 0.

    >>> [proxy_hops_from_env(env) for env in ({}, {"SPACE_ID": "me/app"}, {"ATTENTION_PROXY_HOPS": "2"})]
    [0, 1, 2]
    """
    environ = os.environ if environ is None else environ
    configured = environ.get("ATTENTION_PROXY_HOPS", "").strip()
    if configured:
        hops = int(configured)
        if hops < 0:
            raise ValueError(f"ATTENTION_PROXY_HOPS is {hops}; set it to the number of trusted proxies (0 or more).")
        return hops
    return 1 if environ.get("SPACE_ID") else 0


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How much each client, and all clients together, may have outstanding; times are in seconds."""

    heavy_per_client: int = 8
    light_per_client: int = 8
    heavy_total: int = 16
    answer_ttl: float = 60.0  # an answer unread this long after its call was accepted is read by the guard
    # A call over a share waits this long for a slot before it is refused: under the 5 s that gradio_client
    # gives a POST, so that it gets the 429 rather than a timeout.
    admission_wait: float = 4.0
    waiting_per_client: int = 16  # calls beyond this many waiting ones are refused at once
    drain_wait: float = 30.0  # how long the guard waits for an expired call that is still running
    sweep_every: float = 1.0
    proxy_hops: int = field(default_factory=proxy_hops_from_env)
    upload_types: tuple[str, ...] = (".csv", ".tsv", ".txt", ".json")
    max_upload_bytes: int = 1_000_000


# --- who is asking ------------------------------------------------------------------------------


def client_address(scope: Scope, proxy_hops: int) -> str:
    """The client a request counts against: the peer, or the ``proxy_hops``-th entry from the right of
    X-Forwarded-For (each trusted proxy appends the address it saw). IPv6 clients count per /64.

    >>> scope = {"client": ("10.0.0.9", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4, 5.6.7.8")]}
    >>> client_address(scope, 0), client_address(scope, 1), client_address(scope, 2), client_address(scope, 3)
    ('10.0.0.9', '5.6.7.8', '1.2.3.4', '1.2.3.4')
    """
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if proxy_hops > 0:
        forwarded = [
            entry.strip()
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
            for entry in value.decode("latin-1").split(",")
        ]
        forwarded = [entry for entry in forwarded if entry]
        if forwarded:
            address = forwarded[-proxy_hops] if len(forwarded) >= proxy_hops else forwarded[0]
    return client_key(address)


def client_key(address: str) -> str:
    """One key per client: an IPv4 address, or the /64 network of an IPv6 one (one user holds a whole /64).

    >>> client_key("127.0.0.2"), client_key("::ffff:10.1.2.3"), client_key("2001:db8::1"), client_key("[2001:db8::2]")
    ('127.0.0.2', '10.1.2.3', '2001:db8::/64', '2001:db8::/64')
    """
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# --- which events are heavy ---------------------------------------------------------------------


@dataclass(frozen=True)
class Events:
    """The demo's queued events, by the numbers and names clients use to call them."""

    heavy_indexes: frozenset[int]  # fn_index values of /queue/join bodies
    heavy_api_names: frozenset[str]  # <api> of /call/<api>
    known_indexes: frozenset[int]
    known_api_names: frozenset[str]

    # Unknown or missing names count as heavy: Gradio refuses those calls, and their slot is given back then.
    def is_heavy_index(self, fn_index: Any) -> bool:
        return not isinstance(fn_index, int) or fn_index not in self.known_indexes or fn_index in self.heavy_indexes

    def is_heavy_api(self, api_name: str) -> bool:
        return api_name not in self.known_api_names or api_name in self.heavy_api_names


def heavy_events(blocks: Any, heavy: Iterable[Callable[..., Any]]) -> Events:
    """Find the events (fn_index) and API names whose function is one of ``heavy``.

    Gradio 6.31.0 has no public map from an event's ``fn_index`` to the function it runs: the config it
    serves names each dependency's ``api_name`` (with ``_1``, ``_2`` added when a function is wired
    several times) but not its function. So this reads ``Blocks.fns`` (fn_index -> BlockFunction) and
    each BlockFunction's ``fn`` and ``api_name``, here and nowhere else.
    """
    wanted = set(heavy)
    indexes: set[int] = set()
    api_names: set[str] = set()
    found: set[Callable[..., Any]] = set()
    for fn_index, block_fn in blocks.fns.items():
        if block_fn.fn in wanted:
            indexes.add(fn_index)
            found.add(block_fn.fn)
            if block_fn.api_name:
                api_names.add(block_fn.api_name)
    missing = wanted - found
    if missing:
        names = ", ".join(sorted(getattr(fn, "__name__", repr(fn)) for fn in missing))
        raise ValueError(f"{names} run(s) in no event of this demo: pass the functions that the events call.")
    known_api_names = frozenset(block_fn.api_name for block_fn in blocks.fns.values() if block_fn.api_name)
    return Events(frozenset(indexes), frozenset(api_names), frozenset(blocks.fns), known_api_names)


# --- the books ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """A slot held for a call that Gradio has not answered yet."""

    client: str
    heavy: bool


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    retry_after: int | None = None


@dataclass
class Entry:
    """A call that Gradio accepted and whose answer nobody has read yet."""

    event_id: str
    session: str
    client: str
    heavy: bool
    accepted: float
    api_root: str
    template: dict[str, Any]  # the submitting request's scope, to read the answer with


class Ledger:
    """Outstanding calls per client and in all, their sessions, and their deadlines (no I/O, no clock).

    >>> ledger = Ledger(Limits(heavy_per_client=1, proxy_hops=0))
    >>> ticket = ledger.reserve("1.2.3.4", heavy=True, now=0.0)
    >>> ledger.confirm(ticket, "e1", "e1", now=0.0)
    >>> ledger.reserve("1.2.3.4", heavy=True, now=20.0).detail
    'Too many requests from you: 1 of your large runs is still pending. Read its answer, or retry in 41 s.'
    >>> ledger.note_done("e1"), ledger.outstanding("1.2.3.4", heavy=True)
    (True, 0)
    """

    SEEN_DONE_MAX = 4096

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.entries: dict[str, Entry] = {}
        self.sessions: dict[str, list[str]] = {}  # session -> its event ids, oldest first
        self._counts: Counter[tuple[str, bool]] = Counter()
        self.heavy_total = 0
        # Completions seen on a stream before the POST that started them was answered.
        self._seen_done: OrderedDict[str, None] = OrderedDict()
        self.expired: OrderedDict[str, None] = OrderedDict()  # calls whose answers the guard dropped
        self._hold: dict[bool, float] = {}  # heavy? -> how long a read call held its slot, on average

    def outstanding(self, client: str, *, heavy: bool) -> int:
        return self._counts[(client, heavy)]

    def reserve(self, client: str, *, heavy: bool, now: float) -> Ticket | Refusal:
        limits = self.limits
        mine = self._counts[(client, heavy)]
        if mine >= (limits.heavy_per_client if heavy else limits.light_per_client):
            wait = self._retry_after(now, heavy, lambda entry: entry.client == client and entry.heavy == heavy)
            runs = "large runs" if heavy else "requests"
            if mine == 1:
                pending = f"1 of your {runs} is still pending. Read its answer"
            else:
                pending = f"{mine} of your {runs} are still pending. Read their answers"
            return Refusal(429, f"Too many requests from you: {pending}, or retry in {wait} s.", wait)
        if heavy and self.heavy_total >= limits.heavy_total:
            wait = self._retry_after(now, True, lambda entry: entry.heavy)
            return Refusal(
                503, f"The server is busy: {self.heavy_total} large runs are pending. Retry in {wait} s.", wait
            )
        self._counts[(client, heavy)] += 1
        self.heavy_total += heavy
        return Ticket(client, heavy)

    def cancel(self, ticket: Ticket) -> None:
        """Give back a slot whose call Gradio did not accept."""
        key = (ticket.client, ticket.heavy)
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]
        self.heavy_total -= ticket.heavy

    def confirm(
        self,
        ticket: Ticket,
        event_id: str,
        session: str,
        *,
        now: float,
        api_root: str = "/gradio_api",
        template: dict[str, Any] | None = None,
    ) -> None:
        """Gradio accepted the call: its slot stays held until its answer is read."""
        if event_id in self._seen_done:  # already answered, on a stream that was open before the POST returned
            del self._seen_done[event_id]
            self.cancel(ticket)
            return
        self.entries[event_id] = Entry(event_id, session, ticket.client, ticket.heavy, now, api_root, template or {})
        self.sessions.setdefault(session, []).append(event_id)

    def session_of(self, event_id: str) -> str | None:
        entry = self.entries.get(event_id)
        return entry.session if entry else None

    def release(self, event_id: str, *, read_at: float | None = None) -> Entry | None:
        """Give back a call's slot; ``read_at`` (when its answer was read) feeds the Retry-After estimate."""
        entry = self.entries.pop(event_id, None)
        if entry is None:
            return None
        ids = self.sessions[entry.session]
        ids.remove(event_id)
        if not ids:
            del self.sessions[entry.session]
        self.cancel(Ticket(entry.client, entry.heavy))
        if read_at is not None:
            held = max(0.0, read_at - entry.accepted)
            average = self._hold.get(entry.heavy)
            self._hold[entry.heavy] = held if average is None else average + 0.2 * (held - average)
        return entry

    def note_done(self, event_id: str, *, now: float | None = None) -> bool:
        """A stream delivered this event's answer; True when it was outstanding."""
        if self.release(event_id, read_at=now) is not None:
            return True
        _remember(self._seen_done, event_id, self.SEEN_DONE_MAX)
        return False

    def expire_session(self, session: str) -> list[Entry]:
        """Release a session whose answers the guard dropped, remembering their event ids."""
        released = self.release_session(session)
        for entry in released:
            _remember(self.expired, entry.event_id, self.SEEN_DONE_MAX)
        return released

    def note_done_in_session(self, session: str, preferred: str | None = None, *, now: float | None = None) -> bool:
        """A /call stream delivered one answer of ``session`` (its events carry no id): release one."""
        ids = self.sessions.get(session)
        if not ids:
            return False
        self.release(preferred if preferred in ids else ids[0], read_at=now)
        return True

    def release_session(self, session: str, *, accepted_before: float = math.inf) -> list[Entry]:
        """Release a session's calls (those accepted before a time, if given)."""
        return [
            entry
            for event_id in list(self.sessions.get(session, ()))
            if self.entries[event_id].accepted <= accepted_before and (entry := self.release(event_id))
        ]

    def expired_sessions(self, now: float) -> list[str]:
        """Sessions holding an answer accepted at least ``answer_ttl`` seconds ago."""
        deadline = now - self.limits.answer_ttl
        return [session for session, ids in self.sessions.items() if self.entries[ids[0]].accepted <= deadline]

    def _retry_after(self, now: float, heavy: bool, mine: Callable[[Entry], bool]) -> int:
        """Seconds until the oldest matching call frees its slot: when calls are usually read, if it is younger
        than that; else when it expires, at the latest.

        >>> ledger = Ledger(Limits(proxy_hops=0))
        >>> for event_id, accepted in (("read", 0.0), ("old", 1.0), ("young", 30.0)):
        ...     ledger.confirm(ledger.reserve("a", heavy=True, now=accepted), event_id, event_id, now=accepted)
        >>> ledger.note_done("read", now=5.0)  # read 5 s after its call
        True
        >>> ledger._retry_after(32.0, True, lambda entry: entry.event_id == "young")  # due in about 3 s
        3
        >>> ledger._retry_after(32.0, True, lambda entry: True)  # "old" looks unread: it expires at 62 s
        30
        """
        oldest = min((entry.accepted for entry in self.entries.values() if mine(entry)), default=None)
        if oldest is None:
            return 2  # only calls still being accepted: their slots settle within moments
        usual = self._hold.get(heavy)
        if usual is not None and now - oldest < usual:
            return max(1, math.ceil(oldest + usual - now))
        return max(1, math.ceil(oldest + self.limits.answer_ttl + self.limits.sweep_every - now))


def _remember(recent: OrderedDict[str, None], key: str, most: int) -> None:
    recent[key] = None
    while len(recent) > most:
        recent.popitem(last=False)


# --- reading server-sent events -----------------------------------------------------------------


class SseHeads:
    """Cut a server-sent event stream into events, keeping only the first HEAD_BYTES of each.

    >>> heads = SseHeads()
    >>> heads.feed(b'data: {"msg":"estimation"}\\n\\ndata: {"msg":"process_completed","ev')
    [b'data: {"msg":"estimation"}']
    >>> heads.feed(b'ent_id":"e1"}\\n')
    []
    >>> heads.feed(b"\\n")
    [b'data: {"msg":"process_completed","event_id":"e1"}\\n']
    """

    def __init__(self) -> None:
        self._head = bytearray()
        self._newline = False  # the last byte seen was a newline that may start a boundary

    def feed(self, chunk: bytes) -> list[bytes]:
        heads: list[bytes] = []
        start = 0
        if self._newline and chunk[:1] == b"\n":
            heads.append(self._take())
            start = 1
        while (end := chunk.find(b"\n\n", start)) >= 0:
            self._keep(chunk, start, end)
            heads.append(self._take())
            start = end + 2
        self._keep(chunk, start, len(chunk))
        self._newline = start < len(chunk) and chunk.endswith(b"\n")
        return heads

    def _keep(self, chunk: bytes, start: int, end: int) -> None:
        room = HEAD_BYTES - len(self._head)
        if room > 0:
            self._head += chunk[start : min(end, start + room)]

    def _take(self) -> bytes:
        head = bytes(self._head)
        self._head.clear()
        return head


_QUEUE_DONE = re.compile(rb'^data: \{"msg":\s*"process_completed"\s*,\s*"event_id":\s*"([^"]+)"')


def completion(head: bytes) -> tuple[bool, str | None]:
    """Whether an event's head announces a finished call, and which one when it says.

    /queue/data events start ``data: {"msg":"process_completed","event_id":"…"`` (Gradio's message
    models put ``msg`` and ``event_id`` first); /call/<api>/<event_id> events start ``event: complete``
    or ``event: error`` and name no event.

    >>> completion(b'data: {"msg":"process_completed","event_id":"ab12","output":')
    (True, 'ab12')
    >>> completion(b"event: complete\\ndata: [1]")
    (True, None)
    >>> completion(b'data: {"msg":"heartbeat"}'), completion(b"event: heartbeat\\ndata: null")
    ((False, None), (False, None))
    """
    if head.startswith((b"event: complete", b"event: error")):
        return True, None
    match = _QUEUE_DONE.match(head)
    if match:
        return True, match.group(1).decode("latin-1")
    return False, None


# --- uploads ------------------------------------------------------------------------------------


def upload_refusal(body: bytes, content_type: str, *, types: Iterable[str], max_bytes: int) -> Refusal | None:
    """Why a ``POST /gradio_api/upload`` body is refused, or None when it is one allowed file within the limit.

    It parses with python-multipart, the parser Gradio's upload route uses, so both see the same parts.
    """
    from gradio_client.utils import strip_invalid_filename_characters
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        return Refusal(400, "Upload the file as multipart/form-data, in the form field 'files'.")
    parts: list[dict[str, Any]] = []
    header = {"field": b"", "value": b""}

    def on_part_begin() -> None:
        parts.append({"disposition": b"", "size": 0})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        if header["field"].lower() == b"content-disposition":
            parts[-1]["disposition"] = header["value"]
        header["field"] = header["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["size"] += end - start

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError) as error:
        return Refusal(400, f"The upload could not be read as multipart/form-data ({type(error).__name__}).")
    files = []
    for part in parts:
        _, options = parse_options_header(part["disposition"])
        files.append((options.get(b"name"), options.get(b"filename"), part["size"]))
    if len(files) != 1 or files[0][1] is None:
        count = sum(filename is not None for _, filename, _ in files)
        has = f"{count} file{'s' if count != 1 else ''} in {len(files)} part{'s' if len(files) != 1 else ''}"
        return Refusal(400, f"Upload exactly one file per request, in the form field 'files' (this one has {has}).")
    name, raw_filename, size = files[0]
    if name != b"files":
        return Refusal(400, "Upload the file in the form field 'files'.")
    filename = raw_filename.decode("utf-8", errors="replace")
    allowed = tuple(suffix.lower() for suffix in types)
    # Gradio keeps the base name, cleaned of unsafe characters: both must end in an allowed extension.
    base = PurePosixPath(filename.replace("\\", "/")).name
    kept = strip_invalid_filename_characters(base)
    if not (base.lower().endswith(allowed) and kept.lower().endswith(allowed)):
        shown = base if len(base) <= 40 else base[:20] + "…" + base[-12:]
        return Refusal(415, f"Only {', '.join(allowed)} files can be uploaded; {shown!r} is not one.")
    if size > max_bytes:
        return Refusal(413, too_large(max_bytes))
    return None


def too_large(max_bytes: int) -> str:
    return f"The file is larger than the limit of {max_bytes} bytes ({max_bytes / 1e6:g} MB)."


# --- the middleware -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    events: Events
    limits: Limits


def middleware(blocks: Any, *, heavy: Iterable[Callable[..., Any]], **limits: Any) -> Any:
    """The Starlette ``Middleware`` entry for ``app_kwargs={"middleware": [...]}``; ``limits`` are Limits fields.

    ``heavy`` lists the functions whose events can do a large run (an API function or a UI handler).
    """
    from starlette.middleware import Middleware

    return Middleware(Guard, policy=Policy(heavy_events(blocks, heavy), Limits(**limits)))


Route = tuple[Literal["submit", "read", "upload"], dict[str, str]]


def route_of(method: str, path: str) -> Route | None:
    """Which of Gradio's routes a request is for, as far as the guard is concerned.

    >>> route_of("POST", "/gradio_api/call/attend"), route_of("GET", "/gradio_api/call/attend/ab12")
    (('submit', {'root': '/gradio_api', 'api': 'attend'}), ('read', {'root': '/gradio_api', 'event_id': 'ab12'}))
    >>> route_of("POST", "/gradio_api/queue/join"), route_of("GET", "/gradio_api/queue/data"), route_of("GET", "/")
    (('submit', {'root': '/gradio_api'}), ('read', {'root': '/gradio_api'}), None)
    """
    if method == "POST":
        if match := _JOIN.match(path):
            return "submit", match.groupdict()
        if match := _SUBMIT_CALL.match(path):
            return "submit", match.groupdict()
        if match := _UPLOAD.match(path):
            return "upload", match.groupdict()
    elif method == "GET":
        if match := _DATA.match(path):
            return "read", match.groupdict()
        if match := _READ_CALL.match(path):
            return "read", match.groupdict()
    return None


class Guard:
    """ASGI middleware; see the module's docstring. All its state lives on the server's event loop."""

    def __init__(self, app: ASGIApp, *, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.events = policy.events
        self.limits = policy.limits
        self.ledger = Ledger(policy.limits)
        self.clock = clock
        self.readers: Counter[str] = Counter()  # session -> open streams reading it
        self.draining: dict[str, asyncio.Event] = {}  # session -> set when the guard has read it
        self._waiting: Counter[str] = Counter()
        self._changed: asyncio.Event | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        self._drain_slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = route_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        kind, parts = route
        if kind == "submit":
            await self._submit(scope, receive, send, parts)
        elif kind == "read":
            await self._read(scope, receive, send, parts)
        else:
            await self._upload(scope, receive, send)

    # -- submitting a call ----------------------------------------------------------------------

    async def _submit(self, scope: Scope, receive: Receive, send: Send, parts: dict[str, str]) -> None:
        body = await _read_body(receive, limit=None)
        if body is None:
            return  # the client left before sending its call
        request = _json_object(body)
        session = request.get("session_hash")
        session = session if isinstance(session, str) and 0 < len(session) <= 256 else None
        if "api" in parts:
            heavy = self.events.is_heavy_api(parts["api"])
        else:
            heavy = self.events.is_heavy_index(request.get("fn_index"))
        client = client_address(scope, self.limits.proxy_hops)
        if session is not None:
            await self._wait_for_drain(session)
        outcome = await self._admit(client, heavy)
        if isinstance(outcome, Refusal):
            await _refuse(send, outcome, scope, client)
            return
        ticket = outcome
        template = {key: scope[key] for key in _SCOPE_KEYS if key in scope}
        template["headers"] = [
            (name, value) for name, value in scope.get("headers", []) if name in (b"host", b"cookie")
        ]
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
                    event_id = _json_object(b"".join(answer)).get("event_id")
                    if isinstance(event_id, str):
                        settled = True  # before the client can hear of the event id
                        self.ledger.confirm(
                            ticket,
                            event_id,
                            session or event_id,
                            now=self.clock(),
                            api_root=parts["root"],
                            template=template,
                        )
                        self._start_sweeper()
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), watch)
        finally:
            if not settled:
                self.ledger.cancel(ticket)
                self._notify()

    async def _admit(self, client: str, heavy: bool) -> Ticket | Refusal:
        """A slot for this call, waiting up to ``admission_wait`` seconds for one to free."""
        started = self.clock()
        deadline = started + self.limits.admission_wait
        while True:
            outcome = self.ledger.reserve(client, heavy=heavy, now=self.clock())
            remaining = deadline - self.clock()
            if isinstance(outcome, Ticket) or remaining <= 0 or self._waiting[client] >= self.limits.waiting_per_client:
                if remaining < self.limits.admission_wait:
                    log.debug("a call of %s waited %.2f s for a slot", client, self.clock() - started)
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
        await self._wait_for_drain(session)
        if event_id in self.ledger.expired:  # else Gradio would keep this read open, with heartbeats only
            ttl = f"{self.limits.answer_ttl:g}"
            detail = f"This answer expired: answers not read within {ttl} s of the call are dropped. Call again."
            await _refuse(send, Refusal(410, detail), scope, client_address(scope, self.limits.proxy_hops))
            return
        self.readers[session] += 1
        heads = SseHeads()
        delivered: list[str | None] = []
        last_sent = self.clock()
        send_failed = False

        def settle(done: list[str | None]) -> None:
            now = self.clock()
            for done_id in done:
                if done_id is None:
                    self.ledger.note_done_in_session(session, preferred=event_id, now=now)
                else:
                    self.ledger.note_done(done_id, now=now)
            if done:
                self._notify()

        async def watch(message: Message) -> None:
            nonlocal delivered, last_sent, send_failed
            fresh: list[str | None] = []
            if message["type"] == "http.response.body":
                for head in heads.feed(message.get("body", b"")):
                    done, done_id = completion(head)
                    if done:
                        fresh.append(done_id)
            last_sent = self.clock()
            try:
                await send(message)
            except BaseException as error:
                # A cancelled send is Starlette ending the response on a disconnect, after which Gradio drops
                # the session; another error leaves the session to Gradio as it is.
                send_failed = not isinstance(error, asyncio.CancelledError)
                delivered += fresh  # taken off Gradio's queue all the same
                raise
            # An answer counts as read once the next message is on its way: the server holds a send
            # until the client has taken most of what came before.
            settle(delivered)
            delivered = fresh

        ended_cleanly = False
        try:
            await self.app(scope, receive, watch)
            ended_cleanly = not send_failed
        finally:
            settle(delivered)
            # Gradio ended this stream itself: the session has nothing pending (a natural close), or the
            # client left, and Gradio then drops the session's messages and cancels its events. Either
            # way, calls accepted before the last message are settled.
            if ended_cleanly and self.ledger.release_session(session, accepted_before=last_sent):
                self._notify()
            self.readers[session] -= 1
            if self.readers[session] <= 0:
                del self.readers[session]

    async def _wait_for_drain(self, session: str) -> None:
        """Requests for a session that the guard is reading wait until it is done, so none is read twice."""
        draining = self.draining.get(session)
        if draining is not None:
            try:
                await asyncio.wait_for(draining.wait(), self.limits.drain_wait + 15)
            except TimeoutError:
                pass

    # -- answers nobody reads -------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        try:
            while self.ledger.entries or self._drains:
                await asyncio.sleep(self.limits.sweep_every)
                for session in self.ledger.expired_sessions(self.clock()):
                    if self.readers.get(session) or session in self.draining:
                        continue  # being read: by its client, or by the guard already
                    self.draining[session] = asyncio.Event()
                    task = asyncio.get_running_loop().create_task(self._drain(session))
                    self._drains.add(task)
                    task.add_done_callback(self._drains.discard)
        finally:
            self._sweeper = None

    async def _drain(self, session: str) -> None:
        """Read a session's unread answers through Gradio's /queue/data route, so Gradio drops them.

        Gradio ends the read once the session has nothing pending. Otherwise the guard ends it, a second
        after every expired answer has come or after ``drain_wait`` seconds, as a disconnect: Gradio then
        drops the session's messages and cancels its events.
        """
        if self._drain_slots is None:
            self._drain_slots = asyncio.Semaphore(2)
        entries = [self.ledger.entries[event_id] for event_id in self.ledger.sessions.get(session, ())]
        expected = {entry.event_id for entry in entries}
        stop = asyncio.Event()
        seen: set[str] = set()
        heads = SseHeads()
        started = False

        async def receive() -> Message:
            nonlocal started
            if not started:
                started = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if not stop.is_set():
                await stop.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                for head in heads.feed(message.get("body", b"")):
                    done, done_id = completion(head)
                    if done and done_id:
                        seen.add(done_id)
                if expected <= seen and not stop.is_set():
                    # Gradio closes the stream itself once the session has nothing pending; a disconnect would
                    # leave the answer in a traceback's reference cycle, freed only by the next full collection.
                    asyncio.get_running_loop().call_later(DRAIN_GRACE_SECONDS, stop.set)

        try:
            if not entries:
                return
            first = entries[0]
            scope = dict(first.template)
            path = f"{first.api_root}/queue/data"
            scope.update(
                type="http",
                method="GET",
                path=path,
                raw_path=path.encode(),
                query_string=urlencode({"session_hash": session}).encode(),
                asgi={"version": "3.0", "spec_version": "2.3"},
                headers=[*first.template.get("headers", []), (b"accept", b"text/event-stream")],
            )
            async with self._drain_slots:
                timer = asyncio.get_running_loop().call_later(self.limits.drain_wait, stop.set)
                try:
                    await asyncio.wait_for(self.app(scope, receive, send), self.limits.drain_wait + 15)
                except (TimeoutError, Exception) as error:  # the session may be gone already
                    log.debug("reading session %s ended with %r", session[:8], error)
                finally:
                    timer.cancel()
        finally:
            released = self.ledger.expire_session(session)
            self.draining.pop(session).set()
            self._notify()
            if released:
                age = self.clock() - min(entry.accepted for entry in released)
                read = len(expected & seen)
                log.info(
                    "dropped %d answer(s) of client %s left unread for %.0f s (%d read by the guard, %d cancelled)",
                    len(released),
                    released[0].client,
                    age,
                    read,
                    len(released) - read,
                )

    # -- uploads --------------------------------------------------------------------------------

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = client_address(scope, self.limits.proxy_hops)
        headers = dict(scope.get("headers", []))
        limit = self.limits.max_upload_bytes + UPLOAD_OVERHEAD_BYTES
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, Refusal(413, too_large(self.limits.max_upload_bytes)), scope, client)
            return
        body = await _read_body(receive, limit=limit)
        if body is None:
            return
        if body is _TOO_LARGE:
            await _refuse(send, Refusal(413, too_large(self.limits.max_upload_bytes)), scope, client)
            return
        refusal = upload_refusal(
            body,
            headers.get(b"content-type", b"").decode("latin-1"),
            types=self.limits.upload_types,
            max_bytes=self.limits.max_upload_bytes,
        )
        if refusal is not None:
            await _refuse(send, refusal, scope, client)
            return
        await self.app(scope, _replay(body, receive), send)


# --- ASGI helpers -------------------------------------------------------------------------------

_TOO_LARGE = b"\x00too large"  # a sentinel, compared by identity


async def _read_body(receive: Receive, *, limit: int | None) -> bytes | None:
    """The whole request body; None when the client left, ``_TOO_LARGE`` past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already-read body first, then whatever the client sends next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


async def _refuse(send: Send, refusal: Refusal, scope: Scope, client: str) -> None:
    """An expected refusal: a JSON ``detail``, and one log line without a traceback."""
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
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
