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


_WS = np.zeros(256, bool)
_WS[list(_SPACE)] = True


class _Scan:
    """Brackets outside strings, chunk by chunk: the state `layout` keeps, for one section."""

    def __init__(self) -> None:
        self.depth, self.in_string, self.tail_slashes = 0, False, 0

    def feed(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the brackets outside strings, depth after each) in chunk `b`."""
        quotes = np.flatnonzero(b == 34)
        if quotes.size:
            slashed = quotes[((quotes > 0) & (b[quotes - 1] == 92)) | ((quotes == 0) & (self.tail_slashes > 0))]
            escaped = np.zeros(quotes.size, bool)
            for q in slashed:  # rare: a quote after backslashes is escaped when they are odd
                j = q - 1
                while j >= 0 and b[j] == 92:
                    j -= 1
                run = q - 1 - j + (self.tail_slashes if j < 0 else 0)
                escaped[np.searchsorted(quotes, q)] = run % 2 == 1
            quotes = quotes[~escaped]
        step = _BRACKET[b]
        marks = np.flatnonzero(step)
        marks = marks[(np.searchsorted(quotes, marks) + self.in_string) % 2 == 0]
        after = self.depth + np.cumsum(step[marks].astype(np.int64))
        self.depth = int(after[-1]) if after.size else self.depth
        self.in_string = (self.in_string + quotes.size) % 2 == 1
        run = len(b) - (int(np.flatnonzero(b != 92)[-1]) + 1 if (b != 92).any() else 0)
        self.tail_slashes = run + self.tail_slashes if run == len(b) else run
        return marks, after


def blocks(file: str | Path, span: tuple[int, int], size: int) -> Iterator[bytes]:
    """The array at `span` cut after every `size`-th element that is an object or array: each block
    holds whole elements with the separator before them (the first block starts with the '[', the
    last one ends with the ']'). `ndjson` or `elements` parses one."""
    scan = _Scan()
    carry, count = b"", 0
    with open(file, "rb") as fh:
        fh.seek(span[0])
        left = span[1] - span[0]
        while left > 0:
            chunk = fh.read(min(_READ, left))
            left -= len(chunk)
            b = np.frombuffer(chunk, np.uint8)
            marks, after = scan.feed(b)
            ends = marks[(after == 1) & (_BRACKET[b[marks]] == -1)] + 1
            cuts = ends[(np.arange(ends.size) + count + 1) % size == 0]
            count += ends.size
            base = 0
            for cut in cuts.tolist():
                yield carry + chunk[base:cut]
                carry, base = b"", cut
            carry += chunk[base:]
    if carry.strip(b"[]" + _SPACE):
        yield carry


def _blank_edges(b: np.ndarray) -> np.ndarray:
    """A copy with the block's leading '[' or ',' and trailing ']' made spaces."""
    out = b.copy()
    solid = np.flatnonzero(~_WS[b])
    if solid.size and b[solid[0]] in (44, 91):
        out[solid[0]] = 32
    if solid.size > 1 and b[solid[-1]] == 93:
        out[solid[-1]] = 32
    return out


def ndjson(block: bytes) -> bytes | None:
    """A block of `{...}, {...}` objects as newline-delimited JSON (the separators' commas become
    newlines), or None when it holds anything but objects separated by commas."""
    b = _blank_edges(np.frombuffer(block, np.uint8))
    marks, after = _Scan().feed(b)
    if not marks.size or (after < 0).any() or after[-1] != 0:
        return None
    kind = _BRACKET[b[marks]]
    opens = marks[(after == 1) & (kind == 1)]
    closes = marks[(after == 0) & (kind == -1)]
    if opens.size != closes.size or (b[opens] != 123).any():
        return None
    solid = np.flatnonzero(~_WS[b])
    if solid[0] != opens[0] or solid[-1] != closes[-1]:
        return None
    gaps = np.searchsorted(solid, closes[:-1] + 1)
    if gaps.size and ((b[solid[gaps]] != 44).any() or (solid[gaps + 1] != opens[1:]).any()):
        return None
    b[solid[gaps]] = 10
    return b.tobytes()


def elements(block: bytes) -> list:
    """A block parsed by `json` (the exact reader: errors and values as `json.loads` of the file)."""
    return json.loads(b"[" + _blank_edges(np.frombuffer(block, np.uint8)).tobytes() + b"]")
