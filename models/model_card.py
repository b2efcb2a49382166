"""The model card logged with each model: what the model is for, how it was built and tested, its limits.

Rendered from `templates/model_card.md.j2`; this module gathers the facts it shows from a training result.
"""

from __future__ import annotations

import json

from exclusion_risk.models.reasons import feature_label
from exclusion_risk.models.rendering import render
from exclusion_risk.models.tracking import REGISTERED_MODEL, jsonable
from exclusion_risk.models.train import TrainingResult
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

# How many features the card lists under "what drives the score".
TOP_DRIVERS = 8


def model_card(model_type: str, result: TrainingResult, importance: dict[str, float], scale: str) -> str:
    """The card of `result`'s `model_type` model; `importance` is its mean |SHAP| per feature, on the
    explainer's `scale` ("probability" for the random forest, "log-odds" otherwise), which the card and
    the SHAP plots state."""
    config = result.config
    top = sorted(importance.items(), key=lambda kv: -kv[1])[:TOP_DRIVERS]
    return render(
        "model_card.md.j2",
        name=REGISTERED_MODEL,
        model_type=model_type,
        notice=DECISION_SUPPORT_NOTICE,
        label=config.label,
        split=result.split,
        params=json.dumps(result.models[model_type].params, sort_keys=True, default=jsonable),
        calibration=config.calibration.method,
        include_protected=config.features.include_protected,
        features=[feature_label(f) for f in result.feature_cols],
        metrics=result.evaluations[model_type].metrics,
        drivers=[(feature_label(name), value) for name, value in top],
        scale=scale,
    )
