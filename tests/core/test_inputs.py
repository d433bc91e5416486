"""What the library's attention functions accept as inputs, and how they refuse the rest: always with the
library's own InputError, whose message says what to fix, never with torch's raw error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from golden import CONTEXT, HALF_UNIT, INPUTS

from attention_core import (
    BOOK_INPUTS,
    InputError,
    attention_scores,
    attention_weights,
    context_vectors,
    query_steps,
    self_attention,
    self_attention_loops,
)
from attention_core.attention import check_inputs

FUNCTIONS = {
    "scores": attention_scores,
    "matrix": self_attention,
    "loops": self_attention_loops,
    "steps": lambda inputs: query_steps(inputs, 0),
}


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=FUNCTIONS)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64], ids=str)
def test_a_table_that_is_not_float_is_refused_with_the_fix(function, dtype):
    inputs = torch.ones(3, 2, dtype=dtype)
    expected = "complex numbers" if dtype.is_complex else "integers"
    with pytest.raises(InputError, match=rf"inputs are {dtype}, .*takes no {expected}.*inputs\.float\(\)"):
        function(inputs)


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=FUNCTIONS)
@pytest.mark.parametrize(
    ("value", "shown"), [(float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf")], ids=str
)
def test_nan_or_inf_in_a_table_is_refused_with_its_position(function, value, shown):
    inputs = torch.ones(3, 2)
    inputs[1, 0] = value
    with pytest.raises(InputError, match=rf"^inputs\[1, 0\] is {shown}; every entry must be a finite number"):
        function(inputs)


def test_every_non_finite_entry_is_counted():
    inputs = torch.tensor([[1.0, float("nan")], [float("inf"), 2.0]])
    with pytest.raises(InputError, match=r"inputs\[0, 1\] is nan \(2 entries are not finite\)"):
        self_attention(inputs)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1.0, 2.0], [3.0]], r"must have 2 numbers, as row 0 does; row 1 has 1"),
        ([[1.0, "2"]], r"inputs\[0\]\[1\] is str, not a number"),
        ([[1.0, True]], r"inputs\[0\]\[1\] is bool, not a number"),
        ([[[1.0]]], r"inputs\[0\]\[0\] is list, not a number"),
        ({"a": 1.0}, r"not dict"),
        (np.array([["a", "b"]]), r"array of <U1"),
    ],
    ids=["ragged", "text_cell", "bool_cell", "too_deep", "dict", "text_array"],
)
def test_rows_that_are_not_a_table_of_numbers_are_refused(rows, message):
    with pytest.raises(InputError, match=message):
        self_attention(rows)


@pytest.mark.parametrize(
    "rows",
    [BOOK_INPUTS, [list(row) for row in BOOK_INPUTS], np.array(BOOK_INPUTS, dtype=np.float32)],
    ids=["book_tuples", "lists", "numpy_float32"],
)
def test_the_books_rows_are_accepted_as_float32(rows):
    run = self_attention(rows)
    assert run.inputs.dtype == torch.float32
    assert torch.equal(run.inputs, torch.tensor(INPUTS))
    torch.testing.assert_close(run.context, torch.tensor(CONTEXT), atol=HALF_UNIT, rtol=0.0)
    torch.testing.assert_close(self_attention_loops(rows).context, run.context)


def test_integer_rows_become_float32_and_a_float64_array_stays_float64():
    """Python numbers carry no dtype, so integer rows are read as float32; a numpy array keeps its float dtype."""
    assert check_inputs([[1, 2], [3, 4]]).dtype == torch.float32
    assert check_inputs(np.array([[1, 2]])).dtype == torch.float32
    assert check_inputs(np.array([[0.5, 1.0]])).dtype == torch.float64


def test_attention_weights_refuses_integer_scores():
    with pytest.raises(InputError, match=r"scores are torch\.int64.*scores\.float\(\)"):
        attention_weights(torch.tensor([[1, 2]]))


@pytest.mark.parametrize(
    ("weights", "inputs", "message"),
    [
        (torch.ones(2, 3), torch.ones(2, 4), r"weights are \(2, 3\) but inputs have 2 rows: weights must be \(T, 2\)"),
        (torch.ones(2), torch.ones(2, 4), r"weights are \(2,\) but inputs have 2 rows"),
        (torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 4), r"weights are torch\.float64 but inputs are"),
        (torch.ones(2, 2, dtype=torch.long), torch.ones(2, 4), r"weights are torch\.int64, but attention needs"),
    ],
    ids=["columns", "vector", "dtypes", "integer"],
)
def test_context_vectors_refuses_mismatched_shapes_and_dtypes(weights, inputs, message):
    with pytest.raises(InputError, match=message):
        context_vectors(weights, inputs)


def test_every_refusal_is_a_value_error():
    """InputError is a ValueError: code that catches ValueError keeps working."""
    with pytest.raises(ValueError):
        self_attention(torch.ones(2, 2, dtype=torch.long))
