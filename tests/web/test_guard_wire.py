"""web/guard/gradio_wire.py: Gradio's routes, server-sent events, events by cost, and answers held as bytes."""

from __future__ import annotations

import math
import pickle
from types import SimpleNamespace

import orjson
import pytest

from web.guard import gradio_wire

# --- which events are light -----------------------------------------------------------------------


def test_every_event_of_the_app_is_classified_safe_by_default():
    """Each entry of demo.fns, the events a client can call by fn_index or api name, is light only when its function
    is in app.LIGHT; everything else (a new event too) is heavy."""
    import app

    events = gradio_wire.light_events(app.demo, app.LIGHT)
    functions = gradio_wire.event_functions(app.demo)
    assert len(functions) == len(app.demo.fns) > 40
    for fn_index, fn in functions.items():
        assert events.is_heavy_index(fn_index) == (fn not in app.LIGHT), (fn_index, fn)
        api_name = app.demo.fns[fn_index].api_name
        if api_name:
            assert events.is_heavy_api(api_name) == (fn not in app.LIGHT), api_name
    heavy_names = {getattr(fn, "__name__", None) for fn in functions.values() if fn not in app.LIGHT}
    for name in ("attend", "open_page", "run_attention", "refused_run", "run_extras", "follow_tau", "prepare_exports"):
        assert name in heavy_names, f"{name} computes or sends a run"
    assert not events.is_heavy_api("tokenize") and not events.is_heavy_api("normalize")
    assert events.is_heavy_api("no-such-api") and events.is_heavy_index(10_000) and events.is_heavy_index(None)


def test_no_light_event_runs_the_pipeline():
    """An event that runs the pipeline is heavy wherever it sits in the chain: no function in app.LIGHT names one
    of the calls that compute a run."""
    import app

    pipeline = {"run_from_inputs", "self_attention", "attend", "attend_endpoint", "run_attention", "refused_run"}
    for fn in app.LIGHT:
        called = set()
        for layer in (fn, getattr(fn, "__wrapped__", None)):  # user_errors wraps a handler
            code = getattr(layer, "__code__", None)
            called |= set(code.co_names) if code is not None else set()
        assert not (called & pipeline), (getattr(fn, "__name__", fn), called & pipeline)


def test_a_light_function_that_is_no_event_is_refused():
    import app

    def not_wired() -> None: ...

    with pytest.raises(ValueError, match="not_wired run"):
        gradio_wire.light_events(app.demo, [app.tokenize, not_wired])


# --- answers held as bytes ----------------------------------------------------------------------


class FakeQueue:
    """Gradio's Queue as far as Answers needs it: ``send_message(event, message)`` stores the message."""

    def __init__(self) -> None:
        self.messages: list = []

    def send_message(self, event, message) -> None:
        self.messages.append(message)


def completed(output: dict, event_id: str = "e1"):
    from gradio.server_messages import ProcessCompletedMessage

    return ProcessCompletedMessage(event_id=event_id, output=output, success=True)


def installed() -> tuple[gradio_wire.Answers, FakeQueue, list[str]]:
    queue = FakeQueue()
    answers = gradio_wire.Answers(SimpleNamespace(_queue=queue))
    produced: list[str] = []
    answers.listen(produced.append)
    return answers, queue, produced


def test_an_answer_waits_as_bytes_and_reads_back_exactly():
    answers, queue, produced = installed()
    output = {"data": [[0.1, 1 / 3, math.inf, -0.0], "text"], "duration": 0.5}
    original = completed(output)
    queue.send_message(SimpleNamespace(_id="e1", alive=True), completed(output))
    (held,) = queue.messages
    assert produced == ["e1"] and held.output == {}
    assert answers.held_bytes() == len(pickle.dumps(output, protocol=pickle.HIGHEST_PROTOCOL))
    dumped = held.model_dump()
    assert dumped == original.model_dump() and dumped["output"]["data"][0][1] == 1 / 3
    assert orjson.dumps(dumped, default=str) == orjson.dumps(original.model_dump(), default=str)
    assert answers.held_bytes() == 0, "a read answer is no longer held by the guard"


