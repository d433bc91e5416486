"""Simplified self-attention without trainable weights, as in chapter 3.3 of
"Build a Large Language Model (From Scratch)".

>>> import torch
>>> from attention_core import self_attention
>>> inputs = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]])
>>> self_attention(inputs).weights.sum(dim=-1)
tensor([1., 1.])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Names load on first use, so ``import attention_core`` is cheap: the app can
# serve its page before torch is imported. Submodules (attention_core.plots, ...) load the same way.
_EXPORTS = {
    "QuerySteps": "attention",
    "SelfAttention": "attention",
    "attention_scores": "attention",
    "attention_weights": "attention",
    "context_vectors": "attention",
    "query_steps": "attention",
    "self_attention": "attention",
    "self_attention_loops": "attention",
    "BOOK_INPUTS": "book",
    "BOOK_TOKENS": "book",
    "BOOK_VALUES": "book",
    "BookValue": "book",
    "book_value": "book",
    "EmbeddingTable": "embeddings",
    "TableError": "embeddings",
    "clear_embedding_cache": "embeddings",
    "embedding_table": "embeddings",
    "parse_embedding_table": "embeddings",
    "random_embeddings": "embeddings",
    "parse_run_csv": "export",
    "pytorch_snippet": "export",
    "run_csv": "export",
    "run_json": "export",
    "inside_convex_hull": "facts",
    "permute": "facts",
    "project_2d": "facts",
    "random_permutation": "facts",
    "repeated_tokens": "facts",
    "DTYPES": "limits",
    "InputError": "limits",
    "MAX_DIM": "limits",
    "MAX_LAB_VALUES": "limits",
    "MAX_SEED": "limits",
    "MAX_TABLE_BYTES": "limits",
    "MAX_TABLE_COLS": "limits",
    "MAX_TABLE_ROWS": "limits",
    "MAX_TEMPERATURE": "limits",
    "MAX_TEXT_CHARS": "limits",
    "MAX_TOKENS": "limits",
    "MAX_UPLOAD_BYTES": "limits",
    "MIN_DIM": "limits",
    "MIN_TEMPERATURE": "limits",
    "check_dim": "limits",
    "check_dtype": "limits",
    "check_seed": "limits",
    "check_temperature": "limits",
    "check_text": "limits",
    "check_token_count": "limits",
    "NormalizationComparison": "normalization",
    "compare_normalizations": "normalization",
    "exp_overflow_threshold": "normalization",
    "parse_values": "normalization",
    "softmax_naive": "normalization",
    "softmax_stable": "normalization",
    "sum_normalize": "normalization",
    "ParityEntry": "parity",
    "book_parity": "parity",
    "parity_markdown": "parity",
    "Attended": "pipeline",
    "attend": "pipeline",
    "attended_json": "serialize",
    "comparison_json": "serialize",
    "shortest_floats": "serialize",
    "ENDOFTEXT": "tokens",
    "ENDOFTEXT_ID": "tokens",
    "Tokenization": "tokens",
    "gpt2_encoding": "tokens",
    "token_piece": "tokens",
    "tokenize": "tokens",
    "visible_token": "tokens",
    "CellTrace": "trace",
    "trace_cell": "trace",
    "trace_markdown": "trace",
}
_SUBMODULES = {
    "attention",
    "book",
    "embeddings",
    "explain",
    "export",
    "facts",
    "lessons",
    "limits",
    "normalization",
    "parity",
    "pipeline",
    "plots",
    "serialize",
    "tokens",
    "trace",
    "uploads",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .attention import (  # noqa: F401
        QuerySteps,
        SelfAttention,
        attention_scores,
        attention_weights,
        context_vectors,
        query_steps,
        self_attention,
        self_attention_loops,
    )
    from .book import (  # noqa: F401
        BOOK_INPUTS,
        BOOK_TOKENS,
        BOOK_VALUES,
        BookValue,
        book_value,
    )
    from .embeddings import (  # noqa: F401
        EmbeddingTable,
        TableError,
        clear_embedding_cache,
        embedding_table,
        parse_embedding_table,
        random_embeddings,
    )
    from .export import (  # noqa: F401
        parse_run_csv,
        pytorch_snippet,
        run_csv,
        run_json,
    )
    from .facts import (  # noqa: F401
        inside_convex_hull,
        permute,
        project_2d,
        random_permutation,
        repeated_tokens,
    )
    from .limits import (  # noqa: F401
        DTYPES,
        InputError,
        MAX_DIM,
        MAX_LAB_VALUES,
        MAX_SEED,
        MAX_TABLE_BYTES,
        MAX_TABLE_COLS,
        MAX_TABLE_ROWS,
        MAX_TEMPERATURE,
        MAX_TEXT_CHARS,
        MAX_TOKENS,
        MAX_UPLOAD_BYTES,
        MIN_DIM,
        MIN_TEMPERATURE,
        check_dim,
        check_dtype,
        check_seed,
        check_temperature,
        check_text,
        check_token_count,
    )
    from .normalization import (  # noqa: F401
        NormalizationComparison,
        compare_normalizations,
        exp_overflow_threshold,
        parse_values,
        softmax_naive,
        softmax_stable,
        sum_normalize,
    )
    from .parity import (  # noqa: F401
        ParityEntry,
        book_parity,
        parity_markdown,
    )
    from .pipeline import (  # noqa: F401
        Attended,
        attend,
    )
    from .serialize import (  # noqa: F401
        attended_json,
        comparison_json,
        shortest_floats,
    )
    from .tokens import (  # noqa: F401
        ENDOFTEXT,
        ENDOFTEXT_ID,
        Tokenization,
        gpt2_encoding,
        token_piece,
        tokenize,
        visible_token,
    )
    from .trace import (  # noqa: F401
        CellTrace,
        trace_cell,
        trace_markdown,
    )
