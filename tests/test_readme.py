"""README.md is the user's manual: it documents every view and command, and its tour runs."""

import os
import re
import shutil
from pathlib import Path


from qmdb import views
from qmdb import plugins

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_builtin_view_is_in_the_views_table():
    for view in views.builtin_views():
        assert f"| `{view.name}` |" in README, f"view {view.name} is not in README.md's views table"


def test_every_command_is_documented():
    import importlib

    for module in plugins.items("qmdb_commands"):
        name = importlib.import_module(module).NAME
        assert f"`qmdb {name}" in README, f"command {name} is not in README.md"


def tour_blocks() -> list[str]:
    return re.findall(r"<!-- readme-test: runs against the demo database -->\n```python\n(.*?)```", README, re.S)


def test_the_tour_runs_against_the_demo(demo_db, tmp_path, capsys):
    blocks = tour_blocks()
    assert blocks
    for suffix in ("", ".wal"):  # a copy: other tests may hold the shared demo file open
        source = Path(f"{demo_db}{suffix}")
        if source.exists():
            shutil.copy(source, tmp_path / f"demo.duckdb{suffix}")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "suggested_class" in out and "brightness" in out


def test_the_hooks_table_names_every_hook_with_its_signature():
    import inspect

    from qmdb import hookspecs

    specs = {name: f for name, f in vars(hookspecs).items() if name.startswith("qmdb_") and callable(f)}
    documented = set(re.findall(r"^\| `(qmdb_\w+)\(", README, re.M))
    assert documented == set(specs)
    for name, function in specs.items():
        arguments = ", ".join(inspect.signature(function).parameters)
        assert f"| `{name}({arguments})` |" in README, f"hook {name}: README shows another signature"


def test_files_shown_whole_are_the_files():
    shown = re.findall(r"<!-- readme-file: (\S+) -->\n```\w*\n(.*?)```", README, re.S)
    assert shown
    for path, text in shown:
        assert (Path(__file__).parents[1] / path).read_text() == text, f"README shows an old {path}"


def test_blocks_marked_as_written_run(capsys):
    blocks = re.findall(r"<!-- readme-test: runs as written -->\n```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Labels per class, most first." in out
