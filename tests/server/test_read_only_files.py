"""A read-only server writes nothing: with its index files missing or stale it answers similarity
searches from an index built in memory; after the adversarial list the database file and the
`DB.qmdb/` folder are byte-identical and no file is new. The CLI's index writes use unique temp names."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import qmdb
from qmdb.embeddings import index as vector_index
from qmdb.server import Settings, create_app

from .test_adversarial import ATTACKS
from .test_gate import HOST

MODEL = "builtin-hog-v1"


def _files(db: Path) -> dict[str, str]:
    """Every file of the database and its sidecar folder, with its hash."""
    found = {db.name: hashlib.sha256(db.read_bytes()).hexdigest()}
    sidecar = db.with_suffix(".qmdb")
    for path in sorted(sidecar.rglob("*")) if sidecar.exists() else ():
        if path.is_file():
            found[str(path.relative_to(db.parent))] = hashlib.sha256(path.read_bytes()).hexdigest()
    for path in db.parent.iterdir():  # a temp or WAL file beside the database counts too
        if path.is_file() and path.name != db.name:
            found[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def embedded(project, tmp_path_factory):
    """A copy of the served project with built-in embeddings; the index files are made by `qmdb.embed`."""
    db = tmp_path_factory.mktemp("embedded") / "embedded.duckdb"
    shutil.copyfile(project["db"], db)
    con = qmdb.connect(db)
    qmdb.embed(con, progress=False, workers=1)
    vector_index.ensure(con, MODEL, "image")
    path = vector_index.index_path(con, MODEL, "image")
    con.close()
    assert path.is_file()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # temp names moved into place
    return db, path


def _attack(client, bait):
    answers = [client.post("/query", json={"sql": "SELECT * FROM similar_images(1, k := 5)"})]
    for sql in [a.format(bait=bait) for a in ATTACKS] + [sql for sql, _ in HOST]:
        answers.append(client.post("/query", json={"sql": sql}))
        answers.append(client.get("/query", params={"sql": sql, "format": "csv"}))
    for path in ("/tags", "/snapshots", "/views"):
        answers.append(client.post(path, json={}))
    return answers


@pytest.mark.parametrize("damage", ["missing", "stale"])
def test_a_read_only_server_creates_and_changes_no_file(embedded, project, tmp_path, damage):
    source, index_file = embedded
    db = tmp_path / "served.duckdb"
    shutil.copyfile(source, db)
    shutil.copytree(source.with_suffix(".qmdb"), db.with_suffix(".qmdb"))
    served_index = db.with_suffix(".qmdb") / index_file.relative_to(source.with_suffix(".qmdb"))
    if damage == "missing":
        shutil.rmtree(served_index.parent)
    else:  # the record says fewer rows than the table holds: the file is stale
        meta = json.loads(served_index.with_suffix(".json").read_text())
        meta["count"], meta["ids"] = meta["count"] - 1, 0
        served_index.with_suffix(".json").write_text(json.dumps(meta))
    before = _files(db)
    with TestClient(create_app(Settings(database=db, timeout=2.0))) as client:
        answers = _attack(client, project["bait"])
    first = answers[0]
    assert first.status_code == 200 and len(first.json()["rows"]) == 5, first.text
    assert all(a.status_code < 500 for a in answers), [a.text for a in answers if a.status_code >= 500]
    assert _files(db) == before


def test_index_writes_use_unique_temp_names(embedded, tmp_path, monkeypatch):
    source, _ = embedded
    db = tmp_path / "writer.duckdb"
    shutil.copyfile(source, db)
    names = []
    real = vector_index.tempfile.mkstemp

    def spy(*args, **kwargs):
        handle, name = real(*args, **kwargs)
        names.append(name)
        return handle, name

    monkeypatch.setattr(vector_index.tempfile, "mkstemp", spy)
    con = qmdb.connect(db)
    for _ in range(2):
        vector_index._CACHE.clear()
        path = vector_index.index_path(con, MODEL, "image")
        for old in (path, path.with_suffix(".json")):
            old.unlink(missing_ok=True)
        vector_index.ensure(con, MODEL, "image")
    con.close()
    assert len(names) == 8 and len(set(names)) == 8  # graph, exact vectors, keys, record; two builds
    assert all(Path(n).parent == path.parent for n in names)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
