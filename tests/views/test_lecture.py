"""The lecture's steps: the chapter's order, questions computed from the run, honest numbers, safe tokens."""

from __future__ import annotations

import math
import re

import pytest
import torch
from golden import CONTEXT, CONTEXT_2, SCORES_2, SUM_NORMALIZED_2, WEIGHTS, WEIGHTS_2
from reference import CAT_SENTENCE, NUMBER, significant_digits

from attention_core import attend
from attention_core.book import BOOK_TABLE
from attention_core.views import lecture
from attention_core.views.vectors import aligned_figure, plane_coordinates

BOOK_SENTENCE = "Your journey starts with one step"
# The order, as words each step's title must hold.
ORDER = [
    "sentence",
    "tokens",
    "embeddings",
    "query",
    "aligned",
    "sum normalization",
    "naive softmax",
    "torch.softmax",
    "context vector",
    "loops",
    "each row sums to 1",
    "all context vectors",
    "meaningful",
    "trainable weights",
]


@pytest.fixture(scope="module")
def book():
    return attend(BOOK_SENTENCE, table=BOOK_TABLE)


RUNS = {
    "cat-d3": (CAT_SENTENCE, 3, 123),
    "cat-d768": (CAT_SENTENCE, 768, 5),
    "hello-d2": ("Hello there friend", 2, 4),
    "long-d16": ("the quick brown fox jumps over the lazy dog " * 5, 16, 7),
}


@pytest.fixture(scope="module", params=["book", *RUNS], ids=["book", *RUNS])
def run(request, book):
    if request.param == "book":
        return book
    text, dim, seed = RUNS[request.param]
    return attend(text, dim=dim, seed=seed)


@pytest.fixture(scope="module")
def steps(run):
    return [lecture.lecture_step(run, number) for number in range(1, lecture.STEP_COUNT + 1)]


def _step(book, number):
    return lecture.lecture_step(book, number)


# --- order and shape ---------------------------------------------------------------------------------


def test_the_lecture_follows_the_chapters_order_in_twelve_or_more_steps():
    assert lecture.STEP_COUNT >= 12
    assert len(lecture.STEP_TITLES) == len(ORDER)
    for title, words in zip(lecture.STEP_TITLES, ORDER):
        assert words in title.lower(), (title, words)


def test_every_step_has_its_number_title_view_and_a_highlight_inside_the_matrix(run, steps):
    count = len(run.tokens)
    for number, step in enumerate(steps, start=1):
        assert step.number == number and step.total == lecture.STEP_COUNT
        assert step.heading == f"Step {number} of {lecture.STEP_COUNT}: {lecture.STEP_TITLES[number - 1]}"
        assert step.view in ("scores", "weights")
        marks = step.highlight.as_json()
        flat = marks["rows"] + marks["cols"] + [i for cell in marks["cells"] for i in cell]
        assert all(0 <= i < count for i in flat), (number, marks)
        assert step.markdown.strip()


def test_a_question_at_least_every_three_steps(steps):
    asked = [step.question is not None for step in steps]
    for start in range(len(steps) - 2):
        assert any(asked[start : start + 3]), f"no question in steps {start + 1} to {start + 3}"


def test_each_question_has_distinct_choices_and_exactly_one_is_right(steps):
    for step in steps:
        question = step.question
        if question is None:
            continue
        assert len(set(question.choices)) == len(question.choices) >= 2, question.choices
        assert 0 <= question.answer < len(question.choices)
        answers = [lecture.reveal(question, choice) for choice in range(len(question.choices))]
        assert [text.startswith("**Right") for text in answers] == [
            choice == question.answer for choice in range(len(question.choices))
        ]
        assert all(question.why in text for text in answers)
        assert NUMBER.search(question.why), f"step {step.number}: the reveal gives no number"
        assert "$" not in question.prompt and "\\(" not in question.prompt  # a plain-text label: no LaTeX
    assert lecture.reveal(steps[1].question, None) == ""
    assert lecture.reveal(steps[1].question, 99) == ""


def test_the_highlights_point_at_what_each_step_is_about(book):
    marks = {n: _step(book, n).highlight.as_json() for n in range(1, lecture.STEP_COUNT + 1)}
    assert marks[4] == {"rows": [1], "cols": [], "cells": []}  # the query row x^(2)
    assert marks[5]["cells"] == [[1, 2], [1, 1]]  # the traced cell ω_23, and ω_22
    assert marks[6]["rows"] == [1] and marks[8]["rows"] == [1]  # the row being normalized
    assert marks[10]["cells"] == [[1, 2], [2, 1]]  # ω_23 = ω_32
    assert marks[11]["cols"] == [1]  # a column
    assert marks[13]["cells"] == [[i, i] for i in range(6)]  # the diagonal


