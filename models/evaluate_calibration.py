"""`evaluate`'s verdict on calibration by group: for whom the model's probabilities ran high or low in
the year evaluated, beyond the year's own scale.

The group table printed each group's observed rate beside its mean predicted one and said no more, so a
reader had to judge "girls 1.7% against 2.9% predicted" alone. Each group is judged as the fairness
review judges calibration (`fairness_calibration`): its observed / predicted (pupils with the outcome
against the sum of their probabilities) divided by the year's, miscalibrated only where that is outside
0.8-1.25 with its interval excluding 1, so that a model whose probabilities run low for everyone is one
finding (the year's ratio), not one per group. The interval is the exact Poisson interval of the group's
count over its expected count, divided by the year's ratio taken as fixed: the year holds the group, so
this is wider than the joint interval (conservative), and it needs no resampling of the pupils.

A group is judged only where its pupils and those with the outcome are both shown in the table (the
ratio gives the count back from the mean predicted); where the year's count is withheld a group is judged
by its own ratio, as the review does.
"""

from __future__ import annotations

from typing import Any

from scipy.stats import chi2

from exclusion_risk.models.band_precision import CONFIDENCE, percent
from exclusion_risk.models.fairness_calibration import certain, interval_text, outside
from exclusion_risk.models.fairness_chance import adjusted, p_value
from exclusion_risk.privacy import is_withheld

SIGNIFICANCE = 0.05  # Holm's family-wise level, as the fairness review's


def poisson_interval(count: int) -> tuple[float, float]:
    """The exact (Garwood) interval for a Poisson count, at the CONFIDENCE of evaluate's other intervals."""
    tail = (1 - CONFIDENCE) / 2
    low = chi2.ppf(tail, 2 * count) / 2 if count > 0 else 0.0
    return float(low), float(chi2.ppf(1 - tail, 2 * count + 2) / 2)


def year_ratio(excluded: int | str, predicted_sum: float) -> float | None:
    """The year's observed / predicted; None where its count is withheld or nothing is predicted (a year
    with none with the outcome judges no group: `group_calibration`)."""
    if is_withheld(excluded) or predicted_sum <= 0:
        return None
    return int(excluded) / predicted_sum


def judged(row: dict[str, Any], year: float | None) -> dict[str, Any] | None:
    """One group's ratio (against the year's where it is known), its interval and verdict; None where its
    pupils or count with the outcome is withheld."""
    pupils, excluded, mean = row["pupils"], row["excluded"], row["mean_predicted"]
    if is_withheld(pupils) or is_withheld(excluded) or mean is None or mean * pupils <= 0:
        return None
    expected = mean * pupils
    low, high = (bound / expected for bound in poisson_interval(int(excluded)))
    ratio, scale = int(excluded) / expected, 1.0 if year is None else year
    relative, low, high = ratio / scale, low / scale, high / scale
    verdict = None
    if outside(relative) and certain(low, high):
        verdict = "under-predicted" if relative > 1 else "over-predicted"
    return {"attribute": row["attribute"], "group": row["group"], "observed": row["observed"],
            "mean_predicted": mean, "ratio": relative, "ci_low": low, "ci_high": high,
            "against_year": year is not None, "verdict": verdict}  # fmt: skip


def group_calibration(by_group: list[dict[str, Any]], excluded: int | str, predicted_sum: float) -> dict:
    """The groups judged, the year's ratio and the sentence that concludes (evaluation.json's
    `calibration_by_group`). A year in which none had the outcome judges no group: each would be a finding
    by its own ratio (0 against its prediction), the year's one finding spread over every group."""
    if not is_withheld(excluded) and int(excluded) == 0:
        said = "Calibration by group: not assessed, no pupil having had the outcome in the year."
        return {"year_ratio": None, "groups": [], "not_assessed": len(by_group), "sentence": said}
    year = year_ratio(excluded, predicted_sum)
    rows = [judged(row, year) for row in by_group]
    assessed = [r for r in rows if r is not None]
    # Many groups are judged at once: a finding must hold by Holm's method over them, as the fairness
    # review's do (a statistician's finding: Asian pupils at p = 0.04, one of 14 groups, were named here
    # while the review of the same model and year said "may be chance")
    held = adjusted([p_value(r["ratio"], r["ci_low"], r["ci_high"]) for r in assessed])
    for r, q in zip(assessed, held, strict=True):
        r["holds"] = bool(r["verdict"]) and bool(q < SIGNIFICANCE)
    return {"year_ratio": year, "groups": assessed, "not_assessed": len(rows) - len(assessed),
            "sentence": sentence(assessed, year, len(rows) - len(assessed))}


def _finding(r: dict[str, Any]) -> str:
    observed, predicted = percent(r["observed"]), percent(r["mean_predicted"])
    ratio = f"{r['ratio']:.2f}{interval_text(r['ci_low'], r['ci_high'])}"
    of = " of the year's ratio" if r["against_year"] else " observed / predicted"
    return (f"{r['group']} ({r['attribute']}: {observed} had the outcome against {predicted} predicted; "
            f"{ratio}{of})")


def _year_words(year: float) -> str:
    """The year's own scale in words: high or low only outside 0.8-1.25, as the review's rule has it."""
    if not outside(year):
        return "about as predicted overall"
    stating = "overstating" if year < 1 else "understating"
    return f"the probabilities {stating} risk overall: a matter for the model's calibration, not any group's"


def sentence(assessed: list[dict[str, Any]], year: float | None, not_assessed: int) -> str:
    """What the verdicts conclude, in one paragraph. Against the year's scale a group's finding is relative:
    with every group's probabilities running high (year 0.76), boys at 4.5% against 4.6% predicted had
    their risk understated relative to the year; said so, never as "more than predicted"."""
    rule = "outside 0.8-1.25 with its 95% interval excluding 1"
    if year is not None:
        intro = (f"Calibration by group: across the year {year:.2f} times as many pupils had the outcome as "
                 f"the probabilities predicted ({_year_words(year)}), so each group is judged against that: "
                 "a finding where its observed / "
                 f"predicted, as a share of the year's, is {rule}")
        relative = " relative to the year"
    else:
        intro = ("Calibration by group (the year's count withheld, so each group by its own observed / "
                 f"predicted): a finding where it is {rule}")
        relative = ""
    left = (f" {not_assessed} group{'s' if not_assessed != 1 else ''} not assessed (counts withheld)."
            if not_assessed else "")
    if not assessed:
        return f"{intro}. No group could be assessed.{left}"
    over = [r for r in assessed if r["verdict"] == "over-predicted" and r["holds"]]
    under = [r for r in assessed if r["verdict"] == "under-predicted" and r["holds"]]
    chance = [r for r in assessed if r["verdict"] and not r["holds"]]
    groups = "the one group" if len(assessed) == 1 else f"the {len(assessed)} groups"
    maybe = "" if not chance else (
        f" Outside the range but may be chance, not holding once the {len(assessed)} groups compared are "
        "allowed for (Holm's method): " + "; ".join(f"{_finding(r)}, {r['verdict']}" for r in chance)
        + "; check them on another year before acting.")  # fmt: skip
    if not over and not under:
        return f"{intro}. No finding among {groups} assessed.{maybe}{left}"
    said = [f"{words}{relative}, of " + "; ".join(_finding(r) for r in found)
            for words, found in (("overstated the risk", over), ("understated the risk", under)) if found]
    return (f"{intro}, holding once the {len(assessed)} groups compared are allowed for (Holm's method). "
            f"The probabilities {'; and '.join(said)}. Read these groups' probabilities accordingly, and "
            f"raise it at the next fairness review.{maybe}{left}")
