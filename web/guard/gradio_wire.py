"""Everything the guard knows about Gradio 6.31's insides, and nothing else: its routes, its server-sent events,
``Blocks.fns`` (which function an event runs) and the queue's ``send_message`` (where answers wait to be read).

Gradio has no public per-client limit, no expiry for unread answers, and keeps each unread answer as the Python
objects it returned (about 45 MB for one 256 x 768 ``/attend``), plus a second copy in the session's state.
:class:`Answers` wraps the queue's ``send_message`` so that an answer waiting to be read is held as pickled bytes,
can be dropped, and leaves no copy in the session's state.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

# The routes of Gradio's that the guard watches, under any root path.
_SUBMIT_CALL = re.compile(r"^(?P<root>.*?/gradio_api)/call/(?:v2/)?(?P<api>[^/]+)/?$")
_READ_CALL = re.compile(r"^(?P<root>.*?/gradio_api)/call/(?:v2/)?[^/]+/(?P<event_id>[^/]+)/?$")
_JOIN = re.compile(r"^(?P<root>.*?/gradio_api)/queue/join/?$")
_DATA = re.compile(r"^(?P<root>.*?/gradio_api)/queue/data/?$")
_UPLOAD = re.compile(r"^(?P<root>.*?/gradio_api)/upload/?$")
_MCP = re.compile(r"^.*?/gradio_api/mcp(?:/.*)?$")
_DEEP_LINK = re.compile(r"^.*?/gradio_api/deep_link/?$")

HEAD_BYTES = 256  # of each server-sent event, enough to see its kind and event id

Route = tuple[Literal["submit", "read", "upload", "mcp", "closed"], dict[str, str]]


def route_of(method: str, path: str) -> Route | None:
    """Which of Gradio's routes a request is for, as far as the guard is concerned.

    >>> route_of("POST", "/gradio_api/call/attend"), route_of("GET", "/gradio_api/call/attend/ab12")
    (('submit', {'root': '/gradio_api', 'api': 'attend'}), ('read', {'root': '/gradio_api', 'event_id': 'ab12'}))
    >>> route_of("POST", "/gradio_api/queue/join"), route_of("GET", "/gradio_api/queue/data"), route_of("GET", "/")
    (('submit', {'root': '/gradio_api'}), ('read', {'root': '/gradio_api'}), None)
    >>> route_of("POST", "/gradio_api/mcp/"), route_of("POST", "/gradio_api/upload")
    (('mcp', {}), ('upload', {'root': '/gradio_api'}))
    >>> route_of("GET", "/gradio_api/deep_link")
    ('closed', {})
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
    if _MCP.match(path):
        return "mcp", {}
    if _DEEP_LINK.match(path):  # writes a file per call to disk; this app offers no deep links
        return "closed", {}
    return None


# --- which events are light ---------------------------------------------------------------------


@dataclass(frozen=True)
class Events:
    """The demo's events by the numbers and names clients call them with. Safe by default: an event is heavy
    unless its function is one of the light ones (unknown or missing numbers and names too; Gradio refuses
    those calls, and their slot is given back then)."""

    light_indexes: frozenset[int]  # fn_index values of /queue/join bodies
    light_api_names: frozenset[str]  # <api> of /call/<api>

    def is_heavy_index(self, fn_index: Any) -> bool:
        return not isinstance(fn_index, int) or fn_index not in self.light_indexes

    def is_heavy_api(self, api_name: str) -> bool:
        return api_name not in self.light_api_names


def light_events(blocks: Any, light: Iterable[Callable[..., Any] | str]) -> Events:
    """The events (fn_index) and API names whose function is one of ``light`` (functions, or their names).

    Gradio 6.31 has no public map from an event's ``fn_index`` to the function it runs: the config it serves
    names each dependency's ``api_name`` but not its function. So this reads ``Blocks.fns`` (fn_index ->
    BlockFunction) and each BlockFunction's ``fn`` and ``api_name``, here and nowhere else.
    """
    wanted = set(light)
    indexes: set[int] = set()
    api_names: set[str] = set()
    found: set[Callable[..., Any] | str] = set()
    for fn_index, block_fn in blocks.fns.items():
        fn = block_fn.fn
        match = next(
            (item for item in (fn, getattr(fn, "__name__", None)) if item is not None and item in wanted), None
        )
        if match is not None:
            indexes.add(fn_index)
            found.add(match)
            if block_fn.api_name:
                api_names.add(block_fn.api_name)
    missing = wanted - found
    if missing:
        names = ", ".join(
            sorted(item if isinstance(item, str) else getattr(item, "__name__", repr(item)) for item in missing)
        )
        raise ValueError(f"{names} run(s) in no event of this demo: pass the functions that the events call.")
    return Events(frozenset(indexes), frozenset(api_names))


