"""Label history: apply_changes records versions, undo restores exactly, bad input is one line."""

import pyarrow as pa
import pytest

import qmdb
from qmdb.history import apply_changes, undo
from qmdb.history.schema import SCHEMA
from qmdb.history.undo import UndoError


def fill(con):
    con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png'), (2, 'd', 'b.png')")
    con.execute("INSERT INTO labels (image_id, class, x, y, w, h, polygon, mask, source_id) VALUES "
                "(1, 'cat', 1, 1, 3, 3, [[1.0, 1.0, 4.0, 1.0, 4.0, 4.0]], {'size': [8, 8], 'counts': '0a1'}, 'a'), "
                "(2, 'dog', 2, 2, 4, 4, NULL, NULL, 'b'), (2, 'dog', 5, 5, 1, 1, NULL, NULL, 'c')")
    con.execute(SCHEMA[0])  # the migration records labels written outside qmdb as version 1
    return con


@pytest.fixture
def project(con):
    return fill(con)


@pytest.fixture(scope="module")
def unchanged():
    """One project for the tests that must leave it as it was."""
    connection = fill(qmdb.connect())
    yield connection
    connection.close()


def rows(con):
    return con.sql("SELECT * FROM labels ORDER BY label_id").fetchall()


def test_changes_are_versions(project):
    batch = apply_changes(project, pa.table({
        "op": ["update", "delete", "insert"], "label_id": [1, 2, None], "image_id": [1, None, 1],
        "class": ["lion", None, "bird"], "author": ["bo", None, None]}), author="ana", source="test", reason="why")
    assert project.sql("SELECT label_id, class FROM labels ORDER BY 1").fetchall() == [
        (1, "lion"), (3, "dog"), (4, "bird")]
    versions = project.sql("SELECT label_id, version, op, changed, author, source, reason, old->>'class', "
                           "new->>'class' FROM label_versions WHERE batch_id = $b ORDER BY 1",
                           params={"b": batch}).fetchall()
    assert versions[0] == (1, 2, "update", ["class"], "bo", "test", "why", "cat", "lion")
    assert versions[1][:3] == (2, 2, "delete") and versions[1][7:] == ("dog", None)
    assert versions[2][:3] == (4, 1, "insert") and versions[2][4] == "ana" and versions[2][8] == "bird"
    assert project.sql("SELECT author, source, changes FROM label_batches WHERE batch_id = $b",
                       params={"b": batch}).fetchall() == [("ana", "test", 3)]


def test_labels_present_before_history_are_version_one(project):
    qmdb.schema.repair(project)  # the migration re-runs: no second baseline
    project.execute("DELETE FROM label_versions")
    project.execute("DELETE FROM label_batches")
    project.execute(SCHEMA[0])
    assert project.sql("SELECT label_id, version, op, source FROM label_versions ORDER BY 1").fetchall() == [
        (1, 1, "insert", "migration"), (2, 1, "insert", "migration"), (3, 1, "insert", "migration")]
    project.execute(SCHEMA[0])
    assert project.sql("SELECT count(*) FROM label_versions").fetchall() == [(3,)]


def test_undo_restores_exactly(project):
    before = rows(project)
    batch = apply_changes(project, pa.table({
        "op": ["update", "delete", "insert"], "label_id": [1, 2, None], "image_id": pa.array([2, None, 1], pa.int64()),
        "class": ["lion", None, "bird"], "x": [9.0, None, 0.0], "mask": pa.nulls(3, pa.struct(
            [("size", pa.list_(pa.int32())), ("counts", pa.string())]))}), author="ana", source="test")
    assert rows(project) != before
    undone = undo(project, batch, author="ana")
    assert rows(project) == before
    assert project.sql("SELECT undone_by FROM label_batches WHERE batch_id = $b", params={"b": batch}).fetchall() == [(undone,)]
    with pytest.raises(UndoError, match="already undone"):
        undo(project, batch, author=None)
    undo(project, undone, author=None)  # redo
    assert project.sql("SELECT class FROM labels ORDER BY label_id").fetchall() == [("lion",), ("dog",), ("bird",)]


