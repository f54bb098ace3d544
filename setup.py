"""Maps the top-level folders `udfs/`, `server/` and `sql/` into the `qmdb` namespace.

The design card keeps them beside `qmdb/` in the repository; installed, they are
`qmdb.udfs`, `qmdb.server` and `qmdb.sql`, so nothing named `udfs` or `server`
lands in site-packages.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

# One line at the top of site-packages that lets `import torchvision` work where its compiled
# extension cannot load (qmdb/torchvision_compat.py says why and how).
PTH_SOURCE = Path("qmdb/torchvision.pth")
PTH_NAME = "qmdb-torchvision.pth"


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        (Path(self.build_lib) / PTH_NAME).write_text(PTH_SOURCE.read_text())

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH_NAME)]


class EditableWheel(editable_wheel):
    def _install_namespaces(self, installation_dir, pth_prefix) -> None:
        super()._install_namespaces(installation_dir, pth_prefix)
        (Path(installation_dir) / PTH_NAME).write_text(PTH_SOURCE.read_text())

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
    cmdclass={"build_py": BuildPy, "editable_wheel": EditableWheel},
)
