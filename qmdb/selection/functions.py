"""SQL functions of the selection package (a provider of `qmdb.functions`).

``coreset(n, model_name, candidate_ids, selected_ids) -> BIGINT[]``: the ids of
n diverse images (k-center greedy over their embeddings); NULL arguments mean
"any model", "every embedded image" and "nothing picked before".
"""

from __future__ import annotations

import duckdb

from ..functions import define
from .kcenter import coreset


def register(con: duckdb.DuckDBPyConnection) -> None:
    def coreset_sql(n, model_name, candidate_ids, selected_ids):
        cursor = con.cursor()  # a query is running on `con`; read the embeddings through a cursor
        try:
            return coreset(cursor, n or 0, model=model_name, candidates=candidate_ids,
                           selected=selected_ids, progress=False)
        finally:
            cursor.close()

    define(con, "coreset", coreset_sql, ["INTEGER", "VARCHAR", "BIGINT[]", "BIGINT[]"], "BIGINT[]",
           null_handling="special", side_effects=True)
