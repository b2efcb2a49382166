"""POST /explain reads feature records as POST /score does: the features a record lacks are listed and
warned of. Before, on the demo model, a record giving one feature ({"upn": "A1", "suspensions_last_year":
3}) came back from /score with 31 missing features and a warning, and from /explain with the same
probability, missing_features [] and warnings []."""

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
