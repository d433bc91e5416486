"""Who is asking: the client a request counts against.

A client is its address: the direct peer or, behind ``proxy_hops`` trusted proxies, the entry that many places
from the right of ``X-Forwarded-For`` (each trusted proxy appends the address it saw; what a client writes
itself sits further left and is never believed). IPv6 clients count per /64.

MCP tool calls reach the app twice: the MCP request from its client, then Gradio's own loopback call to the
queue (from 127.0.0.1, carrying the MCP request's headers). The guard signs the MCP client's address into a
header of the first (:class:`Relay`), and the second counts against that address when the signature holds.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

RELAY_HEADER = b"x-attention-client"
LOOPBACK_PEERS = frozenset({"127.0.0.1", "::1"})


def proxy_hops_from_env(environ: Mapping[str, str] | None = None) -> int:
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


def distrust_forwarded_headers(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Tell uvicorn to trust no proxy header: set ``FORWARDED_ALLOW_IPS`` to "" (it would otherwise rewrite the peer
    for loopback, or for anyone under an inherited "*"); the guard alone reads X-Forwarded-For, ``proxy_hops`` deep.
    Returns the inherited value it overrode, if any.

    >>> env = {"FORWARDED_ALLOW_IPS": "*"}
    >>> distrust_forwarded_headers(env), env
    ('*', {'FORWARDED_ALLOW_IPS': ''})
    """
    environ = os.environ if environ is None else environ
    inherited = environ.get("FORWARDED_ALLOW_IPS") or None
    environ["FORWARDED_ALLOW_IPS"] = ""
    return inherited


def client_address(scope: MutableMapping[str, Any], proxy_hops: int) -> str:
    """The client a request counts against: the peer, or the ``proxy_hops``-th entry from the right of
    X-Forwarded-For. Without trusted proxies (``proxy_hops=0``) the header is ignored, so a spoofed one changes
    nothing.

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


def request_client(peer: str | None, headers: Mapping[str, str], proxy_hops: int) -> str:
    """:func:`client_address` for a handler's request (a peer host and its headers), e.g. to share exports fairly.

    >>> request_client("10.0.0.9", {"x-forwarded-for": "1.2.3.4"}, 1), request_client(None, {}, 0)
    ('1.2.3.4', 'unknown')
    """
    forwarded = headers.get("x-forwarded-for")
    scope = {
        "client": (peer, 0) if peer else None,
        "headers": [(b"x-forwarded-for", forwarded.encode("latin-1", "replace"))] if forwarded else [],
    }
    return client_address(scope, proxy_hops)


class Relay:
    """Signs a client's address into a header, so that Gradio's loopback call for an MCP tool counts against the
    MCP client and not against 127.0.0.1. The key is random per process: nobody outside can forge it.

    >>> relay = Relay(b"k")
    >>> value = relay.sign("1.2.3.4")
    >>> relay.verify(value), relay.verify(b"1.2.3.4;" + b"0" * 32), relay.verify(b"garbage")
    ('1.2.3.4', None, None)
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def _mac(self, client: str) -> str:
        return hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, client: str) -> bytes:
        return f"{client};{self._mac(client)}".encode()

    def verify(self, value: bytes) -> str | None:
        client, _, mac = value.decode("latin-1").rpartition(";")
        if client and hmac.compare_digest(mac, self._mac(client)):
            return client
        return None

    def stamp(self, scope: MutableMapping[str, Any], client: str) -> None:
        """Replace any relay header of the request by one signed for ``client``."""
        headers = [(name, value) for name, value in scope.get("headers", []) if name != RELAY_HEADER]
        scope["headers"] = [*headers, (RELAY_HEADER, self.sign(client))]

    def client_of(self, scope: MutableMapping[str, Any], proxy_hops: int) -> str:
        """The client of a request: the signed MCP client on a loopback call that carries one, else the address."""
        peer = scope.get("client")
        if peer and str(peer[0]) in LOOPBACK_PEERS:
            for name, value in scope.get("headers", []):
                if name == RELAY_HEADER and (client := self.verify(value)) is not None:
                    return client
        return client_address(scope, proxy_hops)
