"""Argument parsing shared by the commands."""

from __future__ import annotations

from ..errors import QmdbError


def view_params(items: list[str]) -> dict[str, str]:
    """`-p NAME=VALUE` options as a dict.

    >>> view_params(["k=10", "model_name=detector"])
    {'k': '10', 'model_name': 'detector'}
    """
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise QmdbError(f"parameter '{item}' must be NAME=VALUE")
        params[key.strip()] = value
    return params
