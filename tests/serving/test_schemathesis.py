"""Property-based tests of the live service against its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid: no response may be a 5xx, and every
response must match what the document promises (status code, content type, body schema, headers),
including that routes refuse requests without a key. Example counts are bounded to keep CI quick.
(Each operation is driven through Hypothesis directly: schemathesis' lazy pytest fixture relies on a
pytest internal that pytest 9 removed.)
"""

from __future__ import annotations

import sqlite3

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

# Against the live server (a real uvicorn process serving the trained champion).
pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 20
OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/model"),
    ("GET", "/risk-matrix"),
    ("POST", "/score"),
    ("POST", "/score/file"),
    ("POST", "/explain"),
    ("POST", "/admin/reload"),
]


@pytest.fixture(scope="module")
def api_schema(live_service):
    return schemathesis.openapi.from_url(f"{live_service.base_url}/openapi.json")


def test_every_operation_is_covered(api_schema):
    documented = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_honours_the_schema(api_schema, live_service, method, path):
    operation = api_schema[path][method]
    headers = {"X-API-Key": live_service.keys["scorer"]}
    calls = 0

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        nonlocal calls
        calls += 1
        # A cohort file the schema can only describe as "binary" is rarely a valid census, so a 422 for
        # a generated "valid" body is right here: positive-data acceptance is the one check left out.
        case.call_and_validate(headers=headers, excluded_checks=[checks.positive_data_acceptance])

    audited_before = _audited(live_service, path)
    check()
    assert calls >= (5 if method == "POST" else 1)  # requests were really generated for this operation
    if path != "/health":  # every keyed request was audited, whatever its outcome
        assert _audited(live_service, path) - audited_before >= calls * 0.5


def _audited(service, route: str) -> int:
    with sqlite3.connect(service.database) as db:
        return db.execute("SELECT COUNT(*) FROM audit_log WHERE route = ?", (route,)).fetchone()[0]
