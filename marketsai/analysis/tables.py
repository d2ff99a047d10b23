"""Result tables as GitHub markdown (the ``.md`` beside each results ``.csv``)."""

from __future__ import annotations


def markdown_table(frame) -> str:
    """A GitHub table of a DataFrame's cells as they are (format them first), no extra dependency.

    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"a": ["1"], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1 | x |
    """
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
