"""The embedding map as one self-contained HTML file: a canvas of every point coloured by a column, the
thumbnail and id of the point under the mouse; no server, no network, no script from elsewhere."""

from __future__ import annotations

import html
import json
from pathlib import Path

import duckdb

from .thumbs import data_uri, image_files

MAX_THUMBNAILS = 3_000  # points beyond it show their id and colour only (the file stays small)
THUMBNAIL_SIZE = 96

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px; }
#map { border: 1px solid #ccc; cursor: crosshair; }
#tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #999; padding: 4px; display: none; }
#legend span { display: inline-block; margin-right: 10px; }
#legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
</style></head><body>
<h3>%(title)s</h3><div id="legend"></div>
<canvas id="map" width="900" height="700"></canvas>
<div id="tip"><img id="thumb"><div id="label"></div></div>
<script id="points" type="application/json">%(points)s</script>
<script>
const data = JSON.parse(document.getElementById('points').textContent);
const canvas = document.getElementById('map'), ctx = canvas.getContext('2d');
const palette = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
const values = [...new Set(data.points.map(p => p.c))].sort();
const colour = v => palette[values.indexOf(v) %% palette.length];
const xs = data.points.map(p => p.x), ys = data.points.map(p => p.y);
const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
const px = p => 10 + (p.x - x0) / ((x1 - x0) || 1) * (canvas.width - 20);
const py = p => canvas.height - 10 - (p.y - y0) / ((y1 - y0) || 1) * (canvas.height - 20);
for (const p of data.points) { ctx.fillStyle = colour(p.c); ctx.beginPath(); ctx.arc(px(p), py(p), 2.5, 0, 7); ctx.fill(); }
document.getElementById('legend').innerHTML = values.map(v => `<span><i style="background:${colour(v)}"></i>${v}</span>`).join('');
const tip = document.getElementById('tip');
canvas.addEventListener('mousemove', e => {
  const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
  let best = null, bd = 64;
  for (const p of data.points) { const d = (px(p) - mx) ** 2 + (py(p) - my) ** 2; if (d < bd) { bd = d; best = p; } }
  if (!best) { tip.style.display = 'none'; return; }
  document.getElementById('thumb').src = best.t || '';
  document.getElementById('label').textContent = `${data.item_type} ${best.id}: ${best.c}`;
  tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px'; tip.style.display = 'block';
});
</script></body></html>
"""


def export_map(con: duckdb.DuckDBPyConnection, out: str | Path, model: str | None = None, item_type: str = "image",
               by: str = "class", method: str = "auto") -> Path:
    """Write the map of a model's vectors to `out` (HTML); image points carry a thumbnail (up to
    MAX_THUMBNAILS of them)."""
    from ..embeddings import map as embedding_map
    from ..plots.map_plot import colour_values

    model, points = embedding_map.points(con, model, item_type, method)
    points = points.sort_by("item_id")
    ids = points.column("item_id").to_pylist()
    colours = (colour_values(con, model, points, by) if item_type == "image" else ["all"] * len(ids))
    thumbs = {}
    if item_type == "image":
        files = image_files(con, ids[:MAX_THUMBNAILS])
        thumbs = {i: data_uri(f, THUMBNAIL_SIZE) for i, f in files.items()}
    rows = [{"id": i, "x": round(x, 4), "y": round(y, 4), "c": str(c), "t": thumbs.get(i)}
            for i, x, y, c in zip(ids, points.column("x").to_pylist(), points.column("y").to_pylist(), list(colours))]
    method_name = points.column("method")[0].as_py() if len(ids) else method
    payload = json.dumps({"model": model, "item_type": item_type, "by": by, "points": rows}).replace("</", "<\\/")
    title = html.escape(f"{model}: {item_type} map ({method_name}), coloured by {by}")
    out = Path(out)
    out.write_text(PAGE % {"title": title, "points": payload}, encoding="utf-8")
    return out
