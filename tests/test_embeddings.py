"""The seeded nn.Embedding recipe, its bounded cache, and the embedding-table parser."""

from __future__ import annotations

import builtins
import re

import pytest
import torch

from attention_core import (
    InputError,
    TableError,
    clear_embedding_cache,
    embedding_table,
    parse_embedding_table,
    random_embeddings,
)
from attention_core import embeddings as embeddings_module

# --- random_embeddings: the book's recipe ------------------------------------------------------


def _recipe(token_ids: list[int], *, dim: int, seed: int) -> torch.Tensor:
    """What the book does: ``torch.manual_seed(seed); torch.nn.Embedding(50257, dim)(ids)``."""
    saved = torch.get_rng_state()
    try:
        torch.manual_seed(seed)
        layer = torch.nn.Embedding(50257, dim)
        return layer.weight[token_ids].detach()
    finally:
        torch.set_rng_state(saved)


@pytest.mark.parametrize(
    ("seed", "dim"),
    [(123, 3), (0, 1), (7, 768), (2**32 - 1, 5)],
    ids=["book_seed_dim3", "seed0_dim1", "dim768", "max_seed"],
)
def test_random_embeddings_equal_the_recipe(seed, dim):
    ids = [0, 15496, 11, 50256, 0]
    got = random_embeddings(ids, dim=dim, seed=seed)
    assert got.shape == (len(ids), dim)
    assert got.dtype == torch.float32
    assert not got.requires_grad
    assert torch.equal(got, _recipe(ids, dim=dim, seed=seed))


def test_random_embeddings_accept_a_tensor_of_ids():
    ids = torch.tensor([4, 8, 15])
    assert torch.equal(random_embeddings(ids, dim=4, seed=1), _recipe([4, 8, 15], dim=4, seed=1))


def test_global_rng_is_untouched():
    clear_embedding_cache()
    torch.manual_seed(2024)
    before = torch.get_rng_state()
    random_embeddings([1, 2, 3], dim=3, seed=123)  # builds a new table
    random_embeddings([1, 2, 3], dim=3, seed=123)  # from the cache
    assert torch.equal(torch.get_rng_state(), before)


def test_same_token_same_vector():
    together = random_embeddings([5, 9, 5], dim=6, seed=11)
    alone = random_embeddings([5], dim=6, seed=11)
    assert torch.equal(together[0], together[2])
    assert torch.equal(together[0], alone[0])
    assert not torch.equal(together[0], together[1])


def test_different_seeds_give_different_vectors():
    assert not torch.equal(random_embeddings([5], dim=6, seed=1), random_embeddings([5], dim=6, seed=2))


def test_result_is_a_copy_of_the_cached_table():
    first = random_embeddings([3], dim=3, seed=5)
    first += 100.0
    assert torch.equal(random_embeddings([3], dim=3, seed=5), _recipe([3], dim=3, seed=5))


def test_cache_returns_the_same_table():
    clear_embedding_cache()
    first = embedding_table(dim=3, seed=1)
    assert embedding_table(dim=3, seed=1) is first
    assert embedding_table(dim="3", seed=1.0) is first  # normalized before the lookup
    assert first.shape == (50257, 3)


def test_cache_is_bounded_by_count():
    clear_embedding_cache()
    limit = embeddings_module.CACHE_MAX_TABLES
    for seed in range(3 * limit):
        embedding_table(dim=2, seed=seed)
        assert len(embeddings_module._cache) <= limit
    assert len(embeddings_module._cache) == limit
    assert (3 * limit - 1, 2) in embeddings_module._cache  # the newest stays
    assert (0, 2) not in embeddings_module._cache  # the oldest went


def test_cache_is_bounded_by_bytes():
    clear_embedding_cache()
    for seed in range(3):
        embedding_table(dim=768, seed=seed)  # 154 MB each
        assert sum(t.nbytes for t in embeddings_module._cache.values()) <= embeddings_module.CACHE_MAX_BYTES
    assert (2, 768) in embeddings_module._cache
    clear_embedding_cache()
    assert len(embeddings_module._cache) == 0


def test_cache_keeps_the_recently_used_table():
    clear_embedding_cache()
    limit = embeddings_module.CACHE_MAX_TABLES
    kept = embedding_table(dim=2, seed=1000)
    for seed in range(limit + 2):
        embedding_table(dim=2, seed=1000)  # touch it, so it is never the least recently used
        embedding_table(dim=2, seed=seed)
    assert embedding_table(dim=2, seed=1000) is kept


