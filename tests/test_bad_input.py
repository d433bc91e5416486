"""Hardening: every kind of bad input, refused with a message that says what was wrong and what is allowed.

Each case is checked twice: DIRECTLY (the app's handlers, which map the core's InputError onto gr.Error) and
THROUGH the named API with gradio_client against the server that conftest.py launches on loopback. After
every refused call through the client, a good /attend call must still return the book's numbers.

Inputs that look odd but are valid (``<|endoftext|>``, control and zero-width characters, right-to-left
text, a single lab value, -inf) are checked to WORK, with real values.

Decision on empty tables: in the UI, choosing "My own table" with an empty or whitespace-only box is an
error. Through the API a blank ``table`` argument means "no table" (the seeded random embeddings), as the
/attend docstring says, so an API client that wants a table error sends a non-blank table with no rows
(only ``#`` comments).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

import app
import attention_core as ac
from attention_core import normalization, pipeline

BOOK_INPUTS = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
BOOK_CSV = "\n".join(",".join(f"{v:.2f}" for v in row) for row in BOOK_INPUTS)
BOOK_CONTEXT_2 = ["0.4419", "0.6515", "0.5683"]  # the book's context_vec_2

TEXT_312_TOKENS = "the" + " the" * 311
TEXT_256_TOKENS = "the" + " the" * 255
SECRET = "/secret/path boom"


def table_of(rows: list[list[Any]]) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in rows)


def book_table_with(row: int, column: int, value: str) -> str:
    rows = [[f"{v:.2f}" for v in r] for r in BOOK_INPUTS]
    rows[row][column] = value
    return table_of(rows)


# --- helpers -------------------------------------------------------------------------------------


def assert_still_serves(client: Client) -> None:
    """A good /attend call after a bad one: the book's sentence and table give the book's context_vec_2."""
    result = client.predict(app.BOOK_SENTENCE, 3, 123, BOOK_CSV, api_name="/attend")
    assert [f"{v:.4f}" for v in result["context"][1]] == BOOK_CONTEXT_2


def assert_says(message: str, says: tuple[str, ...], never: tuple[str, ...] = ()) -> None:
    for part in says:
        assert part in message, f"{part!r} is missing from {message!r}"
    for part in never + ("Traceback", 'File "'):
        assert part not in message, f"{part!r} should not be in {message!r}"


def user_error(call: Callable[[], Any]) -> str:
    """The gr.Error message a handler raises (anything else, or no error, fails the test)."""
    with pytest.raises(gr.Error) as info:
        call()
    return info.value.message


def api_error(client: Client, *args: Any, api_name: str) -> str:
    """The AppError message of a refused call through gradio_client; then checks the server still serves."""
    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    assert_still_serves(client)
    return str(info.value)


def raw_call(server_url: str, name: str, data: list[Any]) -> tuple[str, Any]:
    """POST /gradio_api/call/<name>, then read its event stream: ("complete", outputs) or ("error", message).

    The body is ``json.dumps`` output, which escapes a lone surrogate as ``\\ud800``: exactly what a
    JavaScript or Python API client sends. gradio_client cannot send it (it encodes to UTF-8 first).
    """
    body = json.dumps({"data": data})
    with httpx.Client(timeout=30, trust_env=False) as http:
        posted = http.post(f"{server_url}gradio_api/call/{name}", content=body,
                           headers={"content-type": "application/json"})
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


def finite_rows_summing_to_one(weights: list[list[float]]) -> bool:
    return all(all(v is not None and math.isfinite(v) for v in row) and abs(sum(row) - 1) < 1e-5 for row in weights)


# --- /attend and the Run button: refused inputs --------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """A refused call: ``args`` in the endpoint's order, and what its message must (not) contain."""

    args: tuple[Any, ...]
    says: tuple[str, ...]
    never: tuple[str, ...] = ()
    ui: bool = True  # the UI can produce this input (strings in text boxes, numbers or None in number boxes)


def attend_case(says: tuple[str, ...], *, text: Any = app.BOOK_SENTENCE, dim: Any = 3, seed: Any = 123,
                table: Any = "", never: tuple[str, ...] = (), ui: bool = True) -> Bad:
    return Bad((text, dim, seed, table), says, never, ui)


