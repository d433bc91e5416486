"""Admission control in front of Gradio: a client that floods, never reads its answers, or sends oversize bodies
spends its own share and nobody else's.

- ``identity``: who a request counts against (the peer, trusted proxies, MCP's loopback calls);
- ``ledger``: the pure books of outstanding and computing calls, and the limits;
- ``gradio_wire``: the one module that knows Gradio's routes, server-sent events, ``Blocks.fns`` and queue;
- ``uploads``: one allowed file per upload; ``body``: bodies bounded before they are read;
- ``middleware``: the ASGI middleware that joins them.

Use it with ``demo.launch(app_kwargs={"middleware": [guard.middleware(demo, light=[...])]})``.
"""

from web.guard.gradio_wire import Answers, Events, event_functions, light_events
from web.guard.identity import (
    Relay,
    client_address,
    client_key,
    distrust_forwarded_headers,
    proxy_hops_from_env,
    request_client,
)
from web.guard.ledger import Ledger, Limits, Refusal
from web.guard.middleware import Guard, Policy, middleware

__all__ = [
    "Answers",
    "Events",
    "Guard",
    "Ledger",
    "Limits",
    "Policy",
    "Refusal",
    "Relay",
    "client_address",
    "client_key",
    "distrust_forwarded_headers",
    "event_functions",
    "light_events",
    "middleware",
    "proxy_hops_from_env",
    "request_client",
]