def event_functions(blocks: Any) -> dict[int, Callable[..., Any] | None]:
    """Each event's fn_index and the function it runs (None for an event run by the browser alone)."""
    return {fn_index: block_fn.fn for fn_index, block_fn in blocks.fns.items()}


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

    /queue/data events start ``data: {"msg":"process_completed","event_id":"…"`` (Gradio's message models put
    ``msg`` and ``event_id`` first); /call/<api>/<event_id> events start ``event: complete`` or ``event: error``
    and name no event.

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


# --- answers waiting to be read -----------------------------------------------------------------


class Answers:
    """Gradio's answers waiting in its queue: held as pickled bytes, announced when produced, droppable.

    ``listen(on_answered)`` wraps the queue's ``send_message`` (the one place where Gradio puts a finished
    call's message for its session's stream): ``on_answered(event_id)`` runs on the event loop when an answer
    is produced. Pickle keeps every value exactly (NaN and infinities too, which JSON would not); the bytes are
    the server's own, never a client's.
    """

    MOST = 10_000  # answers held for dropping; beyond that the oldest are forgotten (Gradio still has them)

    def __init__(self, blocks: Any) -> None:
        self.blocks = blocks
        self._held: OrderedDict[str, Any] = OrderedDict()  # event id -> its packed message
        self._on_answered: Callable[[str], None] | None = None
        self._packed_class: type | None = None

    def listen(self, on_answered: Callable[[str], None]) -> None:
        self._on_answered = on_answered
        self.install()

    def install(self) -> None:
        """Wrap the current queue's ``send_message`` (again if Gradio made a new queue)."""
        queue = getattr(self.blocks, "_queue", None)
        if queue is None or getattr(queue.send_message, "_guard_answers", None) is self:
            return
        original = queue.send_message

        def send_message(event: Any, message: Any) -> None:
            packed = self._pack(message) if getattr(event, "alive", False) else None
            original(event, packed if packed is not None else message)
            if packed is not None:
                self._hold(event._id, packed)
                self._forget_session_copy(event)
                if self._on_answered is not None:
                    self._on_answered(event._id)

        send_message._guard_answers = self  # type: ignore[attr-defined]
        queue.send_message = send_message

    def drop(self, event_id: str, detail: str) -> bool:
        """Free an unread answer's bytes; its reader, if one comes, gets ``detail`` as the call's error."""
        message = self._held.pop(event_id, None)
        if message is None:
            return False
        message.expire(detail)
        return True

    def _forget_session_copy(self, event: Any) -> None:
        """Gradio also keeps each session's last output values (``SessionState.config_values``, read only by the
        ``/deep_link`` route, which this app does not offer) for the last ``state_session_capacity`` sessions,
        read or not: a second full copy of every answer. Forget the values this event just produced."""
        holder = getattr(self.blocks, "state_holder", None)
        session = getattr(event, "session_hash", None)
        if holder is None or session is None or session not in holder:
            return
        values = holder[session].config_values
        for block in getattr(event.fn, "outputs", ()):
            props = values.get(block._id, {}).get("props")
            if isinstance(props, dict) and props.get("value") is not None:
                props["value"] = None

    def held_bytes(self) -> int:
        return sum(message.size for message in self._held.values())

    def _hold(self, event_id: str, message: Any) -> None:
        self._held[event_id] = message
        message.on_read = lambda: self._held.pop(event_id, None)
        while len(self._held) > self.MOST:
            self._held.popitem(last=False)

    def _pack(self, message: Any) -> Any | None:
        from gradio.server_messages import ProcessCompletedMessage

        if not isinstance(message, ProcessCompletedMessage):
            return None
        try:
            data = pickle.dumps(message.output, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # an answer holding something pickle cannot keep: leave it as it is
            log.debug("kept an answer unpacked: %r", error)
            return None
        packed = _packed_message_class().model_construct(
            **{name: getattr(message, name) for name in type(message).model_fields if name != "output"}, output={}
        )
        packed.pack(data)
        return packed


_PACKED: type | None = None


def _packed_message_class() -> type:
    """A ProcessCompletedMessage whose output waits as bytes until a stream serializes it (made on first use, so
    that importing the guard does not import Gradio)."""
    global _PACKED
    if _PACKED is not None:
        return _PACKED
    from gradio.server_messages import ProcessCompletedMessage
    from pydantic import PrivateAttr

    class PackedCompletedMessage(ProcessCompletedMessage):
        _data: bytes | None = PrivateAttr(default=None)
        _error: str | None = PrivateAttr(default=None)
        _on_read: Any = PrivateAttr(default=None)

        def pack(self, data: bytes) -> None:
            self._data = data

        @property
        def size(self) -> int:
            return len(self._data or b"")

        @property
        def on_read(self) -> Any:
            return self._on_read

        @on_read.setter
        def on_read(self, callback: Any) -> None:
            self._on_read = callback

        def expire(self, detail: str) -> None:
            self._data = None
            self._error = detail
            self.success = False

        def model_dump(self, **kwargs: Any) -> dict[str, Any]:
            dumped = super().model_dump(**kwargs)
            if self._data is not None:
                dumped["output"] = pickle.loads(self._data)
            elif self._error is not None:
                dumped["output"] = {"error": self._error, "title": "Expired", "visible": True}
                dumped["success"] = False
            if self._on_read is not None:
                self._on_read()
                self._on_read = None
            return dumped

    _PACKED = PackedCompletedMessage
    return _PACKED
