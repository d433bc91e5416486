"""Checking an uploaded embedding table before its text is parsed."""

from __future__ import annotations

from pathlib import PurePath

from .limits import MAX_UPLOAD_BYTES, InputError

UPLOAD_TYPES = (".csv", ".tsv", ".txt", ".json")


def check_upload_size(size: int, filename: str) -> None:
    """Raise InputError if an upload of ``size`` bytes is over MAX_UPLOAD_BYTES."""
    if size > MAX_UPLOAD_BYTES:
        name = PurePath(filename or "upload").name
        raise InputError(f"{name!r} is {size:,} bytes; the upload limit is {MAX_UPLOAD_BYTES:,} bytes (1 MB).")


def decode_upload(data: bytes, filename: str) -> str:
    """Return an uploaded table's text, or raise InputError for the wrong type, size or content.

    ``filename`` is only used for its extension and in messages; it is never opened.

    >>> decode_upload(b"0.43,0.15\\n0.55,0.87", "table.csv")
    '0.43,0.15\\n0.55,0.87'
    """
    name = PurePath(filename or "upload").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise InputError(
            f"{name!r} is not a table file. Upload a {', '.join(UPLOAD_TYPES[:-1])} or {UPLOAD_TYPES[-1]} file."
        )
    check_upload_size(len(data), name)
    if not data.strip():
        raise InputError(f"{name!r} is empty. Upload a table with one row of numbers per token.")
    if b"\x00" in data:
        raise InputError(f"{name!r} looks like a binary file. Upload a plain-text CSV, TSV or JSON table.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name!r} is not UTF-8 text (byte {error.start + 1} is invalid). "
            "Save it as a UTF-8 CSV and upload it again."
        ) from None
    return text