WIDE_ROW = ",".join(["0.5"] * 769)

ATTEND_REFUSALS = [
    pytest.param(attend_case(("text is empty", "Type a sentence"), text=""), id="text-empty"),
    pytest.param(attend_case(("text is empty",), text=" \n\t  "), id="text-whitespace-only"),
    pytest.param(attend_case(("10,001 characters", "the limit is 10,000"), text="a" * 10_001), id="text-over-10000-chars"),
    pytest.param(attend_case(("312 tokens", "the limit is 256"), text=TEXT_312_TOKENS), id="text-over-256-tokens"),
    pytest.param(attend_case(("text must be a string", "int"), text=123, ui=False), id="text-not-a-string"),
    pytest.param(attend_case(("embedding dimension is 0", "between 1 and 768"), dim=0), id="dim-0"),
    pytest.param(attend_case(("embedding dimension is -1", "between 1 and 768"), dim=-1), id="dim-negative"),
    pytest.param(attend_case(("embedding dimension is 769", "between 1 and 768"), dim=769), id="dim-769"),
    pytest.param(attend_case(("embedding dimension", "whole number", "2.5"), dim=2.5), id="dim-fraction"),
    pytest.param(attend_case(("embedding dimension", "whole number", "'abc'"), dim="abc", ui=False), id="dim-word"),
    pytest.param(attend_case(("embedding dimension", "whole number"), dim=None, never=("NoneType",)), id="dim-none"),
    pytest.param(attend_case(("seed is -1", "between 0 and 4,294,967,295"), seed=-1), id="seed-negative"),
    pytest.param(attend_case(("seed is 4294967296", "between 0 and 4,294,967,295"), seed=2**32), id="seed-2**32"),
    pytest.param(attend_case(("seed", "whole number", "1.5"), seed=1.5), id="seed-fraction"),
    pytest.param(attend_case(("seed", "whole number", "'x'"), seed="x", ui=False), id="seed-word"),
    pytest.param(attend_case(("seed", "whole number"), seed=None, never=("NoneType",)), id="seed-none"),
    pytest.param(attend_case(("table is empty", "one row of numbers per token"), table="# no rows\n# at all\n"),
                 id="table-only-comments"),
    pytest.param(attend_case(("Row 2 has 2 numbers", "row 1 has 3", "same number of columns"),
                             table=BOOK_CSV.replace("0.55,0.87,0.66", "0.55,0.87")), id="table-ragged-csv"),
    pytest.param(attend_case(("Row 4 has 4 numbers", "row 1 has 3"),
                             table=BOOK_CSV.replace(",", " ").replace("0.22 0.58 0.33", "0.22 0.58 0.33 0.1")),
                 id="table-ragged-spaces"),
    pytest.param(attend_case(("Row 3, column 2 is 'abc'", "not a number"), table=book_table_with(2, 1, "abc")),
                 id="table-non-numeric"),
    pytest.param(attend_case(("comma as the decimal mark", "'0,43'", "0.43"),
                             table="\n".join(" ".join(f"{v:.2f}".replace(".", ",") for v in row) for row in BOOK_INPUTS)),
                 id="table-decimal-comma"),
    pytest.param(attend_case(("Row 1, column 2 is nan", "finite number"), table=book_table_with(0, 1, "nan")),
                 id="table-nan"),
    pytest.param(attend_case(("Row 5, column 3 is inf", "finite number"), table=book_table_with(4, 2, "inf")),
                 id="table-inf"),
    pytest.param(attend_case(("is -inf", "finite number"), table=book_table_with(4, 2, "-inf")), id="table-minus-inf"),
    pytest.param(attend_case(("finite number",), table=json.dumps(BOOK_INPUTS).replace("0.15", "NaN", 1)),
                 id="table-json-nan"),
    pytest.param(attend_case(("overflow", "float32", "Scale the table down"), table=table_of([[1e30] * 3] * 6)),
                 id="table-1e30-scores-overflow"),
    pytest.param(attend_case(("overflow", "Scale the table down"), table=table_of([[1e20, -1e20, 1e20]] * 6)),
                 id="table-1e20-scores-overflow"),
    pytest.param(attend_case(("Row 1, column 1", "beyond float32's range"), table=table_of([[1e39, 1, 1]] * 6)),
                 id="table-entry-beyond-float32"),
    pytest.param(attend_case(("table has 5 rows", "text has 6 tokens", "one row per token"),
                             table=table_of(BOOK_INPUTS[:5])), id="table-too-few-rows"),
    pytest.param(attend_case(("table has 7 rows", "text has 6 tokens"), table=table_of(BOOK_INPUTS + [[1, 2, 3]])),
                 id="table-too-many-rows"),
    pytest.param(attend_case(("257 rows", "the limit is 256"), table="\n".join(["0.1,0.2,0.3"] * 257)),
                 id="table-over-256-rows"),
    pytest.param(attend_case(("769 columns", "the limit is 768"), table="\n".join([WIDE_ROW] * 6)),
                 id="table-over-768-columns"),
    pytest.param(attend_case(("1,200,000 bytes", "the limit is 1,000,000 bytes"), table="1," * 600_000),
                 id="table-over-1MB"),
    pytest.param(attend_case(("table must be text", "int"), table=123, ui=False), id="table-not-text"),
    pytest.param(attend_case(("text is empty", "no label column"), text="", table=BOOK_CSV), id="no-text-no-labels"),
]


