"""Request bodies, bounded before they are read: the declared ``Content-Length`` is checked before a byte is read,
a chunked body is counted while it streams, and large JSON is parsed off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PARSE_INLINE_BYTES = 64 * 1024  # JSON bodies above this are parsed in a thread, not on the event loop


class BodyTooLarge(Exception):
    """The body passed its limit while it streamed in."""


def header(scope: Scope, name: bytes) -> str:
    """A request header's value ('' when absent; the last one when repeated)."""
    value = b""
    for key, raw in scope.get("headers", []):
        if key == name:
            value = raw
    return value.decode("latin-1").strip()


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` a request declares, or None (none, or not a number: the server refuses those).

    >>> declared_length({"headers": [(b"content-length", b"12")]}), declared_length({"headers": []})
    (12, None)
    """
    value = header(scope, b"content-length")
    return int(value) if value.isdigit() else None


def streams_body(scope: Scope) -> bool:
    """Whether the request sends a body of undeclared length (``Transfer-Encoding: chunked``)."""
    return bool(header(scope, b"transfer-encoding")) and declared_length(scope) is None


def is_multipart(scope: Scope) -> bool:
    """Whether the body is multipart/form-data (which Gradio parses to files on disk).

    >>> is_multipart({"headers": [(b"content-type", b"Multipart/Form-Data; boundary=x")]})
    True
    """
    return header(scope, b"content-type").lower().startswith("multipart/form-data")


def too_large(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes ({limit / 1e6:g} MB)."


async def read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The whole request body, at most ``limit`` bytes (else :class:`BodyTooLarge`, with the rest unread); None
    when the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(too_large(limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already-read body first, then whatever the client sends next."""
    replayed = False

    async def replayed_receive() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed_receive


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object's fields, or {} for anything else.

    >>> json_object(b'{"fn_index": 3}'), json_object(b"[1]"), json_object(b"{")
    ({'fn_index': 3}, {}, {})
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


async def parse_json(body: bytes) -> dict[str, Any]:
    """:func:`json_object`, in a thread when the body is large, so other clients' requests are not held up."""
    if len(body) <= PARSE_INLINE_BYTES:
        return json_object(body)
    return await asyncio.to_thread(json_object, body)
