"""Label history: every change to `labels` is a version in `label_versions`, grouped in batches
(`label_batches`); `labels` stays the current state.

`apply_changes` applies a table of changes as one batch; `undo` restores the state before a batch.
"""

from __future__ import annotations

from .changes import apply_changes
from .undo import undo

__all__ = ["apply_changes", "undo"]
