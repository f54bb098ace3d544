/* qmdb gallery: renders query results as image cards with their boxes, masks and keypoint skeletons (SVG, drawn here from JSON).
   Two sources, one renderer: the server page (fetches /gallery/items) and the static export of
   `qmdb gallery` (window.QMDB_DATA holds the rows, the cards and thumbnails as data URIs). */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, attrs, text) => {
    const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };

  /* one colour per class, the same on every page and in the export: integer class names (digits,
     COCO ids) take palette entries in order, other names a hash of the name */
  const PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#b04be0", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#c08a3e", "#fffac8", "#aaffc3", "#ffd8b1"];
  function colour(cls) {
    const name = String(cls);
    let h = /^\d+$/.test(name) ? +name : 7;
    if (!/^\d+$/.test(name)) for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  function fmt(v) {
    if (v === null || v === undefined) return "NULL";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function focusBox(item) {
    const list = item.focus_type === "label" ? item.labels : item.focus_type === "prediction" ? item.predictions : [];
    return list.find(b => b.id === item.focus_id) || null;
  }

  /* the visible region: the whole image, or the focused box with context around it */
  function viewBox(item, crop) {
    const W = item.width, H = item.height, box = crop ? focusBox(item) : null;
    if (!box) return [0, 0, W, H];
    const m = Math.max(0.6 * Math.max(box.w, box.h), 24);
    const x0 = Math.max(0, box.x - m), y0 = Math.max(0, box.y - m);
    const x1 = Math.min(W, box.x + box.w + m), y1 = Math.min(H, box.y + box.h + m);
    return [x0, y0, x1 - x0, y1 - y0];
  }

  /* an SVG path of flat rings [x1, y1, x2, y2, ...] (polygons, or a mask's outer contours and holes) */
  function ringPath(rings) {
    return rings.filter(r => r.length >= 4).map(r => {
      let d = `M${r[0]} ${r[1]}`;
      for (let i = 2; i + 1 < r.length; i += 2) d += `L${r[i]} ${r[i + 1]}`;
      return d + "Z";
    }).join("");
  }

  /* an <svg> of the image with its labels (solid) and predictions (dashed, with score); masks and
     polygons filled translucent in the class colour; keypoints as dots joined by the skeleton */
  function picture(item, src, opts) {
    const [vx, vy, vw, vh] = viewBox(item, opts.crop);
    const svg = el("svg:svg", { viewBox: `${vx} ${vy} ${vw} ${vh}`, preserveAspectRatio: "xMidYMid meet", class: opts.cls });
    svg.appendChild(el("svg:image", { href: src, x: 0, y: 0, width: item.width, height: item.height, preserveAspectRatio: "none" }));
    const font = Math.max(vw, vh) / (opts.cls === "full" ? 45 : opts.crop ? 14 : 20);
    const semantic = item.task === "semantic";  // a class region's box spans the image: draw its mask only
    const draw = (box, kind) => {
      const focused = item.focus_type === kind && item.focus_id === box.id;
      const c = colour(box.class);
      const state = focused ? " focus" : item.focus_type !== "image" ? " dim" : "";
      const title = `${kind} ${box.id}: ${box.class}` + (box.score != null ? ` ${box.score.toFixed(2)}` : "");
      if (box.rings && box.rings.length) {
        const shape = el("svg:path", { class: `mask ${kind}` + state, d: ringPath(box.rings), fill: c, stroke: c,
          "fill-rule": "evenodd", "vector-effect": "non-scaling-stroke", "data-id": box.id, "data-class": box.class });
        shape.appendChild(el("svg:title", {}, title));
        svg.appendChild(shape);
      }
      if (box.points && box.points.length) {  // keypoints: visible ones only, joined by the class's skeleton
        const r = font / 3.5;
        (box.edges || []).forEach(([a, b]) => {
          const bone = el("svg:line", { class: `bone ${kind}` + state, x1: box.points[a][0], y1: box.points[a][1],
            x2: box.points[b][0], y2: box.points[b][1], stroke: c, "vector-effect": "non-scaling-stroke" });
          svg.appendChild(bone);
        });
        box.points.forEach(([x, y]) => {
          const joint = el("svg:circle", { class: `joint ${kind}` + state, cx: x, cy: y, r, fill: c,
            "vector-effect": "non-scaling-stroke" });
          joint.appendChild(el("svg:title", {}, title));
          svg.appendChild(joint);
        });
      }
      if (semantic && box.rings && box.rings.length && !focused) return;  // the legend names the classes
      const rect = el("svg:rect", { class: `box ${kind}` + state, x: box.x, y: box.y, width: box.w, height: box.h, stroke: c,
        "vector-effect": "non-scaling-stroke", "data-id": box.id, "data-class": box.class });
      rect.appendChild(el("svg:title", {}, title));
      svg.appendChild(rect);
      const text = kind === "prediction" ? `${box.class} ${box.score.toFixed(2)}` : String(box.class);
      const ty = kind === "prediction" ? box.y + box.h + font : Math.max(box.y - font * 0.25, font);
      svg.appendChild(el("svg:text", { class: "tag", x: box.x, y: ty, fill: c, "font-size": font }, text));
    };
    item.labels.forEach(b => draw(b, "label"));
    item.predictions.forEach(b => draw(b, "prediction"));
    return svg;
  }

  function rowTitle(columns, row) {
    return columns.map((c, i) => `${c.name}: ${fmt(row[i])}`).join("\n");
  }

  function caption(item) {
    const parts = [];
    if (item.focus_type !== "image") parts.push(`${item.focus_type} ${item.focus_id}`);
    if (item.label_classes.length) parts.push(`label ${item.label_classes.join(",")}`);
    if (item.predicted_classes.length) {
      const p = item.predicted_classes[0];
      parts.push(`pred ${p.class} ${p.score.toFixed(2)}`);
    }
    parts.push(item.path || "");
    return " · " + parts.join(" · ");
  }

  /* the grid of one page; `src(item, full)` gives the picture's URL; `open(index)` shows the detail */
  function renderGrid(container, page, src, open) {
    container.textContent = "";
    const classes = new Set();
    page.items.forEach((item, index) => {
      const card = el("div", { class: "card", "data-row": item.row, "data-image-id": item.image_id,
        "data-focus-type": item.focus_type, "data-focus-id": item.focus_id, title: rowTitle(page.columns, page.rows[item.row]) });
      if (item.width && item.height && item.status !== "unreadable" && src(item, false)) {
        card.appendChild(picture(item, src(item, false), { crop: item.focus_type !== "image", cls: "thumb" }));
      } else {
        card.appendChild(el("div", { class: "broken" }, `image ${item.image_id}: ${item.status || "missing"}`));
      }
      const cap = el("div", { class: "caption" });
      cap.appendChild(el("b", {}, `#${item.image_id}`));
      cap.appendChild(document.createTextNode(caption(item)));
      card.appendChild(cap);
      card.addEventListener("click", () => open(index));
      container.appendChild(card);
      item.labels.concat(item.predictions).forEach(b => classes.add(b.class));
    });
    return [...classes].sort();
  }

  function legend(node, classes) {
    node.textContent = "";
    classes.forEach(c => {
      const span = el("span");
      span.appendChild(el("i", { style: `background:${colour(c)}` }));
      span.appendChild(document.createTextNode(c));
      node.appendChild(span);
    });
    if (classes.length) node.appendChild(el("span", {}, "— solid: label, dashed: prediction (score), filled: mask or polygon, dots and lines: keypoint skeleton"));
  }

  /* the detail view: full image, the row's columns, every box, and tag buttons when writes are allowed */
  function showDetail(dialog, page, index, src, tagger) {
    const item = page.items[index];
    const row = page.rows[item.row];
    dialog.textContent = "";
    const pic = el("div", { class: "picture" });
    if (item.width && item.height) pic.appendChild(picture(item, src(item, true), { crop: false, cls: "full" }));
    const aside = el("aside");
    const close = el("button", { class: "close" }, "close ✕");
    close.addEventListener("click", () => { dialog.hidden = true; });
    aside.appendChild(close);
    aside.appendChild(el("h3", {}, `image ${item.image_id}` + (item.focus_type !== "image" ? ` · ${item.focus_type} ${item.focus_id}` : "")));
    const tags = tagger ? tagger(item) : null;
    if (tags) aside.appendChild(tags);
    const table = el("table", { class: "row" });
    page.columns.forEach((c, i) => {
      const tr = el("tr");
      tr.appendChild(el("td", {}, c.name));
      tr.appendChild(el("td", {}, fmt(row[i])));
      table.appendChild(tr);
    });
    aside.appendChild(table);
    aside.appendChild(el("h4", {}, `${item.labels.length} labelled boxes, ${item.predictions.length} predictions`));
    const boxes = el("table", { class: "boxes" });
    item.labels.map(b => ["label", b]).concat(item.predictions.map(b => ["prediction", b])).forEach(([kind, b]) => {
      const tr = el("tr");
      tr.appendChild(el("td", { style: `color:${colour(b.class)}` }, `${kind} ${b.id}`));
      tr.appendChild(el("td", {}, `${b.class}${b.score != null ? " " + b.score.toFixed(3) : ""} @ ${[b.x, b.y, b.w, b.h].map(Math.round).join(",")}`));
      boxes.appendChild(tr);
    });
    aside.appendChild(boxes);
    dialog.appendChild(pic);
    dialog.appendChild(aside);
    dialog.hidden = false;
  }

  window.QMDB = { colour, renderGrid, legend, showDetail, picture, fmt, ringPath };
})();
