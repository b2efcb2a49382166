"""The single-pupil scoring path refuses feature records outside the registry's ranges (issue #11,
finding 6: `suspensions_last_year: 1e300` scored 0.99999, red, with a 300-digit number in its reason)."""

from __future__ import annotations

import pytest

from exclusion_risk.models.record_encoding import RecordEncoder
from exclusion_risk.models.scoring import CohortScorer, ScoringInputError

OUT_OF_RANGE = {"absence_rate_last_year": -5, "suspensions_last_year": 1e300, "idaci_decile": -40,
                "nc_year": 1000}


def test_score_records_refuses_out_of_range_values_and_scores_the_same_pupil_in_range(training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    assert RecordEncoder.build(scorer.explainer.parts).usable  # the path that checks is the one taken
    record = test_year[scorer.feature_names].iloc[0].to_dict() | {"upn": "x"}
    assert scorer.score_records([record])[0]["upn"] == "x"
    for name, value in OUT_OF_RANGE.items():
        if name not in scorer.feature_names:
            continue
        with pytest.raises(ScoringInputError, match=f"record 1, {name}: must be ") as refused:
            scorer.score_records([{**record, name: value}])
        assert "e+300" not in str(refused.value) and "1000" not in str(refused.value)
