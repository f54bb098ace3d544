/* the page served by `qmdb serve` at /gallery: pick a view (with its parameters) or type a query,
   page through the cards, open one, tag it (when the server allows writes), draw plots. */
(function () {
  "use strict";
  const Q = window.QMDB;
  const $ = id => document.getElementById(id);
  const state = { views: {}, config: null, page: null, offset: 0, cursor: null, back: [] };

  async function getJson(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function paramInputs(node, params, values, cls) {
    node.textContent = "";
    params.forEach(p => {
      const label = document.createElement("label");
      label.textContent = p.name;
      label.title = `${p.type} = ${p.default}${p.doc ? " — " + p.doc : ""}`;
      const input = document.createElement("input");
      input.className = "param " + cls;
      input.dataset.name = p.name;
      input.placeholder = p.default;
      if (values[p.name] !== undefined) input.value = values[p.name];
      label.appendChild(input);
      node.appendChild(label);
    });
  }

  function paramValues(cls) {
    const out = {};
    document.querySelectorAll("input." + cls).forEach(i => { if (i.value !== "") out[i.dataset.name] = i.value; });
    return out;
  }

  function chooseView(name, values) {
    $("view").value = name;
    const view = state.views[name];
    $("sql-box").classList.toggle("hidden", !!view);
    paramInputs($("params"), view ? view.parameters : [], values || {}, "view-param");
  }

  /* the query lives in the URL's hash, so a link (or a screenshot script) opens the same page */
  function readHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    const params = {};
    for (const [k, v] of h) if (k.startsWith("p.")) params[k.slice(2)] = v;
    return { view: h.get("view") || "", sql: h.get("sql"), params, offset: +(h.get("offset") || 0), cursor: h.get("cursor"),
             limit: h.get("limit"), min_score: h.get("min_score"), open: h.get("open"), plot: h.get("plot"),
             tab: h.get("tab"), map_by: h.get("by"), map_method: h.get("method"), map_item_type: h.get("items") };
  }

  function writeHash() {
    const h = new URLSearchParams();
    const view = $("view").value;
    if (view) {
      h.set("view", view);
      for (const [k, v] of Object.entries(paramValues("view-param"))) h.set("p." + k, v);
    } else h.set("sql", $("sql").value);
    h.set("limit", $("limit").value);
    h.set("min_score", $("min-score").value);
    h.set("offset", state.offset);
    if (state.cursor) h.set("cursor", state.cursor);
    history.replaceState(null, "", "#" + h.toString());
  }

  function src(item, full) {
    if (full || item.focus_type !== "image") return `/images/${item.image_id}`;
    return `/images/${item.image_id}/thumbnail?size=320`;
  }

  function tagger(item) {
    if (!state.config.writable) return null;
    const box = document.createElement("div");
    box.className = "tags";
    const token = document.createElement("input");
    token.type = "password";
    token.id = "token";
    token.placeholder = "write token (--token)";
    token.value = sessionStorage.getItem("qmdb-token") || "";
    token.addEventListener("change", () => sessionStorage.setItem("qmdb-token", token.value));
    box.appendChild(token);
    const done = document.createElement("div");
    done.className = "done";
    [["reviewed", "✓ reviewed"], ["wrong_label", "✗ wrong label"], ["drop", "🗑 drop"]].forEach(([tag, text]) => {
      const button = document.createElement("button");
      button.textContent = text;
      button.dataset.tag = tag;
      button.addEventListener("click", async () => {
        try {
          const body = { item_type: item.focus_type, item_id: item.focus_id, tag, author: "gallery" };
          const result = await getJson("/tags", { method: "POST", body: JSON.stringify(body),
            headers: { "Content-Type": "application/json", Authorization: "Bearer " + token.value } });
          done.textContent = `tagged ${item.focus_type} ${item.focus_id} '${tag}' (tag_id ${result.tag_id})`;
        } catch (error) { done.textContent = "not tagged: " + error.message; }
      });
      box.appendChild(button);
    });
    box.appendChild(done);
    return box;
  }

  function firstPage() {
    state.offset = 0; state.cursor = null; state.back = [];
  }

  async function run() {
    const view = $("view").value;
    const body = { limit: +$("limit").value || 24, offset: state.offset, min_score: +$("min-score").value };
    if (state.cursor) body.cursor = state.cursor;
    if (view) { body.view = view; body.params = paramValues("view-param"); } else body.sql = $("sql").value;
    writeHash();
    $("status").className = "status";
    $("status").textContent = "running…";
    try {
      const page = await getJson("/gallery/items", { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" } });
      state.page = page;
      const classes = Q.renderGrid($("grid"), page, src, index => Q.showDetail($("detail"), page, index, src, tagger));
      Q.legend($("legend"), classes);
      const shown = page.rows.length;
      $("status").textContent = page.items.length ? `${shown} rows on this page`
        : shown ? `${shown} rows; the result has no image_id, label_id or prediction_id column, so there is nothing to show`
        : "no rows";
      $("range").textContent = shown ? `rows ${page.offset + 1}–${page.offset + shown}` : "";
      $("prev").disabled = page.offset === 0;
      $("next").disabled = page.next_cursor === null;
    } catch (error) {
      $("status").className = "status error";
      $("status").textContent = error.message;
      $("grid").textContent = "";
    }
  }

  function drawPlot() {
    const kind = $("plot-kind").value;
    const q = new URLSearchParams(paramValues("plot-param"));
    $("plot-status").textContent = "drawing…";
    $("plot").onload = () => { $("plot-status").textContent = ""; };
    $("plot").onerror = async () => {
      const r = await fetch($("plot").src);
      $("plot-status").textContent = (await r.json()).error || "cannot draw";
    };
    $("plot").src = `/gallery/plots/${kind}.svg?` + q.toString();
  }

  function tab(name) {
    for (const [t, section, controls] of [["gallery", "gallery", "gallery-controls"], ["plots", "plots", "plot-controls"],
                                          ["map", "map", "map-controls"]]) {
      $("tab-" + t).classList.toggle("active", name === t);
      $(section).classList.toggle("hidden", name !== t);
      $(controls).classList.toggle("hidden", name !== t);
    }
  }

  /* the map's "show in the gallery": its selection as a query on the gallery tab */
  function showInGallery(sql) {
    tab("gallery");
    chooseView("");
    $("sql").value = sql;
    firstPage();
    run();
  }

  function mapParams() {
    return { embedding_model: $("map-model").value, item_type: $("map-item-type").value, by: $("map-by").value,
             method: $("map-method").value };
  }

  /* the dataset summary (one row per dataset) above the gallery and the map */
  function showSummary(summary) {
    const node = $("summary");
    node.textContent = "";
    if (!summary || !summary.rows.length) return;
    const head = document.createElement("tr");
    summary.columns.forEach(c => { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); });
    node.appendChild(head);
    summary.rows.forEach(row => {
      const tr = document.createElement("tr");
      row.forEach(v => { const td = document.createElement("td"); td.textContent = Q.fmt(v); tr.appendChild(td); });
      node.appendChild(tr);
    });
    node.classList.remove("hidden");
  }

  /* no view in the URL: what the server chose (GET /gallery/start): the map, the worst label errors,
     or the images */
  async function openDefault() {
    const choice = await getJson("/gallery/start");
    showSummary(choice.summary);
    if (choice.tab === "map") {
      tab("map");
      await window.QMDB_MAP.load(mapParams());
      return;
    }
    chooseView(choice.view && state.views[choice.view] ? choice.view : "");
    firstPage();
    await run();
  }

  async function start() {
    state.config = await getJson("/gallery/config");
    $("database").textContent = `${state.config.database} · ${state.config.writable ? "writes allowed" : "read-only"}`;
    (await getJson("/views")).views.forEach(v => {
      state.views[v.name] = v;
      const option = document.createElement("option");
      option.value = v.name;
      option.textContent = v.name;
      option.title = v.description;
      $("view").appendChild(option);
    });
    Object.entries(state.config.plots).forEach(([kind, spec]) => {
      const option = document.createElement("option");
      option.value = kind;
      option.textContent = `${kind} — ${spec.title}`;
      $("plot-kind").appendChild(option);
    });
    const showPlotParams = () => paramInputs($("plot-params"), state.config.plots[$("plot-kind").value].parameters, {}, "plot-param");
    $("plot-kind").addEventListener("change", showPlotParams);
    showPlotParams();
    $("view").addEventListener("change", () => { chooseView($("view").value); firstPage(); });
    $("run").addEventListener("click", () => { firstPage(); run(); });
    /* pages by the server's cursor (rows after the last one shown); back retraces the cursors */
    $("prev").addEventListener("click", () => {
      const back = state.back.pop() || { cursor: null, offset: Math.max(0, state.page.offset - state.page.limit) };
      state.cursor = back.cursor; state.offset = back.offset; run();
    });
    $("next").addEventListener("click", () => {
      state.back.push({ cursor: state.cursor, offset: state.offset });
      state.cursor = state.page.next_cursor; state.offset = state.page.next_offset; run();
    });
    $("draw").addEventListener("click", drawPlot);
    $("tab-gallery").addEventListener("click", () => tab("gallery"));
    $("tab-plots").addEventListener("click", () => tab("plots"));
    $("tab-map").addEventListener("click", () => { tab("map"); if (!window.QMDB_MAP.data) window.QMDB_MAP.load(mapParams()); });
    window.QMDB_MAP.start(state.config, showInGallery);
    document.addEventListener("keydown", e => { if (e.key === "Escape") $("detail").hidden = true; });
    const h = readHash();
    if (h.limit) $("limit").value = h.limit;
    if (h.min_score) $("min-score").value = h.min_score;
    if (h.sql) $("sql").value = h.sql;
    chooseView(h.view && state.views[h.view] ? h.view : "", h.params);
    state.offset = h.offset;
    state.cursor = h.cursor;
    if (h.tab === "map") {
      tab("map");
      if (h.map_by) $("map-by").innerHTML = `<option>${h.map_by}</option>`;
      if (h.map_method) $("map-method").value = h.map_method;
      if (h.map_item_type) $("map-item-type").value = h.map_item_type;
      await window.QMDB_MAP.load(mapParams());
    } else if (h.plot && state.config.plots[h.plot]) {
      tab("plots");
      $("plot-kind").value = h.plot;
      showPlotParams();
      document.querySelectorAll("input.plot-param").forEach(i => { if (h.params[i.dataset.name] !== undefined) i.value = h.params[i.dataset.name]; });
      drawPlot();
    } else if (h.view || h.sql) {
      await run();
      if (h.open !== null && state.page && state.page.items[+h.open]) {
        Q.showDetail($("detail"), state.page, +h.open, src, tagger);
      }
    } else {
      await openDefault();
    }
    document.body.dataset.ready = "1";
  }

  start().catch(error => { $("status").className = "status error"; $("status").textContent = error.message; });
})();
