"""The named endpoints as MCP tools, through the official ``mcp`` client against a launched server.

Gradio 6.31's MCP server names each tool after its Python function and reads each parameter's description from
the docstring's Args section. Left alone, it writes a tool's result as ``str()`` of the endpoint's value (a
Python literal: ``None`` for null); ``web.api.endpoint`` makes it JSON text instead, which these tests parse
strictly (``NaN`` or ``None`` in the text fails), over both transports: streamable HTTP and SSE.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch
from golden import CONTEXT_2, INPUTS, PIECES

pytestmark = pytest.mark.slow

TRANSPORTS = ("streamable-http", "sse")
BOOK_SENTENCE = "Your journey starts with one step"
BOOK_CSV = "\n".join(",".join(str(v) for v in row) for row in INPUTS)

# One valid call per tool. A new tool needs a line here: test_every_tool_has_an_example says so.
EXAMPLES = {
    "tokenize": {"text": BOOK_SENTENCE},
    "attend": {"text": BOOK_SENTENCE, "table": BOOK_CSV},
    "normalize": {"values": "1, 2, 3, 400", "dtype": "float32"},
    "train": {"text": "The cat sat on the mat because it is warm", "query": 10, "key": 6, "steps": 20},
}


def mcp_session(server_url: str, work, transport: str = "streamable-http"):
    """Run ``work(session)`` in an initialized MCP client session on one of the app's two MCP transports."""
    from mcp import ClientSession
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    async def main():
        if transport == "sse":
            connection = sse_client(server_url + "gradio_api/mcp/sse")
        else:
            connection = streamable_http_client(server_url + "gradio_api/mcp/")
        async with connection as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def tools(server_url):
    async def listed(session):
        return {tool.name: tool for tool in (await session.list_tools()).tools}

    return mcp_session(server_url, listed)


def call(server_url: str, name: str, arguments: dict, transport: str = "streamable-http"):
    async def called(session):
        return await session.call_tool(name, arguments)

    return mcp_session(server_url, called, transport)


def strict_json(text: str) -> object:
    """``text`` parsed as JSON, refusing what Python's json module would let through (NaN, Infinity)."""

    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON: {text[:200]}")

    return json.loads(text, parse_constant=refuse)


def result_of(response) -> object:
    assert not response.isError, response.content
    (content,) = response.content
    return strict_json(content.text)


def test_the_tools_are_named_after_the_endpoints(tools):
    assert {"tokenize", "attend", "normalize"} <= set(tools)


def test_every_tool_has_an_example(tools):
    assert set(tools) == set(EXAMPLES), "add one valid call of each new tool to EXAMPLES"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("tool", EXAMPLES)
def test_every_tool_answers_a_json_object(server_url, tool, transport):
    response = call(server_url, tool, EXAMPLES[tool], transport)
    answer = result_of(response)
    assert isinstance(answer, dict) and answer


@pytest.mark.parametrize(
    ("tool", "parameter", "fragment"),
    [
        ("tokenize", "text", "at most 256 GPT-2 tokens"),
        ("attend", "text", "at most 256 GPT-2 tokens"),
        ("attend", "dim", "1 to 768"),
        ("attend", "seed", "0 to 4294967295"),
        ("attend", "table", "at most 256 rows, 768 columns and 1 MB"),
        ("normalize", "values", "1 to 1,000 numbers"),
        ("normalize", "dtype", "float16, float32 or float64"),
    ],
)
def test_every_parameter_states_its_limits(tools, tool, parameter, fragment):
    assert fragment in tools[tool].inputSchema["properties"][parameter]["description"]


def test_the_request_parameter_stays_out_of_the_schema(tools):
    for tool in tools.values():
        assert "request" not in tool.inputSchema["properties"], tool.name


def test_dtype_is_an_enum_and_attend_states_its_size(tools):
    dtype = tools["normalize"].inputSchema["properties"]["dtype"]
    assert dtype["enum"] == ["float16", "float32", "float64"] and dtype["default"] == "float32"
    assert "about 6 MB of JSON" in tools["attend"].description
    assert tools["attend"].inputSchema["properties"]["dim"]["default"] == 3


