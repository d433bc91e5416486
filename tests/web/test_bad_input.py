"""Hardening: every kind of bad input is refused quickly, with a short message that says what was wrong and what is
allowed, and never renders as markup.

Each refusal is checked once, directly against the app's handlers (the API function and the Run button, which map
the core's InputError onto gr.Error). A sample goes through the launched server as well (marked slow), each followed
by a good call that must still return the book's numbers. Odd but valid inputs are checked to WORK, with real values.

Issue 9's fast, specific refusals are here: the 1 MB table, deep nesting, short excerpts, the one number rule, and
the CSV export's formula neutralization (its unit tests are in test_export.py; the float16 lab note is in
test_lab.py; link warnings in test_app.py).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from golden import CONTEXT_2, INPUTS, SENTENCE

import app
import attention_core as ac
from attention_core import normalization, pipeline
from web import errors

BOOK_CSV = "\n".join(",".join(f"{v:.2f}" for v in row) for row in INPUTS)
TEXT_312_TOKENS = "the" + " the" * 311
SECRET = "/secret/path boom"
MESSAGE_LIMIT = 300  # every refusal fits in a toast


def table_of(rows: list[list[Any]]) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in rows)


def book_table_with(row: int, column: int, value: str) -> str:
    rows = [[f"{v:.2f}" for v in r] for r in INPUTS]
    rows[row][column] = value
    return table_of(rows)


def user_error(call: Callable[[], Any]) -> str:
    """The gr.Error message a handler raises (anything else, or no error, fails the test)."""
    with pytest.raises(gr.Error) as info:
        call()
    return info.value.message


def assert_says(message: str, says: tuple[str, ...], never: tuple[str, ...] = ()) -> None:
    for part in says:
        assert part in message, f"{part!r} is missing from {message!r}"
    for part in never + ("Traceback", 'File "', "<"):
        assert part not in message, f"{part!r} should not be in {message!r}"
    assert len(message) <= MESSAGE_LIMIT, message


# --- /attend and the Run button --------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """A refused call: ``args`` in /attend's order, and what its message must (not) contain."""

    args: tuple[Any, ...]
    says: tuple[str, ...]
    never: tuple[str, ...] = ()
    ui: bool = True  # the page can produce this input (strings in text boxes, numbers or None in number boxes)


def attend_case(
    says: tuple[str, ...],
    *,
    text: Any = SENTENCE,
    dim: Any = 3,
    seed: Any = 123,
    table: Any = "",
    never: tuple[str, ...] = (),
    ui: bool = True,
) -> Bad:
    return Bad((text, dim, seed, table), says, never, ui)


WIDE_ROW = ",".join(["0.5"] * 769)

