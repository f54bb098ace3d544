"""Label history: every change to `labels` is a version in `label_versions`, grouped in batches
(`label_batches`); `labels` stays the current state.

`apply_changes` applies a table of changes as one batch; `undo` restores the state before a batch; `versions`, `batches` and `diff` read the history
(the `label_history` and `labels_at` views are the same in SQL).
"""

from __future__ import annotations

from .changes import apply_changes
from .query import batches, diff, versions
from .undo import undo

__all__ = ["apply_changes", "batches", "diff", "undo", "versions"]
