"""GPT-2 tokenization from the bundled BPE file, with no network."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from golden import PIECES, SENTENCE, SPACE_IDS
from golden import TOKENIZER_IDS as BOOK_IDS
from golden import TOKENIZER_TEXT as BOOK_TEXT

from attention_core import ENDOFTEXT, ENDOFTEXT_ID, gpt2_encoding, token_piece, tokenize, visible_token
from attention_core.tokens import GPT2_BPE_PATH, GPT2_BPE_SHA256

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_book_ids():
    assert tokenize(BOOK_TEXT).ids == BOOK_IDS


def test_book_ids_decode_back_to_the_text():
    assert gpt2_encoding().decode(BOOK_IDS) == BOOK_TEXT
    assert "".join(tokenize(BOOK_TEXT).tokens) == BOOK_TEXT


def test_endoftext_is_one_token():
    result = tokenize(f"a {ENDOFTEXT} b")
    assert result.ids.count(ENDOFTEXT_ID) == 1
    assert result.tokens[result.ids.index(ENDOFTEXT_ID)] == ENDOFTEXT


def test_your_journey_has_six_tokens():
    result = tokenize(SENTENCE)
    assert len(result.ids) == 6
    assert result.tokens == PIECES


@pytest.mark.parametrize(
    ("text", "ids"), [(" ", SPACE_IDS), ("  ", [220, 220]), ("\n", [198])], ids=["one_space", "two_spaces", "newline"]
)
def test_whitespace_alone_is_a_token(text, ids):
    """Chapter 2's exercise encodes a single space as [220]: only "" yields no token."""
    assert tokenize(text).ids == ids
    assert tokenize("").ids == []


@pytest.mark.parametrize(
    "text",
    ["I love 🦀 and 東京", "naïve café", "👩‍👩‍👧 family", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"],
    ids=["emoji_cjk", "accents", "zwj_emoji", "math_letters"],
)
def test_pieces_of_multibyte_text(text):
    result = tokenize(text)
    raw = [gpt2_encoding().decode_single_token_bytes(i) for i in result.ids]
    assert b"".join(raw).decode("utf-8") == text  # no byte lost
    assert len(result.tokens) == len(result.ids)
    for piece, piece_bytes in zip(result.tokens, raw):
        assert piece  # never an empty chip
        try:
            decoded = piece_bytes.decode("utf-8")
        except UnicodeDecodeError:
            assert "\\x" in piece, (piece, piece_bytes)
        else:
            assert piece == decoded


def test_emoji_is_split_into_partial_bytes():
    tokens = tokenize("I love 🦀 and 東京").tokens
    assert any("\\x" in piece for piece in tokens)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b" journey", " journey"), (b"\xf0\x9f", "\\xf0\\x9f"), (b"\xe6\x9d\xb1", "東"), (b" \xe6", " \\xe6")],
    ids=["ascii", "half_emoji", "whole_cjk", "space_and_partial"],
)
def test_token_piece(raw, expected):
    assert token_piece(raw) == expected


@pytest.mark.parametrize(
    "text", ["<|fim_prefix|>", "<|endofprompt|>", "<|im_start|>"], ids=["fim_prefix", "endofprompt", "im_start"]
)
def test_other_special_looking_text_is_ordinary_text(text):
    result = tokenize(text)
    assert len(result.ids) > 1
    assert ENDOFTEXT_ID not in result.ids
    assert "".join(result.tokens) == text


def test_bundled_file_matches_its_hash():
    assert hashlib.sha256(GPT2_BPE_PATH.read_bytes()).hexdigest() == GPT2_BPE_SHA256


def test_vocabulary_size():
    assert gpt2_encoding().n_vocab == 50257


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise OSError("network disabled in this test")

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    socket.socket = NoSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from attention_core import tokenize

    print(tokenize({text!r}).ids)
    try:
        socket.create_connection(("example.com", 80))
    except OSError as error:
        print("guard:", error)
    """
)


def _run_offline(tmp_path: Path, cache_dir: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": cache_dir,
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DATA_GYM_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT.format(text=BOOK_TEXT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_tokenize_without_network_and_with_an_empty_cache(tmp_path):
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    done = _run_offline(tmp_path, str(cache))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(BOOK_IDS)
    assert lines[1] == "guard: network disabled in this test"
    # tiktoken's loader may copy the bundled file into its cache, but never anything it fetched: the copy is ours.
    for cached in cache.iterdir():
        assert hashlib.sha256(cached.read_bytes()).hexdigest() == GPT2_BPE_SHA256


@pytest.mark.slow
def test_tokenize_with_an_unwritable_cache_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = _run_offline(tmp_path, str(blocker / "cache"))  # cannot be created
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(BOOK_IDS)


@pytest.mark.parametrize(
    ("piece", "expected"),
    [
        (" the", "␣the"),
        ("\n", "↵"),
        ("\r\n", "␍↵"),
        ("\t", "⇥"),
        ("\u200b", "\\u200b"),
        ("\u200f", "\\u200f"),
        ("a\u202eb", "a\\u202eb"),
        ("\x00", "\\u0000"),
        ("\u00a0", "\\u00a0"),
        ("東京", "東京"),
        ("\\xf0\\x9f", "\\xf0\\x9f"),
    ],
    ids=[
        "space",
        "newline",
        "crlf",
        "tab",
        "zero_width_space",
        "rtl_mark",
        "rtl_override",
        "nul",
        "nbsp",
        "cjk",
        "escaped_bytes",
    ],
)
def test_visible_token(piece, expected):
    assert visible_token(piece) == expected


def test_rtl_and_zero_width_text_tokenizes():
    text = "a\u200bb \u200fשלום\u200e"
    result = tokenize(text)
    raw = b"".join(gpt2_encoding().decode_single_token_bytes(i) for i in result.ids)
    assert raw.decode("utf-8") == text
    assert all(visible_token(piece) for piece in result.tokens)
