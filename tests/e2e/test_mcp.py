"""The three endpoints as MCP tools, through the official ``mcp`` client against a launched server.

Gradio 6.31's MCP server names each tool after its Python function, reads each parameter's description from
the docstring's Args section, and writes a tool's result as ``str()`` of the endpoint's value (a Python
literal: ``None`` for JSON null). These tests pin all three.
"""

from __future__ import annotations

import ast
import asyncio

import pytest
import torch
from golden import CONTEXT_2, INPUTS, PIECES

pytestmark = pytest.mark.slow


def mcp_session(server_url: str, work):
    """Run ``work(session)`` in an initialized MCP client session on the app's streamable-HTTP endpoint."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main():
        async with streamable_http_client(server_url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def tools(server_url):
    async def listed(session):
        return {tool.name: tool for tool in (await session.list_tools()).tools}

    return mcp_session(server_url, listed)


def call(server_url: str, name: str, arguments: dict):
    async def called(session):
        return await session.call_tool(name, arguments)

    return mcp_session(server_url, called)


def test_the_tools_are_named_after_the_endpoints(tools):
    assert set(tools) == {"tokenize", "attend", "normalize", "train"}


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


def test_dtype_is_an_enum_and_attend_states_its_size(tools):
    dtype = tools["normalize"].inputSchema["properties"]["dtype"]
    assert dtype["enum"] == ["float16", "float32", "float64"] and dtype["default"] == "float32"
    assert "about 6 MB of JSON" in tools["attend"].description
    assert tools["attend"].inputSchema["properties"]["dim"]["default"] == 3


def result_of(response) -> object:
    assert not response.isError, response.content
    (content,) = response.content
    return ast.literal_eval(content.text)


def test_tokenize(server_url):
    result = result_of(call(server_url, "tokenize", {"text": "Your journey starts with one step"}))
    assert result == {"ids": [7120, 7002, 4940, 351, 530, 2239], "tokens": PIECES}


def test_attend_with_the_books_table(server_url):
    table = "\n".join(",".join(str(v) for v in row) for row in INPUTS)
    result = result_of(call(server_url, "attend", {"text": "Your journey starts with one step", "table": table}))
    assert result["tokens"] == PIECES
    assert result["context"][1] == pytest.approx(CONTEXT_2, abs=5e-5)


def test_normalize_overflow_is_none_with_a_note(server_url):
    result = result_of(call(server_url, "normalize", {"values": "1, 2, 3, 400", "dtype": "float32"}))
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
