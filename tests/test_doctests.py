"""Every docstring example in the package runs."""

import doctest
import importlib
import pkgutil

import pytest

import qmdb

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(qmdb.__path__, "qmdb.")
    if not m.name.startswith(("qmdb.server", "qmdb.commands"))
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    try:
        module = importlib.import_module(name)
    except ImportError as error:  # an optional extra that is not installed
        pytest.skip(str(error))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
