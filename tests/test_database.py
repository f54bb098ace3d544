import duckdb
import pytest

import qmdb
from qmdb.schema import add_columns, migrate, schema_version
from qmdb.schema import repair as schema_repair

TABLES = {"datasets", "images", "labels", "predictions", "classes", "models", "tags", "errors",
          "saved_views"}


def test_connect_creates_schema(con):
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert TABLES <= names
    assert schema_version(con)["core"] >= 1


def test_migrate_is_idempotent(db_path):
    con = qmdb.connect(db_path)
    assert migrate(con) == []
    con.close()


def test_file_opens_in_plain_duckdb(db_path):
    qmdb.connect(db_path).close()
    plain = duckdb.connect(str(db_path))
    assert plain.sql("SELECT count(*) FROM images").fetchall() == [(0,)]
    assert plain.sql("SELECT * FROM dataset_summary").fetchall() == []


def test_register_adds_functions_to_a_users_connection():
    user = duckdb.connect()
    assert qmdb.register(user) is user


def test_add_columns_adds_only_missing(con):
    assert add_columns(con, "images", {"camera": "VARCHAR"}) == ["camera"]
    assert add_columns(con, "images", {"camera": "VARCHAR"}) == []
    con.execute("INSERT INTO images (dataset, path, camera) VALUES ('d', 'a.png', 'B')")
    assert con.sql("SELECT camera FROM images").fetchall() == [("B",)]


def test_functions_outlive_the_connection_that_registered_them(tmp_path):
    """DuckDB keeps a Python UDF in the database's catalog after the connection that registered it closes;
    a second connection calling it must not crash (run in a process of its own: a crash is a signal)."""
    import subprocess
    import sys

    script = tmp_path / "two_connections.py"
    script.write_text(
        "import sys, cv2, numpy as np, qmdb\n"
        "from qmdb.importers import import_dataset\n"
        "root = sys.argv[1]\n"
        "import os; os.makedirs(root + '/imgs/a')\n"
        "cv2.imwrite(root + '/imgs/a/x.png', np.full((8, 8, 3), 51, np.uint8))\n"
        "first = qmdb.connect(root + '/p.duckdb')\n"
        "import_dataset(first, 'folders', root + '/imgs')\n"
        "second = qmdb.connect(root + '/p.duckdb')\n"
        "first.close()\n"
        "print(second.sql('SELECT brightness(1)').fetchall()[0][0])\n")
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 0.2


def test_connect_create_false_refuses_a_missing_file(tmp_path):
    with pytest.raises(qmdb.QmdbError, match=r"no such project; create it with 'qmdb init"):
        qmdb.connect(tmp_path / "typo.duckdb", create=False)
    with pytest.raises(qmdb.QmdbError, match="no such project"):
        qmdb.connect(tmp_path / "typo.duckdb", read_only=True)
    assert not (tmp_path / "typo.duckdb").exists()


def test_close_checkpoints_so_no_wal_is_left(db_path):
    from qmdb.database import close

    con = qmdb.connect(db_path)
    con.execute("INSERT INTO tags (item_type, item_id, tag) VALUES ('image', 1, 'reviewed')")
    other = con.cursor()  # a cursor keeps the database open after con.close(): the CHECKPOINT still writes
    close(con)
    assert not db_path.with_name(db_path.name + ".wal").exists()
    other.close()


def test_repair_recreates_dropped_tables_without_new_migrations(con):
    con.execute("DROP TABLE errors")
    assert schema_repair(con) == ["errors"]
    assert migrate(con) == []


def file_hash(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_project_opened_again_runs_no_ddl(db_path, monkeypatch):
    from qmdb import schema
    from qmdb.database import close

    close(qmdb.connect(db_path))
    before = file_hash(db_path)
    monkeypatch.setattr(schema, "migrate", lambda con: pytest.fail("an up-to-date project was migrated"))
    con = qmdb.connect(db_path)
    assert schema.up_to_date(con)
    (comment,), (count,) = (con.sql(sql).fetchall()[0] for sql in (
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'schema_migrations'",
        "SELECT count(*) FROM schema_migrations"))
    assert comment == f"qmdb schema {schema.fingerprint()} {count}"
    close(con)
    assert file_hash(db_path) == before  # not a byte written: no DDL, no macro re-created


def test_a_file_from_an_older_qmdb_migrates(db_path):
    from qmdb.database import close
    from qmdb.schema import CORE, up_to_date

    old = duckdb.connect(str(db_path))  # what a qmdb with only the core tables wrote: no fingerprint
    old.execute(CORE[0])
    old.execute("CREATE TABLE schema_migrations (component VARCHAR, version INTEGER, "
                "applied_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (component, version))")
    old.execute("INSERT INTO schema_migrations (component, version) VALUES ('core', 1)")
    old.execute("INSERT INTO datasets (name, root, format) VALUES ('d', '.', 'coco')")
    old.close()
    con = qmdb.connect(db_path)
    assert up_to_date(con) and {"matches", "eval_ap", "label_versions"} <= {
        name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert con.sql("SELECT name FROM datasets").fetchall() == [("d",)]
    close(con)


@pytest.mark.parametrize("change", ["COMMENT ON TABLE schema_migrations IS 'qmdb schema 0123 1'",
                                    "DELETE FROM schema_migrations WHERE component = 'evaluation'"])
def test_another_fingerprint_or_a_missing_migration_migrates_again(db_path, change):
    from qmdb.database import close

    close(qmdb.connect(db_path))
    plain = duckdb.connect(str(db_path))
    plain.execute(change)
    plain.close()
    con = qmdb.connect(db_path)
    assert qmdb.schema.up_to_date(con)
    assert con.sql("SELECT count(*) FROM schema_migrations WHERE component = 'evaluation'").fetchall()[0][0] >= 1
    close(con)


def test_the_fingerprint_follows_a_plugins_files(tmp_path, monkeypatch):
    import importlib
    import sys

    from qmdb import plugins
    from qmdb.schema import fingerprint

    package = tmp_path / "qmdb_fingerprint_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.register(importlib.import_module("qmdb_fingerprint_plugin"), "fingerprint-plugin")
    try:
        first = fingerprint()
        assert fingerprint() == first
        (package / "views.sql").write_text("-- a view file the plugin ships\nSELECT 1")
        assert fingerprint() != first
    finally:
        plugins.unregister("fingerprint-plugin")
        sys.modules.pop("qmdb_fingerprint_plugin", None)


def test_a_saved_view_that_does_not_install_is_tried_again_at_the_next_open(db_path):
    from qmdb.database import close
    from qmdb.schema import up_to_date

    close(qmdb.connect(db_path))
    plain = duckdb.connect(str(db_path))
    plain.execute("INSERT INTO saved_views (name, description, sql, parameters) "
                  "VALUES ('later', 'reads a table made later', 'SELECT * FROM made_later', '[]')")
    plain.execute("COMMENT ON TABLE schema_migrations IS NULL")  # as a qmdb that saved it before the table went
    plain.close()
    with pytest.warns(UserWarning, match="saved view later no longer installs"):
        con = qmdb.connect(db_path)
    assert not up_to_date(con)
    con.execute("CREATE TABLE made_later AS SELECT 1 AS one")
    close(con)
    con = qmdb.connect(db_path)
    assert up_to_date(con) and con.sql("SELECT one FROM later").fetchall() == [(1,)]
    close(con)
