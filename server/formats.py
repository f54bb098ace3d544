"""Result formats, declared as data: name -> media type and a writer that turns Arrow
record batches into bytes as they come, so a large result streams with bounded memory.

JSON is the exception: it is paginated (see `execution.json_page`), not streamed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class _Sink:
    """A file-like object that hands back what was written since the last `take()`."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.closed = False

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _arrow(schema: pa.Schema, sink: _Sink):
    return pa.ipc.new_stream(sink, schema)


def _csv(schema: pa.Schema, sink: _Sink):
    return pacsv.CSVWriter(sink, schema)


def _parquet(schema: pa.Schema, sink: _Sink):
    return pq.ParquetWriter(sink, schema)


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    open_writer: Callable[[pa.Schema, _Sink], object]
    text_only: bool = False   # nested and binary columns are sent as text


FORMATS: dict[str, Format] = {
    "arrow": Format("arrow", "application/vnd.apache.arrow.stream", "arrows", _arrow),
    "csv": Format("csv", "text/csv; charset=utf-8", "csv", _csv, text_only=True),
    "parquet": Format("parquet", "application/vnd.apache.parquet", "parquet", _parquet),
}
NAMES = ("json", *FORMATS)


def encode(fmt: Format, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Bytes of `batches` in `fmt`, one chunk per batch (plus the header and the footer)."""
    sink = _Sink()
    writer = fmt.open_writer(schema, sink)
    try:
        head = sink.take()
        if head:
            yield head
        for batch in batches:
            writer.write_batch(batch)
            chunk = sink.take()
            if chunk:
                yield chunk
    finally:
        writer.close()
    tail = sink.take()
    if tail:
        yield tail
