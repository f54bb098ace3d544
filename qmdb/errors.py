"""Errors qmdb raises on purpose: each says what is wrong and where."""

from __future__ import annotations


class QmdbError(Exception):
    """Base of every error qmdb raises on purpose; the CLI prints it as one line."""


class InputError(QmdbError):
    """Bad input: names the file, the field inside it, and what is wrong.

    >>> str(InputError("train.json", "annotations[17].bbox", "expected 4 numbers, got 3"))
    'train.json: annotations[17].bbox: expected 4 numbers, got 3'
    """

    def __init__(self, file: object, field: str | None, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}: {field}" if field else self.file
        super().__init__(f"{where}: {message}")


class ViewError(QmdbError):
    """A saved view that cannot be saved or run: bad SQL, unknown column, bad parameter."""


class MissingExtra(QmdbError):
    """An optional part was used without the extra that installs it."""

    def __init__(self, feature: str, extra: str):
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'qmdb[{extra}]'")
