import re

import pytest
import sqlglot
from sqlglot import exp

import qmdb
from qmdb import views
from qmdb.errors import ViewError


def test_builtin_views_parse_and_declare_their_parameters():
    for view in views.builtin_views():
        tree = sqlglot.parse_one(view.sql, read="duckdb")
        columns = {c.name for c in tree.find_all(exp.Column) if not c.table}
        for param in view.params:
            assert param.name in columns, f"{view.name}: parameter {param.name} is declared but never used"
        assert view.description


def test_save_and_run_a_view_with_parameters(con):
    con.execute("INSERT INTO images (dataset, path, width) VALUES ('d', 'a.png', 10), ('d', 'b.png', 30)")
    qmdb.save_view(con, "wide_images", "SELECT path FROM images WHERE width >= min_width",
                   "Images at least min_width pixels wide.", {"min_width": ("INTEGER", "20")})
    assert qmdb.run_view(con, "wide_images").fetchall() == [("b.png",)]
    assert sorted(qmdb.run_view(con, "wide_images", min_width=5).fetchall()) == [("a.png",), ("b.png",)]


def test_saved_view_travels_with_the_file(db_path):
    con = qmdb.connect(db_path)
    qmdb.save_view(con, "all_paths", "SELECT path FROM images", "Every image path.")
    con.close()
    again = qmdb.connect(db_path)
    assert [v.name for v in views.list_views(again) if not v.builtin] == ["all_paths"]


@pytest.mark.parametrize("sql, message", [
    ("SELEC path FROM images", "syntax"),
    ("SELECT nope FROM images", "nope"),
    ("SELECT path FROM missing_table", "missing_table"),
])
def test_bad_view_is_refused_at_save_time(con, sql, message):
    with pytest.raises(ViewError, match=re.compile(message, re.I)):
        qmdb.save_view(con, "bad", sql, "A broken view.")
    assert [v.name for v in views.list_views(con) if v.name == "bad"] == []


def test_unknown_parameter_is_a_clear_error(con):
    with pytest.raises(ViewError, match="unknown parameter"):
        qmdb.run_view(con, "class_counts", nope=1)


def test_class_counts_view(con):
    con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a'), (2, 'e', 'b')")
    con.execute("INSERT INTO labels (image_id, class, source_id) VALUES (1, 'cat', '1'), (1, 'cat', '2'), (2, 'dog', '3')")
    assert qmdb.run_view(con, "class_counts", dataset_name="d").fetchall() == [("d", "cat", 2, 1, 1.0)]
