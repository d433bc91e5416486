"""web/guard/uploads.py: one allowed file per upload request, within the size limit."""

from __future__ import annotations

import pytest

from web.guard import uploads
from web.guard.ledger import Refusal


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body of (field, filename or None, content) parts, and its content type."""
    boundary = "guard-test-boundary"
    chunks = []
    for field, filename, content in parts:
        disposition = f'form-data; name="{field}"' + ("" if filename is None else f'; filename="{filename}"')
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def refusal_of(*parts: tuple[str, str | None, bytes]) -> Refusal | None:
    body, content_type = multipart(*parts)
    return uploads.upload_refusal(body, content_type, types=(".csv", ".tsv", ".txt", ".json"), max_bytes=1_000_000)


@pytest.mark.parametrize("name", ["table.csv", "TABLE.CSV", "t.tsv", "notes.txt", "rows.json", "a b (1).csv"])
def test_one_allowed_file_passes(name):
    assert refusal_of(("files", name, b"1,2\n3,4\n")) is None


@pytest.mark.parametrize(
    ("parts", "status", "says"),
    [
        pytest.param([("files", "x.exe", b"MZ")], 415, "Only .csv, .tsv, .txt, .json files", id="exe"),
        pytest.param([("files", "x.csv.exe", b"MZ")], 415, "'x.csv.exe' is not one", id="double-extension"),
        pytest.param([("files", "x", b"1")], 415, "Only .csv", id="no-extension"),
        pytest.param([("files", "..\\..\\x.exe", b"1")], 415, "Only .csv", id="windows-path"),
        pytest.param([("files", "a.csv", b"1"), ("files", "b.csv", b"2")], 400, "exactly one file", id="two-files"),
        pytest.param([("files", f"{i}.exe", b"1") for i in range(50)], 400, "50 files", id="fifty-files"),
        pytest.param([("data", None, b"hello")], 400, "0 files", id="no-file"),
        pytest.param([("files", "a.csv", b"1"), ("extra", None, b"2")], 400, "exactly one file", id="extra-field"),
        pytest.param([("other", "a.csv", b"1")], 400, "form field 'files'", id="other-field"),
        pytest.param([("files", "big.csv", b"1" * 1_000_001)], 413, "limit of 1000000 bytes", id="over-1MB"),
    ],
)
def test_uploads_are_refused(parts, status, says):
    refusal = refusal_of(*parts)
    assert refusal is not None and refusal.status == status
    assert says in refusal.detail


def test_a_long_refused_name_is_cut():
    refusal = refusal_of(("files", "x" * 300 + ".exe", b"1"))
    assert refusal.status == 415 and len(refusal.detail) < 140


def test_not_multipart_is_refused():
    assert uploads.upload_refusal(b"{}", "application/json", types=(".csv",), max_bytes=10).status == 400


# --- which events are heavy: the one place that reads Gradio's Blocks.fns -------------------------
