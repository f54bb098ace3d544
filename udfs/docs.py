"""The metrics' reference table, rendered from the registry: README.md holds it between marker comments.

Each row is a registered metric: its name, SQL function, type, unit and the
first line of its docstring, so the module is the one place a metric is
described. `markdown_table()` renders it; ``python -m qmdb.udfs.docs README.md``
rewrites the block between `BEGIN` and `END` in place, and a test fails while
README.md and the registry disagree.

>>> from qmdb.udfs import registry
>>> print(markdown_table([registry.get("image", "width")]))
| image metric | SQL function | type | unit / range | meaning |
|---|---|---|---|---|
| `width` | `width(image_id)` | INTEGER | px | Width of the decoded image in pixels. |
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import registry
from .registry import Metric

BEGIN, END = "<!-- metrics:begin -->", "<!-- metrics:end -->"
ARGUMENT = {"image": "image_id", "label": "label_id"}  # what a metric's SQL function takes
NO_FUNCTION = "— (needs the other boxes / the dataset)"


def builtin_metrics() -> list[Metric]:
    """The built-in metrics (those of `registry.builtin_modules()`), in registry order."""
    modules = set(registry.builtin_modules())
    return [m for m in registry.metrics() if m.function.__module__ in modules]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(metrics: list[Metric] | None = None) -> str:
    """One Markdown table per kind (image, then label) of `metrics` (default: the built-ins)."""
    metrics = builtin_metrics() if metrics is None else metrics
    tables = []
    for kind in registry.KINDS:
        rows = [f"| {kind} metric | SQL function | type | unit / range | meaning |", "|---|---|---|---|---|"]
        for m in (m for m in metrics if m.kind == kind):
            function = f"`{m.sql_name}({ARGUMENT[kind]})`" if m.sql_name else NO_FUNCTION
            rows.append(f"| `{m.name}` | {function} | {m.type} | {_cell(m.unit)} | {_cell(m.description)} |")
        if len(rows) > 2:
            tables.append("\n".join(rows))
    return "\n\n".join(tables)


def documented(text: str) -> str:
    """The block of `text` between `BEGIN` and `END` (without the markers' lines)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"no {BEGIN} … {END} block")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def update(path: str | Path) -> bool:
    """Rewrite the metrics block of a Markdown file from the registry; True when it changed."""
    path = Path(path)
    text = path.read_text()
    old = documented(text)
    new = markdown_table()
    if old == new:
        return False
    before, rest = text.split(BEGIN, 1)
    path.write_text(f"{before}{BEGIN}\n{new}\n{END}{rest.split(END, 1)[1]}")
    return True


if __name__ == "__main__":
    for file in sys.argv[1:] or ["README.md"]:
        print(f"{file}: {'updated' if update(file) else 'up to date'}")
