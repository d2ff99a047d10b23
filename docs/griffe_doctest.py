"""Griffe extension: doctest blocks written outside an ``Examples`` section render as code.

Also here: Sphinx roles (``:class:`~x.Y```), used across the docstrings, shown as code.

Why: a module docstring may open with ``>>>`` lines (they run under --doctest-modules);
without a fence Markdown reads their output (``[1.47, 1.47]``) as reference links, which
the strict build refuses. Fencing every run of ``>>>`` lines up to the next blank line
keeps the docstrings as they are -- plain doctests -- and the site correct.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:class|func|mod|meth|attr|data|exc|obj|py:\w+):`(~?)([^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx roles as code: ``:class:`~a.b.C``` -> ```C```, ``:func:`a.f``` -> ```a.f```.

    >>> plain_roles("see :class:`~marketsai.markets.Report` and :mod:`marketsai.dynamics`")
    'see `Report` and `marketsai.dynamics`'
    """
    return ROLE.sub(lambda m: "`" + (m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)) + "`", text)


def fence_doctests(text: str) -> str:
    r"""``>>>`` blocks (up to a blank line) inside ```` ```pycon ```` fences.

    >>> fence_doctests("Text.\n\n>>> 1 + 1\n2\n\nMore.").splitlines()
    ['Text.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'More.']
    """
    out, lines, i, fenced = [], text.splitlines(), 0, False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
            out.append(f"{indent}```")
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Fence the doctest blocks of every docstring, and write Sphinx roles as code,
    before the docstring is parsed."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_doctests(obj.docstring.value))
