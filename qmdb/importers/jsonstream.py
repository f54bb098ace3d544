"""A large JSON object's top-level sections, read as a stream: `ijson` (C backend) over byte ranges.

`layout(file)` scans the bytes once with numpy (quotes, escapes, brackets: no
tokenizing) and returns where each top-level object/array value starts and
ends, plus the top-level scalars; `items(file, span, size)` then yields the
elements of one array section in lists of `size`, parsed by `ijson` from that
byte range only. So every section is tokenized once, in any order the file
lists them (COCO files put `images` before or after `annotations`), and memory
holds one batch, not the file. Anything unusual (not an object, unbalanced,
trailing data) gives `None`: the caller then reads the file as a whole, which
names the error exactly.

>>> import json, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "a.json")
>>> _ = open(path, "w").write(json.dumps({"year": 2017, "b": [{"s": "x]\\"{"}, 2, 3], "a": {"k": [1]}}))
>>> spans, scalars = layout(path)
>>> sorted(spans), scalars
(['a', 'b'], {'year': 2017})
>>> [batch for batch in items(path, spans["b"], 2)]
[[{'s': 'x]"{'}, 2], [3]]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import ijson
import numpy as np

_READ = 1 << 24
_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*\Z', re.S)
_BRACKET = np.zeros(256, np.int8)
_BRACKET[[ord("{"), ord("[")]] = 1
_BRACKET[[ord("}"), ord("]")]] = -1
_SPACE = b" \t\r\n"


def layout(file: str | Path) -> tuple[dict[str, tuple[int, int]], dict] | None:
    """({key: (start, end) byte range of each top-level object or array value}, {key: scalar value}),
    or None when the file is not a well-bracketed JSON object (the caller reads it whole)."""
    depth, in_string, tail_slashes, offset = 0, False, 0, 0
    root = root_end = None
    starts: list[int] = []
    ends: list[int] = []
    with open(file, "rb") as fh:
        head = fh.read(3)
        offset = 3 if head == b"\xef\xbb\xbf" else 0
        fh.seek(offset)
        while chunk := fh.read(_READ):
            b = np.frombuffer(chunk, np.uint8)
            quotes = np.flatnonzero(b == 34)
            if quotes.size:
                slashed = quotes[((quotes > 0) & (b[quotes - 1] == 92)) | ((quotes == 0) & (tail_slashes > 0))]
                escaped = np.zeros(quotes.size, bool)
                for q in slashed:  # rare: a quote after backslashes is escaped when they are odd
                    j = q - 1
                    while j >= 0 and b[j] == 92:
                        j -= 1
                    run = q - 1 - j + (tail_slashes if j < 0 else 0)
                    escaped[np.searchsorted(quotes, q)] = run % 2 == 1
                quotes = quotes[~escaped]
            step = _BRACKET[b]
            marks = np.flatnonzero(step)
            inside = (np.searchsorted(quotes, marks) + in_string) % 2 == 1
            marks = marks[~inside]
            delta = step[marks].astype(np.int64)
            after = depth + np.cumsum(delta)
            before = after - delta
            if (after < 0).any() or (root_end is not None and marks.size):
                return None
            if root is None and marks.size:
                if b[marks[0]] != 123 or chunk[:marks[0]].strip(_SPACE):
                    return None
                root = offset + int(marks[0])
            starts += (offset + marks[(before == 1) & (delta == 1)]).tolist()
            ends += (offset + marks[(after == 1) & (delta == -1)] + 1).tolist()
            closed = np.flatnonzero(after == 0)
            if closed.size:
                root_end = offset + int(marks[closed[0]]) + 1
                if closed.size > 1 or chunk[root_end - offset:].strip(_SPACE):
                    return None
            elif root_end is not None and chunk.strip(_SPACE):
                return None
            depth = int(after[-1]) if after.size else depth
            in_string = (in_string + quotes.size) % 2 == 1
            run = len(chunk) - len(chunk.rstrip(b"\\"))
            tail_slashes = run + tail_slashes if run == len(chunk) else run
            offset += len(chunk)
        if root_end is None or in_string or len(starts) != len(ends):
            return None
        spans: dict[str, tuple[int, int]] = {}
        scalars: dict = {}
        edges = [root + 1, *ends]
        for i, gap_start in enumerate(edges):
            gap_end = starts[i] if i < len(starts) else root_end - 1
            fh.seek(gap_start)
            gap = fh.read(gap_end - gap_start)
            try:
                gap.decode("utf-8")
            except UnicodeDecodeError:
                return None
            body = gap.lstrip(_SPACE)
            if i and body:
                if not body.startswith(b","):
                    return None
                body = body[1:]
            if i < len(starts):
                key = _KEY.search(body)
                if key is None:
                    return None
                try:
                    name = json.loads(b'"' + key.group(1) + b'"')
                except ValueError:
                    return None
                spans[name] = (starts[i], ends[i])
                body = body[:key.start()].rstrip(_SPACE).rstrip(b",")
            text = body.strip(_SPACE)
            if text.strip(_SPACE):
                try:
                    scalars.update(json.loads(b"{" + text + b"}"))
                except ValueError:
                    return None
    return spans, scalars


class _Range:
    """A read-only file view of bytes [start, end): what ijson reads."""

    def __init__(self, file: str | Path, start: int, end: int):
        self._fh = open(file, "rb")
        self._fh.seek(start)
        self._left = end - start

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._fh.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()


def first_byte(file: str | Path, span: tuple[int, int]) -> bytes:
    with open(file, "rb") as fh:
        fh.seek(span[0])
        return fh.read(1)


def value(file: str | Path, span: tuple[int, int]) -> object:
    """A (small) section parsed whole."""
    with open(file, "rb") as fh:
        fh.seek(span[0])
        return json.loads(fh.read(span[1] - span[0]))


def items(file: str | Path, span: tuple[int, int], size: int) -> Iterator[list]:
    """The elements of the array at `span`, `size` at a time (ijson errors propagate)."""
    source = _Range(file, *span)
    try:
        elements = ijson.items(source, "item", use_float=True, buf_size=1 << 20)
        while batch := list(islice(elements, size)):
            yield batch
    finally:
        source.close()


def check(file: str | Path, span: tuple[int, int]) -> None:
    """Tokenize a section without keeping it (an ignored section must still be valid JSON)."""
    source = _Range(file, *span)
    try:
        for _ in ijson.basic_parse(source, buf_size=1 << 20):
            pass
    finally:
        source.close()
