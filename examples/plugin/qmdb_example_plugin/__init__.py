"""An example qmdb plugin: one importer, one metric and one view, registered through qmdb's hooks.

Installed (``pip install examples/plugin``), it is found through the ``qmdb`` entry-point group:
``qmdb import DB labelme FOLDER``, ``SELECT dark_share FROM image_metrics`` after ``qmdb metrics``,
and ``SELECT * FROM dark_images`` work in every project.
"""

from pathlib import Path

from qmdb.hookspecs import hookimpl


@hookimpl
def qmdb_dataset_formats() -> dict[str, str]:
    return {"labelme": "qmdb_example_plugin.labelme"}


@hookimpl
def qmdb_metric_modules() -> list[str]:
    return ["qmdb_example_plugin.dark_share"]


@hookimpl
def qmdb_views() -> list[Path]:
    return [Path(__file__).parent / "sql"]