ATTEND_REFUSALS = [
    pytest.param(attend_case(("text is empty", "Type a sentence"), text=""), id="text-empty"),
    pytest.param(
        attend_case(("10,001 characters", "the limit is 10,000"), text="a" * 10_001), id="text-over-10000-chars"
    ),
    pytest.param(attend_case(("312 tokens", "the limit is 256"), text=TEXT_312_TOKENS), id="text-over-256-tokens"),
    pytest.param(attend_case(("text must be a string", "int"), text=123, ui=False), id="text-not-a-string"),
    pytest.param(attend_case(("embedding dimension is 0", "between 1 and 768"), dim=0), id="dim-0"),
    pytest.param(attend_case(("embedding dimension is 769", "between 1 and 768"), dim=769), id="dim-769"),
    pytest.param(attend_case(("embedding dimension", "whole number", "2.5"), dim=2.5), id="dim-fraction"),
    pytest.param(attend_case(("embedding dimension", "whole number", "'abc'"), dim="abc", ui=False), id="dim-word"),
    pytest.param(attend_case(("embedding dimension is empty",), dim=None, never=("NoneType",)), id="dim-none"),
    pytest.param(attend_case(("seed is -1", "between 0 and 4,294,967,295"), seed=-1), id="seed-negative"),
    pytest.param(attend_case(("seed is 4294967296", "between 0 and 4,294,967,295"), seed=2**32), id="seed-2**32"),
    pytest.param(attend_case(("seed", "whole number", "1.5"), seed=1.5), id="seed-fraction"),
    pytest.param(attend_case(("seed is empty",), seed=None, never=("NoneType",)), id="seed-none"),
    pytest.param(
        attend_case(("table is empty", "one row of numbers per token"), table="# no rows\n# at all\n"),
        id="table-only-comments",
    ),
    pytest.param(
        attend_case(
            ("Row 2 has 2 numbers", "row 1 has 3", "same number of columns"),
            table=BOOK_CSV.replace("0.55,0.87,0.66", "0.55,0.87"),
        ),
        id="table-ragged-csv",
    ),
    pytest.param(
        attend_case(("Row 3, column 2 is 'abc'", "not a number"), table=book_table_with(2, 1, "abc")),
        id="table-non-numeric",
    ),
    pytest.param(
        attend_case(
            ("comma as the decimal mark", "'0,43'", "0.43"),
            table="\n".join(" ".join(f"{v:.2f}".replace(".", ",") for v in row) for row in INPUTS),
        ),
        id="table-decimal-comma",
    ),
    pytest.param(
        attend_case(("Row 5, column 3 is inf", "finite number"), table=book_table_with(4, 2, "inf")), id="table-inf"
    ),
    pytest.param(
        attend_case(("finite number",), table=json.dumps(INPUTS).replace("0.15", "NaN", 1)), id="table-json-nan"
    ),
    pytest.param(
        attend_case(("overflow", "float32", "Scale the table down"), table=table_of([[1e30] * 3] * 6)),
        id="table-scores-overflow",
    ),
    pytest.param(
        attend_case(("Row 1, column 1", "beyond float32's range"), table=table_of([[1e39, 1, 1]] * 6)),
        id="table-entry-beyond-float32",
    ),
    pytest.param(
        attend_case(("table has 5 rows", "text has 6 tokens", "one row per token"), table=table_of(INPUTS[:5])),
        id="table-too-few-rows",
    ),
    pytest.param(
        attend_case(("more than 256 rows", "the limit is 256"), table="\n".join(["0.1,0.2,0.3"] * 300)),
        id="table-over-256-rows",
    ),
    pytest.param(
        attend_case(("769 columns", "the limit is 768"), table="\n".join([WIDE_ROW] * 6)), id="table-over-768-columns"
    ),
    pytest.param(
        attend_case(("1,200,000 bytes", "the limit is 1,000,000 bytes"), table="1," * 600_000), id="table-over-1MB"
    ),
    pytest.param(attend_case(("table must be text", "int"), table=123, ui=False), id="table-not-text"),
    pytest.param(attend_case(("text is empty", "no label column"), text="", table=BOOK_CSV), id="no-text-no-labels"),
    pytest.param(attend_case(("text", "position 2", "surrogate", "U+D800"), text="a\ud800b"), id="text-lone-surrogate"),
    pytest.param(attend_case(("table", "surrogate", "U+DC00"), table="0.1,0.2\n\udc00"), id="table-lone-surrogate"),
]


@pytest.mark.parametrize("case", ATTEND_REFUSALS)
def test_attend_refuses(case: Bad):
    assert_says(user_error(lambda: app.attend_endpoint(*case.args)), case.says, case.never)
    if case.ui:
        text, dim, seed, table = case.args
        source = "table" if table.strip() else "random"
        assert_says(user_error(lambda: app.run_attention(text, source, dim, seed, table, False)), case.says, case.never)


