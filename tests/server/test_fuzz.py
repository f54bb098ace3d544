"""Property-based fuzzing of the read-only API from its own OpenAPI schema, and of the SQL gate with
SQL-shaped text: no 5xx, ever."""

import math

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

TOTAL_EXAMPLES = 520


def test_no_server_errors(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [operation.ok() for operation in schema.get_all_operations()]
    per_operation = math.ceil(2 * TOTAL_EXAMPLES / len(operations))  # some operations have few distinct inputs
    failures, calls = [], []
    for operation in operations:

        @settings(max_examples=per_operation, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            response = case.call()
            calls.append(1)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query, case.body, response.text[:200]))

        fuzz()
    assert failures == []
    assert len(calls) >= TOTAL_EXAMPLES


TOKENS = ["SELECT", "FROM", "WHERE", "images", "labels", "*", "1", "'", '"', "$$", "/*", "*/", "--", "\n", ";",
          "(", ")", ",", "AS", "x", "WITH", "VALUES", "UNION", "ALL", "similar_images", "brightness", "image_id",
          "k", ":=", "range", "repeat", "pragma_database_list", "current_setting", "?", "$1", "\\", "E'", "::",
          "INTEGER[]", "[", "]", "{", "}", "COPY", "ATTACH", "INSTALL", "PIVOT", "QUALIFY", "LIMIT", "OFFSET", "-1"]


def test_sql_shaped_text_never_gets_a_server_error(client):
    seen = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map(" ".join))
    def fuzz(sql):
        response = client.post("/query", json={"sql": sql})
        seen.append(sql)
        assert response.status_code < 500, (sql, response.text[:300])

    fuzz()
    assert len(seen) >= 250
