"""The Lecture tab's handlers (web/lecture.py), called directly (no server), and what the first tab says about
meaning and one-hot rows."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import gradio as gr
import pytest
import torch
from golden import SCORES_2, WORDS
from reference import CAT_SENTENCE

import app
import attention_core as ac
from attention_core.views import lecture as texts
from attention_core.views import lessons
from web import lecture, panels

ui = app.ui
SHOW, FORWARD, BACKWARD, FROM_LINK = ui.lecture_events


def _signal(result: dict) -> dict:
    return json.loads(result[ui.lecture.signal])


def test_the_tab_holds_the_lecture_container_and_its_own_matrix():
    config = app.demo.get_config_file()
    ids = {component.get("props", {}).get("elem_id") for component in config["components"]}
    assert {"lecture", "lecture-text", "lecture-question", "lecture-answer", "lecture-matrix"} <= ids
    labels = [component["props"].get("value") for component in config["components"] if component["type"] == "button"]
    assert "Back" in labels and "Next" in labels
    assert ui.lecture.matrix is not ui.heatmap


def test_the_first_step_on_the_books_table():
    result = SHOW("book", None, None, 1)
    assert result[ui.lecture.text].startswith(f"## Step 1 of {texts.STEP_COUNT}: The sentence")
    assert result[ui.lecture.counter] == f"Step 1 of {texts.STEP_COUNT}"
    assert result[ui.lecture.notice] == ""
    value = result[ui.lecture.matrix]
    assert value["tokens"] == ["Your", "␣journey", "␣starts", "␣with", "␣one", "␣step"]
    assert [float(v) for v in value["scores"].split()[6:12]] == pytest.approx(SCORES_2, abs=5e-5)
    assert value["caption"] is None  # the book's rows are far from one-hot
    assert _signal(result) == {
        "step": 1,
        "total": texts.STEP_COUNT,
        "title": "The sentence",
        "highlight": {"rows": [], "cols": [], "cells": []},
        "view": "scores",
        "focus": False,
    }
    assert result[ui.lecture.question] == ""  # step 1 asks nothing


def test_next_and_back_move_one_step_and_stop_at_the_ends():
    run = lecture.book_run()
    assert _signal(FORWARD("book", None, run, 4))["step"] == 5
    assert _signal(FORWARD("book", None, run, 4))["focus"] is True
    assert _signal(BACKWARD("book", None, run, 4))["step"] == 3
    assert _signal(FORWARD("book", None, run, texts.STEP_COUNT))["step"] == texts.STEP_COUNT
    assert _signal(BACKWARD("book", None, run, 1))["step"] == 1
    assert _signal(BACKWARD("book", None, run, True))["step"] == 1  # not a step number: from the start
    shown = FORWARD("book", None, run, 1)
    assert shown[ui.lecture.matrix] is gr.skip() or shown[ui.lecture.matrix] == gr.skip()  # same run: no new matrix
    question = shown[ui.lecture.question]
    assert question["prompt"].startswith("How many rows and columns")
    assert question["choices"] == list(texts.lecture_step(run, 2).question.choices)


def test_the_learners_run_is_followed_at_tau_one():
    run = ac.attend(CAT_SENTENCE, dim=3, seed=123, temperature=2.0)
    result = SHOW("run", run, None, 8)
    followed = result[ui.lecture.run]
    assert followed.tokens == run.tokens and followed.temperature == 1.0
    assert torch.equal(followed.attention.weights, torch.softmax(run.attention.scores, dim=-1))
    assert "τ = 1" in result[ui.lecture.notice]
    same = SHOW("run", followed, None, 8)
    assert same[ui.lecture.run] is followed and same[ui.lecture.notice] == ""
    assert _signal(result)["highlight"] == {"rows": [1], "cols": [], "cells": []}


@pytest.mark.parametrize(
    ("main_run", "notice"),
    [(None, "no run on the first tab"), ("one-token", "at least two tokens")],
    ids=["no-run", "one-token"],
)
def test_without_a_usable_run_the_lecture_says_so_and_follows_the_book(main_run, notice):
    if main_run == "one-token":
        main_run = ac.attend("Hello", dim=3, seed=1)
    result = SHOW("run", main_run, None, 3)
    assert notice in result[ui.lecture.notice]
    assert result[ui.lecture.run] is lecture.book_run()


def test_an_answer_says_right_or_not_with_the_numbers():
    run = lecture.book_run()
    question = texts.lecture_step(run, 4).question
    right = lecture.answer(run, 4, SimpleNamespace(index=question.answer))
    wrong = lecture.answer(run, 4, SimpleNamespace(index=(question.answer + 1) % len(question.choices)))
    assert right.startswith("**Right") and wrong.startswith("**Not quite")
    assert "0.2379" in right and "0.2379" in wrong  # α_22, the book's largest weight in row 2
    assert lecture.answer(run, 1, SimpleNamespace(index=0)) == ""  # step 1 has no question
    assert lecture.answer(None, 4, SimpleNamespace(index=0)) == ""
    assert lecture.answer(run, 4, SimpleNamespace(index="0")) == ""


def test_a_link_opens_its_step_in_the_lecture_tab():
    assert lecture.step_from_link(SimpleNamespace(query_params={"step": "5"})) == 5
    assert lecture.step_from_link(SimpleNamespace(query_params={"step": "99"})) == texts.STEP_COUNT
    assert lecture.step_from_link(SimpleNamespace(query_params={"text": "Hi"})) is None
    opened = FROM_LINK("book", None, None, 1, SimpleNamespace(query_params={"step": "5"}))
    assert opened[ui.tabs].selected == lecture.TAB_ID
    assert _signal(opened)["step"] == 5
    assert FROM_LINK("book", None, None, 1, SimpleNamespace(query_params={})) == gr.skip()


def test_lecture_steps_are_heavy_events_for_the_guard():
    from web.guard import gradio_wire

    events = gradio_wire.light_events(app.demo, app.LIGHT)
    wired = {index for index, block_fn in app.demo.fns.items() if block_fn.fn in ui.lecture_events}
    assert len(wired) == 5 and all(events.is_heavy_index(index) for index in wired)  # tab, Next, Back, source, link


# --- the first tab: meaning and one-hot rows ---------------------------------------------------------------


def test_the_first_screen_says_random_vectors_carry_no_meaning():
    """Under the form, on the first screen, whether the embeddings' settings are folded or not."""
    (note,) = [block for block in app.demo.blocks.values() if getattr(block, "elem_id", None) == "meaning-note"]
    assert lessons.RANDOM_EMBEDDINGS in note.value
    assert "carry no meaning" in note.value and "GPT-2" in note.value


def test_the_main_matrix_says_when_nearly_all_rows_are_one_hot():
    big = ac.attend(CAT_SENTENCE, dim=768, seed=123)
    caption = panels.matrix(big)["caption"]
    weights = big.attention.weights.double()
    assert caption.startswith(f"{int((weights.max(dim=-1).values > 0.99).sum())} of 10 rows are one-hot")
    book = ac.attend(" ".join(WORDS), table=ac.BOOK_TABLE)
    assert panels.matrix(book)["caption"] is None
    flat = dataclasses.replace(big, attention=ac.self_attention(big.attention.inputs, temperature=50.0))
    assert panels.matrix(flat)["caption"].startswith("10 of 10")  # even τ = 50 leaves ‖x‖² ≈ 768 far ahead
