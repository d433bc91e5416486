"""``python -m attention_core``: the command line, called in-process (tests/e2e/test_packaging.py runs it as a
program in a fresh install)."""

from __future__ import annotations

import pytest
import torch
from golden import CONTEXT, INPUTS, SENTENCE, WEIGHTS
from reference import recipe_inputs

from attention_core.__main__ import main


def tables(output: str) -> dict[str, list[list[float]]]:
    """The output's two number tables, ``weights`` and ``context``, read back as floats (header rows and labels
    dropped; a label has no space: the CLI shows a token's spaces as ␣)."""
    found: dict[str, list[list[float]]] = {}
    rows: list[list[float]] | None = None
    header = False
    for line in output.splitlines():
        if line.startswith(("attention weights", "context vectors")):
            rows = found.setdefault("weights" if line.startswith("attention") else "context", [])
            header = True
        elif rows is not None and line.strip():
            if not header:
                rows.append([float(cell) for cell in line.split()[1:]])
            header = False
    return found


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_books_table_prints_the_books_weights_and_context_vectors(capsys):
    status, out, err = run_main(capsys, "--book")
    assert (status, err) == (0, "")
    assert out.startswith("6 tokens, your table (d = 3), τ = 1\n")
    numbers = tables(out)
    assert numbers["weights"] == WEIGHTS  # printed at the book's 4 decimals
    assert numbers["context"] == CONTEXT


@pytest.mark.parametrize(("dim", "seed", "tau"), [(3, 123, 1.0), (5, 7, 2.0), (2, 0, 0.5)])
def test_a_sentence_prints_its_tokens_and_the_recipes_numbers(capsys, dim, seed, tau):
    status, out, _ = run_main(capsys, SENTENCE, "--dim", str(dim), "--seed", str(seed), "--tau", str(tau))
    assert status == 0
    assert f"seeded random embeddings (d = {dim}, seed = {seed}), τ = {tau:g}" in out.splitlines()[0]
    assert "    2  ␣journey  id 7002" in out
    x = recipe_inputs([7120, 7002, 4940, 351, 530, 2239], dim=dim, seed=seed).double()
    weights = torch.softmax(x @ x.T / tau, dim=-1)  # float64 reference
    numbers = tables(out)
    # 4 decimals printed (or 5 significant digits in scientific notation below 5e-5): within half a unit of 1e-4
    torch.testing.assert_close(torch.tensor(numbers["weights"], dtype=torch.float64), weights, atol=5.1e-5, rtol=0)
    torch.testing.assert_close(
        torch.tensor(numbers["context"], dtype=torch.float64), weights @ x, atol=5.1e-5, rtol=1e-5
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["", "--dim", "3"], "The text is empty"),
        (["Hi", "--dim", "0"], "between 1 and 768"),
        (["Hi", "--tau", "0"], "greater than 0"),
        (["Hi", "--table", "/nonexistent/table.csv"], "Cannot read the table"),
    ],
    ids=["empty", "dim", "tau", "no_file"],
)
def test_a_refused_input_exits_2_with_the_reason(capsys, argv, fragment):
    status, out, err = run_main(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("python -m attention_core: ") and fragment in err


def test_a_table_file_is_read(capsys, tmp_path):
    table = tmp_path / "book.csv"
    table.write_text("\n".join(",".join(str(v) for v in row) for row in INPUTS), encoding="utf-8")
    status, out, _ = run_main(capsys, SENTENCE, "--table", str(table))
    assert status == 0 and tables(out)["context"] == CONTEXT
