"""The docstring examples of the server's modules run (tests/test_doctests.py skips qmdb.server)."""

import doctest
import importlib

import pytest

MODULES = ["qmdb.server.safety", "qmdb.server.cache", "qmdb.server.watchdog", "qmdb.server.settings",
           "qmdb.server.limits", "qmdb.server.app"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
