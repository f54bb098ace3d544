"""`embed`: the batched, incremental, resumable embedding run.

One pass over the images that still lack something for this model: each image
is decoded once (OpenCV, in a thread pool that works on the next chunk while the
current one is written; a JPEG DCT-scaled down to the model's `input_size`
when only the image's own vector is needed), prepared for the model in the same
threads (`Embedder.prepare`), its own vector and those of its boxes (labels and
predictions with `--labels`) are computed in batches (in the decoding threads,
each its share of the chunk, for a model that declares `embed_in_workers`), and
each chunk is committed in one transaction. The work list is a temp table read a chunk at a
time, so memory does not grow with the number of images — so an interrupted run resumes where it stopped
and no row is written twice. A file that cannot be read becomes an `errors`
row (stage `embed`) and is not retried by later runs. At the end the usearch
index files are brought up to date and, if asked, the `neighbors` table.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from .. import images
from ..transaction import transaction
from ..udfs.arrow import numbers, strings
from . import index as vector_index
from .base import Embedder
from .decode import crop
from .models import get_embedder, record
from .neighbors import materialize

# Images that need their own vector, or have boxes that need one, for a model; skipping images
# and boxes that an earlier run recorded as errors for this model.
WORK_SQL = """
WITH boxes AS (
    SELECT 'label' AS item_type, label_id AS item_id, image_id, x, y, w, h FROM labels
    WHERE $labels AND w IS NOT NULL AND h IS NOT NULL
    UNION ALL
    SELECT 'prediction', prediction_id, image_id, x, y, w, h FROM predictions
    WHERE $labels AND w IS NOT NULL AND h IS NOT NULL
),
todo_boxes AS (
    SELECT b.* FROM boxes b
    WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model = $model AND e.item_type = b.item_type
                      AND e.item_id = b.item_id)
      AND NOT EXISTS (SELECT 1 FROM errors r WHERE r.stage = 'embed' AND r.image_id = b.image_id
                      AND r.message = $model || ': ' || b.item_type || ' ' || b.item_id || ': box outside the image')
)
SELECT i.image_id, image_location(d.root, i.path) AS file, i.dataset,
       NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model = $model AND e.item_type = 'image'
                   AND e.item_id = i.image_id) AS need_image,
       (SELECT list({'item_type': t.item_type, 'item_id': t.item_id, 'x': t.x, 'y': t.y, 'w': t.w, 'h': t.h}
                    ORDER BY t.item_type, t.item_id) FROM todo_boxes t WHERE t.image_id = i.image_id) AS boxes
FROM images i JOIN datasets d ON d.name = i.dataset
WHERE i.status = 'ok' AND ($dataset IS NULL OR i.dataset = $dataset)
  AND NOT EXISTS (SELECT 1 FROM errors r WHERE r.stage = 'embed' AND r.image_id = i.image_id
                  AND starts_with(r.message, $model || ': unreadable image'))
  AND (need_image OR boxes IS NOT NULL)
