"""Project files are written in a storage version DuckDB 1.x clients read (`qmdb.database.STORAGE_VERSION`)."""

import shutil
import subprocess

import duckdb
import pytest

import qmdb
from qmdb.cli import main
from qmdb.database import STORAGE_VERSION

DUCKDB_1X = shutil.which("duckdb")  # the `duckdb-cli` package of the dev extra (1.x)


def storage(path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchall()[0][0]
    finally:
        con.close()


def duckdb_1x(path, sql: str) -> str:
    if DUCKDB_1X is None:
        pytest.skip("no duckdb CLI on PATH (pip install duckdb-cli)")
    version = subprocess.run([DUCKDB_1X, "--version"], capture_output=True, text=True).stdout
    if not version.startswith("v1."):
        pytest.skip(f"the duckdb CLI on PATH is {version.strip()}, not 1.x")
    done = subprocess.run([DUCKDB_1X, "-readonly", "-csv", str(path), "-c", sql], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_new_files_use_the_compatible_storage_version(db_path):
    qmdb.connect(db_path).close()
    assert storage(db_path).startswith(STORAGE_VERSION)


def test_the_storage_version_is_a_setting(tmp_path, monkeypatch):
    qmdb.connect(tmp_path / "a.duckdb", storage_version="v1.4.0").close()
    assert storage(tmp_path / "a.duckdb").startswith("v1.4.0")
    monkeypatch.setenv("QMDB_STORAGE_VERSION", "v1.2.0")
    qmdb.connect(tmp_path / "b.duckdb").close()
    assert storage(tmp_path / "b.duckdb").startswith("v1.2.0")
    assert main(["init", str(tmp_path / "c.duckdb"), "--storage-version", "latest"]) == 0
    assert storage(tmp_path / "c.duckdb").startswith("v2")


def test_a_duckdb_1x_client_reads_every_type_qmdb_stores(db_path):
    con = qmdb.connect(db_path)
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('d', '/r', 'coco')")
    con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png')")
    con.execute("INSERT INTO labels (image_id, class, polygon, source_id) VALUES (1, 'cat', [[1.0, 2.0, 3.0]], 's')")
    con.execute("INSERT INTO models (model, task) VALUES ('m', 'classification')")
    con.execute("INSERT INTO predictions (model, image_id, class, score, probs, source_id) "
                "VALUES ('m', 1, 'cat', 0.9, MAP {'cat': 0.9, 'dog': 0.1}, 'p')")
    qmdb.database.close(con)
    out = duckdb_1x(db_path, "SELECT p.probs['dog'] AS dog, l.polygon[1][2] AS y FROM predictions p, labels l; "
                             "SELECT images FROM dataset_summary; "
                             "SELECT count(*) AS n FROM duckdb_functions() WHERE function_type LIKE '%macro' "
                             "AND NOT internal")
    lines = out.split()
    assert lines[:2] == ["dog,y", "0.1,2.0"] and lines[2:4] == ["images", "1"] and int(lines[5]) > 0


def test_a_duckdb_1x_client_reads_the_demo(demo_db):
    if storage(demo_db).startswith("v2"):
        pytest.skip("this demo file was built before the storage setting")
    assert duckdb_1x(demo_db, "SELECT count(*) AS n FROM dataset_summary").split()[1] != "0"


def test_init_convert_rewrites_a_duckdb_2_file_for_1x_clients(tmp_path):
    db = tmp_path / "old.duckdb"
    con = qmdb.connect(db, storage_version="latest")
    con.execute("INSERT INTO datasets (name, root, format) VALUES ('d', '/r', 'coco')")
    con.execute("INSERT INTO images (dataset, path) SELECT 'd', 'img' || i || '.png' FROM range(50) t(i)")
    qmdb.save_view(con, "first_images", "SELECT image_id FROM images ORDER BY image_id LIMIT 3", "The first three.")
    qmdb.database.close(con)
    assert storage(db).startswith("v2")
    assert main(["init", str(db), "--convert"]) == 0
    assert storage(db).startswith(STORAGE_VERSION)
    assert (tmp_path / "old.duckdb.before-convert").is_file() and not list(tmp_path.glob(".old.duckdb.convert-*"))
    assert duckdb_1x(db, "SELECT count(*) AS n FROM images").split() == ["n", "50"]
    con = qmdb.connect(db)
    assert con.execute("SELECT count(*) FROM first_images").fetchone()[0] == 3
    image_id = con.execute("INSERT INTO images (dataset, path) VALUES ('d', 'new.png') RETURNING image_id").fetchone()[0]
    assert image_id > 50  # the id sequence came along
    qmdb.database.close(con)
    assert main(["init", str(db), "--convert"]) == 1  # the kept original is never overwritten


def test_init_convert_needs_a_project(tmp_path, capsys):
    assert main(["init", str(tmp_path / "typo.duckdb"), "--convert"]) == 1
    assert "no such project" in capsys.readouterr().err and not (tmp_path / "typo.duckdb").exists()
