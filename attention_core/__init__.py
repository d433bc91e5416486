"""Simplified self-attention without trainable weights, as in chapter 3.3 of
"Build a Large Language Model (From Scratch)".

>>> import torch
>>> from attention_core import self_attention
>>> inputs = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]])
>>> self_attention(inputs).weights.sum(dim=-1)
tensor([1., 1.])

The core (this package's modules) is math, data and input checks; ``attention_core.views`` turns a run
into texts, figures and exports. Names load on first use, so ``import attention_core`` is cheap: the app
can serve its page before torch is imported.
"""

# ruff: noqa: F401 (the TYPE_CHECKING imports re-export the lazily loaded names for type checkers and IDEs)
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The one version number: pyproject.toml reads it from here (setuptools' dynamic version).
__version__ = "0.1.0"

# The public names, each with the module that defines it: the one list (tests check that every name resolves there).
_EXPORTS = {
    "attention": (
        "QuerySteps",
        "SelfAttention",
        "attention_scores",
        "attention_weights",
        "context_vectors",
        "query_steps",
        "row_steps",
        "self_attention",
        "self_attention_loops",
    ),
    "book": ("BOOK_INPUTS", "BOOK_TABLE", "BOOK_TOKENS", "BOOK_VALUES", "BookValue", "book_value"),
    "embeddings": ("clear_embedding_cache", "embedding_table", "random_embeddings"),
    "facts": (
        "Repeat",
        "SelfMatch",
        "permute",
        "project_2d",
        "projected_weights",
        "projected_scores",
        "row_entropy",
        "same_vector_pairs",
        "random_permutation",
        "repeated_tokens",
        "repeats",
        "self_matches",
    ),
    "limits": (
        "DTYPES",
        "ErrorKind",
        "InputError",
        "MAX_DIM",
        "MAX_LAB_VALUES",
        "MAX_SEED",
        "MAX_TABLE_BYTES",
        "MAX_TABLE_COLS",
        "MAX_TABLE_ROWS",
        "MAX_TEMPERATURE",
        "MAX_KEY_DIM",
        "MAX_LEARNING_RATE",
        "MAX_STEPS",
        "MAX_TEXT_CHARS",
        "MAX_TOKENS",
        "MAX_UPLOAD_BYTES",
        "MIN_DIM",
        "MIN_KEY_DIM",
        "MIN_LEARNING_RATE",
        "MIN_STEPS",
        "MIN_TEMPERATURE",
        "check_dim",
        "check_dtype",
        "check_index",
        "check_key_dim",
        "check_learning_rate",
        "check_position",
        "check_seed",
        "check_steps",
        "check_temperature",
        "check_text",
        "check_token_count",
        "exp_overflow_threshold",
        "read_number",
    ),
    "normalization": (
        "NormalizationComparison",
        "compare_normalizations",
        "parse_values",
        "softmax_naive",
        "softmax_stable",
        "sum_normalize",
    ),
    "parity": ("ParityEntry", "book_parity"),
    "pipeline": ("Attended", "attend"),
    "sweeps": (
        "Alignment",
        "DimensionRow",
        "SeedSweep",
        "alignment",
        "dimension_sweep",
        "one_hot_rows",
        "seed_sweep",
    ),
    "tables": ("EmbeddingTable", "TableError", "parse_embedding_table"),
    "tokens": (
        "ENDOFTEXT",
        "ENDOFTEXT_ID",
        "Tokenization",
        "gpt2_encoding",
        "token_piece",
        "tokenize",
        "visible_token",
    ),
    "trace": ("CellTrace", "cell_of", "trace_cell"),
    "training": ("Training", "checkpoint_steps", "query_key_weights", "train_query_key"),
}
if TYPE_CHECKING:  # the same names, for type checkers and go-to-definition (tests/core/test_init.py compares)
    from . import uploads, views
    from .attention import (
        QuerySteps,
        SelfAttention,
        attention_scores,
        attention_weights,
        context_vectors,
        query_steps,
        row_steps,
        self_attention,
        self_attention_loops,
    )
    from .book import (
        BOOK_INPUTS,
        BOOK_TABLE,
        BOOK_TOKENS,
        BOOK_VALUES,
        BookValue,
        book_value,
    )
    from .embeddings import (
        clear_embedding_cache,
        embedding_table,
        random_embeddings,
    )
    from .facts import (
        Repeat,
        SelfMatch,
        permute,
        project_2d,
        projected_scores,
        projected_weights,
        random_permutation,
        repeated_tokens,
        repeats,
        row_entropy,
        same_vector_pairs,
        self_matches,
    )
    from .limits import (
        DTYPES,
        MAX_DIM,
        MAX_KEY_DIM,
        MAX_LAB_VALUES,
        MAX_LEARNING_RATE,
        MAX_SEED,
        MAX_STEPS,
        MAX_TABLE_BYTES,
        MAX_TABLE_COLS,
        MAX_TABLE_ROWS,
        MAX_TEMPERATURE,
        MAX_TEXT_CHARS,
        MAX_TOKENS,
        MAX_UPLOAD_BYTES,
        MIN_DIM,
        MIN_KEY_DIM,
        MIN_LEARNING_RATE,
        MIN_STEPS,
        MIN_TEMPERATURE,
        ErrorKind,
        InputError,
        check_dim,
        check_dtype,
        check_index,
        check_key_dim,
        check_learning_rate,
        check_position,
        check_seed,
        check_steps,
        check_temperature,
        check_text,
        check_token_count,
        exp_overflow_threshold,
        read_number,
    )
    from .normalization import (
        NormalizationComparison,
        compare_normalizations,
        parse_values,
        softmax_naive,
        softmax_stable,
        sum_normalize,
    )
    from .parity import (
        ParityEntry,
        book_parity,
    )
    from .pipeline import (
        Attended,
        attend,
    )
    from .sweeps import (
        Alignment,
        DimensionRow,
        SeedSweep,
        alignment,
        dimension_sweep,
        one_hot_rows,
        seed_sweep,
    )
    from .tables import (
        EmbeddingTable,
        TableError,
        parse_embedding_table,
    )
    from .tokens import (
        ENDOFTEXT,
        ENDOFTEXT_ID,
        Tokenization,
        gpt2_encoding,
        token_piece,
        tokenize,
        visible_token,
    )
    from .trace import (
        CellTrace,
        cell_of,
        trace_cell,
    )
    from .training import (
        Training,
        checkpoint_steps,
        query_key_weights,
        train_query_key,
    )

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = {*_EXPORTS, "uploads", "views"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE) | _SUBMODULES)
