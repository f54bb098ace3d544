"""CVAT for images 1.1 XML: a task written from a selection, and a CVAT export read back as shapes.

Written: one `<image>` per selected image (its name as `qmdb.annotate.images`
gives it), every label of it as a `<box>`, a `<polygon>` per ring of a polygon
label, a `<mask>` (CVAT's RLE) for a mask-only label, a `<tag>` for an
image-level class; each carries the text attribute `label_id` (declared on
every label of the task) so the label it came from is known when it comes
back. The XML is built by DuckDB from the selection; only masks are re-encoded
in Python (one decode each).

Read: `<image>` elements with `<box>`, `<polygon>`, `<mask>` and `<tag>`
children (other shapes and `<track>`s are refused, naming them); the
annotator is a shape's `annotator` attribute, else the image's `annotator`
attribute, else the task's (or job's) assignee, else its owner.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pyarrow as pa

from ..errors import InputError
from ..transaction import registered
from . import cvatmask
from .returned import Shapes, label_id_of, number


def _esc(expr: str) -> str:
    """SQL escaping `expr` for an XML attribute or text."""
    out = expr
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&apos;")):
        out = f"replace({out}, '{char.replace(chr(39), chr(39) * 2)}', '{entity}')"
    return out


def _masks(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(label_id, rle, left, top, width, height) of the selected mask-only labels, in CVAT's encoding."""
    from ..importers.masks import mask_api, to_rles

    todo = con.sql("SELECT label_id, mask FROM _qmdb_export_labels WHERE polygon IS NULL AND mask IS NOT NULL "
                   "AND x IS NOT NULL ORDER BY label_id").to_arrow_table()
    cols: dict[str, list] = {k: [] for k in ("label_id", "rle", "left", "top", "width", "height")}
    if todo.num_rows:
        api = mask_api("exporting masks to CVAT")
        for label_id, rle in zip(todo["label_id"].to_pylist(), to_rles(todo["mask"].to_pylist())):
            crop = cvatmask.from_binary(api.decode(rle))
            if crop is not None:  # an empty mask goes as its box
                for key, value in zip(cols, (label_id, *crop)):
                    cols[key].append(value)
    return pa.table({k: pa.array(v, pa.int64() if k != "rle" else pa.string()) for k, v in cols.items()})


def write(con: duckdb.DuckDBPyConnection, out: Path, refs: pa.Table, task: str, owner: str | None) -> int:
    """Write `out` (annotations.xml) for the selection; `refs` holds (image_id, name, width, height), the name
    being the image's file below `images/`. Returns the number of shapes written."""
    attr = "'<attribute name=\"label_id\">' || l.label_id || '</attribute>'"
    label = _esc("l.class")
    common = f"' label=\"' || {label} || '\" source=\"manual\" occluded=\"0\" z_order=\"0\"'"
    num = "printf('%.10g', {})".format
    box = (f"'<box' || {common} || ' xtl=\"' || {num('l.x')} || '\" ytl=\"' || {num('l.y')} || '\" xbr=\"' || "
           f"{num('l.x + l.w')} || '\" ybr=\"' || {num('l.y + l.h')} || '\">' || {attr} || '</box>'")
    polygon = (f"array_to_string(list_transform(l.polygon, lambda r: '<polygon' || {common} || ' points=\"' || "
               f"array_to_string(list_transform(range(0, len(r) // 2), lambda k: printf('%.10g,%.10g', r[2 * k + 1], "
               f"r[2 * k + 2])), ';') || '\">' || {attr} || '</polygon>'), '')")
    mask = (f"'<mask' || {common} || ' rle=\"' || m.rle || '\" left=\"' || m.left || '\" top=\"' || m.top || "
            f"'\" width=\"' || m.width || '\" height=\"' || m.height || '\">' || {attr} || '</mask>'")
    tag = f"'<tag label=\"' || {label} || '\" source=\"manual\">' || {attr} || '</tag>'"
    shape = (f"CASE WHEN l.x IS NULL THEN {tag} WHEN l.polygon IS NOT NULL AND len(l.polygon) > 0 THEN {polygon} "
             f"WHEN m.rle IS NOT NULL THEN {mask} ELSE {box} END")
    size = "CASE WHEN r.width IS NULL THEN '' ELSE ' width=\"' || r.width || '\" height=\"' || r.height || '\"' END"
    with registered(con, _qmdb_cvat_masks=_masks(con), _qmdb_refs=refs):
        labels = con.sql("SELECT DISTINCT class FROM (SELECT class FROM _qmdb_export_classes UNION ALL "
                         "SELECT class FROM _qmdb_export_labels) ORDER BY class").fetchall()
        body = con.execute(f"""
            WITH frames AS (SELECT r.*, row_number() OVER (ORDER BY r.image_id) - 1 AS frame FROM _qmdb_refs r),
                 shapes AS (SELECT l.image_id, string_agg({shape}, chr(10) ORDER BY l.label_id) AS xml,
                                   count(*) AS n
                            FROM _qmdb_export_labels l LEFT JOIN _qmdb_cvat_masks m USING (label_id) GROUP BY 1)
            SELECT string_agg('  <image id="' || r.frame || '" name="' || {_esc('r.name')} || '"' || {size} || '>'
                              || COALESCE(chr(10) || s.xml, '') || chr(10) || '  </image>', chr(10) ORDER BY r.frame),
                   COALESCE(sum(s.n), 0), count(*)
            FROM frames r LEFT JOIN shapes s USING (image_id)""").fetchall()[0]
    meta = ET.Element("meta")
    task_el = ET.SubElement(meta, "task")
    for key, value in (("id", "0"), ("name", task), ("size", str(body[2])), ("mode", "annotation"), ("overlap", "0")):
        ET.SubElement(task_el, key).text = value
    labels_el = ET.SubElement(task_el, "labels")
    for (name,) in labels:
        label_el = ET.SubElement(labels_el, "label")
        ET.SubElement(label_el, "name").text = name
        ET.SubElement(label_el, "type").text = "any"
        attribute = ET.SubElement(ET.SubElement(label_el, "attributes"), "attribute")
        for key, value in (("name", "label_id"), ("mutable", "False"), ("input_type", "text"),
                           ("default_value", ""), ("values", "")):
            ET.SubElement(attribute, key).text = value
    if owner:
        ET.SubElement(ET.SubElement(task_el, "owner"), "username").text = owner
    ET.indent(meta, "  ", level=1)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  ')
        f.write(ET.tostring(meta, encoding="unicode"))
        f.write("\n" + (body[0] or "") + "\n</annotations>\n")
    return int(body[1])


