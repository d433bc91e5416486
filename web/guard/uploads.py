"""The upload filter: ``POST /gradio_api/upload`` may carry exactly one file, with an allowed extension, within the
size limit. A refused upload never reaches Gradio, which writes every file part to disk as it parses."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from web.guard.ledger import Refusal

UPLOAD_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and part headers around the one file


def upload_refusal(body: bytes, content_type: str, *, types: Iterable[str], max_bytes: int) -> Refusal | None:
    """Why a ``POST /gradio_api/upload`` body is refused, or None when it is one allowed file within the limit.

    It parses with python-multipart, the parser Gradio's upload route uses, so both see the same parts.
    """
    from gradio_client.utils import strip_invalid_filename_characters
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        return Refusal(400, "Upload the file as multipart/form-data, in the form field 'files'.")
    parts: list[dict[str, Any]] = []
    header = {"field": b"", "value": b""}

    def on_part_begin() -> None:
        parts.append({"disposition": b"", "size": 0})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        if header["field"].lower() == b"content-disposition":
            parts[-1]["disposition"] = header["value"]
        header["field"] = header["value"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["size"] += end - start

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError) as error:
        return Refusal(400, f"The upload could not be read as multipart/form-data ({type(error).__name__}).")
    files = []
    for part in parts:
        _, options = parse_options_header(part["disposition"])
        files.append((options.get(b"name"), options.get(b"filename"), part["size"]))
    if len(files) != 1 or files[0][1] is None:
        count = sum(filename is not None for _, filename, _ in files)
        has = f"{count} file{'s' if count != 1 else ''} in {len(files)} part{'s' if len(files) != 1 else ''}"
        return Refusal(400, f"Upload exactly one file per request, in the form field 'files' (this one has {has}).")
    name, raw_filename, size = files[0]
    if name != b"files":
        return Refusal(400, "Upload the file in the form field 'files'.")
    filename = raw_filename.decode("utf-8", errors="replace")
    allowed = tuple(suffix.lower() for suffix in types)
    # Gradio keeps the base name, cleaned of unsafe characters: both must end in an allowed extension.
    base = PurePosixPath(filename.replace("\\", "/")).name
    kept = strip_invalid_filename_characters(base)
    if not (base.lower().endswith(allowed) and kept.lower().endswith(allowed)):
        shown = base if len(base) <= 40 else base[:20] + "…" + base[-12:]
        return Refusal(415, f"Only {', '.join(allowed)} files can be uploaded; {shown!r} is not one.")
    if size > max_bytes:
        return Refusal(413, too_large(max_bytes))
    return None


def too_large(max_bytes: int) -> str:
    return f"The file is larger than the limit of {max_bytes} bytes ({max_bytes / 1e6:g} MB)."
