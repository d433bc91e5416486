"""Shared fixtures for the test suite."""

from __future__ import annotations

import socket

import pytest

# Tests that need any of these launch the server (or a browser on it): they must be marked slow.
SERVER_FIXTURES = {"server_url", "client", "browser", "page", "open_app"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep `pytest -m "not slow"` free of servers: a test using one without the marker is a collection error."""
    for item in items:
        uses = SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses and item.get_closest_marker("slow") is None:
            raise pytest.UsageError(f"{item.nodeid} uses {', '.join(sorted(uses))} but is not marked @pytest.mark.slow")


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server_url():
    """The app's demo, launched once on a free loopback port with the Space's settings; yields its URL."""
    import app  # imported here so the core tests never pay for Gradio

    port = _free_loopback_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def client(server_url):
    """A gradio_client Client on the launched app, without gradio_client's telemetry."""
    from gradio_client import Client

    with pytest.MonkeyPatch.context() as env:
        # gradio_client reads these in __init__; without them it starts a telemetry thread that calls out.
        env.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        env.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        api_client = Client(server_url, verbose=False, analytics_enabled=False)
    yield api_client
    api_client.close()
