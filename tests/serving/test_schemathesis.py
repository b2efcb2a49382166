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

import ast
import functools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation import GenerationMode

import exclusion_risk
from exclusion_risk.contract import HEADER_ALIASES, READ_COLUMNS

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


@functools.cache
def _source_strings() -> tuple[str, ...]:
    """Every string literal in the package's modules. Hypothesis draws generated text from the string
    constants of the local modules a process has imported (its "local constants"), so a generated value
    may be a phrase of the service's own messages ("accepted headers, in any case"), which a message then
    says of its own accord: that is the service's vocabulary, not an echo."""
    package = Path(exclusion_risk.__file__).resolve().parent
    literals = set()
    for folder, _, files in os.walk(package, followlinks=True):
        for name in files:
            if name.endswith(".py"):
                tree = ast.parse((Path(folder) / name).read_text("utf-8"))
                literals |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                             and isinstance(n.value, str)}  # fmt: skip
    return tuple(literals)


def _in_source(value: str) -> bool:
    """A phrase (words with a space between: never a UPN or a name) of a string literal of the package."""
    return " " in value and any(value in literal for literal in _source_strings())


# The extracts' column names and the header spellings accepted for them: the reader's messages list
# them ("accepted headers, in any case: Surname, LegalSurname"), so they are the service's words too.
COLUMN_WORDS = {
    *(name for names in READ_COLUMNS.values() for name in names),
    *(word for aliases in HEADER_ALIASES.values() for name, spellings in aliases.items()
      for word in (name, *spellings)),
}


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
            if len(s.strip()) >= MIN_ECHO_CHARS and s.strip() in text
            and s.strip() not in vocabulary and s.strip() not in COLUMN_WORDS and not _in_source(s.strip())
        }
        if echoed:
            # The values are generated (never a pupil's): shown so that a failure can be diagnosed.
            shown = repr(sorted(echoed))[:200]
            count = f"{len(echoed)} input value(s)"
            raise AssertionError(f"a {response.status_code} body quotes {count}: {shown}")

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


def test_the_echo_check_tells_an_echo_from_the_services_own_words():
    """A phrase of the service's own messages (which Hypothesis may generate, drawing on the modules'
    string constants) is not an echo; a value only the request carried is."""
    from types import SimpleNamespace

    check = echo_check(vocabulary=set())
    own = "accepted headers, in any case"
    response = SimpleNamespace(status_code=422, text=f"required column missing; 'UPN' ({own}: UPN)")
    check(None, response, SimpleNamespace(query=None, path_parameters=None, body={"upn": own}))
    pupil = "Z801200111001"
    response = SimpleNamespace(status_code=422, text=f"no pupil {pupil}")
    with pytest.raises(AssertionError, match="quotes 1 input value"):
        check(None, response, SimpleNamespace(query=None, path_parameters=None, body={"upn": pupil}))
