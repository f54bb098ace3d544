"""The metric registry: `@image_metric` / `@label_metric` turn a function of decoded pixels into a metric.

A metric is a name, a kind (image or label), a version, an SQL type, a
one-line meaning (the docstring's first line) and a unit or range. The
built-in metrics are registered by the same decorators a user puts on a
custom metric: every module of `qmdb.udfs.image` and `qmdb.udfs.label` is one
(`builtin_modules`, found on disk: adding a built-in metric is adding its
module), and plugin packages name theirs through the ``qmdb_metric_modules``
hook. They are imported on first use (`load_modules`). Metrics come in the
order of their modules: image then label built-ins, each kind alphabetical by
module name, then plugins' in their hook's order, then any other (a script, a
notebook, `load_plugin`) in the order it was registered.

An image metric is ``f(image) -> value`` where ``image`` is a decoded
`qmdb.udfs.pixels.Image`; a label metric is ``f(image, boxes) -> array`` with
one value per box of that image (`qmdb.udfs.boxes.Boxes`), so metrics that
compare boxes (IoU) see them all. Bump ``version`` when a metric's definition
changes: the runner then recomputes that metric, and only that one.

>>> from qmdb.udfs.registry import image_metric, get, unregister
>>> @image_metric(version=2, type="DOUBLE", unit="0..1")
... def half_brightness(image):
...     '''Half the mean luminance.'''
...     return image.gray_mean / 510
>>> get("image", "half_brightness").description
'Half the mean luminance.'
>>> unregister("image", "half_brightness")
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, QmdbError

KINDS = ("image", "label")
TYPES = ("DOUBLE", "BOOLEAN", "INTEGER", "BIGINT", "UBIGINT", "VARCHAR")
RESERVED = {"image_id", "label_id", "versions"}
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

PACKAGES = ("qmdb.udfs.image", "qmdb.udfs.label")  # the built-in metric modules, image metrics first


@dataclass(frozen=True)
class Metric:
    """A registered metric: everything the runner, the SQL functions and the docs need."""

    name: str
    kind: str
    version: int
    type: str
    function: Callable
    description: str
    unit: str = ""
    sql_name: str | None = None


_REGISTRY: dict[tuple[str, str], Metric] = {}


def _decorator(kind: str, version: int, type: str, unit: str, name: str | None,
               sql_name: str | None, sql_function: bool) -> Callable[[Callable], Callable]:
    def register(function: Callable) -> Callable:
        metric_name = name or function.__name__
        where = f"{kind} metric '{metric_name}'"
        if not _NAME.match(metric_name) or metric_name in RESERVED:
            raise QmdbError(f"{where}: the name must be lower_snake_case and not one of {sorted(RESERVED)}")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise QmdbError(f"{where}: version must be a positive integer, got {version!r}")
        if type.upper() not in TYPES:
            raise QmdbError(f"{where}: type must be one of {', '.join(TYPES)}, got {type!r}")
        doc = (function.__doc__ or "").strip()
        if not doc:
            raise QmdbError(f"{where}: needs a docstring whose first line says what it measures")
        _REGISTRY[(kind, metric_name)] = Metric(
            metric_name, kind, version, type.upper(), function, doc.splitlines()[0].strip(), unit,
            (sql_name or metric_name) if sql_function else None,
        )
        return function

    return register


def image_metric(*, version: int, type: str = "DOUBLE", unit: str = "", name: str | None = None,
                 sql_name: str | None = None, sql_function: bool = True) -> Callable[[Callable], Callable]:
    """Register ``f(image) -> value`` as an image metric: a column of `image_metrics` and a SQL
    function ``sql_name(image_id)`` (default: the metric's name)."""
    return _decorator("image", version, type, unit, name, sql_name, sql_function)


def label_metric(*, version: int, type: str = "DOUBLE", unit: str = "", name: str | None = None,
                 sql_name: str | None = None, sql_function: bool = True) -> Callable[[Callable], Callable]:
    """Register ``f(image, boxes) -> array`` (one value per box) as a label metric: a column of
    `label_metrics` and a SQL function ``sql_name(label_id)``; pass ``sql_function=False``
    for a metric that needs the other boxes or the dataset (IoU, class frequency)."""
    return _decorator("label", version, type, unit, name, sql_name, sql_function)


def builtin_modules() -> list[str]:
    """The built-in metric modules: every module of `PACKAGES` (one metric each), alphabetical within a
    package; a name starting with ``_`` is a helper, not a metric.

    >>> builtin_modules()[:2]
    ['qmdb.udfs.image.area', 'qmdb.udfs.image.aspect_ratio']
    """
    found = []
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        found += sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.name.startswith("_"))
    return found


def load_modules() -> tuple[str, ...]:
    """Import every metric module the ``qmdb_metric_modules`` hook names (built-ins, then plugins);
    a plugin registered later too (an imported module is not run again). Returns the modules, in that order."""
    from .. import plugins

    modules = plugins.items("qmdb_metric_modules")
    for module in modules:
        try:
            importlib.import_module(module)
        except QmdbError:
            raise
        except Exception as error:
            raise QmdbError(f"metric module '{module}' failed to import: {type(error).__name__}: {error}") from error
    return modules


def load_plugin(path: str | Path) -> str:
    """Run a Python file whose decorated functions register metrics; returns its module name."""
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(path, None, "plugin file not found")
    module_name = "qmdb_plugin_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except QmdbError:
        raise
    except Exception as error:
        del sys.modules[module_name]
        raise InputError(path, None, f"plugin failed to load: {type(error).__name__}: {error}") from error
    import cloudpickle

    cloudpickle.register_pickle_by_value(module)  # worker processes get its functions without the file
    return module_name


def metrics(kind: str | None = None, only: list[str] | tuple[str, ...] | None = None) -> list[Metric]:
    """Registered metrics in the order of their modules (see above), optionally of one kind and restricted
    to some names."""
    rank = {module: i for i, module in enumerate(load_modules())}
    found = sorted((m for m in _REGISTRY.values() if kind in (None, m.kind)),
                   key=lambda m: rank.get(m.function.__module__, len(rank)))
    if only:
        unknown = sorted(set(only) - {m.name for m in found})
        if unknown:
            known = ", ".join(sorted({m.name for m in found}))
            raise QmdbError(f"unknown metric(s) {', '.join(unknown)}; known: {known}")
        found = [m for m in found if m.name in set(only)]
    return found


def get(kind: str, name: str) -> Metric:
    load_modules()
    try:
        return _REGISTRY[(kind, name)]
    except KeyError:
        raise QmdbError(f"no {kind} metric named '{name}'") from None


def unregister(kind: str, name: str) -> None:
    """Forget a metric (tests, notebooks); its column and values stay in the database."""
    _REGISTRY.pop((kind, name), None)