# --- questions computed from the run ---------------------------------------------------------------


def test_the_books_answers_follow_its_own_numbers(book):
    query = _step(book, 4).question
    best = max(range(6), key=lambda j: WEIGHTS_2[j])
    assert query.choices[query.answer].endswith(f"(token {best + 1})")  # ␣journey itself, 0.2379

    ahead = _step(book, 5).question  # sum normalization keeps the book's row inside 0..1
    assert ahead.choices[ahead.answer] == ("Yes" if all(0 <= s <= 1 for s in SUM_NORMALIZED_2) else "No")
    overflow = _step(book, 6).question
    assert overflow.choices[overflow.answer].startswith("No")  # e^1.495 is finite
    symmetric = _step(book, 9).question
    assert symmetric.choices[symmetric.answer].startswith("ω32")
    column = _step(book, 11).question
    assert column.choices[column.answer] == "No"
    printed = float(re.search(r"sums to (\d+\.\d+)", column.why)[1])
    assert printed == pytest.approx(sum(row[1] for row in WEIGHTS), abs=6 * 5e-5)  # six printed 4-decimal values


def test_a_768_dimension_run_overflows_naive_softmax_and_goes_negative():
    run = attend(CAT_SENTENCE, dim=768, seed=5)
    scores = run.attention.scores[1].double()
    ahead = lecture.lecture_step(run, 5).question
    inside = bool(((scores / scores.sum()) >= 0).all() and ((scores / scores.sum()) <= 1).all())
    assert ahead.choices[ahead.answer] == ("Yes" if inside else "No")
    overflow = lecture.lecture_step(run, 6).question
    assert overflow.choices[overflow.answer].startswith("Yes")  # ‖x‖² ≈ 768 > 88.72
    naive = lecture.lecture_step(run, 7).markdown
    assert "NaN" in naive


def test_the_meaning_step_reports_the_sweeps_and_this_runs_diagonal(book):
    by_seed, by_dim = lecture.sweeps()
    step = _step(book, 13)
    assert f"ranks anywhere from {min(by_seed.ranks)}" in step.markdown.replace("1st", "1")
    assert "from 1st to 10th" in step.markdown  # the observation, recounted by the sweep
    assert [row.dim for row in by_dim] == [3, 16, 64, 256, 768]
    for row in by_dim:
        assert f"| {row.dim} | " in step.markdown
        assert f"{row.one_hot} of {row.rows}" in step.markdown
    shares = [row.one_hot_share for row in by_dim]
    assert shares == sorted(shares) and shares[-1] == 1.0
    assert "**This run:** 0 of 6 rows are one-hot" in step.markdown  # the book's table: no row is one-hot
    predicted = _step(book, 12).question
    assert predicted.choices[predicted.answer] == "Almost only to itself"


# --- honest numbers ----------------------------------------------------------------------------------


def test_the_steps_print_the_books_numbers(book):
    assert ", ".join(f"{v:.4f}" for v in SCORES_2) in _step(book, 5).markdown
    assert ", ".join(f"{v:.4f}" for v in SUM_NORMALIZED_2) in _step(book, 6).markdown
    for number in (7, 8, 11):
        assert ", ".join(f"{v:.4f}" for v in WEIGHTS_2) in _step(book, number).markdown
    assert ",\\ ".join(f"{v:.4f}" for v in CONTEXT_2) in _step(book, 9).markdown
    all_context = _step(book, 12).markdown
    for row in CONTEXT:
        assert ",\\ ".join(f"{v:.4f}" for v in row) in all_context


def test_the_symmetry_claim_is_measured_on_the_run(book):
    asymmetry = float((book.attention.scores - book.attention.scores.T).abs().max())
    text = _step(book, 10).markdown
    assert ("exactly on this run" in text) == (asymmetry == 0)
    assert "agree on every score" in text


