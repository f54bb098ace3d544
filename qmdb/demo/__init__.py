"""The demo project: real images from installed packages, deliberate label faults with their
truth, real models' predictions, built into a project through qmdb's own importers.

>>> from qmdb.demo import spec
>>> spec.DIGITS_DATASET, spec.SCENES_DATASET
('digits', 'scenes')

`build(db_path)` makes `demo.duckdb` (and `demo_data/` beside it, cached);
`qmdb demo` does the same and shows what is inside.
"""

try:  # the demo's images and models come from scikit-learn and scikit-image: the 'demo' extra
    import skimage  # noqa: F401
    import sklearn  # noqa: F401
except ImportError as error:
    from ..errors import MissingExtra

    raise MissingExtra("qmdb demo", "demo") from error

from .build import IMPORTS, POST_IMPORT_STEPS, build
from .generate import generate

__all__ = ["IMPORTS", "POST_IMPORT_STEPS", "build", "generate"]