@pytest.mark.parametrize(
    ("dim", "message"),
    [
        (0, "The embedding dimension is 0; it must be between 1 and 768"),
        (-1, "The embedding dimension is -1; it must be between 1 and 768"),
        (769, "The embedding dimension is 769; it must be between 1 and 768"),
        (2.5, "The embedding dimension must be a whole number, not 2.5"),
        ("abc", "The embedding dimension must be a whole number, not 'abc'"),
        (True, "The embedding dimension must be a whole number, not True"),
    ],
    ids=["zero", "negative", "too_large", "fraction", "word", "bool"],
)
def test_random_embeddings_reject_bad_dim(dim, message):
    with pytest.raises(InputError, match=re.escape(message)):
        random_embeddings([1], dim=dim, seed=1)


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (-1, "The seed is -1; it must be between 0 and 4,294,967,295"),
        (2**32, "The seed is 4294967296; it must be between 0 and 4,294,967,295"),
        (1.5, "The seed must be a whole number, not 1.5"),
    ],
    ids=["negative", "too_large", "fraction"],
)
def test_random_embeddings_reject_bad_seed(seed, message):
    with pytest.raises(InputError, match=re.escape(message)):
        random_embeddings([1], dim=3, seed=seed)


@pytest.mark.parametrize("ids", [[-1], [50257], [0, 99999]], ids=["negative", "vocab_size", "far"])
def test_random_embeddings_reject_ids_outside_the_vocabulary(ids):
    with pytest.raises(InputError, match="Token ids must be between 0 and 50256"):
        random_embeddings(ids, dim=3, seed=1)


# --- parse_embedding_table ---------------------------------------------------------------------

BOOK = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
WORDS = ["Your", "journey", "starts", "with", "one", "step"]
BOOK_TENSOR = torch.tensor(BOOK, dtype=torch.float32)


def _rows(separator: str) -> str:
    return "\n".join(separator.join(str(v) for v in row) for row in BOOK)


def _labeled_rows(separator: str, labels: list[str] = WORDS) -> str:
    return "\n".join(separator.join([label] + [str(v) for v in row]) for label, row in zip(labels, BOOK))


BOOK_LITERAL = """inputs = torch.tensor(
  [[0.43, 0.15, 0.89], # Your     (x^1)
   [0.55, 0.87, 0.66], # journey  (x^2)
   [0.57, 0.85, 0.64], # starts   (x^3)
   [0.22, 0.58, 0.33], # with     (x^4)
   [0.77, 0.25, 0.10], # one      (x^5)
   [0.05, 0.80, 0.55]] # step     (x^6)
)"""

PANDAS_INDEX = [str(i) for i in range(6)]

ACCEPTED = [
    ("csv", _rows(", "), None),
    ("csv_no_spaces", _rows(","), None),
    ("csv_trailing_comma", "\n".join(line + "," for line in _rows(", ").splitlines()), None),
    ("csv_crlf_bom", "\ufeff" + _rows(",").replace("\n", "\r\n"), None),
    ("csv_labels", _labeled_rows(","), WORDS),
    ("csv_header", "token,d1,d2,d3\n" + _labeled_rows(","), WORDS),
    ("pandas_header_labels", ",0,1,2\n" + _labeled_rows(","), WORDS),
    ("pandas_header_numeric_index", ",0,1,2\n" + _labeled_rows(",", PANDAS_INDEX), PANDAS_INDEX),
    ("tsv", _rows("\t"), None),
    ("tsv_labels", _labeled_rows("\t"), WORDS),
    ("semicolon", _rows(";"), None),
    ("whitespace", _rows("   "), None),
    ("whitespace_labels", _labeled_rows(" "), WORDS),
    ("comment_lines", "# my table\n" + _rows(", ") + "\n\n", None),
    ("json", str(BOOK), None),
    ("json_trailing_comma", "[" + ", ".join(str(row)[:-1] + ",]" for row in BOOK) + ",]", None),
    ("book_literal", BOOK_LITERAL, WORDS),
    ("plain_torch_tensor", f"torch.tensor({BOOK})", None),
    ("tensor_with_dtype", f"torch.tensor({BOOK}, dtype=torch.float64)", None),
]


