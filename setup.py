"""Maps the top-level folders `udfs/`, `server/` and `sql/` into the `qmdb` namespace.

The design card keeps them beside `qmdb/` in the repository; installed, they are
`qmdb.udfs`, `qmdb.server` and `qmdb.sql`, so nothing named `udfs` or `server`
lands in site-packages.
"""

from pathlib import Path

from setuptools import setup

FOLDERS = {"qmdb": "qmdb", "qmdb.udfs": "udfs", "qmdb.server": "server", "qmdb.sql": "sql"}


def packages_under(package: str, folder: str) -> dict[str, str]:
    found = {}
    for init in sorted(Path(folder).rglob("__init__.py")):
        parts = init.parent.relative_to(folder).parts
        found[".".join((package, *parts))] = str(init.parent)
    return found


package_dir = {}
for package, folder in FOLDERS.items():
    package_dir.update(packages_under(package, folder))

setup(
    packages=sorted(package_dir),
    package_dir=package_dir,
    package_data={"qmdb.sql": ["*.sql"], "qmdb.server": ["static/*", "static/**/*"], "qmdb": ["py.typed"]},
    include_package_data=True,
)
