"""qmdb fix on the demo project: each suggesting view's fix is applied as label versions, the view
stops listing what was fixed, dry runs and rejections change no label, undo restores exactly."""

import shutil

import pytest

import qmdb
from qmdb.cli import main
from qmdb.history import undo
from qmdb.history.fix import SUGGESTIONS, fix


@pytest.fixture
def demo(demo_db, tmp_path):
    for suffix in ("", ".wal"):  # a copy: other tests read the shared demo file
        if (source := demo_db.parent / f"{demo_db.name}{suffix}").exists():
            shutil.copy(source, tmp_path / f"demo.duckdb{suffix}")
    con = qmdb.connect(tmp_path / "demo.duckdb")
    yield con
    con.close()


def labels(con):
    return con.sql("SELECT * FROM labels ORDER BY label_id").fetchall()


def listed(con, view, column):
    return {r[0] for r in con.sql(f"SELECT {column} FROM {view}()").fetchall()}


CHECKS = {  # view → (the column naming the item, what the label holds after the fix)
    "errors_classification": ("label_id", "SELECT l.class = c.class FROM labels l JOIN _changes c USING (label_id)"),
    "errors_bad_boxes": ("label_id", "SELECT [l.x, l.y, l.w, l.h] = [c.x, c.y, c.w, c.h] FROM labels l JOIN _changes c USING (label_id)"),
    "errors_missing_labels": ("prediction_id", "SELECT count(*) = 3 FROM labels l JOIN _changes c USING (source_id)"),
    "errors_duplicate_boxes": ("label_id", "SELECT count(*) = 0 FROM labels l JOIN _changes c USING (label_id)"),
}


@pytest.mark.parametrize("view", SUGGESTIONS)
def test_each_view_fix_is_recorded_and_leaves_the_view(demo, view):
    item, check = CHECKS[view]
    before, shown = labels(demo), listed(demo, view, item)
    result = fix(demo, view, SUGGESTIONS[view].accept, limit=3, author="ana")
    assert result.count == 3 and result.batch_id
    fixed = set(result.changes["item_id"].to_pylist())
    assert fixed <= shown
    demo.register("_changes", result.changes)
    assert all(ok for (ok,) in demo.sql(check).fetchall())
    assert not fixed & listed(demo, view, item), f"{view} still lists what was fixed"
    versions = demo.sql("SELECT source, author, reason FROM label_versions WHERE batch_id = $b",
                        params={"b": result.batch_id}).fetchall()
    assert len(versions) == 3 and {(s, a) for s, a, _ in versions} == {(view, "ana")}
    assert {r for _, _, r in versions} == set(result.changes["reason"].to_pylist())
    undo(demo, result.batch_id, author="ana")
    assert labels(demo) == before
    assert fixed <= listed(demo, view, item)  # listed again


def test_dry_run_and_filters_change_nothing(demo):
    before, batches = labels(demo), demo.sql("SELECT count(*) FROM label_batches").fetchall()
    everything = fix(demo, "errors_classification", dry_run=True)
    sure = fix(demo, "errors_classification", min_score=0.99, dry_run=True)
    assert 0 < sure.count < everything.count and min(sure.changes["confidence"].to_pylist()) >= 0.99
    one_class = fix(demo, "errors_classification", where="class = '3'", dry_run=True)
    assert one_class.count and set(one_class.changes["item_id"].to_pylist()) == {
        r[0] for r in demo.sql("SELECT label_id FROM errors_classification() WHERE class = '3'").fetchall()}
    some = everything.changes["item_id"].to_pylist()[:2]
    for label_id in some:
        qmdb.tag(demo, "label", label_id, "look")
    assert sorted(fix(demo, "errors_classification", tag="look", dry_run=True).changes["item_id"].to_pylist()) == sorted(some)
    assert labels(demo) == before and demo.sql("SELECT count(*) FROM label_batches").fetchall() == batches


def test_rejected_suggestions_stay_hidden(demo):
    before = labels(demo)
    result = fix(demo, "errors_missing_labels", reject=True, limit=2, author="bo")
    rejected = set(result.changes["item_id"].to_pylist())
    assert result.rejected == 2 and labels(demo) == before
    assert not rejected & listed(demo, "errors_missing_labels", "prediction_id")
    assert rejected <= {r[0] for r in demo.sql(
        "SELECT item_id FROM select_reviewed WHERE item_type = 'prediction' AND tag = 'rejected'").fetchall()}


@pytest.mark.parametrize("kwargs, message", [
    ({"view": "errors_tiny_boxes"}, "errors_tiny_boxes: --view: suggests no fix"),
    ({"view": "errors_bad_boxes", "accept": "suggested_class"}, "errors_bad_boxes: --accept: 'suggested_class' is not"),
    ({"view": "errors_bad_boxes", "where": "1 = 1; DROP TABLE labels"}, "errors_bad_boxes: --where: one SQL condition"),
    ({"view": "errors_bad_boxes", "where": "label_id IN (SELECT label_id FROM labels)"}, "errors_bad_boxes: --where: a condition"),
    ({"view": "errors_bad_boxes", "where": "no_such_column > 1"}, "errors_bad_boxes: --where: Binder Error"),
])
def test_bad_input_is_one_line(demo, kwargs, message):
    with pytest.raises(qmdb.InputError) as error:
        fix(demo, **kwargs)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert demo.sql("SELECT count(*) FROM label_batches WHERE source = $v", params={"v": kwargs["view"]}).fetchall() == [(0,)]


def test_cli_fix_history_diff_and_undo(demo, capsys):
    path = demo.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    qmdb.snapshot(demo, "errors_duplicate_boxes", "dups_before")
    demo.close()
    assert main(["fix", path, "--view", "errors_duplicate_boxes", "--dry-run"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert main(["fix", path, "--view", "errors_duplicate_boxes", "--min-score", "0.85", "--author", "cy"]) == 0
    out = capsys.readouterr().out
    batch = int(out.split("as batch ")[1].split()[0])
    assert main(["history", "diff", path, "--from", "dups_before", "-f", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 1 + 3 and all(r.startswith('"removed",') for r in rows[1:])
    assert main(["history", path, "--batch", str(batch), "-f", "csv"]) == 0
    assert capsys.readouterr().out.count(',"delete",') == 3
    assert main(["history", "undo", path, str(batch)]) == 0
    assert "3 label(s) restored" in capsys.readouterr().out
    assert main(["history", "diff", path, "--from", "dups_before", "-f", "csv"]) == 0
    assert capsys.readouterr().out.strip().count("\n") == 0  # header only: back as it was
    assert main(["history", "undo", path, str(batch)]) == 1
    assert "already undone" in capsys.readouterr().err
