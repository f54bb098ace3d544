"""The metrics views are documented and the tables match the registry (the metric table itself:
test_metric_docs.py)."""

from pathlib import Path

from qmdb import views
from qmdb.udfs import registry

DOC = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_metrics_view_is_documented():
    names = [v.name for v in views.builtin_views() if v.name.startswith("metrics_")]
    assert names == ["metrics_images", "metrics_labels"]
    assert all(f"`{name}`" in DOC for name in names)


def test_tables_have_a_column_of_the_right_type_per_builtin_metric(con):
    for kind, table in (("image", "image_metrics"), ("label", "label_metrics")):
        columns = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]).fetchall())
        for metric in registry.metrics(kind):
            assert columns.get(metric.name) == metric.type, (table, metric.name)