ORDER BY i.image_id
"""


@dataclass
class EmbedReport:
    """What a run wrote: vectors per item type, error rows, and the index / neighbour updates."""

    model: str
    written: dict[str, int] = field(default_factory=lambda: {"image": 0, "label": 0, "prediction": 0})
    errors: int = 0
    neighbors: int = 0
    indexes: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = [f"{n} {t} vectors" for t, n in self.written.items() if n or t == "image"]
        text = f"{self.model}: embedded {', '.join(parts)}; {self.errors} errors"
        if self.indexes:
            text += "; index " + ", ".join(f"{t} {n}" for t, n in self.indexes.items())
        if self.neighbors:
            text += f"; {self.neighbors} neighbor rows"
        return text


def read_row(row: dict, shortest: int | None, file: str | None = None) -> tuple[np.ndarray | None, str | None]:
    """One `WORK_SQL` row's image (from `file`, default the row's) as RGB, (None, why) when unreadable;
    DCT-scaled to `shortest` (the model's `input_size`) when the row needs only the image's own
    vector (a box crop reads the file's pixels). The Ray engine decodes with it too."""
    try:
        return images.read_rgb(file or row["file"], None if row["boxes"] else shortest), None
    except images.DecodeError as error:
        return None, str(error)


def _prepare_row(row: dict, embedder: Embedder) -> tuple[list, list, list]:
    """Decode one row and return its items, their prepared pixels and its error rows (a thread's work)."""
    items, pixels, errors = items_to_embed([row], [read_row(row, embedder.input_size)], embedder.name)
    return items, [embedder.prepare(p) for p in pixels], errors


def _joined(parts) -> tuple[list, list, list]:
    """(items, pixels or vector arrays, error rows) of several parts, concatenated in order."""
    items, pixels, errors = [], [], []
    for mine, prepared, failed in parts:
        items += mine
        pixels += prepared
        errors += failed
    return items, pixels, errors


def _prepare_share(rows: list[dict], embedder: Embedder) -> tuple[list, list, list]:
    """Decode and prepare a thread's share of a chunk, embedded there too when the embedder allows."""
    items, pixels, errors = _joined(_prepare_row(row, embedder) for row in rows)
    if embedder.embed_in_workers:
        return items, [_embed(embedder, pixels)], errors
    return items, pixels, errors


def _submit(pool: ThreadPoolExecutor, rows: list[dict] | None, embedder: Embedder, workers: int) -> list[Future] | None:
    """Queue a chunk on the decoding threads: one task a row, or with `embed_in_workers` one share of
    rows a thread (decoded, prepared and embedded there). None when there is no chunk."""
    if not rows:
        return None
    step = -(-len(rows) // workers) if embedder.embed_in_workers else 1
    return [pool.submit(_prepare_share, rows[k:k + step], embedder) for k in range(0, len(rows), step)]


def _collect(tasks: list[Future]) -> tuple[list, list, list]:
    """A queued chunk's items, their prepared pixels (or vector arrays) and error rows, in row order."""
    return _joined(task.result() for task in tasks)


def _embed(embedder: Embedder, pixels: list) -> np.ndarray:
    return embedder.embed_images(pixels) if pixels else np.zeros((0, embedder.dim), np.float32)


def _pages(con: duckdb.DuckDBPyConnection, size: int) -> Iterator[list[dict]]:
    """The rows of `qmdb_embed_todo` in pages of `size`, each read in full (the connection stays free
    for the writes in between); the table is ordered by `n`, so a page reads only its row groups."""
    start = 1
    while True:
        rows = con.sql("SELECT * EXCLUDE (n) FROM qmdb_embed_todo WHERE n BETWEEN $1 AND $2 ORDER BY n",
                       params=[start, start + size - 1]).to_arrow_table().to_pylist()
        if not rows:
            return
        yield rows
        start += size


def items_to_embed(rows: list[dict], decoded: list, model: str) -> tuple[list, list, list]:
    """Split a decoded chunk into (items to embed as (type, id), their pixels, error rows).

    `rows` are rows of `WORK_SQL`, `decoded` their images as `read_rgb` returns them (pixels or None,
    and why); an error row is (dataset, image_id, file, message), for the `errors` table (stage
    `embed`). The Ray engine (`qmdb.scale.embeddings`) embeds with the same function."""
    items, pixels, errors = [], [], []
    for row, (image, why) in zip(rows, decoded):
        path = row["file"]
        if image is None:
            errors.append((row["dataset"], row["image_id"], path, f"{model}: unreadable image: {why}"))
            continue
        if row["need_image"]:
            items.append(("image", row["image_id"]))
            pixels.append(image)
        for box in row["boxes"] or []:
            part = crop(image, box["x"], box["y"], box["w"], box["h"])
            if part is None:
                errors.append((row["dataset"], row["image_id"], path,
                               f"{model}: {box['item_type']} {box['item_id']}: box outside the image"))
            else:
                items.append((box["item_type"], box["item_id"]))
                pixels.append(part)
    return items, pixels, errors


def _write(con: duckdb.DuckDBPyConnection, embedder: Embedder, items: list, vectors: np.ndarray,
           errors: list) -> None:
    if len(items) and vectors.shape != (len(items), embedder.dim):
        raise RuntimeError(f"{embedder.name} returned vectors of shape {vectors.shape}, "
                           f"expected ({len(items)}, {embedder.dim})")
    batch = pa.Table.from_arrays([
        strings([t for t, _ in items]),
        numbers(np.array([i for _, i in items], np.int64), pa.int64()),
        pa.ListArray.from_arrays(numbers(np.arange(len(items) + 1, dtype=np.int32) * embedder.dim, pa.int32()),
                                 numbers(np.ascontiguousarray(vectors, np.float32).reshape(-1), pa.float32())),
    ], names=["item_type", "item_id", "vector"])
    tables = {"qmdb_embed_batch": batch}
    if errors:
        tables["qmdb_embed_errors"] = pa.table({name: pa.array([e[k] for e in errors], type) for k, (name, type) in enumerate(
            [("dataset", pa.string()), ("image_id", pa.int64()), ("file", pa.string()), ("message", pa.string())])})
    with transaction(con, **tables):
        con.execute("INSERT INTO embeddings (item_type, item_id, model, vector) "
                    "SELECT item_type, item_id, ?, vector FROM qmdb_embed_batch", [embedder.name])
        if errors:
            con.execute("INSERT INTO errors (dataset, image_id, file, stage, message) "
                        "SELECT dataset, image_id, file, 'embed', message FROM qmdb_embed_errors")


def embed(con: duckdb.DuckDBPyConnection, model: str | Embedder = "builtin", *, weights: str | None = None,
          name: str | None = None, labels: bool = False, dataset: str | None = None, device: str | None = None,
          neighbors: int | None = None, chunk_size: int | None = None, workers: int = 4,
          progress: bool = True) -> EmbedReport:
    """Embed every image (and with `labels=True` every label and prediction box) lacking a vector for
    the model; update its usearch indexes; with `neighbors=K` materialize the K-NN graph.

    `model` is `builtin` (the offline descriptor, see `qmdb.embeddings.builtin`), an open_clip
    architecture (name or config .json) with `weights` a local file, or an `Embedder` instance.
    ``chunk_size`` images are decoded ahead and committed together (default: the model's
    `batch_size`, 256 for the built-in descriptor whose prepared images are 12 KB, 64 for CLIP).
    """
    embedder = model if isinstance(model, Embedder) else get_embedder(model, weights, device=device, name=name)
    record(con, embedder)
    params = {"model": embedder.name, "labels": labels, "dataset": dataset}
    chunk_size = chunk_size or embedder.batch_size
    con.execute(f"CREATE OR REPLACE TEMP TABLE qmdb_embed_todo AS SELECT row_number() OVER (ORDER BY image_id) AS n, * "
                f"FROM ({WORK_SQL}) ORDER BY n", params)
    report = EmbedReport(embedder.name)
    try:
        total = con.execute("SELECT count(*) FROM qmdb_embed_todo").fetchall()[0][0]
        bar = tqdm(total=total, unit="img", desc=f"embed {embedder.name}", disable=not progress)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pages = _pages(con, chunk_size)  # read in the main thread: the connection is not shared
            rows = next(pages, None)
            pending = _submit(pool, rows, embedder, workers)
            while pending is not None:
                # the next chunk queues behind this one, so the threads never wait for the writes
                next_rows = next(pages, None)
                queued = _submit(pool, next_rows, embedder, workers)
                try:
                    items, pixels, errors = _collect(pending)
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # an interrupted run stops decoding now
                    raise
                done = len(rows)
                rows, pending = next_rows, queued
                if embedder.embed_in_workers:
                    vectors = np.concatenate(pixels) if pixels else _embed(embedder, [])
                else:
                    vectors = _embed(embedder, pixels)
                del pixels
                _write(con, embedder, items, vectors, errors)
                for item_type, _ in items:
                    report.written[item_type] += 1
                report.errors += len(errors)
                bar.update(done)
        bar.close()
    finally:
        con.execute("DROP TABLE IF EXISTS qmdb_embed_todo")
    return finish(con, embedder.name, report, neighbors)


def finish(con: duckdb.DuckDBPyConnection, model: str, report: EmbedReport, neighbors: int | None) -> EmbedReport:
    """After new vectors: bring the model's index files up to date and materialize its neighbour
    graph when asked."""
    types = [t for (t,) in con.execute(
        "SELECT DISTINCT item_type FROM embeddings WHERE model = ? ORDER BY 1", [model]).fetchall()]
    for item_type in types:
        report.indexes[item_type] = len(vector_index.ensure(con, model, item_type))
        if neighbors:
            report.neighbors += materialize(con, model, item_type, neighbors)
    return report