@pytest.mark.parametrize("case", ATTEND_REFUSALS)
def test_attend_refuses_directly(case: Bad):
    assert_says(user_error(lambda: app.attend_api(*case.args)), case.says, case.never)
    if case.ui:
        text, dim, seed, table = case.args
        source = app.SOURCE_TABLE if table.strip() else app.SOURCE_RANDOM
        message = user_error(lambda: app.run_attention(text, source, dim, seed, table, False))
        assert_says(message, case.says, case.never)


@pytest.mark.parametrize("case", ATTEND_REFUSALS)
def test_attend_refuses_through_the_api(client, case: Bad):
    assert_says(api_error(client, *case.args, api_name="/attend"), case.says, case.never)


@pytest.mark.parametrize("table", ["", "   \n\t \n"], ids=["empty", "whitespace"])
def test_ui_table_source_with_an_empty_table_is_refused(table):
    message = user_error(lambda: app.run_attention(app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, table, False))
    assert_says(message, ("table is empty", "seeded random table"))


@pytest.mark.parametrize("table", ["", "   \n\t \n"], ids=["empty", "whitespace"])
def test_api_blank_table_means_random_embeddings(client, table):
    without = app.attend_api(app.BOOK_SENTENCE, 3, 123, "")
    assert app.attend_api(app.BOOK_SENTENCE, 3, 123, table) == without
    assert client.predict(app.BOOK_SENTENCE, 3, 123, table, api_name="/attend") == without
    assert without["inputs"] != BOOK_INPUTS


# --- /tokenize: refused inputs -------------------------------------------------------------------

TOKENIZE_REFUSALS = [
    pytest.param(Bad(("",), ("text is empty",)), id="empty"),
    pytest.param(Bad(("\n \t",), ("text is empty",)), id="whitespace-only"),
    pytest.param(Bad(("b" * 10_001,), ("10,001 characters", "the limit is 10,000")), id="over-10000-chars"),
    pytest.param(Bad((TEXT_312_TOKENS,), ("312 tokens", "the limit is 256")), id="over-256-tokens"),
    pytest.param(Bad(([1, 2],), ("text must be a string", "list")), id="not-a-string"),
]


@pytest.mark.parametrize("case", TOKENIZE_REFUSALS)
def test_tokenize_refuses_directly(case: Bad):
    assert_says(user_error(lambda: app.tokenize_api(*case.args)), case.says, case.never)


@pytest.mark.parametrize("case", TOKENIZE_REFUSALS)
def test_tokenize_refuses_through_the_api(client, case: Bad):
    assert_says(api_error(client, *case.args, api_name="/tokenize"), case.says, case.never)


# --- lone surrogates, as a JSON client sends them -------------------------------------------------

