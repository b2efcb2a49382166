"""A census scoring counts the pupils whose UPN fails the DfE check (security probe, item 5).

DATA_CONTRACT: an invalid UPN is reported, and the pupil still kept. An upload with `Z335228712113`
(a wrong check letter) and `NOTAUPN-Wilson` was scored with `warnings: []`. In process: a stand-in
model, a history of the same autumn census; both routes (a file, JSON census rows).
"""

from __future__ import annotations

import asyncio

import httpx
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.upn_warning import invalid_upn_warning
from exclusion_risk.serving import scoring
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.serving.settings import ServiceSettings
from exclusion_risk.upn import is_valid_upn, make_temporary_upn, make_upn

YEAR = "2018/19"
VALID = [make_upn(801, 2001, 2011, i) for i in range(1, 4)]
INVALID = ["Z335228712113", "NOTAUPN-Wilson"]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})


class AutumnStandIn:
    name, model_version, census, risk_matrix = "exclusion-risk", "1", calendar.AUTUMN, None
    feature_names = ["nc_year"]
    matrix = load_risk_matrix()

    def score(self, features: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
        rows = [{"upn": str(u), "probability": 0.5, "likelihood_band": "low", "need_level": 0, "rag": "green",
                 "matrix_cell": "L-N0", "reasons": "", "model_version": "1"} for u in features["upn"]]
        return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _rows(upns) -> list[dict]:
    return [{**EXAMPLE_CENSUS, "UPN": u, "AcademicYear": YEAR, "CensusTerm": calendar.AUTUMN} for u in upns]


def post_census(tmp_path, upns, route: str, history_upns=VALID) -> httpx.Response:
    """`upns`' census rows scored by a stand-in model over a history of `history_upns`' rows, through
    POST /score/file (`route` "file") or POST /score's census rows ("json")."""
    settings = ServiceSettings(database=tmp_path / "service.db", data_dir=None)
    app = create_app(settings, loader=AutumnStandIn)
    app.state.model.load_initial()
    past = pd.DataFrame(_rows(history_upns)).to_csv(index=False).encode()
    clean, _ = scoring.read_census_bytes(past, "c.csv")
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(clean), EMPTY, EMPTY)
    state.state = "ready"
    app.state.history = state
    key = add_key(settings.database, "scorer")

    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     headers={"X-API-Key": key}) as client:
            if route == "file":
                return await client.post("/score/file", params={"reasons": "false"},
                                         content=pd.DataFrame(_rows(upns)).to_csv(index=False).encode(),
                                         headers={"Content-Type": "text/csv"})
            return await client.post("/score", params={"reasons": "false"}, json={"census": _rows(upns)})

    return asyncio.run(go())


def test_invalid_upns_are_counted_in_a_warning_and_the_pupils_kept(tmp_path):
    assert not any(is_valid_upn(u) for u in INVALID)
    for route in ("file", "json"):
        response = post_census(tmp_path / route, VALID + INVALID, route)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert body["pupils"] == 5 and body["rejected"] == []
        said = [w for w in body["warnings"] if "UPN that is not valid" in w]
        assert said == ["2 of 5 pupils scored have a UPN that is not valid (a wrong check letter, or not a "
                        "UPN's shape): they are scored under the UPN as uploaded; check it in the MIS"], body
        assert not any(u.upper() in w.upper() for w in body["warnings"] for u in INVALID)


def test_valid_and_temporary_upns_are_not_warned_of(tmp_path):
    temporary = make_temporary_upn(801, 2001, 2011, 7, "A")  # ends in a letter: valid
    assert is_valid_upn(temporary)
    assert invalid_upn_warning(pd.Series([*VALID, temporary.lower()], dtype="string")) == []
    response = post_census(tmp_path, VALID, "file")
    assert response.status_code == 200 and not any("UPN" in w for w in response.json()["warnings"])


