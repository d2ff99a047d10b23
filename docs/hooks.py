"""MkDocs hook: links from a page to a file of the repository outside docs/ (a figure
under ``experiments/*/results/``, a results table) are served from a copy in the site.

Why: the docs cite their sources where they live, next to the experiment that made
them; the site must show them too, and ``mkdocs build --strict`` must fail on a link
whose target does not exist -- which it still does, since only existing files are copied.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.structure.files import File

LINK = re.compile(r"(\]\()([^)\s#]+)")
PREFIX = "_repo"
_rewrites: dict[str, dict[str, str]] = {}  # page src_uri -> {target as written: new target}


def _outside_targets(page_path: Path, text: str, docs_dir: Path, root: Path):
    for m in LINK.finditer(text):
        target = m.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            continue
        resolved = (page_path.parent / target).resolve()
        if resolved.is_relative_to(docs_dir) or not resolved.is_relative_to(root):
            continue
        if resolved.is_file():
            yield target, resolved.relative_to(root).as_posix()


def on_files(files, config):
    docs_dir = Path(config["docs_dir"]).resolve()
    root = docs_dir.parent
    added = set()
    for f in list(files.documentation_pages()):
        if not f.abs_src_path:
            continue
        src = Path(f.abs_src_path)
        text = src.read_text(encoding="utf-8")
        for target, rel in _outside_targets(src, text, docs_dir, root):
            uri = f"{PREFIX}/{rel}"
            page_dir = os.path.dirname(f.src_uri)
            _rewrites.setdefault(f.src_uri, {})[target] = os.path.relpath(uri, page_dir or ".")
            if uri not in added:
                added.add(uri)
                files.append(File.generated(config, uri, abs_src_path=str(root / rel)))
    return files


def on_page_markdown(markdown, page, config, files):
    table = _rewrites.get(page.file.src_uri)
    if not table:
        return markdown
    return LINK.sub(lambda m: m.group(1) + table.get(m.group(2), m.group(2)), markdown)