SURROGATES = [
    pytest.param("attend", ["a\ud800b", 3, 123, ""], ("text", "position 2", "surrogate", "U+D800"), id="attend-text"),
    pytest.param("attend", [app.BOOK_SENTENCE, 3, 123, "0.1,0.2\n\udc00"], ("table", "surrogate", "U+DC00"),
                 id="attend-table"),
    pytest.param("tokenize", ["x\udfff"], ("text", "surrogate", "U+DFFF"), id="tokenize-text"),
    pytest.param("normalize", ["1, 2\ud83d", "float32"], ("surrogate", "U+D83D"), id="normalize-values"),
]


@pytest.mark.parametrize(("name", "data", "says"), SURROGATES)
def test_lone_surrogate_is_refused_directly(name, data, says):
    handler = {"attend": app.attend_api, "tokenize": app.tokenize_api, "normalize": app.normalize_api}[name]
    assert_says(user_error(lambda: handler(*data)), says)


@pytest.mark.parametrize(("name", "data", "says"), SURROGATES)
def test_lone_surrogate_is_refused_through_the_api(server_url, client, name, data, says):
    event, message = raw_call(server_url, name, data)
    assert event == "error"
    assert_says(message, says)
    assert_still_serves(client)


def test_lone_surrogate_json_really_is_escaped():
    """The premise of the tests above: json.dumps sends the surrogate as an escape, which the server decodes."""
    assert json.dumps({"data": ["a\ud800b"]}) == '{"data": ["a\\ud800b"]}'
    assert json.loads('"a\\ud800b"') == "a\ud800b"


# --- /attend: odd but valid inputs work ----------------------------------------------------------

WORKS = [
    pytest.param("hi <|endoftext|> there", [5303, 220, 50256, 612], id="endoftext"),
    pytest.param("a\x07b\x00c", [64, 195, 65, 188, 66], id="control-chars"),
    pytest.param("a\u200bb", [64, 9525, 65], id="zero-width-space"),
    pytest.param("שלום עולם", None, id="hebrew"),
    pytest.param("مرحبا بالعالم", None, id="arabic"),
    pytest.param("\u202eabc", [447, 106, 39305], id="rtl-override"),
]


def check_tokens_round_trip(text: str, ids: list[int], tokens: list[str]) -> None:
    encoding = ac.gpt2_encoding()
    assert encoding.decode(ids) == text
    assert tokens == [ac.token_piece(encoding.decode_single_token_bytes(i)) for i in ids]
    if all("\\x" not in t for t in tokens):  # every token is whole characters
        assert "".join(tokens) == text


@pytest.mark.parametrize(("text", "golden_ids"), WORKS)
def test_odd_text_works_directly(text, golden_ids):
    result = app.attend_api(text, 4, 9, "")
    if golden_ids is not None:
        assert result["ids"] == golden_ids
    check_tokens_round_trip(text, result["ids"], result["tokens"])
    assert finite_rows_summing_to_one(result["weights"])
    assert all(math.isfinite(v) for row in result["context"] for v in row)
    tokenized = app.tokenize_api(text)
    assert (tokenized["ids"], tokenized["tokens"]) == (result["ids"], result["tokens"])


@pytest.mark.parametrize(("text", "golden_ids"), WORKS)
def test_odd_text_works_through_the_api(client, text, golden_ids):
    result = client.predict(text, 4, 9, "", api_name="/attend")
    assert result == app.attend_api(text, 4, 9, "")
    check_tokens_round_trip(text, result["ids"], result["tokens"])
    assert finite_rows_summing_to_one(result["weights"])
    assert client.predict(text, api_name="/tokenize") == {"ids": result["ids"], "tokens": result["tokens"]}


def test_endoftext_is_one_token_through_the_api(client):
    result = client.predict("hi <|endoftext|> there", api_name="/tokenize")
    assert result["ids"][2] == ac.ENDOFTEXT_ID == 50256
    assert result["tokens"][2] == "<|endoftext|>"


