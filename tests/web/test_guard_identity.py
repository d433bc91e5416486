"""web/guard/identity.py: who a request counts against (peer, trusted proxies, MCP's loopback calls)."""

from __future__ import annotations

from typing import Any

import pytest

from web.guard import identity


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
    assert identity.client_address(scope, hops) == expected


def test_spoofed_forwarded_for_does_not_make_a_new_client():
    one = identity.client_address(scope_from("127.0.0.1", "10.0.0.1"), 0)
    other = identity.client_address(scope_from("127.0.0.1", "10.0.0.2"), 0)
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
    assert identity.proxy_hops_from_env(environ) == hops


def test_negative_proxy_hops_is_refused():
    with pytest.raises(ValueError, match="number of trusted proxies"):
        identity.proxy_hops_from_env({"ATTENTION_PROXY_HOPS": "-1"})


def test_a_signed_relay_header_counts_a_loopback_call_against_the_mcp_client():
    relay = identity.Relay()
    scope = {"client": ("203.0.113.7", 1), "headers": [(identity.RELAY_HEADER, b"forged;" + b"0" * 32)]}
    relay.stamp(scope, identity.client_address(scope, 0))  # the MCP request, as the guard passes it on
    (stamped,) = [value for name, value in scope["headers"] if name == identity.RELAY_HEADER]
    loopback = {"client": ("127.0.0.1", 2), "headers": [(identity.RELAY_HEADER, stamped)]}
    assert relay.client_of(loopback, 0) == "203.0.113.7"


@pytest.mark.parametrize(
    ("peer", "value"),
    [
        pytest.param("127.0.0.1", b"10.9.9.9;" + b"0" * 32, id="forged-on-loopback"),
        pytest.param("198.51.100.4", None, id="signed-but-not-from-loopback"),
    ],
)
def test_a_relay_header_is_believed_only_signed_and_from_loopback(peer, value):
    relay = identity.Relay()
    header = relay.sign("10.9.9.9") if value is None else value
    scope = {"client": (peer, 1), "headers": [(identity.RELAY_HEADER, header)]}
    assert relay.client_of(scope, 0) == peer


def test_another_process_cannot_sign_for_this_one():
    assert identity.Relay().verify(identity.Relay().sign("10.9.9.9")) is None
