"""A school's key scores its own pupils only (serving.school_scope): census rows or feature records of
another school, or a record naming no school, are refused 403 with a count and the key's schools, never a
pupil's value, whether or not skip_invalid is sent. Before, any scorer key scored any school's census with
the authority's linked history (exclusions, social care) and got every pupil's score back."""

from __future__ import annotations

import pytest

from exclusion_risk.serving.database import Database
from exclusion_risk.serving.schemas import EXAMPLE_FEATURES
from exclusion_risk.serving.security import KeyStore
from tests.serving.test_limits import call, census_csv, census_rows, service  # noqa: F401

OWN, OTHER = "104321", "654321"  # EXAMPLE_CENSUS is at 104321


def scoped(service, *schools: str):  # noqa: F811
    """(app, key) of a scorer key for `schools`, on the same app."""
    app, _ = service
    store = KeyStore(Database(app.state.settings.database))
    return app, store.add("scorer", "a school", schools=frozenset(schools)).token


def _refused(response, pupils: int, what: str, schools: str, sent: str) -> None:
    """`sent`: where the request's own rows outside the key's schools are, as the 403 says it (a trust
    whose academy was re-exported under its new URN could not tell which code was refused)."""
    assert response.status_code == 403, response.text[:300]
    detail = response.json()["detail"]
    assert f"This API key is for {schools} only; {pupils} {what}" in detail, detail
    assert f"nothing was scored ({sent}). Send only" in detail, detail
    # a trust's key of several schools is not told to send "your own school's" pupils
    many = "," in schools or " and " in schools
    assert detail.endswith("the schools this key covers." if many else "your own school.")
    assert "Surname" not in response.text


def _file(service, rows, **params):  # noqa: F811
    return call(service, "POST", "/score/file", params=params,
                files={"file": ("census.csv", census_csv(rows), "text/csv")})  # fmt: skip


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_census_of_another_school_is_refused_to_a_schools_key(service, skip_invalid):  # noqa: F811
    rows = census_rows(3)
    mine = scoped(service, OTHER)
    response = _file(mine, rows, skip_invalid=str(skip_invalid).lower())
    _refused(response, 3, "pupils are", f"school {OTHER}", f"3 pupils at {OWN}")
    assert not any(row["UPN"] in response.text or row["Surname"] in response.text for row in rows)
    trust = scoped(service, OTHER, "111111")  # a trust's key of two schools
    _refused(_file(trust, rows, skip_invalid=str(skip_invalid).lower()), 3, "pupils are",
             f"schools 111111 and {OTHER}", f"3 pupils at {OWN}")
    # one pupil of another school among the school's own: refused too, counted alone
    both = scoped(service, OWN)
    mixed = census_rows(3)
    mixed[1]["SchoolURN"] = OTHER
    _refused(_file(both, mixed, skip_invalid=str(skip_invalid).lower()), 1, "pupil is", f"school {OWN}",
             f"1 pupil at {OTHER}")
    # many codes: the five with most rows named, the rest counted
    many = census_rows(9)
    for i, row in enumerate(many):
        row["SchoolURN"] = f"20000{i % 7}"
    _refused(_file(both, many, skip_invalid=str(skip_invalid).lower()), 9, "pupils are", f"school {OWN}",
             "2 pupils at 200000; 2 pupils at 200001; 1 pupil at 200002; 1 pupil at 200003; "
             "1 pupil at 200004; 2 more school codes")
    assert call(service, "GET", "/runs").json()["runs"] == []  # nothing recorded


def test_a_schools_key_scores_its_own_census_and_the_authoritys_key_any(service):  # noqa: F811
    rows = census_rows(3)
    for key in (scoped(service, OWN), scoped(service, "3354028", OWN), service):
        response = _file(key, rows)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["pupils"] == 3


def test_census_rows_sent_as_json_are_held_to_the_keys_schools(service):  # noqa: F811
    body = {"census": census_rows(2)}
    for path in ("/score", "/explain"):
        _refused(call(scoped(service, OTHER), "POST", path, json=body), 2, "pupils are", f"school {OTHER}",
                 f"2 pupils at {OWN}")
    assert call(scoped(service, OWN), "POST", "/score", json=body).status_code == 200


def test_explaining_a_pupil_of_another_schools_census_is_refused(service):  # noqa: F811
    rows = census_rows(2)
    response = call(scoped(service, OTHER), "POST", "/explain/file", data={"upn": rows[0]["UPN"]},
                    files={"file": ("census.csv", census_csv(rows), "text/csv")})  # fmt: skip
    _refused(response, 2, "pupils are", f"school {OTHER}", f"2 pupils at {OWN}")


def test_feature_records_of_another_school_or_none_are_refused_to_a_schools_key(service):  # noqa: F811
    records = [{**EXAMPLE_FEATURES, "upn": f"P{i}", "school_urn": OWN} for i in range(3)]
    mine = scoped(service, OWN)
    assert call(mine, "POST", "/score", json={"pupils": records}).status_code == 200
    records[0]["school_urn"] = OTHER
    records[1].pop("school_urn")
    for path in ("/score", "/explain"):
        response = call(mine, "POST", path, json={"pupils": records}, params={"skip_invalid": "true"})
        _refused(response, 2, "feature records are", f"school {OWN}",
                 f"1 feature record at {OTHER}; 1 feature record naming no school")
    assert call(service, "POST", "/score", json={"pupils": records}).status_code == 200  # the authority's


def test_a_request_without_a_verified_key_is_never_read_as_the_whole_authority():
    """A route that forgot its key dependency had no principal on the request, which the scope read as a
    key for every school: it is an error instead (a 500 with a reference, never another school's pupils)."""
    from types import SimpleNamespace

    from exclusion_risk.serving.school_scope import key_schools

    with pytest.raises(RuntimeError, match="without a verified key"):
        key_schools(SimpleNamespace(state=SimpleNamespace()))
    scoped = SimpleNamespace(state=SimpleNamespace(principal=SimpleNamespace(schools=frozenset({"104321"}))))
    assert key_schools(scoped) == frozenset({"104321"})