@pytest.mark.parametrize(
    ("dim", "seed", "same_as"),
    [
        pytest.param("3", 123, (3, 123), id="dim-numeric-string"),
        pytest.param(" 5 ", "7", (5, 7), id="dim-and-seed-strings"),
        pytest.param(4.0, 8.0, (4, 8), id="integral-floats"),
        pytest.param(1, 2**32 - 1, (1, 2**32 - 1), id="dim-1-largest-seed"),
        pytest.param(768, 0, (768, 0), id="dim-768-seed-0"),
    ],
)
def test_numbers_in_other_forms_are_accepted(client, dim, seed, same_as):
    expected = app.attend_api(app.BOOK_SENTENCE, *same_as, "")
    assert len(expected["inputs"][0]) == same_as[0]
    assert app.attend_api(app.BOOK_SENTENCE, dim, seed, "") == expected
    assert client.predict(app.BOOK_SENTENCE, dim, seed, "", api_name="/attend") == expected


def test_limits_are_inclusive(client):
    assert len(ac.tokenize(TEXT_256_TOKENS).ids) == 256
    assert len(ac.tokenize(TEXT_312_TOKENS).ids) == 312
    result = client.predict(TEXT_256_TOKENS, 2, 5, "", api_name="/attend")
    assert len(result["weights"]) == 256 and len(result["weights"][0]) == 256
    assert finite_rows_summing_to_one(result["weights"])
    table = "\n".join([",".join(["0.01"] * 768)] * 256)
    result = client.predict(TEXT_256_TOKENS, 3, 123, table, api_name="/attend")
    assert len(result["inputs"]) == 256 and len(result["inputs"][0]) == 768
    assert result["weights"][0][0] == pytest.approx(1 / 256)


# --- uploads -------------------------------------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"

UPLOAD_REFUSALS = [
    pytest.param("table.csv", b"0.43,0.15\x00,0.89\n", ("'table.csv'", "binary", "plain-text CSV"), id="nul-bytes"),
    pytest.param("image.csv", PNG_HEADER, ("'image.csv'", "binary"), id="png-bytes-named-csv"),
    pytest.param("latin1.csv", "caf\xe9,0.1\n".encode("latin-1"), ("not UTF-8", "byte 4", "UTF-8 CSV"), id="not-utf8"),
    pytest.param("empty.csv", b"", ("'empty.csv' is empty", "one row of numbers per token"), id="empty"),
    pytest.param("blank.tsv", b" \n\t\n", ("is empty",), id="whitespace-only"),
    pytest.param("picture.png", PNG_HEADER, ("'picture.png' is not a table file", ".csv", ".json"), id="png-name"),
    pytest.param("tool.exe", b"MZ\x90\x00\x03", ("'tool.exe' is not a table file", ".csv"), id="exe-name"),
    pytest.param("table", b"0.1,0.2\n", ("not a table file",), id="no-extension"),
    pytest.param("words.csv", b"0.1,0.2\n0.3,zwei\n", ("Row 2, column 2 is 'zwei'", "not a number"), id="bad-table"),
    pytest.param("ragged.txt", b"0.1 0.2\n0.3\n", ("Row 2 has 1 number", "row 1 has 2"), id="ragged-table"),
]


@pytest.mark.parametrize(("name", "data", "says"), UPLOAD_REFUSALS)
def test_upload_is_refused(tmp_path: Path, name, data, says):
    path = tmp_path / name
    path.write_bytes(data)
    assert_says(user_error(lambda: app.load_upload(str(path))), says)


def test_upload_over_1MB_states_its_real_size(tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"0.1,0.2,0.3\n" * 100_000)  # 1,200,000 bytes
    assert path.stat().st_size == 1_200_000
    message = user_error(lambda: app.load_upload(str(path)))
    assert_says(message, ("'big.csv'", "1,000,000 bytes"), never=("1,000,001",))
    assert "1,200,000 bytes" in message or "more than 1,000,000 bytes" in message, message


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        pytest.param("book.csv", BOOK_CSV.encode(), BOOK_CSV, id="csv"),
        pytest.param("book.tsv", b"\xef\xbb\xbf0.43\t0.15\n0.55\t0.87\n", "0.43\t0.15\n0.55\t0.87\n", id="tsv-with-bom"),
        pytest.param("book.txt", app.BOOK_TABLE.encode(), app.BOOK_TABLE, id="torch-literal"),
        pytest.param("BOOK.JSON", b"[[0.43, 0.15], [0.55, 0.87]]", "[[0.43, 0.15], [0.55, 0.87]]", id="json-upper-case"),
    ],
)
def test_valid_upload_fills_the_table(tmp_path: Path, name, data, text):
    path = tmp_path / name
    path.write_bytes(data)
    assert app.load_upload(str(path)) == (text, app.SOURCE_TABLE)