def test_tokenize(server_url):
    result = result_of(call(server_url, "tokenize", {"text": BOOK_SENTENCE}))
    assert result == {"ids": [7120, 7002, 4940, 351, 530, 2239], "tokens": PIECES}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attend_with_the_books_table(server_url, transport):
    result = result_of(call(server_url, "attend", EXAMPLES["attend"], transport))
    assert result["tokens"] == PIECES
    assert result["inputs"] == INPUTS  # shortest float32 decimals survive: exactly what was typed
    assert result["context"][1] == pytest.approx(CONTEXT_2, abs=5e-5)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_normalize_overflow_is_null_with_a_note(server_url, transport):
    response = call(server_url, "normalize", EXAMPLES["normalize"], transport)
    text = response.content[0].text
    assert "None" not in text  # a Python repr would say None; the notes may say NaN, a JSON number cannot
    result = result_of(response)
    assert result["softmax_naive"][3] is None
    assert result["softmax_stable"] == pytest.approx(torch.softmax(torch.tensor([1.0, 2, 3, 400]), 0).tolist())
    assert any("overflows float32" in note for note in result["notes"])


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("tokenize", {"text": ""}, "The text is empty"),
        ("attend", {"text": "Hi", "dim": 0}, "between 1 and 768"),
        ("normalize", {"values": "1, x", "dtype": "float32"}, "Value 2 is 'x', which is not a number"),
    ],
)
def test_bad_input_is_an_error_that_says_what_to_fix(server_url, tool, arguments, fragment):
    response = call(server_url, tool, arguments)
    assert response.isError and fragment in response.content[0].text


def test_gradio_client_still_receives_dicts(client):
    assert client.predict(text="Hi", api_name="/tokenize") == {"ids": [17250], "tokens": ["Hi"]}


# --- on a Space: SYSTEM=spaces prefixes every tool with the Space's name ---------------------------------------

SPACE_ID = "someone/Self_Attention_Without_Weights"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spaces_url(tmp_path_factory) -> Iterator[str]:
    """The app launched in a subprocess as on a Space (SYSTEM=spaces, SPACE_ID), on a free loopback port.

    A subprocess, because Gradio reads SYSTEM when the Blocks are built (at ``import app``) and the session's
    server has them built already.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "GRADIO_SERVER_PORT"}}
    environment |= {"SYSTEM": "spaces", "SPACE_ID": SPACE_ID, "GRADIO_ANALYTICS_ENABLED": "False"}
    launch = f"import app; app.launch(server_name='127.0.0.1', server_port={port}, quiet=True)"
    log = (tmp_path_factory.mktemp("spaces") / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-c", launch], cwd=REPO_ROOT, env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):  # the app's start-up: up to two minutes on a busy machine
            if server.poll() is not None:
                pytest.fail(f"the app exited with {server.returncode}: see {log.name}")
            try:
                if httpx.get(url + "gradio_api/mcp/schema", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"the app did not start: see {log.name}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_on_a_space_the_tools_are_prefixed_with_its_name(spaces_url):
    tools = httpx.get(spaces_url + "gradio_api/mcp/schema", timeout=30, trust_env=False).json()
    prefix = SPACE_ID.split("/")[1] + "_"
    assert sorted(tool["name"] for tool in tools) == sorted(prefix + name for name in EXAMPLES)


def readme_mcp_example() -> str:
    """The README's MCP example: its Python block that opens a streamable-HTTP session."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    (example,) = [block for block in blocks if "streamable_http_client" in block]
    return example


@pytest.mark.parametrize("where", ["local", "space"])
def test_the_readmes_mcp_example_works_locally_and_on_a_space(request, where):
    url = request.getfixturevalue("server_url" if where == "local" else "spaces_url")
    example = readme_mcp_example()
    assert 'URL = "http://127.0.0.1:7860/gradio_api/mcp/"' in example
    example = example.replace("http://127.0.0.1:7860/", url)
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1].startswith("[0.0, 0.0, 0.0, None]")
