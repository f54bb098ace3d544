"""What an export wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ExportReport:
    """Counts of one export; `str()` is the line the CLI prints.

    >>> print(ExportReport("coco", Path("out.json"), images=3, labels=5, skipped=1))
    coco export to out.json: 3 images, 5 labels (1 label without a box or image size skipped)
    """

    format: str
    path: Path
    images: int = 0
    labels: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        skipped = f" ({self.skipped} label{'s' if self.skipped != 1 else ''} without a box or image size skipped)" \
            if self.skipped else ""
        return f"{self.format} export to {self.path}: {self.images} images, {self.labels} labels{skipped}"