def test_uploaded_book_table_gives_the_books_context(tmp_path: Path):
    path = tmp_path / "book.csv"
    path.write_bytes(BOOK_CSV.encode())
    table, source = app.load_upload(str(path))
    run = app.run_attention(app.BOOK_SENTENCE, source, 3, 123, table, False)[0]
    assert [f"{v:.4f}" for v in run.attention.context[1].tolist()] == BOOK_CONTEXT_2


def test_server_refuses_an_upload_over_1MB(server_url, client):
    with httpx.Client(timeout=30, trust_env=False) as http:
        response = http.post(f"{server_url}gradio_api/upload",
                             files={"files": ("big.csv", b"0.1,0.2,0.3\n" * 100_000, "text/csv")})
    assert response.status_code == 413
    assert "1000000 bytes" in response.text
    assert_still_serves(client)


# --- the normalization lab -----------------------------------------------------------------------

LAB_REFUSALS = [
    pytest.param(Bad(("", "float32"), ("values box is empty", "for example")), id="empty"),
    pytest.param(Bad((" \n ", "float32"), ("values box is empty",)), id="whitespace-only"),
    pytest.param(Bad((", ;", "float32"), ("only separators", "Type numbers")), id="only-separators"),
    pytest.param(Bad(("1, two", "float32"), ("Value 2 is 'two'", "not a number")), id="non-numeric"),
    pytest.param(Bad(("inf", "float32"), ("Value 1 is inf", "large finite number")), id="inf"),
    pytest.param(Bad(("1, 1e309", "float64"), ("Value 2 is inf",)), id="beyond-float64-is-inf"),
    pytest.param(Bad(("nan", "float32"), ("Value 1 is nan", "type a number")), id="nan"),
    pytest.param(Bad((", ".join(["1"] * 1001), "float32"), ("1,001 values", "the limit is 1,000")), id="over-1000-values"),
    pytest.param(Bad(("1" * 100_001, "float32"), ("100,001 characters", "the limit is 100,000")), id="over-100000-chars"),
    pytest.param(Bad(("1, 2", "float8"), ("'float8'", "float16, float32, float64")), id="dtype-float8"),
    pytest.param(Bad(("1, 2", ""), ("dtype is ''", "float16, float32, float64")), id="dtype-empty"),
    pytest.param(Bad(("1, 2", "int32"), ("'int32'", "float16, float32, float64")), id="dtype-int32"),
]


@pytest.mark.parametrize("case", LAB_REFUSALS)
def test_lab_refuses_directly(case: Bad):
    assert_says(user_error(lambda: app.normalize_api(*case.args)), case.says, case.never)
    assert_says(user_error(lambda: app.run_lab(*case.args)), case.says, case.never)
    with pytest.raises(ac.InputError):
        ac.compare_normalizations(*case.args)


@pytest.mark.parametrize("case", LAB_REFUSALS)
def test_lab_refuses_through_the_api(client, case: Bad):
    assert_says(api_error(client, *case.args, api_name="/normalize"), case.says, case.never)


def lab_both_ways(client: Client, values: str, dtype: str = "float32") -> dict:
    direct = app.normalize_api(values, dtype)
    assert client.predict(values, dtype, api_name="/normalize") == direct
    app.run_lab(values, dtype)  # the UI handler draws it without an error
    return direct


def test_lab_minus_inf_gets_weight_zero(client):
    result = lab_both_ways(client, "1, 2, -inf")
    assert result["values"] == [1.0, 2.0, None]  # -inf is not JSON; it travels as null
    assert result["softmax_stable"] == pytest.approx([0.26894142, 0.73105858, 0.0])
    assert result["softmax_stable"][2] == 0.0
    assert result["softmax_naive"] == pytest.approx(result["softmax_stable"])
    assert any("-inf" in note and "0" in note for note in result["notes"])


def test_lab_single_value_gets_weight_one(client):
    result = lab_both_ways(client, "5")
    assert result["sum_normalized"] == result["softmax_naive"] == result["softmax_stable"] == [1.0]
    assert any("single value" in note for note in result["notes"])


