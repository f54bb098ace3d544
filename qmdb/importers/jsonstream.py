"""A large JSON object's top-level sections, read as a stream: byte ranges cut into blocks.

`layout(file)` scans the bytes once with numpy (quotes, escapes, brackets: no
tokenizing) and returns where each top-level object/array value starts and
ends, the top-level scalars, and where each element one level inside ends;
`blocks(file, span, size, ends)` then reads one array section `size` elements
at a time, cutting at those ends without looking at the bytes again, and
`arrow_text` / `elements` turn a block into what `pyarrow.json` / `json` read.
So the file is scanned once, its sections read in any order the file lists
them (COCO files put `images` before or after `annotations`), and memory holds
one block, not the file. Anything unusual (not an object, unbalanced, trailing
data) gives `None`: the caller then reads the file as a whole, which names the
error exactly.

>>> import json, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "a.json")
>>> _ = open(path, "w").write(json.dumps({"year": 2017, "b": [{"s": "x]\\"{"}, [2], {}], "a": {"k": [1]}}))
>>> found = layout(path)
>>> sorted(found.spans), found.scalars
(['a', 'b'], {'year': 2017})
>>> [elements(block) for block in blocks(path, found.spans["b"], 2, found.ends)]
[[{'s': 'x]"{'}, [2]], [{}]]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import ijson
import numpy as np

_READ = 1 << 24
_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*\Z', re.S)
_SPACE = b" \t\r\n"


@dataclass
class Layout:
    """Where a JSON object's top-level values lie: `spans` {key: (start, end)} of each object or
    array value, `scalars` {key: value} of the others, `ends` the sorted end offsets of the
    elements (objects and arrays) one level inside them, which `blocks` cuts at."""

    spans: dict[str, tuple[int, int]]
    scalars: dict
    ends: np.ndarray


def layout(file: str | Path) -> Layout | None:
    """The `Layout` of a JSON object file, or None when it is not a well-bracketed JSON object
    (the caller reads it whole)."""
    scan = _Scan()
    root = root_end = None
    starts: list[int] = []
    ends: list[int] = []
    inner: list[np.ndarray] = []
    with open(file, "rb") as fh:
        head = fh.read(3)
        offset = 3 if head == b"\xef\xbb\xbf" else 0
        fh.seek(offset)
        while chunk := fh.read(_READ):
            b = np.frombuffer(chunk, np.uint8)
            marks, after = scan.feed(b)
            opening = b[marks] | 32 == 123
            before = after - np.where(opening, 1, -1)
            if (after < 0).any() or (root_end is not None and marks.size):
                return None
            if root is None and marks.size:
                if b[marks[0]] != 123 or chunk[:marks[0]].strip(_SPACE):
                    return None
                root = offset + int(marks[0])
            starts += (offset + marks[(before == 1) & opening]).tolist()
            ends += (offset + marks[(after == 1) & ~opening] + 1).tolist()
            inner.append(offset + marks[(after == 2) & ~opening] + 1)
            closed = np.flatnonzero(after == 0)
            if closed.size:
                root_end = offset + int(marks[closed[0]]) + 1
                if closed.size > 1 or chunk[root_end - offset:].strip(_SPACE):
                    return None
            elif root_end is not None and chunk.strip(_SPACE):
                return None
            offset += len(chunk)
        if root_end is None or scan.in_string or len(starts) != len(ends):
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
    return Layout(spans, scalars, np.concatenate(inner) if inner else np.zeros(0, np.int64))


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


class _Scan:
    """Brackets outside strings, chunk by chunk, with the state carried between chunks."""

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
        folded = b | 32  # '[' and ']' fold onto '{' and '}'
        marks = np.flatnonzero((folded == 123) | (folded == 125))
        marks = marks[(np.searchsorted(quotes, marks) + self.in_string) % 2 == 0]
        after = self.depth + np.cumsum(np.where(folded[marks] == 123, 1, -1))
        self.depth = int(after[-1]) if after.size else self.depth
        self.in_string = (self.in_string + quotes.size) % 2 == 1
        run = 0
        while run < len(b) and b[len(b) - 1 - run] == 92:
            run += 1
        self.tail_slashes = run + self.tail_slashes if run == len(b) else run
        return marks, after


def blocks(file: str | Path, span: tuple[int, int], size: int, ends: np.ndarray) -> Iterator[bytes]:
    """The elements of the array at `span`, cut after every `size`-th element that is an object
    or array (`ends`: their end offsets, from `Layout.ends`): each block is the text of whole
    elements with the separators between them, without the array's brackets or the comma before
    it (a block that does not start with one, or holds nothing else, keeps a stray comma: it then
    parses as no JSON array). `elements` or `arrow_text` parses one."""
    inside = ends[np.searchsorted(ends, span[0]):np.searchsorted(ends, span[1] - 1, side="right")]
    cuts = [*inside[size - 1::size].tolist(), span[1] - 1]
    with open(file, "rb") as fh:
        fh.seek(span[0] + 1)
        at, first = span[0] + 1, True
        for cut in cuts:
            block = fh.read(cut - at)
            at = cut
            body = block.strip(_SPACE)
            if not body:
                continue
            if not first:
                body = body[1:] if body[:1] == b"," and body[1:].strip(_SPACE) else b"," + body
            first = False
            yield body


def elements(block: bytes) -> list:
    """A block parsed by `json` (the exact reader: errors and values as `json.loads` of the file)."""
    return json.loads(b"[" + block + b"]")


def arrow_text(block: bytes) -> bytes:
    """A block as one line of JSON that `pyarrow.json` reads as one row: `{"items": [elements]}`."""
    return b'{"items":[' + block + b"]}"
