"""Every registered metric, function and view is documented, and the tables match the registry."""

from pathlib import Path

from qmdb import views
from qmdb.udfs import registry

DOC = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_builtin_metric_is_documented_with_its_type_and_function():
    for metric in registry.metrics():
        line = next((l for l in DOC.splitlines() if l.startswith(f"| `{metric.name}` |")), None)
        assert line, f"{metric.name} is not in README.md"
        assert f"| {metric.type} |" in line and metric.description in line
        if metric.sql_name:
            assert f"`{metric.sql_name}({metric.kind}_id)`" in line


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
