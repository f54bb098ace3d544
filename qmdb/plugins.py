"""The plugin manager: qmdb's built-ins, then every plugin the ``qmdb`` entry-point group names.

>>> sorted(formats("qmdb_dataset_formats"))
['coco', 'folders', 'semantic', 'table', 'voc', 'yolo']
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import hookspecs
from .errors import QmdbError

GROUP = "qmdb"


@lru_cache(maxsize=1)
def manager() -> pluggy.PluginManager:
    """The process's plugin manager, with the built-ins and the installed plugins registered (once)."""
    from . import builtins

    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(builtins, "qmdb.builtins")
    for entry in entry_points(group=GROUP):
        if pm.get_plugin(entry.name) is not None:
            continue
        try:
            plugin = entry.load()
        except Exception as error:  # noqa: BLE001 - any failure of a third party's import
            raise QmdbError(f"plugin '{entry.name}' ({entry.value}) failed to load: "
                            f"{type(error).__name__}: {error}") from error
        pm.register(plugin, entry.name)
    return pm


def register(plugin: object, name: str | None = None) -> None:
    """Register a plugin object in this process (tests, notebooks); entry points are the usual way."""
    manager().register(plugin, name)
    _clear()


def unregister(name: str) -> None:
    manager().unregister(name=name)
    _clear()


def _clear() -> None:
    formats.cache_clear()
    items.cache_clear()


def _results(hook: str) -> list[tuple[str, Any]]:
    """(plugin name, result) of every implementation, built-ins first."""
    pm = manager()
    impls = getattr(pm.hook, hook).get_hookimpls()  # in registration order
    return [(impl.plugin_name, impl.function()) for impl in impls if impl.function is not None]


@lru_cache(maxsize=None)
def formats(hook: str) -> dict[str, Any]:
    """The merged dict of a dict-valued hook; a name two plugins both claim is an error naming both."""
    merged: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for plugin, result in _results(hook):
        for key, value in (result or {}).items():
            if key in merged:
                raise QmdbError(f"{hook}: '{key}' is registered by both '{owner[key]}' and '{plugin}'")
            merged[key], owner[key] = value, plugin
    return merged


@lru_cache(maxsize=None)
def items(hook: str) -> tuple[Any, ...]:
    """The concatenated results of a list-valued hook, built-ins first, duplicates dropped."""
    seen: list[Any] = []
    for _, result in _results(hook):
        seen.extend(item for item in (result or []) if item not in seen)
    return tuple(seen)


def call(hook: str, **kwargs: Any) -> None:
    """Call a hook for its effect (``qmdb_sql_functions(con=...)``), built-ins first."""
    for impl in getattr(manager().hook, hook).get_hookimpls():
        impl.function(**{name: kwargs[name] for name in impl.argnames})