def test_a_large_answer_is_held_in_less_than_its_json():
    answers, queue, _ = installed()
    output = {"data": [[[0.123456789 * i for i in range(768)] for _ in range(256)]]}
    queue.send_message(SimpleNamespace(_id="e1", alive=True), completed(output))
    assert answers.held_bytes() < len(orjson.dumps(output))


def test_a_dropped_answer_frees_its_bytes_and_tells_a_late_reader():
    answers, queue, _ = installed()
    queue.send_message(SimpleNamespace(_id="e1", alive=True), completed({"data": [1.0] * 1000}))
    assert answers.drop("e1", "This answer expired.") is True
    (held,) = queue.messages
    dumped = held.model_dump()
    assert answers.held_bytes() == 0 and held.success is False
    assert dumped["success"] is False and dumped["output"]["error"] == "This answer expired."
    assert answers.drop("e1", "again") is False


def test_a_dead_event_or_another_message_passes_untouched():
    from gradio.server_messages import EstimationMessage

    answers, queue, produced = installed()
    estimation = EstimationMessage(event_id="e1", rank=0, queue_size=1)
    queue.send_message(SimpleNamespace(_id="e1", alive=True), estimation)
    dead = completed({"data": [1]})
    queue.send_message(SimpleNamespace(_id="e2", alive=False), dead)
    assert queue.messages == [estimation, dead] and produced == []


def test_the_sessions_copy_of_an_answer_is_forgotten():
    """Gradio keeps each session's last output values too (for its deep links); that second copy goes."""
    queue = FakeQueue()
    values = {5: {"props": {"value": [0.5] * 1000}}, 6: {"props": {"value": "another event's output"}}}
    blocks = SimpleNamespace(_queue=queue, state_holder={"s1": SimpleNamespace(config_values=values)})
    gradio_wire.Answers(blocks).listen(lambda event_id: None)
    event = SimpleNamespace(
        _id="e1", alive=True, session_hash="s1", fn=SimpleNamespace(outputs=[SimpleNamespace(_id=5)])
    )
    queue.send_message(event, completed({"data": [[0.5] * 1000]}))
    assert values == {5: {"props": {"value": None}}, 6: {"props": {"value": "another event's output"}}}


def test_installing_twice_wraps_once():
    answers, queue, produced = installed()
    answers.install()
    queue.send_message(SimpleNamespace(_id="e1", alive=True), completed({"data": [1]}))
    assert produced == ["e1"]


# --- reading server-sent events -----------------------------------------------------------------


def queue_data_stream() -> bytes:
    """What Gradio's /queue/data sends for one event, built from Gradio's own message models."""
    from gradio.server_messages import EstimationMessage, ProcessCompletedMessage, ProcessStartsMessage

    messages = [
        EstimationMessage(event_id="e1", rank=0, queue_size=1),
        ProcessStartsMessage(event_id="e1"),
        ProcessCompletedMessage(event_id="e1", output={"data": [[0.5] * 5000]}, success=True),
    ]
    return b"".join(b"data: " + orjson.dumps(m.model_dump(), default=str) + b"\n\n" for m in messages)


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 100, 10**6])
def test_the_completion_in_gradios_queue_stream_is_found_however_it_is_cut(chunk_size):
    stream = queue_data_stream()
    heads = gradio_wire.SseHeads()
    found = []
    for start in range(0, len(stream), chunk_size):
        found += [gradio_wire.completion(head) for head in heads.feed(stream[start : start + chunk_size])]
    assert found == [(False, None), (False, None), (True, "e1")]


def test_heads_stay_short_for_a_large_event():
    heads = gradio_wire.SseHeads()
    (head,) = heads.feed(b"data: " + b"1" * 10**6 + b"\n\n")
    assert len(head) == gradio_wire.HEAD_BYTES


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"event: complete\ndata: [1]", (True, None)),
        (b"event: error\ndata: null", (True, None)),
        (b"event: heartbeat\ndata: null", (False, None)),
        (b"event: generating\ndata: [1]", (False, None)),
        (b'data: {"msg":"close_stream","event_id":null}', (False, None)),
    ],
    ids=["complete", "error", "heartbeat", "generating", "close-stream"],
)
def test_call_stream_events(head, expected):
    assert gradio_wire.completion(head) == expected