def test_lab_equal_values_are_uniform(client):
    result = lab_both_ways(client, "2, 2, 2, 2", "float64")
    assert result["softmax_stable"] == result["softmax_naive"] == [0.25] * 4
    assert any("equal" in note and "1/4" in note for note in result["notes"])


def test_lab_huge_negatives_underflow_naive_only(client):
    result = lab_both_ways(client, "-1000, -1001")
    assert result["softmax_naive"] == [None, None]
    assert any("underflow" in note and "NaN" in note for note in result["notes"])
    assert result["softmax_stable"] == pytest.approx([0.7310586, 0.26894143])


def test_lab_notes_about_sum_normalization_are_true_for_all_negative_values(client):
    """-1000, -1001 sum-normalize to 0.4998, 0.5002: both in [0, 1], yet with the order flipped."""
    result = lab_both_ways(client, "-1000, -1001")
    assert all(0 <= w <= 1 for w in result["sum_normalized"])
    assert not any("below 0 or above 1" in note for note in result["notes"]), result["notes"]


@pytest.mark.parametrize("values", ["-inf", "-inf, -inf"], ids=["one", "two"])
def test_lab_notes_are_consistent_when_every_value_is_minus_inf(client, values):
    """Softmax of a fully masked row is 0/0 = NaN; no note may claim a finite weight for it."""
    result = lab_both_ways(client, values)
    assert all(w is None for w in result["softmax_stable"])
    notes = result["notes"]
    assert not any("always gets weight 1" in note or "same weight" in note for note in notes), notes
    assert any("-inf" in note and "NaN" in note for note in notes), notes


# --- unexpected errors stay on the server --------------------------------------------------------


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(SECRET)


def value_boom(*args: Any, **kwargs: Any) -> Any:
    raise ValueError(SECRET)  # a library's ValueError, not the core's InputError


def assert_generic(message: str) -> None:
    assert message == app.GENERIC_ERROR
    assert_says(message, (), never=("secret", "boom", "RuntimeError", "ValueError"))


@pytest.mark.parametrize("error", [boom, value_boom], ids=["RuntimeError", "ValueError"])
def test_unexpected_attend_error_is_generic(client, monkeypatch, error):
    monkeypatch.setattr(pipeline, "self_attention", error)
    assert_generic(user_error(lambda: app.attend_api(app.BOOK_SENTENCE)))
    assert_generic(user_error(lambda: app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False)))
    with pytest.raises(AppError) as info:
        client.predict(app.BOOK_SENTENCE, 3, 123, "", api_name="/attend")
    assert_generic(str(info.value))
    monkeypatch.undo()
    assert_still_serves(client)


def test_unexpected_normalize_error_is_generic(client, monkeypatch):
    monkeypatch.setattr(normalization, "softmax_stable", boom)
    assert_generic(user_error(lambda: app.normalize_api("1, 2")))
    assert_generic(user_error(lambda: app.run_lab("1, 2", "float32")))
    with pytest.raises(AppError) as info:
        client.predict("1, 2", "float32", api_name="/normalize")
    assert_generic(str(info.value))
    monkeypatch.undo()
    assert_still_serves(client)


def test_unexpected_tokenize_error_is_generic(server_url, client, monkeypatch):
    monkeypatch.setattr(app.ac, "tokenize", boom)
    assert_generic(user_error(lambda: app.tokenize_api("hello")))
    with pytest.raises(AppError) as info:
        client.predict("hello", api_name="/tokenize")
    assert_generic(str(info.value))
    event, message = raw_call(server_url, "tokenize", ["hello"])
    assert (event, message) == ("error", app.GENERIC_ERROR)
    monkeypatch.undo()
    assert client.predict("hello", api_name="/tokenize") == {"ids": [31373], "tokens": ["hello"]}


def test_unexpected_upload_error_is_generic(tmp_path: Path, monkeypatch):
    path = tmp_path / "book.csv"
    path.write_bytes(BOOK_CSV.encode())
    monkeypatch.setattr(app, "decode_upload", boom)
    assert_generic(user_error(lambda: app.load_upload(str(path))))
