"""docs/tabular.md: its example runs and its API table names what the package exports."""

import re

import marketsai.tabular as tab


def test_tabular_doc_example_runs(capsys):
    text = open("docs/tabular.md").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/tabular.md", "exec"), {})
    out = capsys.readouterr().out
    assert "profit_gain" in out and "converged" in out


def test_tabular_doc_names_the_public_api():
    text = open("docs/tabular.md").read()
    for name in tab.__all__:
        assert f"{name}" in text, name
