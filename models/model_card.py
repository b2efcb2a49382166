"""The model card logged with each model: what the model is for, how it was built and tested, its limits.

Rendered from `templates/model_card.md.j2`; this module gathers the facts it shows from a training result.
"""

from __future__ import annotations

import json
import math

from exclusion_risk.models.comparison import signed_interval, significant
from exclusion_risk.models.fitting_words import fitting_words
from exclusion_risk.models.metrics import Interval, calibration_error_places
from exclusion_risk.models.reasons import feature_label
from exclusion_risk.models.rendering import render
from exclusion_risk.models.tracking import REGISTERED_MODEL, jsonable
from exclusion_risk.models.train import TrainingResult, fitted_years
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
        fitting=fitting_words({
            "train_years": ",".join(result.split.train), "validation_year": result.split.validation,
            "test_year": result.split.test, "fitted_years": ",".join(fitted_years(result.split, config)),
        }),  # fmt: skip
        conclusions=conclusions(model_type, result),
        params=json.dumps(result.models[model_type].params, sort_keys=True, default=jsonable),
        calibration=config.calibration.method,
        include_protected=config.features.include_protected,
        features=[feature_label(f) for f in result.feature_cols],
        metrics=result.evaluations[model_type].metrics,
        places=metric_places(result.evaluations[model_type]),
        drivers=[(feature_label(name), value) for name, value in top],
        scale=scale,
    )


def _gain(iv: Interval) -> str:
    verdict = "significant" if significant(iv.low, iv.high) else "not significant: the interval spans 0"
    return f"{signed_interval(iv.estimate, iv.low, iv.high)}, {verdict}"


def metric_places(evaluation) -> dict[str, int]:
    """The card table's decimal places where a metric has fewer than its 3: the calibration error, rounded
    to the places `coarse_calibration_error` keeps over the test year's pupils (2 on 2,000-19,999)."""
    return {"calibration_error": min(3, calibration_error_places(int(evaluation.calibration.count.sum())))}


def _calibration_words(cal: Interval, n: int) -> str:
    """The calibration error in percentage points at the places it was rounded to over `n` pupils
    (`coarse_calibration_error`: whole points on 2,000-19,999, so "1.0 [0.0, 1.0]" read a place it has
    not), saying so where whole points leave the estimate on a bound of its outward-rounded interval."""
    places = max(0, calibration_error_places(n) - 2)
    estimate, low, high = (f"{100 * v:.{places}f}" for v in (cal.estimate, cal.low, cal.high))
    unit = "percentage point" if estimate == "1" else "percentage points"
    rounded = (" (rounded to whole points, and its interval outwards, so that it gives no withheld count "
               "back)") if places == 0 else ""
    return f"{estimate} {unit} on average [{low}, {high}]{rounded}"


def conclusions(model_type: str, result: TrainingResult, capacity: str = "5pct") -> list[str]:
    """"What this means": sentences that follow from the card's test-year numbers (gain over the
    checklist, calibration, rank among the run's models) and the decision-support framing."""
    evaluation, gains = result.evaluations[model_type], result.gains[model_type]
    key, pct, year = f"precision_at_{capacity}", capacity.removesuffix("pct"), result.split.test
    precision = evaluation.metrics[key]
    out = []
    if math.isnan(precision.estimate):  # its pupils number 1-9 (metrics.withhold_small_selections)
        out.append(f"Precision in the top {pct}% on {year} is withheld: the pupils with the outcome in it, "
                   "or without it, are fewer than 10, or fewer than 10 more than in a smaller top share.")
    elif key in gains:
        shown = gains[key].low > 0
        out.append(
            f"Against the points checklist on the same {year} pupils, precision in the top {pct}% changes "
            f"by {_gain(gains[key])}: " + ("the model's list holds more pupils who went on to have the "
            "outcome, by about this margin." if shown else "on this measure the model is not shown to do "
            "better than the simple checklist.")
        )  # fmt: skip
    if "average_precision" in gains:
        out.append(f"Average precision over the whole ranking, against the checklist: "
                   f"{_gain(gains['average_precision'])}.")  # fmt: skip
    others = {m: result.evaluations[m].metrics[key].estimate for m in result.models if m != model_type}
    if others and not math.isnan(precision.estimate) and not any(map(math.isnan, others.values())):
        lead = max(others, key=others.get)
        rank = "next best" if precision.estimate >= others[lead] else "best"
        diff = evaluation.gain_over(result.evaluations[lead])[key]
        out.append(f"Against {lead}, the run's {rank} model at the top {pct}%: {_gain(diff)}.")
    cal = evaluation.metrics["calibration_error"]
    off = (_calibration_words(cal, int(evaluation.calibration.count.sum())) if math.isfinite(cal.estimate)
           else "an average withheld (under 100 pupils: no decimal place of it stands for 10 of them)")
    out.append(
        f"Calibration on {year}: across tenths of predicted probability, the observed rate is off the "
        f"predicted by {off}, for the year as a whole. That says nothing about groups: calibration, "
        "selection and error rates by sex, ethnicity, free school meals and SEN are in the fairness review "
        "(`exclusion-risk review`), which this card, written at training, comes before: read it before use."
    )
    out.append(
        "A score is a prompt for a professional's judgement and an offer of early help, never a decision "
        "about a child." if math.isnan(precision.estimate) else
        f"In the top {pct}%, about {precision.estimate:.0%} of pupils had the outcome and "
        f"{1 - precision.estimate:.0%} did not: a score is a prompt for a professional's judgement and an "
        "offer of early help, never a decision about a child."
    )
    return out
