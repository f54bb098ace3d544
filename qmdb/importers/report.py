"""What an import did: counts, and the problems it recorded without aborting."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts of one import; `str()` is the line the CLI prints.

    >>> print(ImportReport("coco", "shapes", images=3, labels=7, errors=1))
    coco import into 'shapes': 3 images, 7 labels, 1 error (see the errors table)
    """

    format: str
    target: str
    images: int = 0
    labels: int = 0
    predictions: int = 0
    errors: int = 0
    columns_added: list[str] = field(default_factory=list)
    removed: int = 0

    def __str__(self) -> str:
        parts = [f"{self.images} images"]
        if self.labels:
            parts.append(f"{self.labels} labels")
        if self.predictions:
            parts.append(f"{self.predictions} predictions")
        if self.removed:
            parts.append(f"{self.removed} stale rows removed")
        if self.columns_added:
            parts.append(f"new columns {', '.join(self.columns_added)}")
        errors = f"{self.errors} error" + ("" if self.errors == 1 else "s")
        parts.append(errors + (" (see the errors table)" if self.errors else ""))
        return f"{self.format} import into '{self.target}': " + ", ".join(parts)
