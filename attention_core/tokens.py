"""GPT-2 tokenization that never touches the network.

The BPE ranks ship in ``assets/gpt2.tiktoken`` (from the openai-whisper sdist, MIT licensed,
notice beside it). Its sha256 is the one tiktoken publishes for ``r50k_base``, so this is
exactly the encoding ``tiktoken.get_encoding("gpt2")`` would download.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import tiktoken

GPT2_BPE_PATH = Path(__file__).with_name("assets") / "gpt2.tiktoken"
GPT2_BPE_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
ENDOFTEXT = "<|endoftext|>"
ENDOFTEXT_ID = 50256
VOCAB_SIZE = 50257

_lock = threading.Lock()
_loaded: tuple[tiktoken.Encoding, list[str]] | None = None


@dataclass(frozen=True)
class Tokenization:
    """The GPT-2 tokens of a text.

    ids: the token ids, length T.
    tokens: each token's text piece, length T. Bytes that are not complete UTF-8 on their
        own (half an emoji or CJK character) are written as ``\\xNN`` escapes, so no piece is
        empty and joining the pieces never hides a byte.
    """

    ids: list[int]
    tokens: list[str]


def gpt2_encoding() -> tiktoken.Encoding:
    """Return the GPT-2 encoding, loaded from the bundled file once per process."""
    return _load()[0]


def _load() -> tuple[tiktoken.Encoding, list[str]]:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                from tiktoken_ext.openai_public import r50k_pat_str

                ranks = _load_ranks()
                encoding = tiktoken.Encoding(
                    name="gpt2",
                    pat_str=r50k_pat_str,
                    mergeable_ranks=ranks,
                    special_tokens={ENDOFTEXT: ENDOFTEXT_ID},
                    explicit_n_vocab=VOCAB_SIZE,
                )
                # Rendering every piece once makes tokenize() a list lookup per token.
                pieces = [token_piece(raw) for raw in encoding.decode_tokens_bytes(range(VOCAB_SIZE))]
                _loaded = (encoding, pieces)
    return _loaded


def _load_ranks() -> dict[bytes, int]:
    """The bundled ranks, through tiktoken's own loader and its hash check.

    That loader also copies the file into tiktoken's cache directory; if a user-set
    TIKTOKEN_CACHE_DIR cannot be written, we read the same file directly instead.
    """
    from tiktoken.load import load_tiktoken_bpe

    try:
        return load_tiktoken_bpe(str(GPT2_BPE_PATH), expected_hash=GPT2_BPE_SHA256)
    except OSError:
        return _read_bpe()


def _read_bpe() -> dict[bytes, int]:
    data = GPT2_BPE_PATH.read_bytes()
    if hashlib.sha256(data).hexdigest() != GPT2_BPE_SHA256:
        raise RuntimeError(f"{GPT2_BPE_PATH} does not match its sha256 {GPT2_BPE_SHA256}; restore the file from git.")
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def token_piece(raw: bytes) -> str:
    """Decode one token's bytes, escaping bytes that are not complete UTF-8.

    >>> token_piece(b" journey")
    ' journey'
    >>> token_piece(b"\\xf0\\x9f")
    '\\\\xf0\\\\x9f'
    """
    return raw.decode("utf-8", errors="backslashreplace")


def tokenize(text: str) -> Tokenization:
    """Tokenize ``text`` with GPT-2's BPE. ``<|endoftext|>`` becomes the single id 50256.

    No length limit is applied here; ``check_text`` and ``check_token_count`` do that.

    >>> tokenize("Hello, world").ids
    [15496, 11, 995]
    """
    encoding, pieces = _load()
    # Allowing the only special token means tiktoken's disallowed-special error cannot occur.
    ids = encoding.encode(text, allowed_special={ENDOFTEXT})
    return Tokenization(ids=ids, tokens=[pieces[i] for i in ids])


_VISIBLE = {
    " ": "␣",
    "\n": "↵",
    "\r": "␍",
    "\t": "⇥",
}


def visible_token(piece: str) -> str:
    """Make a token piece readable in a chip: spaces as ␣, newlines as ↵, invisible characters as ``\\uXXXX``.

    >>> visible_token(" the")
    '␣the'
    >>> visible_token("\\u200b")
    '\\\\u200b'
    """
    import unicodedata

    out = []
    for char in piece:
        if char in _VISIBLE:
            out.append(_VISIBLE[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs"):
            # Control, format (zero-width, bidi marks) and odd spaces would otherwise be invisible or reorder the chip.
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
