import json
import shutil
import subprocess
import sys

import duckdb
import pytest

from qmdb.cli import main


def test_help_lists_every_command_with_its_help_without_importing_one():
    from qmdb.cli import commands

    code = ("import sys; from qmdb.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('qmdb.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    listed = " ".join(out.split())  # argparse wraps the help lines
    for name, (_, help) in commands().items():
        assert f"{name} {' '.join(help.split())}" in listed
    assert out.strip().splitlines()[-1] == "[]"


def test_an_unknown_command_is_one_line(capsys):
    assert main(["evalute", "project.duckdb", "--model", "m"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qmdb: error: unknown command 'evalute'; did you mean 'evaluate'?")
    assert "commands: init, sql, tables" in err[0]


def test_sql_prints_and_writes_json(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    assert main(["sql", str(db_path), "SELECT 1 AS one, 'a' AS letter", "--format", "json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(out) == {"one": 1, "letter": "a"}


def test_error_is_one_line(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["sql", str(db_path), "SELECT * FROM nowhere"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qmdb: error:") and "nowhere" in err[0]


READERS = [["sql", "{db}", "SELECT count(*) FROM images"], ["tables", "{db}"], ["views", "{db}"], ["tag", "{db}"],
           ["evaluate", "{db}", "-m", "x"], ["snapshot", "{db}", "--list"], ["metrics", "{db}", "-q"],
           ["embed", "{db}", "--no-progress"], ["export", "{db}", "-q", "SELECT 1 AS image_id", "-f", "coco", "-o", "x"],
           ["gallery", "{db}", "--view", "v", "-o", "x.html"]]


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_only_init_import_and_demo_create_a_project(tmp_path, capsys, command):
    typo = tmp_path / "typo.duckdb"
    assert main([part.format(db=typo) for part in command]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such project" in err[0] and f"qmdb init {typo}" in err[0]
    assert not typo.exists()


def test_init_creates_and_python_connect_still_does(tmp_path):
    import qmdb

    assert main(["init", str(tmp_path / "a.duckdb")]) == 0 and (tmp_path / "a.duckdb").exists()
    qmdb.connect(tmp_path / "b.duckdb").close()
    assert (tmp_path / "b.duckdb").exists()
    with pytest.raises(qmdb.QmdbError, match="no such project"):
        qmdb.connect(tmp_path / "c.duckdb", create=False)


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "qmdb.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_no_command_leaves_a_wal_and_a_copy_has_the_last_write(tmp_path):
    for args in (["init", "x.duckdb"], ["sql", "x.duckdb", "SELECT 1"],
                 ["sql", "x.duckdb", "--write", "INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a')"],
                 ["tag", "x.duckdb", "image", "1", "--tag", "reviewed"]):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert not (tmp_path / "x.duckdb.wal").exists(), args
    shutil.copy(tmp_path / "x.duckdb", tmp_path / "y.duckdb")
    copy = duckdb.connect(str(tmp_path / "y.duckdb"), read_only=True)
    assert copy.sql("SELECT item_id, tag FROM tags").fetchall() == [(1, "reviewed")]
    copy.close()


def test_a_stale_wal_beside_a_replaced_file_is_one_clear_line(tmp_path):
    for name in ("a", "b"):
        assert run_cli("init", f"{name}.duckdb", cwd=tmp_path).returncode == 0
    assert run_cli("tag", "b.duckdb", "image", "--tag", "y", cwd=tmp_path).returncode == 0
    assert run_cli("sql", "b.duckdb", "--write", "CREATE TABLE mine AS SELECT 1 AS one", cwd=tmp_path).returncode == 0
    crash = ("import duckdb, os; c = duckdb.connect('a.duckdb'); "
             "c.execute(\"INSERT INTO tags (item_type, item_id, tag) VALUES ('image', 1, 'x')\"); os._exit(0)")
    subprocess.run([sys.executable, "-c", crash], cwd=tmp_path, check=True)
    assert (tmp_path / "a.duckdb.wal").exists()
    shutil.copy(tmp_path / "b.duckdb", tmp_path / "a.duckdb")   # the file is replaced, its WAL stays
    done = run_cli("sql", "a.duckdb", "SELECT 1", cwd=tmp_path)
    err = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(err) == 1
    assert "a.duckdb.wal" in err[0] and "another copy" in err[0] and "mv a.duckdb.wal" in err[0]


def test_sql_is_read_only_unless_write(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["sql", str(db_path), "DROP TABLE tags"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "read-only" in err[0] and "--write" in err[0]
    assert main(["sql", str(db_path), "--write", "DROP TABLE tags"]) == 0
    assert main(["sql", str(db_path), "--write", "DROP VIEW dataset_summary"]) == 0


def test_init_repairs_missing_tables_and_views(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    plain = duckdb.connect(str(db_path))
    plain.execute("DROP TABLE tags; DROP VIEW dataset_summary; DROP MACRO image_file")
    plain.close()
    capsys.readouterr()
    assert main(["init", str(db_path)]) == 0
    assert "re-created 3: dataset_summary, image_file, tags" in capsys.readouterr().out
    assert main(["tag", str(db_path)]) == 0 and main(["sql", str(db_path), "SELECT * FROM dataset_summary"]) == 0
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.sql("SELECT count(*) FROM schema_migrations WHERE component = 'core'").fetchall() == [(1,)]
    con.close()


WIDE = "SELECT " + ", ".join(f"{i} AS column_number_{i}" for i in range(20))


def test_tables_use_the_whole_width_into_a_pipe_and_max_width(db_path, capsys, monkeypatch):
    assert main(["init", str(db_path)]) == 0
    capsys.readouterr()
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["sql", str(db_path), WIDE]) == 0
    out = capsys.readouterr().out
    assert "column_number_19" in out and max(map(len, out.splitlines())) > 160
    assert main(["sql", str(db_path), WIDE, "--max-width", "80"]) == 0
    out = capsys.readouterr().out
    assert "20 columns (4 shown)" in out and max(map(len, out.splitlines())) <= 80


def test_vertical_shows_every_column(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["sql", str(db_path), WIDE, "-f", "vertical"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "-[ row 1 ]-" and lines[-1].split() == ["column_number_19", "|", "19"] and len(lines) == 21


def test_a_broken_pipe_exits_quietly(tmp_path):
    assert run_cli("init", "x.duckdb", cwd=tmp_path).returncode == 0
    reader = subprocess.Popen([sys.executable, "-m", "qmdb.cli", "sql", "x.duckdb", "SELECT * FROM range(200000)",
                               "-f", "csv"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.readline()
    reader.stdout.close()
    err = reader.stderr.read().decode()
    assert reader.wait() == 0 and err == ""
