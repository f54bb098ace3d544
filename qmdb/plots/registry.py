"""The plot kinds: what `qmdb plot` and the gallery page offer, named by the `qmdb_plots` hook.

A kind is declared as data — its drawing function by name (``module:function``, imported only when
it draws, so listing the kinds needs no matplotlib), a title and its parameters — and drawn by
`draw`.

>>> sorted(plots())
['by-metric', 'calibration', 'confusion', 'histogram', 'importance', 'map', 'pr', 'scatter']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import QmdbError


class PlotError(QmdbError):
    """A plot that cannot be drawn as asked (unknown metric, no data, bad parameter)."""


@dataclass(frozen=True)
class Plot:
    function: str  # "module:function"; called as function(con, path=..., format=..., **parameters)
    title: str
    parameters: tuple[tuple[str, type, object], ...]  # (name, type, default); default None: optional

    def load(self) -> Callable:
        module, _, name = self.function.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except ImportError as error:
            if "matplotlib" in str(error):
                from ..errors import MissingExtra

                raise MissingExtra("qmdb plot", "plot") from error
            raise

    def as_dict(self) -> dict:
        return {"title": self.title, "parameters": [
            {"name": n, "type": t.__name__, "default": "NULL" if d is None else str(d), "doc": ""}
            for n, t, d in self.parameters]}


def plots() -> dict[str, Plot]:
    """{kind: Plot} of every plot kind, built-ins first."""
    from .. import plugins

    return plugins.formats("qmdb_plots")


def draw(con, kind: str, path=None, format: str | None = None, **given) -> object:
    """Draw plot `kind` with parameters `given` (strings are converted to each parameter's type)."""
    known = plots()
    if kind not in known:
        raise PlotError(f"unknown plot '{kind}'; known: {', '.join(known)}")
    plot = known[kind]
    types = {n: t for n, t, _ in plot.parameters}
    unknown = set(given) - set(types)
    if unknown:
        raise PlotError(f"plot {kind}: unknown parameter(s) {', '.join(sorted(unknown))}; it takes {', '.join(types)}")
    values = {n: d for n, _, d in plot.parameters}
    for name, value in given.items():
        try:
            values[name] = None if value is None or value == "" else types[name](value)
        except ValueError:
            raise PlotError(f"plot {kind}: {name} must be a {types[name].__name__}, not '{value}'") from None
    return plot.load()(con, path=path, format=format, **values)
