"""How many of the review's findings chance alone would give: the summary compares many ratios at once.

The review tests every shown group's calibration (observed / predicted against the year's) and its base,
selection and error rates against its reference, for single characteristics, detailed ethnicity and
three intersection tables: 56 calibration ratios on the demo (2026-12-06). Each 95% interval excludes 1 by
chance once in 20 even where no group differs, so about 2.8 of the 56 would. A finding was called
"certain" on its own interval alone (24 calibration findings on the demo, "not eligible / Black 1.44
[1.07, 1.91]" third of the top list, with advice to act).

So each family of ratios (one per measure: calibration, base rate, selection rate, each error rate; the
year's calibration; the options' precision changes) is adjusted for the number compared, with Holm's
method at 5%: the chance that even one finding said to hold is chance is under 1 in 20, however many were
compared. (Benjamini-Hochberg's false discovery rate kept every one of the demo's calibration findings,
"not eligible / Black" too, in an earlier review's 55 calibration ratios with 31 intervals excluding 1:
it lets a few chance findings through among many real ones; Holm's asks each finding to stand on its own,
as its advice to act does.) A p-value is read from the 95% interval on the log scale (the estimate and
interval give the standard error: Altman and Bland, BMJ 2011;343:d2090), an approximation to the
percentile bootstrap's; a finding holds (`beyond_chance`) only where its own interval excludes 1 as well.
`excludes_1` says what "certain" meant. A ratio of a group with none of the event (0 of 549 excluded)
has an exact interval, its p-value read from its upper bound (`models.fairness_zero`).

A comparison is a group's pupils (and its reference's), not its numbers: 11 groups of none each read
"0.00 [0.00, 0.00]" and were counted as one ratio compared; a group restated (girls / no SEN, where every
pupil has no SEN: the girls) is one.
"""

from __future__ import annotations

import math

import numpy as np

from exclusion_risk.models.fairness_calibration import outside
from exclusion_risk.models.fairness_zero import zero_p_value

LEVEL = 0.95
FAMILY_LEVEL = 0.05  # the chance, at most, that any finding said to hold in a family is chance
_Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def excludes_1(low: float, high: float) -> bool:
    """The 95% interval lies wholly above or below 1."""
    return bool(np.isfinite(low) and np.isfinite(high) and (low > 1 or high < 1))


def p_value(ratio: float, low: float, high: float) -> float:
    """Two-sided p-value of ratio = 1 from its 95% interval, read on the log scale; a zero ratio's from
    its exact upper bound (`fairness_zero.zero_p_value`); NaN where the ratio or an end is not a finite
    number, or an end of a nonzero ratio is not positive."""
    if ratio == 0 and low == 0:
        return zero_p_value(high)
    values = (ratio, low, high)
    if not all(np.isfinite(v) and v > 0 for v in values) or high <= low:
        return float("nan")
    se = (math.log(high) - math.log(low)) / (2 * _Z)
    return math.erfc(abs(math.log(ratio)) / se / math.sqrt(2))


def adjusted(p_values: list[float]) -> np.ndarray:
    """Holm's adjusted p-values, in the order given; an undefined p counts as 1."""
    p = np.nan_to_num(np.asarray(p_values, dtype=float), nan=1.0)
    if not p.size:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))  # the smallest times m, the next times m - 1, ...
    q = np.minimum(1.0, np.maximum.accumulate(scaled))
    out = np.empty_like(q)
    out[order] = q
    return out


def comparison_key(ratio: float, low: float, high: float, pupils: str) -> tuple[float, float, float, str]:
    """A ratio as one comparison: its numbers and `pupils`, who it compares (the group's pupils, and
    its reference's for a rate ratio: `fairness_zero.pupils_keys`). An intersection whose second attribute
    has one group is its first attribute's group restated: one comparison, not two; two groups that
    read alike are two."""
    return round(float(ratio), 9), round(float(low), 9), round(float(high), 9), pupils


def _key(f: dict) -> tuple[float, float, float, str]:
    """A finding's comparison: who it compares (`compares`; else its attribute and group)."""
    pupils = f.get("compares") or f"{f['attribute']}={f['group']}"
    return comparison_key(f["ratio"], f["low"], f["high"], pupils)


