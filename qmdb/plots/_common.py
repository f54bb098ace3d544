"""What every plot shares: saving a figure by the path's suffix, metric scopes and units, models."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import duckdb
import numpy as np

from ..errors import QmdbError

try:
    from matplotlib.figure import Figure
except ImportError as error:  # pragma: no cover - the message names the extra
    raise ImportError("qmdb's plots need matplotlib: pip install 'qmdb[plot]'") from error

FORMATS = ("png", "svg", "pdf")
MAX_BINS = 1_000   # most bins any plot draws (histogram, by-metric, importance)
MAX_TOP = 1_000    # most bars of the importance plot
SCOPES = {"image": ("image_metrics", "image_id"), "label": ("label_metrics", "label_id")}


from .registry import PlotError  # noqa: E402 - after the matplotlib check


def figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A new matplotlib figure, not tied to pyplot (no global state, no display needed)."""
    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, path: str | Path | None, format: str | None = None) -> Path | bytes:
    """Write `fig` to `path` (PNG, SVG or PDF by its suffix); without a path, return the bytes of `format`."""
    if path is None:
        buffer = BytesIO()
        fig.savefig(buffer, format=format or "svg", dpi=110)
        return buffer.getvalue()
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise PlotError(f"{path}: the file name must end in {', '.join('.' + f for f in FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=suffix, dpi=110)
    return path


def bounded(plot: str, name: str, value: int, maximum: int, minimum: int = 1) -> int:
    """`value` when `minimum <= value <= maximum`, else a PlotError naming the bound.

    >>> bounded("histogram", "bins", 30, MAX_BINS)
    30
    >>> bounded("histogram", "bins", 10**9, MAX_BINS)
    Traceback (most recent call last):
    ...
    qmdb.plots.registry.PlotError: histogram: bins must be between 1 and 1000, not 1000000000
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise PlotError(f"{plot}: {name} must be between {minimum} and {maximum}, not {value}")
    return int(value)


def metric_scope(con: duckdb.DuckDBPyConnection, metric: str) -> str:
    """'image' or 'label': which metric table has a column named `metric`."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND table_name IN ('image_metrics', 'label_metrics') AND column_name = ? "
        "AND column_name NOT IN ('image_id', 'label_id', 'versions') ORDER BY table_name", [metric]).fetchall()
    if not rows:
        known = con.execute(
            "SELECT string_agg(column_name, ', ' ORDER BY table_name, column_index) FROM duckdb_columns() "
            "WHERE database_name = current_database() AND table_name IN ('image_metrics', 'label_metrics') "
            "AND column_name NOT IN ('image_id', 'label_id', 'versions')").fetchall()[0][0]
        raise PlotError(f"no metric named '{metric}' in image_metrics or label_metrics; known: {known or 'none (run qmdb metrics)'}")
    return "image" if rows[0][0] == "image_metrics" else "label"


def axis_label(metric: str, scope: str) -> str:
    """`metric (unit)` from the metric registry, e.g. 'brightness (0..1)'."""
    try:
        from ..udfs import registry

        unit = registry.get(scope, metric).unit
    except (ImportError, KeyError, QmdbError):  # a plugin's metric not loaded here has no known unit
        unit = ""
    return f"{metric} ({unit})" if unit else metric


def pick_model(con: duckdb.DuckDBPyConnection, model: str | None) -> str:
    """`model` checked to be evaluated, or the first evaluated model (alphabetically) when None."""
    models = [r[0] for r in con.execute("SELECT DISTINCT model FROM matches ORDER BY model").fetchall()]
    if not models:
        raise PlotError("no evaluated model: run 'qmdb evaluate DB --model NAME' first")
    if model is None:
        return models[0]
    if model not in models:
        raise PlotError(f"model '{model}' has no matches; evaluated models: {', '.join(models)}")
    return model
