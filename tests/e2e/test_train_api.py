"""/train through a launched server (gradio_client and MCP): the answer's shape, its numbers against the core,
determinism, refusals that name the bad parameter, and the time at the limits (printed, never asserted)."""

from __future__ import annotations

import math
import time

import httpx
import pytest
import torch
from gradio_client.exceptions import AppError
from reference import CAT_SENTENCE, recipe_inputs
from torch.testing import assert_close

import attention_core as ac

pytestmark = pytest.mark.slow

KEYS = [
    "tokens",
    "query",
    "key",
    "steps",
    "learning_rate",
    "loss",
    "weights_before",
    "weights_after",
    "w_query",
    "w_key",
    "checkpoint_steps",
    "checkpoint_weights",
]


def test_warm_learns_mat_and_the_answer_has_its_shape(client):
    result = client.predict(text=CAT_SENTENCE, query=10, key=6, api_name="/train")
    assert list(result) == KEYS
    assert (result["tokens"][9], result["tokens"][5]) == (" warm", " mat")
    assert (result["query"], result["key"], result["steps"], result["learning_rate"]) == (10, 6, 100, 0.1)
    assert len(result["loss"]) == 101
    assert len(result["weights_before"]) == len(result["weights_after"]) == 10
    assert [len(row) for row in result["w_query"]] == [3, 3, 3] and [len(row) for row in result["w_key"]] == [3, 3, 3]
    assert result["checkpoint_steps"] == [0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100]
    assert [len(row) for row in result["checkpoint_weights"]] == [10] * 11
    assert result["weights_after"][5] >= 0.8 > 0.2 > result["weights_before"][5]
    assert result["loss"][-1] < result["loss"][0]


def test_the_answer_is_the_cores_training_on_the_notebook_recipe(client):
    result = client.predict(text=CAT_SENTENCE, query=2, key=9, dim=4, seed=7, steps=30, api_name="/train")
    x = recipe_inputs(ac.tokenize(CAT_SENTENCE).ids, dim=4, seed=7)
    expected = ac.train_query_key(x, 1, 8, steps=30)
    # float32 through JSON as shortest decimals: exact.
    assert torch.equal(torch.tensor(result["weights_after"], dtype=torch.float32), expected.weights_after)
    assert torch.equal(torch.tensor(result["w_key"], dtype=torch.float32), expected.w_key)
    # The matrices reproduce the row they were trained to give (float64 reference, float32 matrices).
    x64 = x.double()
    scores = (x64[1] @ torch.tensor(result["w_query"], dtype=torch.float64)) @ (
        x64 @ torch.tensor(result["w_key"], dtype=torch.float64)
    ).T  # (d,) @ (d, d) @ (d, T) -> (T,)
    assert_close(
        torch.softmax(scores / math.sqrt(4), dim=0),
        torch.tensor(result["weights_after"], dtype=torch.float64),
        atol=1e-5,
        rtol=0.0,
    )


def test_two_calls_give_the_same_answer(client):
    first, second = (client.predict(CAT_SENTENCE, 3, 1, 3, 5, 20, api_name="/train") for _ in range(2))
    assert first == second


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        ({"query": 10, "key": 11}, ("The key is token 11", "between 1 and 10")),
        ({"query": 0, "key": 6}, ("The query is token 0", "between 1 and 10")),
        ({"query": 10, "key": 6, "steps": 501}, ("training steps is 501", "between 1 and 500")),
        ({"query": 10, "key": 6, "dim": 769}, ("embedding dimension is 769",)),
    ],
    ids=["key", "query", "steps", "dim"],
)
def test_a_bad_parameter_is_refused_by_name(client, arguments, fragments):
    with pytest.raises(AppError) as refused:
        client.predict(text=CAT_SENTENCE, **arguments, api_name="/train")
    for fragment in fragments:
        assert fragment in str(refused.value)


def test_view_api_lists_train_with_its_parameters_limits_and_typed_answer(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/train"]
    assert [(p["parameter_name"], p.get("parameter_default")) for p in api["parameters"]] == [
        ("text", None),
        ("query", None),
        ("key", None),
        ("dim", 3),
        ("seed", 123),
        ("steps", 100),
    ]
    for fragment in ("counted from 1", "steps: Adam steps, 1 to 500", "about 13 MB of JSON"):
        assert fragment in api["description"]
    answer = api["returns"][0]["type"]
    assert answer["type"] == "object" and list(answer["properties"]) == KEYS


def test_train_is_an_mcp_tool(server_url):
    with httpx.Client(timeout=30, trust_env=False) as http:
        tools = {tool["name"]: tool for tool in http.get(f"{server_url}gradio_api/mcp/schema").json()}
    schema = tools["train"]["inputSchema"]["properties"]
    assert schema["steps"]["default"] == 100
    assert "counted from 1" in schema["key"]["description"]


def test_time_at_the_limits_256_tokens_d_768_100_steps(client):
    text = " ".join(f"w{i}" for i in range(400))
    count = len(ac.tokenize(text).ids)
    words = text.split()
    while count > 256:  # trim to exactly 256 tokens
        words.pop()
        text = " ".join(words)
        count = len(ac.tokenize(text).ids)
    assert count == 256
    client.predict(text=text, query=256, key=1, dim=768, steps=1, api_name="/train")  # the table is built once
    start = time.perf_counter()
    result = client.predict(text=text, query=256, key=1, dim=768, steps=100, api_name="/train")
    seconds = time.perf_counter() - start
    assert len(result["w_query"]) == 768 and len(result["weights_after"]) == 256
    print(f"\n/train at 256 tokens, d = 768, 100 steps: {seconds:.1f} s through gradio_client (target: within 15 s)")
