"""README.md's table of metrics is the registry's, and its "adding a built-in metric" example works as told:
the module alone registers the metric, gives it a column and a row of the table, and its test passes."""

import re
import sys
from pathlib import Path

import pytest

import qmdb
import qmdb.udfs.image
from qmdb import plugins
from qmdb.udfs import docs, registry

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_table_is_the_registry_table():
    assert docs.documented(README.read_text()) == docs.markdown_table(), (
        "README.md's metric table differs from the metrics' docstrings: run python -m qmdb.udfs.docs README.md")


def test_every_builtin_metric_has_a_row_with_its_type_unit_and_meaning():
    table = docs.markdown_table()
    for metric in docs.builtin_metrics():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{metric.name}` |"))
        assert f"| {metric.type} | {metric.unit} | {metric.description} |" in row
        assert (f"`{metric.sql_name}({metric.kind}_id)`" if metric.sql_name else docs.NO_FUNCTION) in row


def test_a_custom_metric_is_not_in_the_builtin_table():
    @registry.image_metric(version=1)
    def not_builtin(image):
        """A metric of a notebook."""
        return 0.0

    try:
        assert "not_builtin" in [m.name for m in registry.metrics("image")]
        assert "not_builtin" not in docs.markdown_table()
        assert "`not_builtin`" in docs.markdown_table([registry.get("image", "not_builtin")])
    finally:
        registry.unregister("image", "not_builtin")


def test_update_rewrites_only_the_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\n{docs.BEGIN}\nstale\n{docs.END}\n\nafter\n")
    assert docs.update(page) is True
    assert page.read_text() == f"# Title\n\n{docs.BEGIN}\n{docs.markdown_table()}\n{docs.END}\n\nafter\n"
    assert docs.update(page) is False


def example() -> tuple[str, str, str]:
    """The README's worked example: (module file name, module source, test source)."""
    found = re.search(r"<!-- readme-test: a built-in metric module and its test -->\n"
                      r"```python\n# udfs/image/(\w+\.py)\n(.*?)```\n\n```python\n# tests/udfs/\w+\.py\n(.*?)```",
                      README.read_text(), re.S)
    assert found, "README.md lost its 'adding a built-in metric' example"
    return found.groups()


@pytest.fixture
def new_builtin(tmp_path):
    """The example's module dropped into (a folder searched as) udfs/image/, as a contributor would add it."""
    file, source, _ = example()
    folder = tmp_path / "image"
    folder.mkdir()
    (folder / file).write_text(source)
    name = f"qmdb.udfs.image.{file[:-3]}"
    qmdb.udfs.image.__path__.append(str(folder))
    plugins.items.cache_clear()
    try:
        yield name, file[:-3]
    finally:
        qmdb.udfs.image.__path__.remove(str(folder))
        plugins.items.cache_clear()
        registry.unregister("image", file[:-3])
        sys.modules.pop(name, None)


def test_the_readme_example_adds_a_builtin_metric_with_no_other_edit(new_builtin, tmp_path):
    module, metric = new_builtin
    assert module in registry.builtin_modules() and module in plugins.items("qmdb_metric_modules")
    names = [m.name for m in docs.builtin_metrics() if m.kind == "image"]
    assert names == sorted(names) and metric in names
    assert f"| `{metric}` | `{metric}(image_id)` | DOUBLE | 0..1 |" in docs.markdown_table()
    con = qmdb.connect(tmp_path / "new.duckdb")  # opening a project gives every metric its column
    try:
        columns = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'image_metrics'").fetchall())
        assert columns[metric] == "DOUBLE"
    finally:
        con.close()
    namespace: dict = {}
    exec(compile(example()[2], "README.md", "exec"), namespace)
    tests = [value for key, value in namespace.items() if key.startswith("test_")]
    assert tests
    for test in tests:
        test()
