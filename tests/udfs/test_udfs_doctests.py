"""The docstring examples of qmdb.udfs run (it installs from udfs/, outside qmdb/'s folder walk)."""

import doctest
import importlib
import pkgutil

import pytest

import qmdb.udfs

MODULES = sorted(m.name for m in pkgutil.walk_packages(qmdb.udfs.__path__, "qmdb.udfs."))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
