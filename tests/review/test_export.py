"""The static export: one self-contained HTML file with every row's card and each image embedded once."""

import json
import re

import pytest

from qmdb.cli import main
from qmdb.errors import QmdbError
from qmdb.gallery import export_gallery


def _data(html: str) -> dict:
    # the data block is a JS literal; NaN (not JSON) cannot occur in these views' id/box columns
    return json.loads(re.search(r"window\.QMDB_DATA = (\{.*?\});</script>", html, re.S).group(1).replace("<\\/", "</"))


def test_view_export_embeds_one_thumbnail_per_image(review_con, tmp_path):
    out = tmp_path / "swaps.html"
    counts = export_gallery(review_con, out, view="errors_class_swaps", limit=30, progress=False)
    html = out.read_text()
    rows = review_con.sql("SELECT image_id FROM errors_class_swaps() LIMIT 30").fetchall()
    images = {r[0] for r in rows}
    assert counts["rows"] == counts["cards"] == len(rows)
    assert counts["thumbnails"] == len(images) and counts["unreadable"] == 0
    assert html.count("data:image/jpeg;base64,") == len(images)
    data = _data(html)
    assert len(data["items"]) == len(rows) and set(map(int, data["thumbs"])) == images
    offline = html.replace("http://www.w3.org/2000/svg", "")  # the SVG namespace is a name, not a fetch
    assert "http://" not in offline and "https://" not in offline


def test_query_export_through_the_cli_counts_broken_images(review_db, tmp_path, capsys):
    out = tmp_path / "broken.html"
    assert main(["gallery", str(review_db), "--query", "SELECT image_id, path FROM images WHERE status <> 'ok'",
                 "-o", str(out)]) == 0
    data = _data(out.read_text())
    assert len(data["items"]) == 3 and data["thumbs"] == {}
    assert "3 rows, 3 cards, 0 images embedded, 3 unreadable" in capsys.readouterr().out


def test_a_result_without_ids_is_refused(review_con, tmp_path):
    with pytest.raises(QmdbError, match="no image_id, label_id or prediction_id column"):
        export_gallery(review_con, tmp_path / "x.html", view="class_counts", progress=False)
    with pytest.raises(QmdbError, match="one of them"):
        export_gallery(review_con, tmp_path / "x.html", progress=False)
