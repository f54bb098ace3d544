import json

from qmdb.cli import main


def test_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    for command in ("init", "sql", "tables", "views"):
        assert command in out


def test_sql_prints_and_writes_json(db_path, capsys):
    assert main(["init", str(db_path)]) == 0
    assert main(["sql", str(db_path), "SELECT 1 AS one, 'a' AS letter", "--format", "json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(out) == {"one": 1, "letter": "a"}


def test_error_is_one_line(db_path, capsys):
    assert main(["sql", str(db_path), "SELECT * FROM nowhere"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qmdb: error:") and "nowhere" in err[0]
