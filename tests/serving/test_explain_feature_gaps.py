"""POST /explain reads feature records as POST /score does: the features a record lacks are listed and
warned of, and skip_invalid=true leaves out (and lists) a record that gives none. Before, on the demo
model, a record giving one feature ({"upn": "A1", "suspensions_last_year": 3}) came back from /score with
31 missing features and a warning, and from /explain with the same probability, missing_features [] and
warnings []; and /explain refused a featureless record even with skip_invalid=true, which its own 422
told the client to send."""

from __future__ import annotations

import pytest

from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.settings import ServiceSettings
from tests.serving.test_blank_need_warning import WorkbookScorer
from tests.serving.test_limits import MAX_ROWS, call


class ExplainingScorer(WorkbookScorer):
    """The stand-in scorer, explaining each pupil with no factors."""

    def explain(self, features, n: int = 5) -> list[dict]:
        return [{**self._row(str(u)), "response": "", "scale": "log-odds", "raising": [], "lowering": []}
                for u in features["upn"]]  # fmt: skip


@pytest.fixture
def service(tmp_path):
    settings = ServiceSettings(database=tmp_path / "service.db", max_rows=MAX_ROWS, data_dir=None)
    app = create_app(settings, loader=ExplainingScorer)
    app.state.model.load_initial()
    return app, add_key(settings.database, "scorer")


ONE_FEATURE = {"upn": "A1", "suspensions_last_year": 3}


def test_explain_lists_and_warns_of_the_features_a_record_lacks(service):
    scored = call(service, "POST", "/score", json={"pupils": [ONE_FEATURE]})
    explained = call(service, "POST", "/explain", json={"pupils": [ONE_FEATURE]})
    assert scored.status_code == 200 and explained.status_code == 200, explained.text
    missing = scored.json()["missing_features"]
    assert len(missing) == len(ExplainingScorer.feature_names) - 1 and "suspensions_last_year" not in missing
    assert explained.json()["missing_features"] == missing
    assert explained.json()["warnings"] == scored.json()["warnings"] != []


def test_explain_skips_a_featureless_record_with_skip_invalid(service):
    pupils = [ONE_FEATURE, {"upn": "A2"}]
    refused = call(service, "POST", "/explain", json={"pupils": pupils})
    assert refused.status_code == 422 and "skip_invalid=true" in refused.json()["detail"]
    scored = call(service, "POST", "/score?skip_invalid=true", json={"pupils": pupils})
    explained = call(service, "POST", "/explain?skip_invalid=true", json={"pupils": pupils})
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert [p["upn"] for p in body["pupils"]] == ["A1"]
    assert body["rejected"] == scored.json()["rejected"] and [r["row"] for r in body["rejected"]] == [2]
    assert body["warnings"] == scored.json()["warnings"]