@pytest.mark.parametrize(("text", "labels"), [(text, labels) for _, text, labels in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_table_formats_parse_to_the_book_inputs(text, labels):
    table = parse_embedding_table(text)
    assert table.vectors.dtype == torch.float32
    assert torch.equal(table.vectors, BOOK_TENSOR)
    assert table.labels == labels


def test_table_boundaries_are_accepted():
    tall = parse_embedding_table("\n".join(["1, 2"] * 256))
    wide = parse_embedding_table(", ".join(["0.5"] * 768))
    assert tall.vectors.shape == (256, 2)
    assert wide.vectors.shape == (1, 768)


def test_table_near_float32_max_is_accepted():
    table = parse_embedding_table("3e38, -3e38")
    assert torch.isfinite(table.vectors).all()


REJECTED = [
    ("empty", "", ["The table is empty"]),
    ("whitespace_only", "  \n\t \n", ["The table is empty"]),
    ("none", None, ["The table is empty"]),
    ("ragged_csv", "1, 2, 3\n4, 5, 6\n7, 8", ["Row 3 has 2 numbers but row 1 has 3"]),
    ("ragged_whitespace", "1 2 3\n4 5\n", ["Row 2 has 2 numbers but row 1 has 3"]),
    ("ragged_json", "[[1, 2], [3]]", ["Row 2 has 1 number but row 1 has 2"]),
    ("non_number", "1, 2, 3\n4, x5, 6", ["Row 2, column 2", "'x5'", "not a number"]),
    ("non_number_labeled", "a 1 2\nb 3 oops", ["Row 2, column 2", "'oops'", "not a number"]),
    ("comma_decimal_mark", "0,43 0,15 0,89", ["Row 1", "comma as the decimal mark", "0.43"]),
    ("nan", "1, 2\n3, nan", ["Row 2, column 2 is nan", "finite"]),
    ("inf", "1, inf", ["Row 1, column 2 is inf", "finite"]),
    ("nan_json", "[[1, NaN]]", ["Row 1, column 2 is nan"]),
    ("beyond_float32", "1, 2\n1e39, 1", ["Row 2, column 1 is 1e+39", "beyond float32's range"]),
    ("beyond_float32_json", "[[1e39, 1]]", ["Row 1, column 1 is 1e+39", "beyond float32's range"]),
    ("too_many_rows", "\n".join(["1, 2"] * 257), ["257 rows", "the limit is 256"]),
    ("too_many_columns", ", ".join(["1"] * 769), ["769 columns", "the limit is 768"]),
    ("over_one_megabyte", "1," * 600_000, ["1,200,000 bytes", "the limit is 1,000,000 bytes"]),
    ("single_list", "[1, 2, 3]", ["single list"]),
    ("nested_too_deep", "[[[1]]]", ["Row 1 is nested too deeply"]),
    ("unbalanced", "[[1, 2], [3, 4]", ["brackets do not match"]),
    ("labels_without_numbers", "a\nb", ["Row 1 has no numbers"]),
    ("lone_surrogate", "1, 2\ud800", ["surrogate"]),
]


@pytest.mark.parametrize(("text", "fragments"), [(t, f) for _, t, f in REJECTED], ids=[c[0] for c in REJECTED])
def test_bad_tables_are_rejected_with_the_row_and_problem(text, fragments):
    with pytest.raises(ValueError) as caught:
        parse_embedding_table(text)
    assert isinstance(caught.value, InputError)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_table_errors_are_value_errors():
    assert issubclass(TableError, InputError)
    assert issubclass(InputError, ValueError)


CODE = [
    ("call", "__import__('os').system('echo hi')"),
    ("call_in_list", "[[1, __import__('os')]]"),
    ("call_in_tensor", "torch.tensor(__import__('os').system('echo hi'))"),
    ("expression_after", "torch.tensor([[1, 2]]).numpy()"),
    ("lambda", "[[(lambda: 1)(), 2]]"),
    ("dict", '[{"a": 1}]'),
]


@pytest.mark.parametrize("text", [t for _, t in CODE], ids=[c[0] for c in CODE])
def test_code_is_never_evaluated(text, monkeypatch, capfd):
    def refuse(*args, **kwargs):
        raise AssertionError("the table parser must not evaluate code")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    with pytest.raises(TableError):
        parse_embedding_table(text)
    out, err = capfd.readouterr()
    assert "hi" not in out and "hi" not in err
