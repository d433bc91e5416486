"""An uploaded table is checked before its text is parsed: type, size, bytes, encoding."""

from __future__ import annotations

import pytest

from attention_core import InputError
from attention_core.uploads import check_upload_size, decode_upload

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"

REFUSED = [
    pytest.param("table.csv", b"0.43,0.15\x00,0.89\n", ("'table.csv'", "binary", "plain-text CSV"), id="nul-bytes"),
    pytest.param("image.csv", PNG_HEADER, ("'image.csv'", "binary"), id="png-bytes-named-csv"),
    pytest.param("latin1.csv", "caf\xe9,0.1\n".encode("latin-1"), ("not UTF-8", "byte 4", "UTF-8 CSV"), id="not-utf8"),
    pytest.param("empty.csv", b"", ("'empty.csv' is empty", "one row of numbers per token"), id="empty"),
    pytest.param("blank.tsv", b" \n\t\n", ("is empty",), id="whitespace-only"),
    pytest.param("picture.png", PNG_HEADER, ("'picture.png' is not a table file", ".csv", ".json"), id="png-name"),
    pytest.param("tool.exe", b"MZ\x90\x00\x03", ("'tool.exe' is not a table file",), id="exe-name"),
    pytest.param("table", b"0.1,0.2\n", ("not a table file",), id="no-extension"),
    pytest.param("../../etc/passwd.csv", b"\x00", ("'passwd.csv'",), id="path-in-name"),
    pytest.param(
        "big.csv", b"0.1,0.2,0.3\n" * 90_000, ("'big.csv' is 1,080,000 bytes", "1,000,000 bytes"), id="over-1MB"
    ),
]


@pytest.mark.parametrize(("name", "data", "says"), REFUSED)
def test_a_bad_upload_is_refused_and_named(name, data, says):
    with pytest.raises(InputError) as caught:
        decode_upload(data, name)
    for part in says:
        assert part in str(caught.value)
    assert "/etc" not in str(caught.value)  # only the file's own name is quoted


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("book.csv", b"0.43,0.15\n0.55,0.87", "0.43,0.15\n0.55,0.87"),
        ("book.tsv", b"\xef\xbb\xbf0.43\t0.15\n", "0.43\t0.15\n"),
        ("BOOK.JSON", b"[[0.43, 0.15]]", "[[0.43, 0.15]]"),
    ],
    ids=["csv", "tsv-with-bom", "json-upper-case"],
)
def test_a_good_upload_is_its_text(name, data, text):
    assert decode_upload(data, name) == text


def test_the_size_check_alone():
    check_upload_size(1_000_000, "ok.csv")
    with pytest.raises(InputError, match="'x.csv' is 1,000,001 bytes"):
        check_upload_size(1_000_001, "dir/x.csv")