def test_the_split_reproduces_the_score_with_a_calculator(book):
    markdown = _step(book, 5).markdown
    found = re.search(r"= ([\d.]+) \\cdot ([\d.]+) \\cdot ([\d.]+) = ([\d.]+)\$\$", markdown)
    assert found, markdown
    norm_a, norm_b, cosine, score = (float(v) for v in found.groups())
    assert f"{norm_a * norm_b * cosine:.4f}" == found[4] == f"{SCORES_2[2]:.4f}"
    x2, x3 = book.attention.inputs[1].double(), book.attention.inputs[2].double()
    assert norm_a == pytest.approx(float(x2.norm()), abs=5e-7)
    assert cosine == pytest.approx(float(x2 @ x3 / (x2.norm() * x3.norm())), abs=5e-7)


def test_no_number_claims_more_digits_than_float32_or_float64_carry(steps):
    for step in steps:
        text = step.markdown + (step.question.why if step.question else "")
        for number in NUMBER.findall(text):
            assert significant_digits(number) <= 15, (step.number, number)
        if step.number not in (5, 7, 13):  # float64 lengths, exponentials and sweeps, each labelled as such
            for number in NUMBER.findall(text):
                assert significant_digits(number) <= 7, (step.number, number)


def test_one_hot_note_appears_only_when_nearly_all_rows_are(book):
    assert lecture.one_hot_note(book.attention.weights) is None
    run = attend(CAT_SENTENCE, dim=768, seed=5)
    weights = run.attention.weights.double()
    rows = int((weights.max(dim=-1).values > 0.99).sum())
    selves = int(((weights.argmax(dim=-1) == torch.arange(10)) & (weights.max(dim=-1).values > 0.99)).sum())
    note = lecture.one_hot_note(run.attention.weights)
    assert note.startswith(f"{rows} of 10 rows are one-hot") and f"{selves} of them to themselves" in note
    assert lecture.one_hot_note(torch.tensor([[1.0]])) is None  # one token: nothing to say


def test_check_step_clamps_and_falls_back():
    assert [lecture.check_step(v) for v in ("1", " 7 ", 0, -3, 99, "x", None, 2.0)] == [
        1,
        7,
        1,
        1,
        lecture.STEP_COUNT,
        1,
        1,
        1,
    ]


# --- tokens stay text ---------------------------------------------------------------------------------


def test_a_tables_labels_are_never_markup():
    table = "<b>x</b>,1,0\n*star*,0,1\n$\\alpha$,1,1"
    run = attend("", table=table)
    for number in range(1, lecture.STEP_COUNT + 1):
        step = lecture.lecture_step(run, number)
        assert "<b>" not in step.figure  # HTML, escaped (asterisks and dollars are plain text there)
        texts = [step.markdown] + ([step.question.why] if step.question else [])
        for text in texts:
            assert "<b>x" not in text and "*star*" not in text and "$\\alpha$" not in text, (number, text[:300])
        if step.question:  # choices are plain text, set with textContent by the page: the label as it is
            assert all("&#" not in choice for choice in step.question.choices)


def test_a_single_token_run_still_has_every_step():
    run = attend("Hello", dim=3, seed=1)
    for number in range(1, lecture.STEP_COUNT + 1):
        assert lecture.lecture_step(run, number).heading.startswith(f"Step {number} of")


# --- the two vectors, drawn ----------------------------------------------------------------------------


def test_the_drawing_keeps_lengths_and_angle(book):
    a, b = book.attention.inputs[1], book.attention.inputs[4]
    (ax, ay), (bx, by) = plane_coordinates(a, b)
    assert math.hypot(ax, ay) == pytest.approx(float(a.double().norm()), rel=1e-12)
    assert math.hypot(bx, by) == pytest.approx(float(b.double().norm()), rel=1e-12)
    assert ax * bx + ay * by == pytest.approx(float(a.double() @ b.double()), rel=1e-12)
    two = torch.tensor([[0.5, -1.0], [2.0, 0.25]])
    assert plane_coordinates(two[0], two[1]) == ((0.5, -1.0), (2.0, 0.25))  # d = 2: its own coordinates


def test_the_figure_is_named_described_and_only_for_small_d(book):
    figure = _step(book, 5).figure
    assert 'role="img"' in figure and 'aria-label="The vectors x(2) and x(3)' in figure
    assert "<figcaption>" in figure and "θ = 1.5°" in figure
    assert "var(--fig-blue" in figure and "var(--fig-vermillion" in figure and "stroke-dasharray" in figure
    big = attend(CAT_SENTENCE, dim=16, seed=1)
    assert _step(big, 5).figure == "" and "not drawn" in _step(big, 5).markdown
    x = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    assert aligned_figure(x[0], x[1], query=0, key=1, tokens=["a", "b"]) == ""
