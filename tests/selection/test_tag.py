"""qmdb tag: record decisions, list them; a bad id leaves no tag behind."""

import qmdb
from qmdb.cli import main


def test_tag_list_and_hide(db_path, capsys):
    con = qmdb.connect(db_path)
    con.execute("INSERT INTO images (image_id, dataset, path) VALUES (1, 'd', 'a.png'), (2, 'd', 'b.png')")
    con.execute("INSERT INTO labels (label_id, image_id, class, source_id) VALUES (10, 1, 'cat', '1')")
    con.close()
    assert main(["tag", str(db_path), "label", "10", "--tag", "fixed", "--author", "ana", "--note", "was dog"]) == 0
    assert main(["tag", str(db_path), "image", "1", "2", "--tag", "reviewed"]) == 0
    assert main(["tag", str(db_path), "image", "1", "99", "--tag", "rejected"]) == 1
    assert "no image with image_id 99" in capsys.readouterr().err
    assert main(["tag", str(db_path), "image", "1", "--format", "csv"]) == 0
    listing = capsys.readouterr().out
    assert "reviewed" in listing and "rejected" not in listing
    con = qmdb.connect(db_path)
    assert con.sql("SELECT item_type, item_id, tag, author, note FROM select_reviewed ORDER BY ALL").fetchall()[-1] == \
        ("label", 10, "fixed", "ana", "was dog")
    assert con.sql("SELECT count(*) FROM tags").fetchall() == [(3,)]
