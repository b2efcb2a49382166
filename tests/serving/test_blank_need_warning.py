"""A census scoring whose rows leave FSMeligible or SENprovision blank says so: the risk matrix reads a
blank as "not involved", so such a pupil's need level (and rating) may be understated. The CLI said it
(models.score_notes.blank_need_lines); the service did not: 20 census rows with FSM blanked on 5, posted
to /score/file, gave 3 of the 5 need level 0, green, and the warnings said nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest

from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.settings import ServiceSettings
from tests.serving.test_limits import MAX_ROWS, StandInScorer, call, census_csv, census_rows

WORDS = "blank free-school-meals value"  # SEN provision: a blank is refused, not read as none


class WorkbookScorer(StandInScorer):
    """The stand-in scorer with what the workbook and the drift check read of CohortScorer too."""

    risk_matrix = StandInScorer.matrix.to_dict()

    def info(self) -> dict:
        return {"name": self.name, "version": self.model_version, "run_id": None}


@pytest.fixture
def service(tmp_path):
    """(app, scorer key) as test_limits' `service`, with WorkbookScorer."""
    settings = ServiceSettings(database=tmp_path / "service.db", max_rows=MAX_ROWS, data_dir=None)
    app = create_app(settings, loader=WorkbookScorer)
    app.state.model.load_initial()
    app.state.history.state = "ready"  # an empty history stands in, as in test_limits
    return app, add_key(settings.database, "scorer")


def notice_text(content: bytes) -> str:
    """Every value on a workbook's Notice sheet, as one text."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return " ".join(str(c.value) for row in workbook["Notice"].iter_rows() for c in row if c.value)


def _rows() -> list[dict]:
    # FSM 0 and no SEN: need level 0, which a blank FSM could be hiding a 1 behind
    rows = census_rows(20, FSMeligible="0", SENprovision="N", SENtype="")
    for row in rows[:5]:
        row["FSMeligible"] = ""
    return rows


def _post(service, fmt: str):
    return call(service, "POST", f"/score/file?record=false&skip_invalid=true&format={fmt}",
                content=census_csv(_rows()), headers={"Content-Type": "text/csv"})


def test_blank_fsm_is_warned_in_json_header_and_workbook(service):
    answer = _post(service, "json")
    assert answer.status_code == 200, answer.text
    said = [w for w in answer.json()["warnings"] if WORDS in w]
    assert len(said) == 1 and said[0].startswith("5 pupil(s) have a need level"), answer.json()["warnings"]

    as_csv = _post(service, "csv")
    assert WORDS in as_csv.headers["X-Census-Warnings"]

    assert WORDS in notice_text(_post(service, "xlsx").content)


def test_no_warning_when_fsm_and_sen_are_given(service):
    rows = census_rows(20, FSMeligible="0", SENprovision="N", SENtype="")
    answer = call(service, "POST", "/score/file?record=false", content=census_csv(rows),
                  headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert not any(WORDS in w for w in answer.json()["warnings"])


def test_homes_the_lookups_do_not_place_are_said(service):
    """A census upload whose postcodes the postcode lookup does not hold (an authority outside the West
    Midlands that has not set EXCLUSION_RISK_POSTCODES): every IDACI decile blank, said in the warnings
    (features.home_area, the CLI's words)."""
    elsewhere = census_rows(20, Postcode="SW1A 1AA")
    answer = call(service, "POST", "/score/file?record=false", content=census_csv(elsewhere),
                  headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    said = [w for w in answer.json()["warnings"] if "IDACI decile" in w]
    assert len(said) == 1 and said[0].startswith("No IDACI decile for any of the 20 pupil-year(s)"), said
    assert "EXCLUSION_RISK_POSTCODES" in said[0] and "SW1A" not in said[0]
    placed = call(service, "POST", "/score/file?record=false", content=census_csv(census_rows(20)),
                  headers={"Content-Type": "text/csv"})
    assert not any("IDACI decile" in w for w in placed.json()["warnings"])


def test_two_school_names_under_one_code_are_said(service):
    """Two schools under one code (two authorities' extracts pooled, a code mistyped): their pupils are
    listed under one name; said in the warnings (models.score_notes.shared_code_lines, the CLI's words)."""
    rows = census_rows(20, SchoolName="Marshley Primary")
    for row in rows[10:]:
        row["SchoolName"] = "Elmley Community Primary"
    answer = call(service, "POST", "/score/file?record=false", content=census_csv(rows),
                  headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    said = [w for w in answer.json()["warnings"] if "carry two or more school names" in w]
    assert len(said) == 1 and said[0].startswith("School code(s) 104321 carry two or more school names")
    for row in rows[10:]:
        row["SchoolName"] = "MARSHLEY  primary"  # one name written two ways
    answer = call(service, "POST", "/score/file?record=false", content=census_csv(rows),
                  headers={"Content-Type": "text/csv"})
    assert not any("school names" in w for w in answer.json()["warnings"])
