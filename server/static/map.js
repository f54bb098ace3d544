/* the gallery's Map tab: the embedding map (GET /gallery/map) on a canvas, points coloured by any
   column, the thumbnail of the point under the mouse, and a lasso whose selection becomes tags
   (POST /gallery/tags, one transaction; write mode and the write token, as POST /tags), a saved
   view (POST /views), or a gallery page of those items. */
(function () {
  "use strict";
  const Q = window.QMDB;
  const $ = id => document.getElementById(id);
  const PAD = 12, RAMP = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];  // viridis stops
  const map = { data: null, px: [], py: [], selected: new Set(), lasso: null, writable: false, onShow: null };
  window.QMDB_MAP = map;

  function ramp(t) {
    if (t === null || t === undefined || Number.isNaN(t)) return "#777";
    const f = Math.min(Math.max(t, 0), 1) * (RAMP.length - 1), i = Math.min(Math.floor(f), RAMP.length - 2);
    const a = RAMP[i], b = RAMP[i + 1], u = f - i;
    const mix = k => Math.round(parseInt(a.substr(k, 2), 16) * (1 - u) + parseInt(b.substr(k, 2), 16) * u);
    return `rgb(${mix(1)},${mix(3)},${mix(5)})`;
  }

  function colourOf(value) {
    const d = map.data;
    if (d.kind === "number") return ramp(value === null ? null : (value - d.lo) / ((d.hi - d.lo) || 1));
    return Q.colour(value);
  }

  /* screen positions of every point, once per layout */
  function layout() {
    const c = $("map-canvas"), pts = map.data.points;
    const xs = pts.map(p => p[2]), ys = pts.map(p => p[3]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    map.px = xs.map(x => PAD + (x - x0) / ((x1 - x0) || 1) * (c.width - 2 * PAD));
    map.py = ys.map(y => c.height - PAD - (y - y0) / ((y1 - y0) || 1) * (c.height - 2 * PAD));
  }

  function draw() {
    const c = $("map-canvas"), ctx = c.getContext("2d"), pts = map.data ? map.data.points : [];
    ctx.fillStyle = "#0d0f13";
    ctx.fillRect(0, 0, c.width, c.height);
    pts.forEach((p, i) => {
      ctx.fillStyle = colourOf(p[4]);
      ctx.beginPath();
      ctx.arc(map.px[i], map.py[i], map.selected.has(p[0]) ? 4 : 2.5, 0, 2 * Math.PI);
      ctx.fill();
      if (map.selected.has(p[0])) { ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.stroke(); }
    });
    if (map.lasso && map.lasso.length > 1) {
      ctx.strokeStyle = "#fff";
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      map.lasso.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function legend() {
    const node = $("map-legend"), d = map.data;
    node.textContent = "";
    if (d.kind === "number") {
      node.appendChild(document.createTextNode(`${d.by}: ${Q.fmt(d.lo)} `));
      const bar = document.createElement("i");
      bar.className = "ramp";
      bar.style.background = `linear-gradient(to right, ${RAMP.join(",")})`;
      node.appendChild(bar);
      node.appendChild(document.createTextNode(` ${Q.fmt(d.hi)} (grey: no value)`));
      return;
    }
    const counts = {};
    d.points.forEach(p => { counts[p[4]] = (counts[p[4]] || 0) + 1; });
    Object.keys(counts).sort().slice(0, 40).forEach(v => {
      const span = document.createElement("span");
      const dot = document.createElement("i");
      dot.style.background = Q.colour(v);
      span.appendChild(dot);
      span.appendChild(document.createTextNode(`${v} (${counts[v]})`));
      node.appendChild(span);
    });
  }

  /* ray casting: is (x, y) inside the polygon? */
  function inside(x, y, poly) {
    let hit = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i], [xj, yj] = poly[j];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  function select(poly) {
    map.selected = new Set();
    map.data.points.forEach((p, i) => { if (inside(map.px[i], map.py[i], poly)) map.selected.add(p[0]); });
    $("map-selected").textContent = `${map.selected.size} ${map.data.item_type}s selected`;
    $("map-selection").classList.toggle("hidden", map.selected.size === 0);
    document.body.dataset.mapSelected = String(map.selected.size);
  }

  function nearest(mx, my) {
    let best = -1, bd = 64;
    map.px.forEach((x, i) => { const d = (x - mx) ** 2 + (map.py[i] - my) ** 2; if (d < bd) { bd = d; best = i; } });
    return best;
  }

  function at(e) {
    const c = $("map-canvas"), r = c.getBoundingClientRect();
    return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height];
  }

  function hover(e) {
    const tip = $("map-tip");
    if (map.lasso) { map.lasso.push(at(e)); draw(); tip.hidden = true; return; }
    if (!map.data) return;
    const i = nearest(...at(e));
    if (i < 0) { tip.hidden = true; return; }
    const p = map.data.points[i];
    $("map-thumb").src = p[1] !== null ? `/images/${p[1]}/thumbnail?size=160` : "";
    $("map-label").textContent = `${map.data.item_type} ${p[0]} · ${map.data.by}: ${Q.fmt(p[4])}`;
    tip.style.left = (e.clientX + 14) + "px";
    tip.style.top = (e.clientY + 14) + "px";
    tip.hidden = false;
  }

  async function load(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    $("map-status").className = "status";
    $("map-status").textContent = "loading the map…";
    const response = await fetch("/gallery/map?" + q.toString());
    const body = await response.json();
    if (!response.ok) { $("map-status").className = "status error"; $("map-status").textContent = body.error; return; }
    const values = body.points.map(p => p[4]).filter(v => typeof v === "number");
    body.lo = values.length ? Math.min(...values) : 0;
    body.hi = values.length ? Math.max(...values) : 1;
    map.data = body;
    map.selected = new Set();
    $("map-selection").classList.add("hidden");
    const by = $("map-by");
    if (by.options.length !== body.options.length) {
      by.textContent = "";
      body.options.forEach(o => { const opt = document.createElement("option"); opt.value = o; opt.textContent = o; by.appendChild(opt); });
    }
    by.value = body.by;
    $("map-model").placeholder = body.model;
    layout();
    draw();
    legend();
    $("map-status").textContent = `${body.points.length} ${body.item_type}s of ${body.model} (${body.method}); ` +
      "drag a lasso around points to select them";
    document.body.dataset.mapPoints = String(body.points.length);
  }

  function current() {
    return { embedding_model: $("map-model").value, item_type: $("map-item-type").value, by: $("map-by").value,
             method: $("map-method").value };
  }

  async function tagSelection() {
    const tag = $("map-tag").value.trim(), token = $("map-token").value, done = $("map-done");
    if (!tag) { done.textContent = "type a tag first"; return; }
    sessionStorage.setItem("qmdb-token", token);
    const ids = [...map.selected];
    done.textContent = `tagging ${ids.length}…`;
    const r = await fetch("/gallery/tags", { method: "POST", headers: { "Content-Type": "application/json",
      Authorization: "Bearer " + token }, body: JSON.stringify({ item_type: map.data.item_type, item_ids: ids, tag,
      author: "gallery-map" }) });
    const body = await r.json();
    done.textContent = r.ok ? `tagged ${body.tagged} ${map.data.item_type}s '${tag}'` : `not tagged: ${body.error}`;
    document.body.dataset.mapTagged = r.ok ? String(body.tagged) : "error: " + body.error;
  }

  function selectionSql() {
    const table = { image: ["images", "image_id"], label: ["labels", "label_id"], prediction: ["predictions", "prediction_id"] };
    const [name, id] = table[map.data.item_type];
    return `SELECT * FROM ${name} WHERE ${id} IN (${[...map.selected].sort((a, b) => a - b).join(", ")}) ORDER BY ${id}`;
  }

  async function saveSelection() {
    const name = $("map-view-name").value.trim(), done = $("map-done");
    const r = await fetch("/views", { method: "POST", headers: { "Content-Type": "application/json",
      Authorization: "Bearer " + $("map-token").value }, body: JSON.stringify({ name, sql: selectionSql(),
      description: `${map.selected.size} ${map.data.item_type}s lassoed on the ${map.data.model} map (by ${map.data.by})` }) });
    const body = await r.json();
    done.textContent = r.ok ? `saved view ${name}` : `not saved: ${body.error}`;
  }

  function start(config, showInGallery) {
    map.writable = config.writable;
    document.querySelectorAll(".map-write").forEach(n => n.classList.toggle("hidden", !config.writable));
    $("map-token").value = sessionStorage.getItem("qmdb-token") || "";
    const c = $("map-canvas");
    c.addEventListener("mousedown", e => { map.lasso = [at(e)]; e.preventDefault(); });
    window.addEventListener("mouseup", () => {
      if (!map.lasso) return;
      const poly = map.lasso;
      map.lasso = null;
      if (poly.length > 2 && map.data) select(poly);
      draw();
    });
    c.addEventListener("mousemove", hover);
    c.addEventListener("mouseleave", () => { $("map-tip").hidden = true; });
    $("map-draw").addEventListener("click", () => load(current()));
    $("map-by").addEventListener("change", () => load(current()));
    $("map-tag-button").addEventListener("click", tagSelection);
    $("map-save-button").addEventListener("click", saveSelection);
    $("map-show").addEventListener("click", () => showInGallery(selectionSql()));
  }

  map.start = start;
  map.load = load;
})();
