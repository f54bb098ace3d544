"""Masks through the CLI: `qmdb metrics` fills mask_metrics, SQL has the mask functions on every
connection, `qmdb export --format yolo --segments` writes polygons."""

from qmdb.cli import main


def test_metrics_export_and_sql_functions_from_the_command_line(segm_files, tmp_path, capsys):
    db = tmp_path / "m.duckdb"
    images = segm_files["instances"].parent / "images"
    assert main(["import", str(db), "coco", str(segm_files["instances"]), "--root", str(images),
                 "--name", "instances"]) == 0
    assert main(["metrics", str(db), "--quiet"]) == 0
    assert "mask metrics:" in capsys.readouterr().out
    assert main(["sql", str(db), "-f", "csv", "SELECT count(*) = count(m.mask_area) AND bool_and(m.mask_area = "
                 "mask_area(l.mask)) AS same FROM labels l JOIN mask_metrics m USING (label_id)"]) == 0
    assert capsys.readouterr().out.split() == ['"same"', "true"]
    out = tmp_path / "yolo"
    assert main(["export", str(db), "--format", "yolo", "-o", str(out), "--images", "none", "--segments",
                 "-q", "SELECT label_id FROM labels"]) == 0
    lines = [line.split() for f in (out / "labels").rglob("*.txt") for line in f.read_text().splitlines()]
    assert lines and all(len(parts) >= 7 and len(parts) % 2 == 1 for parts in lines)  # class + polygon pairs
    assert main(["export", str(db), "--format", "coco", "-o", str(tmp_path / "c.json"), "--segments",
                 "-q", "SELECT label_id FROM labels"]) == 1
    assert "--segments is an option of --format yolo" in capsys.readouterr().err