def test_the_ui_refuses_an_empty_table_but_the_api_reads_it_as_no_table():
    message = user_error(lambda: app.run_attention(SENTENCE, "table", 3, 123, " \n\t", False))
    assert_says(message, ("table is empty", "seeded random table"))
    assert app.attend_endpoint(SENTENCE, 3, 123, " \n\t") == app.attend_endpoint(SENTENCE, 3, 123, "")


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: app.tokenize(""), ("text is empty",)),
        (lambda: app.tokenize("b" * 10_001), ("10,001 characters",)),
        (lambda: app.tokenize(TEXT_312_TOKENS), ("312 tokens", "the limit is 256")),
        (lambda: app.tokenize([1, 2]), ("text must be a string", "list")),
        (lambda: app.tokenize("x\udfff"), ("surrogate", "U+DFFF")),
        (lambda: app.normalize("1, 2", "float8"), ("The dtype is 'float8'", "float16, float32, float64")),
        (lambda: app.normalize("1, 2\ud83d"), ("surrogate", "U+D83D")),
        (
            lambda: app.show_query(app.run_attention("a b", "random", 3, 1, "", False)[app.ui.state], 9),
            ("The query index is 9", "between 0 and 1"),
        ),
        (
            lambda: app.trace_pair(app.run_attention("a b", "random", 3, 1, "", False)[app.ui.state], 0, "two"),
            ("The key must be a whole number, not 'two'",),
        ),
    ],
    ids=[
        "tokenize-empty",
        "tokenize-long",
        "tokenize-tokens",
        "tokenize-list",
        "tokenize-surrogate",
        "normalize-dtype",
        "normalize-surrogate",
        "query-past-end",
        "key-word",
    ],
)
def test_other_handlers_refuse(call, says):
    assert_says(user_error(call), says)


def test_an_expected_refusal_logs_one_line_without_a_traceback(caplog):
    run = app.run_attention("a b", "random", 3, 1, "", False)[app.ui.state]
    with caplog.at_level(logging.INFO, logger="attention_app"):
        user_error(lambda: app.show_query(run, 99))
    (record,) = [r for r in caplog.records if r.name == "attention_app"]
    assert record.levelno == logging.INFO and record.exc_info is None and record.exc_text is None
    assert "refused in show_query" in record.getMessage() and "\n" not in record.getMessage()


# --- odd but valid input works --------------------------------------------------------------------------

WORKS = [
    pytest.param(" ", [220], id="single-space"),
    pytest.param(" \n\t ", None, id="whitespace-only"),
    pytest.param("hi <|endoftext|> there", [5303, 220, 50256, 612], id="endoftext"),
    pytest.param("a\x07b\x00c", [64, 195, 65, 188, 66], id="control-chars"),
    pytest.param("a\u200bb", [64, 9525, 65], id="zero-width-space"),
    pytest.param("שלום עולם", None, id="hebrew"),
    pytest.param("\u202eabc", [447, 106, 39305], id="rtl-override"),
    pytest.param("<img src=x onerror=alert(1)> **bold** $x$", None, id="markup-is-text"),
]


def finite_rows_summing_to_one(weights: list[list[float]]) -> bool:
    return all(all(v is not None and math.isfinite(v) for v in row) and abs(sum(row) - 1) < 1e-5 for row in weights)


@pytest.mark.parametrize(("text", "golden_ids"), WORKS)
def test_odd_text_works(text, golden_ids):
    result = app.attend_endpoint(text, 4, 9, "")
    encoding = ac.gpt2_encoding()
    if golden_ids is not None:
        assert result["ids"] == golden_ids
    assert encoding.decode(result["ids"]) == text
    assert finite_rows_summing_to_one(result["weights"])
    assert app.tokenize(text) == {"ids": result["ids"], "tokens": result["tokens"]}


@pytest.mark.parametrize(
    ("dim", "seed", "same_as"),
    [("3", 123, (3, 123)), (" 5 ", "7", (5, 7)), (4.0, 8.0, (4, 8)), ("1e1", "0", (10, 0))],
    ids=["dim-string", "padded-strings", "integral-floats", "exponent"],
)
def test_numbers_in_other_forms_are_accepted(dim, seed, same_as):
    assert app.attend_endpoint(SENTENCE, dim, seed, "") == app.attend_endpoint(SENTENCE, *same_as, "")


