"""Label Studio: tasks (JSON) written from a selection with a labeling config, and an export read back.

Written: `tasks.json`, one task per image (its `id` the image_id) whose `data` holds the image's URL
or path (`image`), its qmdb `image_id` and name; its labels as one
annotation (so the annotator corrects rather than redraws) and every model's
predictions on it as pre-annotations (`predictions`, one per model, with
`model_version`, the mean score and each region's `score`). Boxes are
`rectanglelabels`, each ring of a polygon a `polygonlabels` region,
image-level classes `choices`; a mask-only label goes as its box. Region
ids are `L{label_id}` (a ring after the first `L{label_id}.{k}`), so a
label's id survives the round trip. `label_config.xml` holds the matching
labeling config. Coordinates are percentages of the image size, as Label
Studio stores them.

Read: Label Studio's JSON export (a list of tasks). Per task, the latest
annotation that was not cancelled is the truth (several annotators on one
task are a consensus question, not a correction); its `completed_by` is the
annotator (an e-mail where the export gives the user, else the user id).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import duckdb
import pyarrow as pa

from ..errors import InputError, QmdbError
from ..transaction import registered
from .returned import Shapes, number

_REGION = re.compile(r"^L(\d+)(?:\.\d+)?$")


def _regions(alias: str, id_prefix: str, id_column: str, score: bool) -> str:
    """SQL: the list of result objects (JSON) of one label / prediction row `alias`."""
    base = (f"'to_name', 'image', 'original_width', r.width, 'original_height', r.height, 'image_rotation', 0"
            + (f", 'score', {alias}.score" if score else ""))
    pct = "{} * 100.0 / r.{}".format
    box = (f"[json_object('id', '{id_prefix}' || {alias}.{id_column}, 'type', 'rectanglelabels', 'from_name', 'label', "
           f"{base}, 'value', json_object('x', {pct(alias + '.x', 'width')}, 'y', {pct(alias + '.y', 'height')}, "
           f"'width', {pct(alias + '.w', 'width')}, 'height', {pct(alias + '.h', 'height')}, 'rotation', 0, "
           f"'rectanglelabels', [{alias}.class]))]")
    rings = (f"list_transform(range(len({alias}.polygon)), lambda k: json_object('id', '{id_prefix}' || "
             f"{alias}.{id_column} || CASE WHEN k = 0 THEN '' ELSE '.' || k END, 'type', 'polygonlabels', "
             f"'from_name', 'polygon', {base}, 'value', json_object('points', list_transform(range(len({alias}.polygon[k + 1]) // 2), "
             f"lambda j: [{alias}.polygon[k + 1][2 * j + 1] * 100.0 / r.width, {alias}.polygon[k + 1][2 * j + 2] * 100.0 / r.height]), "
             f"'closed', true, 'polygonlabels', [{alias}.class])))")
    choice = (f"[json_object('id', '{id_prefix}' || {alias}.{id_column}, 'type', 'choices', 'from_name', 'class', "
              f"'to_name', 'image'{(', ' + chr(39) + 'score' + chr(39) + ', ' + alias + '.score') if score else ''}, "
              f"'value', json_object('choices', [{alias}.class]))]")
    return (f"CASE WHEN {alias}.x IS NULL THEN {choice} WHEN {alias}.polygon IS NOT NULL AND len({alias}.polygon) > 0 "
            f"THEN {rings} ELSE {box} END")


def write(con: duckdb.DuckDBPyConnection, out: Path, refs: pa.Table, models: list[str] | None) -> tuple[int, int]:
    """Write `out` (tasks.json) and `label_config.xml` beside it; `refs` holds (image_id, name, ref, width,
    height). `models`: whose predictions to add (None: every model's). Returns (labels, predictions) written."""
    with registered(con, _qmdb_refs=refs):
        sizeless = con.execute("SELECT r.name FROM _qmdb_refs r JOIN _qmdb_export_labels l USING (image_id) "
                               "WHERE l.x IS NOT NULL AND (r.width IS NULL OR r.height IS NULL) LIMIT 1").fetchall()
        if sizeless:
            raise QmdbError(f"image {sizeless[0][0]} has no width/height, which Label Studio's coordinates need")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _qmdb_ls_predictions AS
            SELECT p.* FROM predictions p JOIN _qmdb_refs r USING (image_id)
            WHERE ($models IS NULL OR list_contains($models, p.model))
              AND (p.x IS NULL OR (r.width IS NOT NULL AND r.height IS NOT NULL))""", {"models": models})
        try:
            document, n_labels, n_predictions, kinds = con.execute(f"""
                WITH ann AS (SELECT l.image_id, flatten(list({_regions('l', 'L', 'label_id', False)} ORDER BY l.label_id)) AS result
                             FROM _qmdb_export_labels l JOIN _qmdb_refs r USING (image_id) GROUP BY 1),
                     pred AS (SELECT p.image_id, p.model, avg(p.score) AS score,
                                     flatten(list({_regions('p', 'P', 'prediction_id', True)} ORDER BY p.prediction_id)) AS result
                              FROM _qmdb_ls_predictions p JOIN _qmdb_refs r USING (image_id) GROUP BY 1, 2),
                     preds AS (SELECT image_id, list(json_object('model_version', model, 'score', score, 'result', result)
                                                     ORDER BY model) AS predictions FROM pred GROUP BY 1),
                     tasks AS (SELECT r.image_id, json_object('id', r.image_id,
                                 'data', json_object('image', r.ref, 'qmdb_image_id', r.image_id, 'path', r.name),
                                 'annotations', CASE WHEN a.result IS NULL THEN [] ELSE [json_object('result', a.result,
                                                'ground_truth', false, 'was_cancelled', false)] END,
                                 'predictions', COALESCE(p.predictions, [])) AS task
                               FROM _qmdb_refs r LEFT JOIN ann a USING (image_id) LEFT JOIN preds p USING (image_id))
                SELECT COALESCE(to_json(list(task ORDER BY image_id)), '[]'),
                       (SELECT count(*) FROM _qmdb_export_labels), (SELECT count(*) FROM _qmdb_ls_predictions),
                       (SELECT list(DISTINCT CASE WHEN x IS NULL THEN 'tag' WHEN polygon IS NOT NULL AND len(polygon) > 0
                                    THEN 'polygon' ELSE 'box' END) FROM (SELECT x, polygon FROM _qmdb_export_labels
                                    UNION ALL SELECT x, polygon FROM _qmdb_ls_predictions))
                FROM tasks""").fetchall()[0]
            classes = [c for (c,) in con.execute(
                "SELECT DISTINCT class FROM (SELECT class FROM _qmdb_export_classes UNION ALL SELECT class FROM "
                "_qmdb_export_labels UNION ALL SELECT class FROM _qmdb_ls_predictions) ORDER BY class").fetchall()]
        finally:
            con.execute("DROP TABLE IF EXISTS _qmdb_ls_predictions")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    (out.parent / "label_config.xml").write_text(label_config(classes, set(kinds or []) or {"box"}), encoding="utf-8")
    return int(n_labels), int(n_predictions)


def label_config(classes: list[str], kinds: set[str]) -> str:
    """The labeling config of a task with these classes and kinds of shapes.

    >>> print(label_config(["cat"], {"box"}))
    <View>
      <Image name="image" value="$image"/>
      <RectangleLabels name="label" toName="image">
        <Label value="cat"/>
      </RectangleLabels>
    </View>
    <BLANKLINE>
    """
    controls = [("box", "RectangleLabels", "label", "Label", ""), ("polygon", "PolygonLabels", "polygon", "Label", ""),
                ("tag", "Choices", "class", "Choice", ' choice="single-radio" showInline="true"')]
    lines = ["<View>", '  <Image name="image" value="$image"/>']
    for kind, control, name, item, extra in controls:
        if kind in kinds:
            lines.append(f'  <{control} name="{name}" toName="image"{extra}>')
            lines += [f"    <{item} value={quoteattr(c)}/>" for c in classes]
            lines.append(f"  </{control}>")
    return "\n".join(lines + ["</View>", ""])


def _annotator(completed_by: object) -> str | None:
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            if completed_by.get(key) not in (None, ""):
                return str(completed_by[key])
        return None
    return None if completed_by in (None, "") else str(completed_by)


def _latest(annotations: list) -> dict | None:
    done = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not done:
        return None
    return max(enumerate(done), key=lambda p: (str(p[1].get("updated_at") or p[1].get("created_at") or ""), p[0]))[1]


def read(file: str | Path, author: str | None = None) -> Shapes:
    """The shapes of a Label Studio JSON export; `author` is the fallback when an annotation names nobody."""
    file = str(file)
    try:
        tasks = json.loads(Path(file).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(file, f"line {error.lineno}", f"not valid JSON: {error.msg}") from None
    if not isinstance(tasks, list):
        raise InputError(file, None, "a Label Studio export is a list of tasks (export as JSON, not JSON-MIN or CSV)")
    shapes = Shapes(file, author)
    for t, task in enumerate(tasks):
        where = f"[{t}]"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not (data.get("path") or data.get("image")):
            raise InputError(file, f"{where}.data.image", "the task names no image")
        name = str(data.get("path") or data.get("image"))
        carried = data.get("qmdb_image_id")
        annotation = _latest(task.get("annotations") or [])
        if annotation is None:
            continue  # nobody annotated this task: it is no correction (and no deletion)
        who = _annotator(annotation.get("completed_by"))
        shapes.image(name, image_id=int(carried) if isinstance(carried, (int, float)) else None, author=who)
        for k, region in enumerate(annotation.get("result") or []):
            _region(shapes, file, name, f"{where}.annotations.result[{k}]", region)
    return shapes


def _region(shapes: Shapes, file: str, name: str, field: str, region: dict) -> None:
    kind = region.get("type")
    value = region.get("value") or {}
    match = _REGION.match(str(region.get("id") or ""))
    label_id = int(match.group(1)) if match else None
    labels = value.get(kind) if kind else None
    if kind not in ("rectanglelabels", "polygonlabels", "choices"):
        raise InputError(file, f"{field}.type", f"qmdb reads rectanglelabels, polygonlabels and choices, not {kind!r}")
    if not isinstance(labels, list) or len(labels) != 1:
        raise InputError(file, f"{field}.value.{kind}", "expected exactly one label")
    if kind == "choices":
        shapes.tag(name, labels[0], field=field, label_id=label_id)
        return
    width = number(file, f"{field}.original_width", region.get("original_width"))
    height = number(file, f"{field}.original_height", region.get("original_height"))
    if kind == "rectanglelabels":
        if number(file, f"{field}.value.rotation", value.get("rotation", 0)):
            raise InputError(file, f"{field}.value.rotation", "rotated boxes are not labels qmdb stores")
        x, y, w, h = (number(file, f"{field}.value.{k}", value.get(k)) for k in ("x", "y", "width", "height"))
        shapes.box(name, labels[0], x * width / 100, y * height / 100, w * width / 100, h * height / 100,
                   field=field, label_id=label_id)
        return
    points = value.get("points")
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise InputError(file, f"{field}.value.points", "expected a list of [x, y] points")
    flat = [number(file, f"{field}.value.points", v) * (width if i % 2 == 0 else height) / 100
            for p in points for i, v in enumerate(p)]
    shapes.polygon(name, labels[0], [flat], field=f"{field}.value.points", label_id=label_id)
