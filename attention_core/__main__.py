"""``python -m attention_core "some text"``: a sentence's tokens, attention weights and context vectors.

    $ python -m attention_core "Your journey starts with one step" --dim 3 --seed 123
    $ python -m attention_core --book          # the book's 6 × 3 table: its printed weights and context vectors

Numbers follow the views' one digits rule (4 decimals, as the book prints; never more digits than float32 has).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .limits import MAX_DIM, MAX_SEED, InputError

BOOK_SENTENCE = "Your journey starts with one step"
LABEL_CHARS = 12  # a token's label is cut to this many characters in the tables


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m attention_core",
        description="Weight-free self-attention (chapter 3.3): tokens, weights α = softmax(ω / τ) with ω = X Xᵀ, "
        "and context vectors Z = α X, for one sentence.",
    )
    command.add_argument("text", nargs="?", default=None, help="the sentence (at most 256 GPT-2 tokens)")
    command.add_argument("--dim", type=int, default=3, help=f"embedding dimension d, 1 to {MAX_DIM} (default 3)")
    command.add_argument(
        "--seed", type=int, default=123, help=f"seed of the random table, 0 to {MAX_SEED} (default 123)"
    )
    command.add_argument("--tau", type=float, default=1.0, help="softmax temperature τ (default 1, the book's)")
    source = command.add_mutually_exclusive_group()
    source.add_argument("--table", metavar="FILE", help="your own embedding table (CSV, TSV, JSON), one row per token")
    source.add_argument("--book", action="store_true", help="the book's sentence and its 6 × 3 table")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a refused input, with the reason on stderr)."""
    import attention_core as ac

    arguments = parser().parse_args(argv)
    try:
        if arguments.book:
            run = ac.attend(arguments.text or BOOK_SENTENCE, table=ac.BOOK_TABLE, temperature=arguments.tau)
        else:
            table = _read_table(arguments.table) if arguments.table else ""
            run = ac.attend(
                arguments.text or "", dim=arguments.dim, seed=arguments.seed, table=table, temperature=arguments.tau
            )
    except InputError as error:
        print(f"python -m attention_core: {error}", file=sys.stderr)
        return 2
    print(render(run))
    return 0


def _read_table(path: str) -> str:
    from .limits import MAX_TABLE_BYTES

    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TABLE_BYTES + 1)  # one byte more, so the table's own check reports the size
    except OSError as error:
        raise InputError(f"Cannot read the table {path!r}: {error.strerror}.") from None
    return data.decode("utf-8", errors="surrogateescape")


def render(run) -> str:
    """A run as plain text: a header, the tokens with their ids, the weights (T×T) and the context vectors (T×d).

    run: an ``attention_core.Attended``.
    """
    from .tokens import visible_token

    attention = run.attention
    labels = [_cut(visible_token(token)) for token in run.tokens]
    source = (
        f"seeded random embeddings (d = {run.dim}, seed = {run.seed})"
        if run.source == "random"
        else f"your table (d = {run.dim})"
    )
    count = len(run.tokens)
    lines = [f"{count} token{'s' if count != 1 else ''}, {source}, τ = {run.temperature:g}", "", "tokens"]
    first = max(len(label) for label in labels)
    for index, label in enumerate(labels):
        ids = f"  id {run.ids[index]}" if run.ids is not None else ""
        lines.append(f"  {index + 1:>3}  {label.ljust(first)}{ids}".rstrip())
    lines += ["", "attention weights α = softmax(ω / τ): rows are queries, columns keys; each row sums to 1"]
    lines += _matrix(attention.weights, labels, labels)
    lines += ["", f"context vectors Z = α X: one row per token, d = {run.dim}"]
    lines += _matrix(attention.context, labels, [str(j + 1) for j in range(attention.context.shape[1])])
    return "\n".join(lines)


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _matrix(matrix, rows: Sequence[str], columns: Sequence[str]) -> list[str]:
    from .views.numbers import num

    dtype = str(matrix.dtype).removeprefix("torch.")
    cells = [[num(value, dtype=dtype) for value in row] for row in matrix.tolist()]
    width = max([len(c) for c in columns] + [len(cell) for row in cells for cell in row])
    first = max(len(label) for label in rows)
    lines = [" " * (first + 2) + "".join(f"  {column.rjust(width)}" for column in columns)]
    for label, row in zip(rows, cells):
        lines.append(f"  {label.ljust(first)}" + "".join(f"  {cell.rjust(width)}" for cell in row))
    return lines


if __name__ == "__main__":
    sys.exit(main())