# --- issue 9: fast, specific refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["1\n" * 500_000, "0.123456789012345\n" * 55_000, "[[1]," * 199_999 + "[1]]", "[" * 500_000 + "]" * 500_000],
    ids=["one-number-per-line-1MB", "long-numbers-per-line", "json-rows-1MB", "nested-1MB"],
)
def test_a_1MB_table_is_refused_in_well_under_a_second(table):
    assert len(table.encode()) <= ac.MAX_TABLE_BYTES  # within the byte limit: the rows (or the nesting) refuse it
    ac.parse_embedding_table("1, 2")  # warm: the first call imports torch
    start = time.perf_counter()
    with pytest.raises(ac.TableError) as caught:
        ac.parse_embedding_table(table)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"refused after {elapsed:.2f} s"  # a correctness bound, not a benchmark
    assert "rows; the limit is 256" in str(caught.value) or "nested too deeply" in str(caught.value)
    start = time.perf_counter()
    message = user_error(lambda: app.run_attention(SENTENCE, "table", 3, 123, table, False))
    assert time.perf_counter() - start < 0.5
    assert message == errors.message(caught.value)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ("[[[[0.43, 0.15]]]]", "The table is nested too deeply. Use a list of rows of numbers"),
        ("[" * 100_000 + "]" * 100_000, "The table is nested too deeply."),
        ('[{"a": 0.43, "b": 0.15}]', "The table holds JSON objects ({...}). Use a list of rows of numbers"),
        ('[[0.43], {"a": 1}]', "Row 2"),
    ],
    ids=["four-deep", "100000-deep", "objects", "object-after-a-row"],
)
def test_nesting_and_objects_get_their_own_message(table, says):
    message = user_error(lambda: app.attend_endpoint("", 3, 123, table))
    assert says in message and message != errors.GENERIC_ERROR
    assert len(message) <= MESSAGE_LIMIT


HUGE = 10**4000 - 1  # a JSON client can send it as a number


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: ac.check_seed(HUGE), "The seed is a 4000-digit number; it must be between 0 and 4,294,967,295"),
        (lambda: ac.check_seed(-HUGE), "The seed is a 4000-digit negative number; it must be between 0 and"),
        (lambda: ac.check_dim(HUGE), "The embedding dimension is a 4000-digit number; it must be between 1 and 768"),
        (
            lambda: ac.check_index(HUGE, "query", 6),
            "The query index is a 4000-digit number; it must be between 0 and 5",
        ),
        (lambda: app.attend_endpoint(SENTENCE, 3, HUGE, ""), "The seed is a 4000-digit number"),
        (lambda: ac.check_seed("9" * 4000), "The seed must be a whole number, not '999999999999999999999999999999…'."),
        (
            lambda: app.run_attention(SENTENCE, "random", "9" * 4000, 123, "", False),
            "The embedding dimension must be a whole number, not '999999999999999999999999999999…'.",
        ),
    ],
    ids=["seed", "negative-seed", "dim", "index", "api-seed", "seed-string", "run-button-dim-string"],
)
def test_a_4000_digit_number_is_not_echoed(call, says):
    with pytest.raises((ac.InputError, gr.Error)) as caught:
        call()
    message = getattr(caught.value, "message", None) or str(caught.value)
    assert says in message and "9" * 31 not in message and len(message) < 150


LONG = "<b>" + "x" * 5000 + "</b>"


