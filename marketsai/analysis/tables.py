"""Result tables as GitHub markdown (the ``.md`` beside each results ``.csv``)."""

from __future__ import annotations


def markdown_rows(header, rows) -> str:
    """A GitHub table of cells as they are (format them first): ``header`` names the
    columns, each of ``rows`` holds one cell per column.

    >>> print(markdown_rows(["a", "b"], [["1", "x"], [2, None]]))
    | a | b |
    |---|---|
    | 1 | x |
    | 2 | None |
    """
    header = [str(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_table(frame) -> str:
    """A GitHub table of a DataFrame's cells as they are (format them first), no extra dependency.

    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"a": ["1"], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1 | x |
    """
    return markdown_rows(frame.columns, frame.itertuples(index=False))
