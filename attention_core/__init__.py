"""Simplified self-attention without trainable weights, as in chapter 3.3 of
"Build a Large Language Model (From Scratch)".

>>> import torch
>>> from attention_core import self_attention
>>> inputs = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]])
>>> self_attention(inputs).weights.sum(dim=-1)
tensor([1., 1.])
"""

from .attention import (
    QuerySteps,
    SelfAttention,
    attention_scores,
    attention_weights,
    context_vectors,
    query_steps,
    self_attention,
    self_attention_loops,
)
from .embeddings import (
    EmbeddingTable,
    TableError,
    clear_embedding_cache,
    embedding_table,
    parse_embedding_table,
    random_embeddings,
)
from .limits import (
    DTYPES,
    MAX_DIM,
    MAX_LAB_VALUES,
    MAX_SEED,
    MAX_TABLE_BYTES,
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    MAX_TEXT_CHARS,
    MAX_TOKENS,
    MAX_UPLOAD_BYTES,
    MIN_DIM,
    InputError,
    check_dim,
    check_dtype,
    check_seed,
    check_text,
    check_token_count,
)
from .normalization import (
    NormalizationComparison,
    compare_normalizations,
    exp_overflow_threshold,
    parse_values,
    softmax_naive,
    softmax_stable,
    sum_normalize,
)
from .pipeline import Attended, attend
from .serialize import shortest_floats
from .tokens import ENDOFTEXT, ENDOFTEXT_ID, Tokenization, gpt2_encoding, token_piece, tokenize, visible_token

__all__ = [
    "DTYPES",
    "ENDOFTEXT",
    "ENDOFTEXT_ID",
    "MAX_DIM",
    "MAX_LAB_VALUES",
    "MAX_SEED",
    "MAX_TABLE_BYTES",
    "MAX_TABLE_COLS",
    "MAX_TABLE_ROWS",
    "MAX_TEXT_CHARS",
    "MAX_TOKENS",
    "MAX_UPLOAD_BYTES",
    "MIN_DIM",
    "Attended",
    "EmbeddingTable",
    "InputError",
    "NormalizationComparison",
    "QuerySteps",
    "SelfAttention",
    "TableError",
    "Tokenization",
    "attend",
    "attention_scores",
    "attention_weights",
    "check_dim",
    "check_dtype",
    "check_seed",
    "check_text",
    "check_token_count",
    "clear_embedding_cache",
    "compare_normalizations",
    "context_vectors",
    "embedding_table",
    "exp_overflow_threshold",
    "gpt2_encoding",
    "parse_embedding_table",
    "parse_values",
    "query_steps",
    "random_embeddings",
    "self_attention",
    "self_attention_loops",
    "shortest_floats",
    "softmax_naive",
    "softmax_stable",
    "sum_normalize",
    "token_piece",
    "tokenize",
    "visible_token",
]