@pytest.mark.parametrize(
    "call",
    [
        lambda: app.attend_endpoint(SENTENCE, LONG, 123, ""),
        lambda: app.attend_endpoint(SENTENCE, 3, LONG, ""),
        lambda: app.run_attention(SENTENCE, "random", 3, 123, "", False, LONG),
        lambda: app.attend_endpoint(SENTENCE, 3, 123, f"0.1, {LONG}"),
        lambda: app.attend_endpoint(SENTENCE, 3, 123, f"[[0.1, {LONG}]]"),
        lambda: app.normalize(f"1, {LONG}"),
        lambda: app.normalize("1", LONG),
    ],
    ids=["dim", "seed", "tau", "table-cell", "table-literal", "lab-value", "dtype"],
)
def test_a_long_bad_value_is_quoted_as_a_short_inert_excerpt(call):
    message = user_error(call)
    assert "x" * 31 not in message and "x" * 20 in message and "…" in message
    assert "<b>" not in message and "&lt;b&gt;" in message
    assert len(message) < MESSAGE_LIMIT


NUMBER_RULE = [("3_0", None), ("٣", None), ("1e2", 100.0), (" 0.43 ", 0.43)]


@pytest.mark.parametrize(("text", "number"), NUMBER_RULE, ids=["underscore", "arabic-indic", "exponent", "padded"])
def test_one_number_rule_everywhere(text, number):
    """Every box and the table parser read a typed number the same way (issue 9: "3_0" and "٣" were numbers to the
    number boxes but not to the table parser)."""
    assert ac.read_number(text) == number
    checks = {"dim": ac.check_dim, "seed": ac.check_seed, "temperature": ac.check_temperature}
    for name, check in checks.items():
        try:
            value = check(text)
        except ac.InputError as error:
            shown = str(error)
            if number is None:
                assert f"not {text!r}" in shown, shown  # refused as not a number
            else:
                assert f"not {text!r}" not in shown and (f"{number:g}" in shown), shown  # read, then out of range
        else:
            assert number is not None and value == number, name
    parsers = {
        "lab": lambda: ac.parse_values(text)[0],
        "csv_table": lambda: ac.parse_embedding_table(f"1, {text}").vectors[0, 1].item(),
        "json_table": lambda: ac.parse_embedding_table(f"[[1, {text}]]").vectors[0, 1].item(),
    }
    for name, parse in parsers.items():
        if number is None:
            with pytest.raises(ac.InputError, match="which is not a number"):
                parse()
        else:
            assert parse() == pytest.approx(number, rel=1e-7), name


# --- the CSV export is spreadsheet-safe; the JSON export is exact ------------------------------------------------


def test_exported_csv_neutralizes_formula_cells_and_json_keeps_them(tmp_path, monkeypatch):
    from attention_core.views import figures

    monkeypatch.setattr(app.ui.exports, "GRADIO_CACHE", str(tmp_path))
    monkeypatch.setattr(figures, "figure_to_png", lambda figure: b"\x89PNG")  # the picture is not the point here
    text = "=1+2-3@4\t5\r6"
    run = app.run_attention(text, "random", 3, 123, "", False)[app.ui.state]
    assert run.tokens == ["=", "1", "+", "2", "-", "3", "@", "4", "\t", "5", "\r", "6"]
    json_path, csv_path, _ = (Path(p) for p in app.prepare_exports(run, False))
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8"), newline="")))  # keep the lone \r
    expected = ["'" + t if t[0] in "=+-@\t\r" else t for t in run.tokens]
    assert rows[0][1:] == expected and [row[0] for row in rows[1:]] == expected
    assert all(cell.replace(".", "", 1).replace("e-", "", 1).isdigit() for row in rows[1:] for cell in row[1:])
    assert json.loads(json_path.read_text(encoding="utf-8"))["tokens"] == run.tokens


# --- unexpected errors stay on the server ----------------------------------------------------------------


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


def value_boom(*args: Any, **kwargs: Any) -> Any:
    raise ValueError(SECRET)  # a library's ValueError, not the core's InputError


