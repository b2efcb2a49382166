"""Which years and pupils a registered model was searched, fitted, calibrated and tested on, in words.

`models.train` searches the settings on the train years and chooses them on the validation year; with
`refit` (the default) the chosen settings are fitted again on the train years + the validation year less
the calibration pupils (a seeded share of pupils held out of fitting, all their rows); the calibration map
and the likelihood bands' thresholds are fitted on those held-out pupils' validation-year rows; the test
year is scored once. The registry's `train_years` tag keeps its meaning (the search's train years); the
years fitted on are the `fitted_years` tag. Versions registered before that tag have none: their sentence
says so rather than guess (they were refit unless their train run's `refit` param says false).
"""

from __future__ import annotations

from typing import Any


def _years(text: str | None) -> list[str]:
    return [y for y in (text or "").split(",") if y]


def fitting_words(info: dict[str, Any]) -> str:
    """One clause for a version's `read_model_info` (train_years, validation_year, test_year,
    fitted_years): "settings searched on 2016/17 and chosen on 2017/18; fitted on 2016/17 + 2017/18
    less the calibration pupils; calibrated on the calibration pupils' 2017/18 rows; tested on 2018/19"."""
    train, validation = _years(info.get("train_years")), info.get("validation_year") or "?"
    fitted = _years(info.get("fitted_years")) if info.get("fitted_years") else None
    search = f"settings searched on {' + '.join(train) or '?'} and chosen on {validation}"
    if fitted is None:
        default = " + ".join([*train, validation])
        fit = f"years fitted on not recorded ({default} less the calibration pupils if refit)"
    elif validation in fitted:
        fit = f"fitted on {' + '.join(fitted)} less the calibration pupils"
    else:
        fit = f"fitted on {' + '.join(fitted)}"
    calibrated = f"calibrated on the held-out calibration pupils' {validation} rows"
    return f"{search}; {fit}; {calibrated}; tested on {info.get('test_year') or '?'}"
