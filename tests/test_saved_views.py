"""Saved views are checked at save time: one query, known tables and columns, declared and used
parameters with defaults of their type; nothing is stored or run when a check fails."""

import re

import pytest

import qmdb
from qmdb import views
from qmdb.cli import main
from qmdb.errors import ViewError


@pytest.mark.parametrize("sql, params, message", [
    ("SELECT 1 AS a; DROP TABLE images", {}, "one query"),
    ("SELECT 1 AS a; SELECT 2 AS b", {}, "one query"),
    ("DROP TABLE images", {}, "SELECT"),
    ("INSERT INTO images (dataset, path) VALUES ('x', 'y')", {}, "SELECT"),
    ("SELECT path FROM images WHERE width >= min_w", {}, "declare it"),
    ("SELECT path FROM images", {"unused": ("INTEGER", "1")}, "never uses"),
    ("SELECT path FROM images WHERE width > w", {"w": ("INTEGER", "'wide'")}, "not a INTEGER"),
    ("SELECT path FROM images WHERE width > w", {"w": ("INTEGER", "1) AS TABLE SELECT 1; DROP TABLE images; --")}, "w"),
    ("SELECT path FROM images WHERE width > w", {"w": ("INTEGER); DROP TABLE images; --", "1")}, "not a SQL type"),
    ("SELECT path FROM images WHERE width > w", {"W x": ("INTEGER", "1")}, "parameter name"),
])
def test_bad_view_refused_and_database_untouched(con, sql, params, message):
    con.execute("INSERT INTO images (dataset, path, width) VALUES ('d', 'a.png', 10)")
    with pytest.raises(ViewError, match=re.compile(message, re.I)):
        qmdb.save_view(con, "bad", sql, "A bad view.", params)
    assert con.sql("SELECT count(*) FROM images").fetchall() == [(1,)]
    assert "bad" not in {v.name for v in views.list_views(con)}


def test_cli_save_then_list_show_run(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    con = qmdb.connect(db_path)
    con.execute("INSERT INTO images (dataset, path, width) VALUES ('d', 'a.png', 10), ('d', 'b.png', 40)")
    con.close()
    assert main(["views", str(db_path), "save", "wide", "--sql", "SELECT path FROM images WHERE width >= min_w",
                 "--description", "Wide images.", "-p", "min_w INTEGER = 20"]) == 0
    assert main(["views", str(db_path), "run", "wide", "-p", "min_w=5", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-3:] == ['"path"', '"a.png"', '"b.png"']
    assert main(["views", str(db_path), "save", "broken", "--sql", "SELECT nope FROM images",
                 "--description", "Broken."]) == 1
    assert "nope" in capsys.readouterr().err


def test_python_cli_and_http_list_the_same_views(db_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    con = qmdb.connect(db_path)
    qmdb.save_view(con, "all_paths", "SELECT path FROM images", "Every image path.")
    python_names = [v.name for v in views.list_views(con)]
    con.close()
    with TestClient(qmdb.create_app(db_path)) as client:
        assert [v["name"] for v in client.get("/views").json()["views"]] == python_names
