"""An import runs under a bounded DuckDB memory limit (`qmdb.importers.memory`) and puts the limit back."""

import pytest

from qmdb.errors import QmdbError
from qmdb.importers import import_dataset, memory, store


def _limit(con) -> int:
    return memory.size_bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


@pytest.fixture
def seen(monkeypatch):
    """The memory limit each write of an import ran under."""
    limits = []
    write = store.write_dataset

    def recording(con, batch):
        limits.append(_limit(con))
        return write(con, batch)

    monkeypatch.setattr(store, "write_dataset", recording)
    return limits


def test_the_import_is_bounded_and_the_default_comes_back(project, coco_file, seen):
    before = project.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert memory.size_bytes(before) > memory.size_bytes(memory.IMPORT_MEMORY)  # this machine's default
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert seen == [memory.size_bytes(memory.IMPORT_MEMORY)]
    assert project.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before


def test_a_lower_limit_of_the_user_stays(project, coco_file, seen, monkeypatch):
    project.execute("SET memory_limit = '1GiB'")
    monkeypatch.setenv("QMDB_IMPORT_MEMORY", "3GiB")
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert seen == [2**30] and _limit(project) == 2**30


def test_the_variable_sets_the_bound_and_a_bad_one_is_one_line(project, coco_file, seen, monkeypatch):
    project.execute("SET memory_limit = '8GiB'")
    monkeypatch.setenv("QMDB_IMPORT_MEMORY", "1500MB")
    import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert abs(seen[0] - 1_500_000_000) < 0.1 * 2**30 and _limit(project) == 8 * 2**30  # DuckDB shows 0.1 GiB steps
    monkeypatch.setenv("QMDB_IMPORT_MEMORY", "lots")
    with pytest.raises(QmdbError, match="QMDB_IMPORT_MEMORY: 'lots' is not a memory size"):
        import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes2")


def test_out_of_memory_under_the_bound_imports_again_under_duckdbs_limit(project, coco_file, monkeypatch):
    import duckdb

    write, limits = store.write_dataset, []

    def once_out_of_memory(con, batch):
        limits.append(_limit(con))
        if len(limits) == 1:
            con.execute("BEGIN")
            con.execute("INSERT INTO datasets (name, root, format, task) VALUES ('half', '.', 'coco', 'detection')")
            con.execute("ROLLBACK")
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return write(con, batch)

    monkeypatch.setattr(store, "write_dataset", once_out_of_memory)
    before = _limit(project)
    report = import_dataset(project, "coco", coco_file, root=coco_file.parent / "images", name="scenes")
    assert limits == [memory.size_bytes(memory.IMPORT_MEMORY), before] and _limit(project) == before
    assert project.execute("SELECT count(*) FROM images").fetchone()[0] == report.images > 0
    assert project.execute("SELECT count(*) FROM datasets WHERE name = 'half'").fetchone()[0] == 0
