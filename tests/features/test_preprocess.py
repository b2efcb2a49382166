"""The preprocessing ColumnTransformer: fitted on a feature table, served unchanged on one row."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.features.preprocess import make_preprocessor, output_feature_map

NAMES = registry.feature_names(include_protected=False)


@pytest.fixture(scope="module")
def table(random_history) -> pd.DataFrame:
    return build_feature_table(random_history(1500, ["2015/16", "2016/17", "2017/18"], seed=5),
                               ["2016/17", "2017/18"])


def test_onehot_keep_missing_names_and_shape(table):
    pre = make_preprocessor(NAMES).fit(table)
    names = list(pre.get_feature_names_out())
    numeric = registry.feature_names(kinds=("numeric", "binary"))
    assert names[: len(numeric)] == numeric
    assert "sen_type_SEMH" in names and "sen_provision_K" in names
    assert not any(n.startswith(("sex_", "ethnicity_")) for n in names)  # protected left out
    out = pre.transform(table)
    assert out.shape == (len(table), len(names))
    assert np.isnan(out[:, names.index("absence_rate_last_year")]).sum() == table[
        "absence_rate_last_year"
    ].isna().sum() > 0  # missing stays missing for LightGBM / random forest


def test_impute_adds_indicators_and_scales(table):
    pre = make_preprocessor(NAMES, missing="impute", scale=True).fit(table)
    names = list(pre.get_feature_names_out())
    assert "missingindicator_absence_rate_last_year" in names
    out = pre.transform(table)
    assert not np.isnan(out).any()
    column = out[:, names.index("suspensions_last_year")]
    assert abs(column.mean()) < 1e-9 and column.std() == pytest.approx(1.0)


def test_ordinal_encoding_maps_unknown_categories_to_nan(table):
    pre = make_preprocessor(["sen_type", "nc_year"], encoding="ordinal").fit(table)
    assert list(pre.get_feature_names_out()) == ["nc_year", "sen_type"]
    row = pd.DataFrame([{"sen_type": "SEMH", "nc_year": 7}, {"sen_type": "NEWCODE", "nc_year": None}])
    out = pre.transform(row)
    assert not np.isnan(out[0, 1]) and np.isnan(out[1, 1]) and np.isnan(out[1, 0])


def test_one_row_at_serving_time_with_loose_types_and_unknown_category(table):
    pre = make_preprocessor(registry.feature_names(include_protected=True)).fit(table)
    restored = pickle.loads(pickle.dumps(pre))
    names = list(restored.get_feature_names_out())
    row = table.iloc[[0]].copy()
    expected = restored.transform(row)
    # as a JSON body would give it: strings for numbers, None for missing, a category never seen at fit
    loose = pd.DataFrame([{c: (None if pd.isna(v) else str(v)) for c, v in row.iloc[0].items()}])
    loose["sen_type"] = "PMLD-NEW"
    out = restored.transform(loose)
    assert out.shape == (1, len(names))
    sen_columns = [i for i, n in enumerate(names) if n.startswith("sen_type_")]
    other = [i for i in range(len(names)) if i not in sen_columns]
    np.testing.assert_allclose(out[:, other], expected[:, other])
    assert out[0, sen_columns].sum() == 0  # unknown category ignored


@pytest.mark.parametrize(
    "estimator, options",
    [
        (RandomForestClassifier(n_estimators=20, random_state=0), {}),
        # the project's booster (scikit-learn's HistGradientBoosting cannot bin a feature that is all
        # missing, as this year's attendance so far is at autumn)
        (LGBMClassifier(n_estimators=5, verbose=-1), {"encoding": "ordinal"}),
        (LogisticRegression(max_iter=500), {"missing": "impute", "scale": True}),
    ],
)
def test_pipelines_fit_and_score(table, estimator, options):
    labelled = table[table["label"].notna()]
    model = make_pipeline(make_preprocessor(NAMES, **options), estimator).fit(labelled, labelled["label"])
    p = model.predict_proba(labelled.iloc[[3]][NAMES])[:, 1]
    assert p.shape == (1,) and 0 <= p[0] <= 1


def test_pandas_output_keeps_the_names(table):
    pre = make_preprocessor(NAMES, missing="impute").set_output(transform="pandas").fit(table)
    out = pre.transform(table.iloc[:5])
    assert list(out.columns) == list(pre.get_feature_names_out()) and out.shape[0] == 5
    assert out.dtypes.map(lambda d: d.kind == "f").all()


def test_output_columns_map_back_to_registry_features(table):
    pre = make_preprocessor(registry.feature_names(include_protected=True), missing="impute").fit(table)
    mapping = output_feature_map(pre)
    assert set(mapping) == set(pre.get_feature_names_out())
    assert mapping["sen_type_SEMH"] == "sen_type"
    assert mapping["missingindicator_idaci_decile"] == "idaci_decile"
    assert mapping["ethnicity_group_White British"] == "ethnicity_group"
    assert mapping["ethnicity_code_WBRI"] == "ethnicity_code"
    assert set(mapping.values()) == set(registry.feature_names(include_protected=True))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="not registry features: surname"):
        make_preprocessor(["surname", "fsm"])
    with pytest.raises(ValueError, match="missing must be"):
        make_preprocessor(["fsm"], missing="zero")


def test_yes_no_words_read_the_same_in_the_model_as_in_the_extracts():
    """One list of yes/no words (exclusion_risk.values): what the reader accepts as an FSM flag, the
    model's preprocessing and the single-record encoder read alike. Before, `t`/`f` reached the model
    as missing while the reader and the need level read them as yes/no."""
    from exclusion_risk.features.need import need_level_of
    from exclusion_risk.features.preprocess import to_float_frame
    from exclusion_risk.linkage.codes import FSM_MAP
    from exclusion_risk.models.record_encoding import _to_float

    words = ["t", "F", "Yes", "n", "TRUE", "0", "1", " y "]
    expected = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    frame = pd.DataFrame({"fsm": pd.Series(words, dtype="object")})
    assert to_float_frame(frame)["fsm"].tolist() == expected
    assert [_to_float(w) for w in words] == expected
    assert [float(FSM_MAP[w.strip().upper()]) for w in words] == expected
    assert [need_level_of({"fsm": w}) for w in words] == [int(e) for e in expected]
    assert np.isnan(to_float_frame(pd.DataFrame({"fsm": ["maybe"]}))["fsm"].iloc[0])