@pytest.mark.parametrize("error", [boom, value_boom], ids=["RuntimeError", "ValueError"])
def test_an_unexpected_error_is_generic(monkeypatch, error):
    monkeypatch.setattr(pipeline, "self_attention", error)
    monkeypatch.setattr(normalization, "softmax_stable", error)
    for call in (
        lambda: app.attend_endpoint(SENTENCE),
        lambda: app.run_attention(SENTENCE, "random", 3, 123, "", False),
        lambda: app.normalize("1, 2"),
    ):
        assert user_error(call) == errors.GENERIC_ERROR


def test_an_unexpected_lab_error_is_not_shown_as_a_refusal(monkeypatch):
    monkeypatch.setattr(normalization, "softmax_stable", boom)
    with pytest.raises(RuntimeError):  # not caught as "Cannot compare:": Gradio hides it (show_error=False)
        app.run_lab("1, 2", "float32")


# --- through the launched server (slow) ------------------------------------------------------------------


def assert_still_serves(client) -> None:
    """A good /attend call after a bad one: the book's sentence and table give the book's context_vec_2."""
    result = client.predict(SENTENCE, 3, 123, BOOK_CSV, api_name="/attend")
    assert [round(v, 4) for v in result["context"][1]] == CONTEXT_2


API_SAMPLE = ["text-empty", "dim-word", "seed-none", "table-decimal-comma", "table-too-few-rows", "table-over-1MB"]


@pytest.mark.slow
@pytest.mark.parametrize("case", [case for case in ATTEND_REFUSALS if case.id in API_SAMPLE])
def test_attend_refuses_through_the_api(client, case: Bad):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(*case.args, api_name="/attend")
    assert_says(str(caught.value), case.says, case.never)
    assert_still_serves(client)


def raw_call(server_url: str, name: str, data: list[Any]) -> tuple[str, Any]:
    """POST /gradio_api/call/<name>, then read its event stream: ("complete", outputs) or ("error", message).

    json.dumps escapes a lone surrogate as ``\\ud800``: what a JavaScript or Python API client sends, and what
    gradio_client cannot send (it encodes to UTF-8 first).
    """
    with httpx.Client(timeout=30, trust_env=False) as http:
        posted = http.post(
            f"{server_url}gradio_api/call/{name}",
            content=json.dumps({"data": data}),
            headers={"content-type": "application/json"},
        )
        assert posted.status_code == 200, posted.text
        event_id = posted.json()["event_id"]
        event = ""
        with http.stream("GET", f"{server_url}gradio_api/call/{name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event in ("complete", "error"):
                    payload = json.loads(line.removeprefix("data: "))
                    return event, (payload.get("error") if event == "error" else payload)
    raise AssertionError(f"/{name}: the event stream ended without 'complete' or 'error'")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("attend", ["a\ud800b", 3, 123, ""], ("text", "position 2", "U+D800")),
        ("normalize", ["1, 2\ud83d", "float32"], ("surrogate", "U+D83D")),
    ],
    ids=["attend-text", "normalize-values"],
)
def test_a_lone_surrogate_is_refused_through_the_api(server_url, client, name, data, says):
    event, message = raw_call(server_url, name, data)
    assert event == "error"
    assert_says(message, says)
    assert_still_serves(client)


@pytest.mark.slow
def test_an_unexpected_error_is_generic_through_the_api(server_url, client, monkeypatch):
    monkeypatch.setattr(app.ac, "tokenize", boom)
    assert raw_call(server_url, "tokenize", ["hello"]) == ("error", errors.GENERIC_ERROR)
    monkeypatch.undo()
    assert client.predict("hello", api_name="/tokenize") == {"ids": [31373], "tokens": ["hello"]}


@pytest.mark.slow
def test_the_server_refuses_an_upload_over_1MB(server_url, client):
    with httpx.Client(timeout=30, trust_env=False) as http:
        response = http.post(
            f"{server_url}gradio_api/upload", files={"files": ("big.csv", b"0.1,0.2,0.3\n" * 100_000, "text/csv")}
        )
    assert response.status_code == 413
    assert "1000000 bytes" in response.text
    assert_still_serves(client)