def mark(findings: list[dict], family_of, tested: dict[str, set]) -> list[dict]:
    """Each finding with `excludes_1`, `p_value`, `q_value`, `beyond_chance` and `comparisons` (its
    family's count), from every ratio compared (`tested`: family -> keys, the findings' own added);
    `family_of(finding)`: its family. Returns the families in words (`comparisons_line`), each with
    `holding_findings` (its ratios holding that are findings) and `holding_within_range` (those holding
    within 0.8-1.25 that are not findings, too near equal to be one: an option's precision change listed
    within it is a finding, not counted twice)."""
    for f in findings:
        tested.setdefault(family_of(f), set()).add(_key(f))
    q_of = {}
    for family, keys in tested.items():
        keys = sorted(keys)
        for k, q in zip(keys, adjusted([p_value(*k[:3]) for k in keys]), strict=True):
            q_of[family, k] = float(q)
    for f in findings:
        family = family_of(f)
        ratio, low, high = f["ratio"], f["low"], f["high"]
        f["excludes_1"] = excludes_1(low, high)
        f["p_value"] = p_value(ratio, low, high)
        f["q_value"] = q_of[family, _key(f)]
        f["comparisons"] = len(tested[family])
        f["beyond_chance"] = _holds(f["excludes_1"], f["q_value"], f["comparisons"])
        if not f["beyond_chance"]:
            f["action"] = _may_be_chance(f, family) + f["action"][:1].lower() + f["action"][1:]
    families = []
    for family, keys in tested.items():
        holds = [k for k in keys if _holds(excludes_1(*k[1:3]), q_of[family, k], len(keys))]
        # the ratios holding told apart from the findings listed: "5 holding" calibration ratios beside 3
        # findings read as two left out (boys 1.21 [1.13, 1.28] on the demo: within 0.8-1.25)
        listed = {_key(f) for f in findings if f["beyond_chance"] and family_of(f) == family}
        families.append({"family": family, "compared": len(keys), "excluding_1": sum(excludes_1(*k[1:3])
                         for k in keys), "expected_by_chance": round((1 - LEVEL) * len(keys), 1),
                         "beyond_chance": len(holds), "holding_findings": len(listed),
                         "holding_within_range": sum(not outside(k[0]) and k not in listed
                                                     for k in holds)})  # fmt: skip
    return families


def qualify_cited_calibration(findings: list[dict], calibration: str, citing: set[str]) -> None:
    """Findings of the `citing` kinds that give a group's miscalibration as a reason ("the model is not
    calibrated for the group …, so part of it may be the model's"), where that group's `calibration`
    finding does not hold once the ratios compared are allowed for (`mark` first): said so, where it was
    cited as established (a statistician read Asian pupils' precision finding so, beside its own
    calibration finding marked "may be chance")."""
    held = {(f["attribute"], f["group"]): f["beyond_chance"] for f in findings if f["kind"] == calibration}
    for f in findings:
        said = f["meaning"]
        cites = f["kind"] in citing and any(w in said for w in ("miscalibrated for", "not calibrated for"))
        if cites and held.get((f["attribute"], f["group"])) is False:
            f["meaning"] += (" That calibration finding may itself be chance (it does not hold once the "
                             "calibration ratios compared are allowed for): check both on another year.")


def _holds(interval_excludes_1: bool, q: float, compared: int) -> bool:
    # one comparison alone needs no adjusting: its interval decides, not the p-value read from it
    return interval_excludes_1 and (compared == 1 or q <= FAMILY_LEVEL)


def _may_be_chance(f: dict, family: str) -> str:
    if not f["excludes_1"]:
        why = "its 95% interval includes 1"
    else:
        why = (f"its 95% interval excludes 1, but {f['comparisons']} {family} ratios were compared and about "
               f"{(1 - LEVEL) * f['comparisons']:.1f} would exclude 1 by chance alone; it does not hold once "
               "that is allowed for")  # fmt: skip
    return f"May be chance ({why}): check it on another year before acting on it. If it holds: "


def comparisons_line(families: list[dict]) -> str:
    """The ratios compared, per family, in words: how many exclude 1 against how many chance alone would,
    and how many hold once the number compared is allowed for."""
    parts = []
    for f in families:
        if f["compared"]:
            parts.append(f"{f['family']}: {f['compared']} compared, {f['excluding_1']} with a 95% interval "
                         f"excluding 1 (about {f['expected_by_chance']:g} would by chance alone), "
                         f"{f['beyond_chance']} holding once the {f['compared']} are allowed for")
    return "; ".join(parts)
