"""`qmdb evaluate DB --model NAME [--where ...]`."""

import duckdb

from qmdb import schema
from qmdb.cli import main
from qmdb.evaluation.synthetic import detection_case

from .conftest import load_case


def make_project(path):
    # a plain DuckDB connection with the schema: the CLI is the first qmdb connection to the file
    con = duckdb.connect(str(path))
    schema.migrate(con)
    gt, dt, images = detection_case(seed=31, n_images=40, boxes_per_image=5, n_classes=3)
    load_case(con, gt, dt, images, 3, images_extra={"camera": ["A", "B"] * 20})
    con.close()


def test_evaluate_prints_the_summary_and_stores_matches(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "--model", "det-model"]) == 0
    out = capsys.readouterr().out
    assert "det-model on det (detection)" in out and "ap50" in out
    con = duckdb.connect(str(db_path))
    assert con.sql("SELECT count(*) > 0 FROM matches").fetchall() == [(True,)]
    con.close()


def test_evaluate_where_prints_a_slice(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "-m", "det-model", "--where", "camera = 'B'", "-f", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith('"model","part","images"') and len(lines) == 3


def test_unknown_model_is_one_line(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "--model", "nope"]) == 1
    assert capsys.readouterr().err.startswith("qmdb: error: no model named 'nope'")


def test_reuse_on_an_empty_slice_is_one_line(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "-m", "det-model"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(db_path), "-m", "det-model", "--reuse", "--where", "camera = 'Z'"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["qmdb: error: slice 'camera = 'Z'' holds none of the evaluated items of 'det-model'; "
                   "loosen the condition"]


def test_reuse_with_an_unknown_or_unevaluated_model_is_one_line(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "-m", "nope", "--reuse", "--where", "camera = 'B'"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qmdb: error: no model named 'nope'")
    assert main(["evaluate", str(db_path), "-m", "det-model", "--reuse", "--where", "camera = 'B'"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no stored matches" in err[0] and "without --reuse" in err[0]


def test_a_slice_that_is_everything_leaves_an_empty_rest(db_path, capsys):
    make_project(db_path)
    assert main(["evaluate", str(db_path), "-m", "det-model", "--where", "true", "-f", "csv"]) == 0
    rest = capsys.readouterr().out.strip().splitlines()[-1].split(",")
    assert rest[1] == '"rest"' and rest[2] == "0"


HEAVY = ("usearch", "tqdm", "pyarrow.parquet", "sqlglot", "fastapi", "pandas", "cv2")


def imported_by(args: list[str]) -> list[str]:
    """The HEAVY modules a new process has imported after running `qmdb ARGS`."""
    import subprocess
    import sys

    code = ("import sys; from qmdb.cli import main; code = main(sys.argv[1:]); "
            f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_evaluate_imports_none_of_the_modules_it_does_not_use(db_path):
    make_project(db_path)
    assert imported_by(["evaluate", str(db_path), "--model", "det-model"]) == "0 []"
    assert "'sqlglot'" in imported_by(["evaluate", str(db_path), "--model", "det-model", "--where", "camera = 'B'"])
