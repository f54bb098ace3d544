"""The registry finds its built-in modules on disk and loads plugins' metric modules the same way, in this
process and in the metric worker processes."""

import sys
from pathlib import Path

import pytest

import qmdb
from qmdb import plugins
from qmdb.errors import QmdbError
from qmdb.hookspecs import hookimpl
from qmdb.udfs import registry

from .conftest import make_project

UDFS = Path(__file__).parents[2] / "udfs"


def test_builtin_modules_are_the_files_of_udfs_image_then_udfs_label():
    expected = [f"qmdb.udfs.{kind}.{file.stem}" for kind in ("image", "label")
                for file in sorted((UDFS / kind).glob("*.py")) if not file.stem.startswith("_")]
    assert registry.builtin_modules() == expected
    assert tuple(expected) == plugins.items("qmdb_metric_modules")[:len(expected)]  # built-ins come first


def test_every_builtin_module_registers_its_metric_in_module_order():
    builtins = [m for m in registry.metrics() if m.function.__module__ in registry.builtin_modules()]
    assert [m.function.__module__ for m in builtins] == registry.builtin_modules()  # one metric per module
    assert [m.kind for m in builtins] == sorted(m.kind for m in builtins)  # image metrics first
    for metric in builtins:
        assert metric.function.__module__.rsplit(".", 1)[1] == metric.name


PLUGIN_METRIC = '''
from qmdb.udfs import image_metric


@image_metric(version=1, type="INTEGER", unit="px")
def half_width(image):
    """Half the image's width, rounded down."""
    return image.width // 2
'''


@pytest.fixture
def metric_plugin(tmp_path, monkeypatch):
    """A plugin package (importable, as pip would install it) whose hook names one metric module."""
    package = tmp_path / "site" / "qmdb_test_metric_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "half_width.py").write_text(PLUGIN_METRIC)
    monkeypatch.syspath_prepend(str(package.parent))  # worker processes get this sys.path too

    class Plugin:
        @hookimpl
        def qmdb_metric_modules(self):
            return ["qmdb_test_metric_plugin.half_width"]

    plugins.register(Plugin(), "test-metric-plugin")
    try:
        yield "half_width"
    finally:
        plugins.unregister("test-metric-plugin")
        registry.unregister("image", "half_width")
        for name in ("qmdb_test_metric_plugin.half_width", "qmdb_test_metric_plugin"):
            sys.modules.pop(name, None)


def test_a_plugin_metric_module_loads_after_the_builtins(metric_plugin):
    names = [m.name for m in registry.metrics("image")]
    assert metric_plugin in names
    builtin = {m.name for m in registry.metrics("image") if m.function.__module__ in registry.builtin_modules()}
    assert set(names[:len(builtin)]) == builtin


@pytest.mark.parametrize("workers", [0, 1])
def test_a_plugin_metric_is_computed_in_process_and_in_worker_processes(metric_plugin, tmp_path, photo_dir, workers):
    con = make_project(tmp_path / "plugin.duckdb", photo_dir, ["china.png", "flower.png"])
    try:
        report = qmdb.compute_metrics(con, only=[metric_plugin, "width"], workers=workers, progress=False)
        assert report.images == 2 and report.errors == 0
        rows = con.execute(f"SELECT width, {metric_plugin} FROM image_metrics ORDER BY image_id").fetchall()
        assert rows and all(half == width // 2 for width, half in rows)
    finally:
        con.close()


def test_a_metric_module_that_fails_to_import_is_named():
    class Broken:
        @hookimpl
        def qmdb_metric_modules(self):
            return ["qmdb_no_such_metric_module"]

    plugins.register(Broken(), "broken-metrics")
    try:
        with pytest.raises(QmdbError, match="metric module 'qmdb_no_such_metric_module' failed to import"):
            registry.metrics()
    finally:
        plugins.unregister("broken-metrics")
    assert registry.metrics("image")
