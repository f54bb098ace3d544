"""Real digits for the selection tests: images, labels, out-of-fold probabilities and pixel embeddings."""

import functools

import numpy as np
import pyarrow as pa
from sklearn.datasets import load_digits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.model_selection import cross_val_predict

import qmdb
from qmdb.label_errors import load_classification

CLASSES = [str(k) for k in range(10)]


@functools.lru_cache(maxsize=None)
def digits():
    X, y = load_digits(return_X_y=True)
    probs = cross_val_predict(LinearDiscriminantAnalysis(), X / 16, y, cv=5, method="predict_proba")
    return X / 16, y, probs


def project(embeddings: bool = True):
    """Digits as a project (image ids 1..n in order) with the model 'digits-lda' and, optionally,
    an `embeddings` table of the pixel vectors (the contract of qmdb.embeddings)."""
    X, y, probs = digits()
    con = qmdb.connect()
    load_classification(con, dataset="digits", model="digits-lda", root="digits",
                        paths=[f"{k}/{i:04d}.png" for i, k in enumerate(y)], given=y, probs=probs, class_names=CLASSES)
    if embeddings:
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(X.astype(np.float32).ravel()), X.shape[1])
        con.register("vectors", pa.table({"item_id": np.arange(1, len(X) + 1), "vector": vectors}))
        con.execute("CREATE TABLE IF NOT EXISTS embeddings (item_type VARCHAR, item_id BIGINT, model VARCHAR, vector FLOAT[])")
        con.execute("INSERT INTO embeddings (item_type, item_id, model, vector) "
                    "SELECT 'image', item_id, 'pixels', CAST(vector AS FLOAT[]) FROM vectors")
        con.unregister("vectors")
    return con
