"""`qmdb gallery`: a view's or a query's rows as one self-contained HTML file: thumbnails embedded
as base64 JPEG, boxes drawn in the browser from JSON by the server page's own renderer
(`gallery.js`), paging and the detail view working offline, nothing fetched."""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

import duckdb
from tqdm import tqdm

from .. import views
from ..errors import QmdbError
from .items import annotate, id_columns
from .thumbs import data_uri, image_files

PER_PAGE = 48
_PAGE_SCRIPT = """
(function () {
  const data = window.QMDB_DATA, Q = window.QMDB, per = %d;
  const grid = document.getElementById("grid"), detail = document.getElementById("detail");
  const src = item => data.thumbs[item.image_id];
  let start = 0;
  function show() {
    const page = { columns: data.columns, rows: data.rows, items: data.items.slice(start, start + per) };
    Q.legend(document.getElementById("legend"), Q.renderGrid(grid, page, src, i => Q.showDetail(detail, page, i, src, null)));
    document.getElementById("range").textContent = data.items.length
      ? `cards ${start + 1}–${Math.min(start + per, data.items.length)} of ${data.items.length}` : "no images in this result";
    document.getElementById("prev").disabled = start === 0;
    document.getElementById("next").disabled = start + per >= data.items.length;
  }
  document.getElementById("prev").onclick = () => { start = Math.max(0, start - per); show(); };
  document.getElementById("next").onclick = () => { start += per; show(); };
  document.addEventListener("keydown", e => { if (e.key === "Escape") detail.hidden = true; });
  show();
})();
"""


def static_folder() -> Path:
    """The folder of the gallery's JS and CSS (`qmdb.server`'s `static/`), found without importing the server."""
    spec = importlib.util.find_spec("qmdb.server")
    if spec is None or not spec.submodule_search_locations:
        raise QmdbError("qmdb's gallery files are missing: reinstall qmdb")
    return Path(list(spec.submodule_search_locations)[0]) / "static"


def _script(text: str) -> str:
    return text.replace("</", "<\\/")


def gallery_html(title: str, subtitle: str, data: dict, per_page: int = PER_PAGE) -> str:
    """The page: CSS, renderer and data inline."""
    folder = static_folder()
    payload = json.dumps(data, default=str, separators=(",", ":"))  # NaN stays NaN: a JS literal, not JSON
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{(folder / "gallery.css").read_text()}</style></head>
<body>
<header><h1>{html.escape(title)}</h1><span class="sub">{html.escape(subtitle)}</span></header>
<main>
<div class="legend" id="legend"></div>
<div class="pager"><button id="prev">◀ previous</button><span id="range"></span><button id="next">next ▶</button></div>
<div class="grid" id="grid"></div>
</main>
<div class="detail" id="detail" hidden></div>
<script>window.QMDB_DATA = {_script(payload)};</script>
<script>{_script((folder / "gallery.js").read_text())}</script>
<script>{_script(_PAGE_SCRIPT % per_page)}</script>
</body></html>
"""


def export_gallery(con: duckdb.DuckDBPyConnection, output: str | Path, *, view: str | None = None,
                   params: dict | None = None, sql: str | None = None, limit: int = 200, min_score: float = 0.5,
                   model: str | None = None, thumb_size: int = 320, crop_size: int = 640,
                   title: str | None = None, progress: bool = True) -> dict:
    """Write the first `limit` rows of `view` (with `params`) or of the query `sql` to `output` as a
    self-contained HTML gallery. Thumbnails are `thumb_size` px (the longest side); label- and
    prediction-level rows embed `crop_size` px images, shown zoomed on their box. Returns counts:
    `rows`, `cards`, `thumbnails`, `unreadable` (images that could not be decoded), `more` (the
    result had more rows than `limit`)."""
    if (view is None) == (sql is None):
        raise QmdbError("qmdb gallery: give a view (--view) or a query (--query), one of them")
    relation = views.run(con, view, **(params or {})) if view else con.sql(sql)
    if relation is None:
        raise QmdbError("qmdb gallery: the query returns no rows (is it a SELECT?)")
    table = relation.limit(limit + 1).to_arrow_table()
    more = table.num_rows > limit
    table = table.slice(0, limit)
    names = table.column_names
    if not id_columns(names):
        raise QmdbError(f"qmdb gallery: the result has no image_id, label_id or prediction_id column "
                        f"(its columns: {', '.join(names)}); nothing to show")
    rows = [list(row) for row in zip(*(column.to_pylist() for column in table.columns))]
    items = annotate(con, names, rows, min_score=min_score, model=model)
    sizes: dict[int, int] = {}
    for item in items:  # per card, not per row of data: the largest picture each image needs
        want = thumb_size if item["focus_type"] == "image" else crop_size
        if item["image_id"] is not None:
            sizes[item["image_id"]] = max(sizes.get(item["image_id"], 0), want)
    files = image_files(con, list(sizes))
    thumbs = {}
    for image_id in tqdm(sorted(sizes), desc="thumbnails", unit="img", disable=not progress):
        uri = data_uri(files[image_id], sizes[image_id]) if image_id in files else None
        if uri:
            thumbs[image_id] = uri
    unreadable = len(sizes) - len(thumbs)
    columns = [{"name": n, "type": str(t)} for n, t in zip(names, table.schema.types)]
    label = view or "query"
    what = f"view {view}" + (" (" + ", ".join(f"{k}={v}" for k, v in (params or {}).items()) + ")" if params else "") \
        if view else sql
    subtitle = f"{what} · {len(rows)} rows{' (first ' + str(limit) + ')' if more else ''} · predictions ≥ {min_score:g}"
    page = gallery_html(title or f"qmdb gallery: {label}", subtitle,
                        {"columns": columns, "rows": rows, "items": items, "thumbs": thumbs})
    Path(output).write_text(page, encoding="utf-8")
    return {"rows": len(rows), "cards": len(items), "thumbnails": len(thumbs), "unreadable": unreadable, "more": more}