def test_undo_refuses_a_batch_overtaken_by_a_later_one(project):
    first = apply_changes(project, pa.table({"op": ["update"], "label_id": [1], "class": ["lion"]}), author=None, source="t")
    second = apply_changes(project, pa.table({"op": ["update"], "label_id": [1], "x": [7.0]}), author=None, source="t")
    with pytest.raises(UndoError, match=f"undo batch {second} first"):
        undo(project, first, author=None)
    undo(project, second, author=None)
    undo(project, first, author=None)
    assert project.sql("SELECT class, x FROM labels WHERE label_id = 1").fetchall() == [("cat", 1.0)]


@pytest.mark.parametrize("changes, message", [
    ({"op": ["update"], "label_id": [99], "class": ["x"]}, "cvat.xml: label_id: no label with these ids: 99"),
    ({"op": ["move"], "label_id": [1]}, "cvat.xml: op: must be insert, update or delete, got: move"),
    ({"op": ["insert"], "image_id": [7], "class": ["x"]}, "cvat.xml: image_id: no image with these ids: 7"),
    ({"op": ["insert"], "image_id": [1]}, "cvat.xml: class: an insert needs an image_id and a class"),
    ({"op": ["update", "delete"], "label_id": [1, 1]}, "cvat.xml: label_id: more than one change to one label: 1"),
    ({"op": ["update"], "label_id": [1], "colour": ["red"]}, "cvat.xml: colour: not a column of labels"),
])
def test_bad_changes_are_one_line_and_change_nothing(unchanged, changes, message):
    project = unchanged
    before = rows(project)
    with pytest.raises(qmdb.InputError) as error:
        apply_changes(project, pa.table(changes), author=None, source="cvat.xml")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert rows(project) == before
    assert project.sql("SELECT count(*) FROM label_batches WHERE source = 'cvat.xml'").fetchall() == [(0,)]


def test_a_project_from_before_history_migrates(con):
    con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png')")
    con.execute("INSERT INTO labels (image_id, class, source_id) VALUES (1, 'cat', 'a'), (1, 'dog', 'b')")
    con.execute("DROP TABLE label_versions; DROP TABLE label_batches; DROP VIEW label_history; DROP MACRO TABLE labels_at; "
                "DROP SEQUENCE label_batch_id_seq; DELETE FROM schema_migrations WHERE component = 'history'")
    assert ("history", 1) in qmdb.schema.migrate(con)  # as when a file written before label history opens
    assert con.sql("SELECT label_id, version, op, source, new->>'class' FROM label_versions ORDER BY 1").fetchall() == [
        (1, 1, "insert", "migration", "cat"), (2, 1, "insert", "migration", "dog")]
    assert con.sql("SELECT class FROM labels_at() ORDER BY label_id").fetchall() == [("cat",), ("dog",)]


def test_since_and_diff_between_times(project):
    from qmdb.history import diff, versions
    from qmdb.history.query import HistoryError

    first = apply_changes(project, pa.table({"op": ["update"], "label_id": [1], "class": ["lion"]}), author=None, source="t")
    middle = project.sql("SELECT created_at FROM label_batches WHERE batch_id = $b", params={"b": first}).fetchall()[0][0]
    second = apply_changes(project, pa.table({"op": ["delete", "insert"], "label_id": [2, None], "image_id": [None, 1],
                                              "class": [None, "bird"], "w": [None, 2.0], "h": [None, 2.0]}),
                           author=None, source="t")
    after = {b for (b,) in versions(project, since=middle).select("batch_id").fetchall()}
    assert after == {first, second}
    later = project.sql("SELECT created_at FROM label_batches WHERE batch_id = $b", params={"b": second}).fetchall()[0][0]
    assert {b for (b,) in versions(project, since=later).select("batch_id").fetchall()} == {second}
    assert diff(project, middle, "now").select("change, label_id, changed, before_class, after_class").fetchall() == [
        ("added", 4, ["image_id", "class", "w", "h", "area", "iscrowd", "source_id"], None, "bird"),
        ("removed", 2, ["image_id", "class", "x", "y", "w", "h", "iscrowd", "source_id"], "dog", None)]
    with pytest.raises(HistoryError, match="'yesterday-ish' is neither a timestamp"):
        versions(project, since="yesterday-ish")
