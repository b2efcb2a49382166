"""Property-based tests of the live service against its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid (positive) and, for the operations that take input,
invalid (negative: wrong types, out-of-range numbers, missing fields, malformed bodies). No response
may be a 5xx, every response must match what the document promises (status code, content type, body
schema, headers), routes must refuse requests without a valid key, and no error response may quote a
value the request carried (`no_input_echo`: a value may be a UPN or a name). Example counts are
bounded to keep CI quick. (Each operation is driven through Hypothesis directly: schemathesis' lazy
pytest fixture relies on a pytest internal that pytest 9 removed.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation import GenerationMode

# Against the live server (a real uvicorn process serving the trained champion).
pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 20
NEGATIVE_EXAMPLES_PER_OPERATION = 60
OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/model"),
    ("GET", "/risk-matrix"),
    ("POST", "/score"),
    ("POST", "/score/file"),
    ("POST", "/explain"),
    ("POST", "/explain/file"),
    ("POST", "/admin/reload"),
    ("GET", "/runs"),
    ("POST", "/runs/earlier"),
]
# The operations that take input (a body or query parameters) that can be made invalid.
WITH_INPUT = [
    ("POST", "/score"), ("POST", "/score/file"), ("POST", "/explain"), ("POST", "/explain/file"),
    ("POST", "/runs/earlier"),
]
# Shorter strings (`true`, `csv`, `M`, `2`) turn up in any message by chance; longer ones do not.
MIN_ECHO_CHARS = 6


def _strings(value: Any) -> Iterator[str]:
    """Every string value inside a generated JSON value (object keys are field names, not values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _csv_cells(text: str) -> Iterator[str]:
    """The cells of a text body's data rows: the first line is a header, whose names may be quoted."""
    for line in text.splitlines()[1:]:
        yield from line.split(",")


def _vocabulary(document: Any) -> set[str]:
    """The OpenAPI document's own words a client may send back as values: property names and enum
    codes (not its examples: a 4xx quoting the example UPN would be an echo like any other)."""
    words: set[str] = set()
    if isinstance(document, dict):
        words.update(k for k in document if isinstance(k, str))
        words.update(v for v in document.get("enum", ()) if isinstance(v, str))
        for item in document.values():
            words |= _vocabulary(item)
    elif isinstance(document, list):
        for item in document:
            words |= _vocabulary(item)
    return words


def echo_check(vocabulary: set[str]):
    """A schemathesis check: a 4xx body never contains a string the request carried (in its body,
    query or path), other than the service's own `vocabulary`."""

    def no_input_echo(_ctx, response, case) -> None:
        if not 400 <= response.status_code < 500:
            return
        sent = [*_strings(case.query or {}), *_strings(case.path_parameters or {})]
        if isinstance(case.body, str):
            sent += [case.body, *_csv_cells(case.body)]
        else:
            sent += list(_strings(case.body))
        text = response.text
        echoed = {
            s.strip() for s in sent
            if len(s.strip()) >= MIN_ECHO_CHARS and s.strip() in text and s.strip() not in vocabulary
        }
        if echoed:
            # The values are generated (never a pupil's): shown so that a failure can be diagnosed.
            shown = repr(sorted(echoed))[:200]
            raise AssertionError(f"a {response.status_code} body quotes {len(echoed)} input(s): {shown}")

    return no_input_echo


@pytest.fixture(scope="module")
def api_schema(live_service):
    return schemathesis.openapi.from_url(f"{live_service.base_url}/openapi.json")


def test_every_operation_is_covered(api_schema):
    documented = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert documented == set(OPERATIONS)


def _run(api_schema, live_service, method, path, mode: GenerationMode, examples: int) -> int:
    """Generated requests for one operation through every check; the number of requests sent."""
    operation = api_schema[path][method]
    headers = {"X-API-Key": live_service.keys["scorer"]}
    calls = 0
    # A cohort file the schema can only describe as "binary" is rarely a valid census, so a 422 for a
    # generated "valid" body is right here: positive-data acceptance is the one check left out. Negative
    # data the service accepts (an unknown query parameter, a census column it ignores) is not a fault.
    excluded = [checks.positive_data_acceptance, checks.negative_data_rejection]
    authenticated = False
    no_input_echo = echo_check(_vocabulary(api_schema.raw_schema))

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        nonlocal calls, authenticated
        calls += 1
        # `ignored_auth` re-sends a successful request without a key and with an invalid one. Once per
        # operation proves the operation enforces its key (schemathesis' own runner does the same);
        # more would be failed keys enough for the service's throttle to answer 429 to this client.
        skip = [] if not authenticated else [checks.ignored_auth]
        response = case.call_and_validate(headers=headers, additional_checks=[no_input_echo],
                                          excluded_checks=[*excluded, *skip])
        authenticated = authenticated or 200 <= response.status_code < 300

    check()
    return calls


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_honours_the_schema(api_schema, live_service, method, path):
    audited_before = _audited(live_service, path)
    calls = _run(api_schema, live_service, method, path, GenerationMode.POSITIVE, EXAMPLES_PER_OPERATION)
    assert calls >= (5 if method == "POST" else 1)  # requests were really generated for this operation
    if path != "/health":  # every keyed request was audited, whatever its outcome
        assert _audited(live_service, path) - audited_before >= calls * 0.5


@pytest.mark.parametrize(("method", "path"), WITH_INPUT, ids=[f"{m} {p}" for m, p in WITH_INPUT])
def test_invalid_input_gets_a_4xx_that_quotes_none_of_it(api_schema, live_service, method, path):
    calls = _run(api_schema, live_service, method, path, GenerationMode.NEGATIVE,
                 NEGATIVE_EXAMPLES_PER_OPERATION)
    assert calls >= 5


def test_the_echo_check_catches_a_quoted_value():
    class _Response:
        status_code = 422
        text = '{"detail": "bad value A801200111001", "errors": [{"field": "academic_year"}]}'

    class _Case:
        query = {"field": "academic_year"}  # a word of the document, quoted as a field name: fine
        path_parameters = None
        body = {"pupils": [{"upn": "A801200111001"}]}

    no_input_echo = echo_check({"academic_year", "pupils"})
    with pytest.raises(AssertionError, match="quotes 1 input value"):
        no_input_echo(None, _Response(), _Case())
    _Response.status_code = 200  # scores quote the UPN they were asked about, as they must
    no_input_echo(None, _Response(), _Case())


def _audited(service, route: str) -> int:
    with sqlite3.connect(service.database) as db:
        return db.execute("SELECT COUNT(*) FROM audit_log WHERE route = ?", (route,)).fetchone()[0]