def test_one_invalid_upn_is_one_pupil_that_has_it():
    # it had read "1 of 20 pupils scored have a UPN ..."
    (said,) = invalid_upn_warning(pd.Series([*VALID, "NOTAUPN"], dtype="string"))
    assert said.startswith(f"1 of {len(VALID) + 1} pupils scored has a UPN that is not valid")


def test_a_page_passed_on_gives_back_no_count_under_10_by_subtraction():
    # scores.html's words (exact=False) suppressed each count alone: "15 of 15 pupils scored have a UPN that
    # is not valid" beside "12 pupils scored with an invalid UPN are not in the linked history" gave back the
    # 3 known to it; 12 invalid of 15 scored gave back the 3 valid.
    invalid = [f"NOTAUPN{i}" for i in range(15)]
    said = invalid_upn_warning(pd.Series(invalid, dtype="string"), invalid[:12], exact=False,
                               as_given="as the census gives it")  # fmt: skip
    assert said[0].startswith("All but fewer than 10 of 15 pupils scored have a UPN")  # all: said alike
    assert said[1].startswith("All but fewer than 10 pupils scored with an invalid UPN are not in")
    upns = pd.Series([*invalid[:12], *VALID[:3]], dtype="string")
    said = invalid_upn_warning(upns, invalid[:2], exact=False)
    assert said[0].startswith("All but fewer than 10 of 15 pupils scored have a UPN")
    assert said[1].startswith("Fewer than 10 pupils scored with an invalid UPN are not in")
    assert invalid_upn_warning(upns, invalid[:2])[0].startswith("12 of 15 pupils scored have")  # exact


def _page(n: int, invalid: int, lost: int) -> list[str]:
    valid = [make_upn(801, 2001, 2011, i) for i in range(n - invalid)]
    upns = [f"NOTAUPN{i}" for i in range(invalid)] + valid
    return invalid_upn_warning(pd.Series(upns, dtype="string"), upns[:lost], exact=False)


def test_a_page_passed_on_pins_no_count_under_10_a_reader_can_work_out_from_the_rule():
    # "all but fewer than 10" left the count shown beside it to pin what it withheld. Of 11 invalid UPNs,
    # 10 not in the history read "All but fewer than 10 pupils ... are not in the linked history": a count
    # of 10 or more and under 11 is 10, so the 1 the history knows was given back. And 14 invalid of 15
    # scored, all 14 unknown, read "All but fewer than 10 of 15 ..." beside "14 pupils ... are not in the
    # linked history": 14 <= invalid < 15 gave back the 1 valid UPN.
    eleven = _page(200, 11, 10)
    assert eleven[0].startswith("11 of 200 pupils") and not eleven[1].startswith("10 ")
    assert _page(200, 11, 11)[1].split(" pupils")[0] == eleven[1].split(" pupils")[0]  # 11 of 11 alike
    fifteen = _page(15, 14, 14)
    assert not fifteen[1].startswith("14 ")
    assert _page(15, 15, 15) == fifteen  # 15 of 15 invalid and unknown reads the same
    assert _page(11, 10, 1)[0] == _page(11, 11, 1)[0]  # 10 of 11: not told from 11 of 11
    assert _page(40, 25, 15)[1].startswith("15 pupils")  # 10 or more either side: said


def test_no_pair_of_page_counts_pins_a_count_under_10():
    # Every (invalid, unknown) of 2 to 44 pupils, as scores.html words them: no count of 1-9 (valid UPNs,
    # invalid ones the history knows) is the same in every pair a reader cannot tell from the true one.
    # (One pupil scored is a count of 1 the page prints anyway.)
    from exclusion_risk.models.upn_warning import _pupils

    for n in range(2, 45):
        seen: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for invalid in range(1, n + 1):
            for lost in range(invalid + 1):
                words = (_pupils(invalid, n, False), _pupils(lost, invalid, False) if lost else "")
                seen.setdefault(words, []).append((n - invalid, invalid - lost))
        for pairs in seen.values():
            for k in (0, 1):
                values = {pair[k] for pair in pairs}
                assert len(values) > 1 or not 0 < values.pop() < 10, (n, pairs)