SHAPES = ("box", "polygon", "mask")
_UNSUPPORTED = {"polyline", "points", "ellipse", "cuboid", "skeleton", "track"}


def _task_author(meta: ET.Element | None) -> str | None:
    if meta is None:
        return None
    for path in ("task/assignee/username", "job/assignee/username", "task/owner/username", "job/owner/username",
                 "project/owner/username"):
        found = meta.find(path)
        if found is not None and (found.text or "").strip():
            return found.text.strip()
    return None


def read(file: str | Path, author: str | None = None) -> Shapes:
    """The shapes of a CVAT for images 1.1 XML file; `author` is the fallback when the file names nobody."""
    file = str(file)
    shapes = Shapes(file, author)
    try:
        events = ET.iterparse(file, events=("start", "end"))
        root_seen = False
        image = None
        n_image = -1
        for event, el in events:
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if el.tag != "annotations":
                        raise InputError(file, f"<{el.tag}>", "not a CVAT for images XML file (its root must be <annotations>)")
                elif el.tag == "image":
                    n_image += 1
                    image = el
                continue
            if el.tag == "meta":
                shapes.author = _task_author(el) or author
                el.clear()
            elif el.tag == "image":
                _image(shapes, file, el, n_image)
                image = None
                el.clear()
            elif el.tag in _UNSUPPORTED and (image is not None or el.tag == "track"):
                where = f"image[{n_image}] <{el.tag}>" if image is not None else f"<{el.tag}>"
                raise InputError(file, where, "qmdb reads boxes, polygons, masks and tags; export the task as "
                                              "CVAT for images 1.1 with those shapes only")
    except ET.ParseError as error:
        raise InputError(file, f"line {error.position[0]}", f"not well-formed XML: {error}") from None
    return shapes


def _image(shapes: Shapes, file: str, el: ET.Element, n: int) -> None:
    name = el.get("name")
    where = f"image[{n}]"
    if not name:
        raise InputError(file, f"{where}.name", "the image has no name")
    width = int(number(file, f"{where}.width", el.get("width"))) if el.get("width") else None
    height = int(number(file, f"{where}.height", el.get("height"))) if el.get("height") else None
    shapes.image(name, width, height, author=el.get("annotator") or None)
    for k, child in enumerate(el):
        field = f"{where} (name {name}) <{child.tag}> {k}"
        attrs = {a.get("name"): (a.text or "") for a in child.iter("attribute")}
        label_id = label_id_of(file, f"{field} label_id", attrs.get("label_id"))
        who = (attrs.get("annotator") or "").strip() or None
        cls = child.get("label")
        if child.tag == "box":
            if float(child.get("rotation", 0) or 0):
                raise InputError(file, f"{field}.rotation", "rotated boxes are not labels qmdb stores")
            xtl, ytl, xbr, ybr = (number(file, f"{field}.{a}", child.get(a)) for a in ("xtl", "ytl", "xbr", "ybr"))
            shapes.box(name, cls, xtl, ytl, xbr - xtl, ybr - ytl, field=field, label_id=label_id, author=who)
        elif child.tag == "polygon":
            try:
                points = [float(v) for pair in (child.get("points") or "").split(";") for v in pair.split(",")]
            except ValueError:
                raise InputError(file, f"{field}.points", "expected x1,y1;x2,y2;… numbers") from None
            shapes.polygon(name, cls, [points], field=f"{field}.points", label_id=label_id, author=who)
        elif child.tag == "mask":
            if width is None or height is None:
                raise InputError(file, f"{where}.width", "a mask needs the image's width and height")
            try:
                binary = cvatmask.to_binary(child.get("rle") or "", *(int(number(file, f"{field}.{a}", child.get(a)))
                                                                      for a in ("left", "top", "width", "height")),
                                            height, width)
            except ValueError as error:
                raise InputError(file, f"{field}.rle", str(error)) from None
            shapes.mask(name, cls, cvatmask.to_coco(binary), field=f"{field}.rle", label_id=label_id, author=who)
        elif child.tag == "tag":
            shapes.tag(name, cls, field=field, label_id=label_id, author=who)
        elif child.tag in _UNSUPPORTED:
            raise InputError(file, field, "qmdb reads boxes, polygons, masks and tags; export the task as "
                                          "CVAT for images 1.1 with those shapes only")

