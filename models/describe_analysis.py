"""`describe`'s whole analysis: rates, chi-square tests, schools and the Walsall study side by side.

`analyse(frame)` takes `describe.describe_frame`'s rows and returns `describe.json` (as a dict) and the
CSV tables, every count already as published (see `models.describe` for the suppression rules). The
study's figures (shared/reference/walsall_study.md) are printed beside this authority's, never used as
inputs; they count children over three years, this report counts pupil-years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.models.describe import (
    EXCLUDED,
    OUTCOMES,
    PUPIL,
    SCHOOL,
    VARIABLES,
    chi_square,
    counts,
    rate_rows,
    shared_sums,
    suppress_all,
    value_name,
    value_names,
)
from exclusion_risk.models.describe_study import percent, read_side_by_side, residual_p_value
from exclusion_risk.privacy import (
    DESCRIBE_NOTICE,
    SECONDARY,
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
    suppress_table,
)

# How a reader of describe.json tells the two markers apart (the counts are otherwise whole numbers).
SUPPRESSION_LEGEND = {
    "threshold": SUPPRESSION_THRESHOLD,
    SUPPRESSED: f"a count from 1 to {SUPPRESSION_THRESHOLD - 1}, not shown",
    SECONDARY: f"a count of {SUPPRESSION_THRESHOLD} or more, withheld so that a {SUPPRESSED} beside it in a "
    "row, a column or a total shared with another table cannot be worked out by subtraction; except in an "
    f"outcome whose total is 1 to {SUPPRESSION_THRESHOLD - 1}, where every group's count of it (and of "
    "pupils without it) is withheld alike, whatever it is, zero included, so that none tells which "
    "groups hold those pupils",
    "zero": f"zeros are shown, except as said for an outcome whose total is 1 to {SUPPRESSION_THRESHOLD - 1}",
}
CONCENTRATION_SHARE = 0.8  # "the share of schools making 80% of permanent exclusions"
SECONDARY_YEARS = ("7", "8", "9", "10", "11")  # a school most of whose pupil-years are these is secondary
WITHHELD = "withheld"
# (study's name, CBDS code here, the study's observed - expected excluded children): Table 1
STUDY_ETHNICITY = (
    ("White British", "WBRI", 79.4), ("White English", None, 47.6),
    ("Mixed White & Black Caribbean", "MWBC", 46.1), ("Black Caribbean", "BCRB", 42.6),
    ("Mixed White & Asian", "MWAS", 4.8), ("Pakistani", "APKN", -10.6), ("White Other", "WOTH", -17.5),
    ("Black African", "BAFR", -19.4), ("Bangladeshi", "ABAN", -43.6), ("Indian", "AIND", -139.8),
)  # fmt: skip


@dataclass
class Description:
    document: dict  # describe.json
    tables: dict[str, pd.DataFrame]  # CSV name -> table, counts as published

    def add_models(self, comparison: dict) -> None:
        """`describe --models`: the study and full models' ranked inputs (`describe_models`)."""
        self.document["models"] = comparison
        self.tables["models_importance.csv"] = pd.DataFrame(comparison["rows"])


def _rate_row(document: dict, outcome: str, variable: str, value: str) -> dict:
    """The published rates row of a group (counts "x" when the group has no row)."""
    key = (outcome, variable, value)
    rows = (r for r in document["rates"] if (r["outcome"], r["variable"], r["value"]) == key)
    return next(rows, {"pupils": SECONDARY, "excluded": SECONDARY})


def two_by_two(frame: pd.DataFrame, document: dict, variable: str, value: str) -> float | None:
    """Chi-square (no correction) of one group against all other pupils x any exclusion, as the study
    tests (boys, FSM, White British). Only when the group's counts and the totals are published, so the
    2x2 table is worked out from the page anyway and the statistic gives nothing more away."""
    from scipy.stats import chi2_contingency

    row = _rate_row(document, "any", variable, value)
    overall = document["overall"]["any"]
    if any(is_withheld(v) for v in (row["pupils"], row["excluded"], overall["pupils"], overall["excluded"])):
        return None
    table = pd.crosstab(frame[variable].eq(value), frame["any"].astype(bool)).reindex(
        index=[True, False], columns=[True, False], fill_value=0
    )
    shown = suppress_table(table)
    if any(is_withheld(v) for v in shown.to_numpy().ravel()) or (table == 0).all(axis=0).any() \
            or (table == 0).all(axis=1).any():  # no pupil in the group, or none outside it: no test
        return None
    return round(float(chi2_contingency(table.to_numpy(), correction=False).statistic), 1)


def share_of(numerator: int, denominator: int, *published) -> float | None:
    """numerator / denominator when both parts (numerator, the rest) are publishable and the `published`
    counts it rests on are shown (a share of a withheld count would give the count away), else None."""
    if any(is_withheld(v) for v in published):
        return None
    parts = pd.DataFrame({"a": [numerator], "b": [denominator - numerator]})
    shown = suppress_table(parts, column_totals=False)
    if denominator <= 0 or any(is_withheld(v) for v in shown.to_numpy().ravel()):
        return None
    return round(numerator / denominator, 4)


def concentration(frame: pd.DataFrame) -> dict:
    """Per outcome: share of schools making 80% of exclusions, share excluding at all, and Spearman's
    correlation of school rates with the school's mean IDACI decile (schools of 10+ pupil-years), with its
    p-value, over all schools and over secondary schools (most pupil-years in Years 7-11), as the study's
    correlation was."""
    schools = frame.assign(secondary=frame["nc_year"].isin(SECONDARY_YEARS)).groupby(SCHOOL).agg(
        pupils=("any", "size"), idaci=("idaci_decile", "mean"), secondary=("secondary", "mean"),
        **{o: (o, "sum") for o in OUTCOMES})  # fmt: skip
    out = {}
    for outcome in OUTCOMES:
        made = schools[outcome].sort_values(ascending=False).to_numpy()
        total = int(made.sum())
        needed = int(np.searchsorted(np.cumsum(made), CONCENTRATION_SHARE * total) + 1) if total else 0
        sized = schools[(schools["pupils"] >= SUPPRESSION_THRESHOLD) & schools["idaci"].notna()]
        rho, p_value = _spearman(sized, outcome)
        secondary = sized[sized["secondary"] > 0.5]
        rho_secondary, p_secondary = _spearman(secondary, outcome)
        out[outcome] = {
            "schools": int(len(schools)),
            "schools_excluding": int((made > 0).sum()),
            "schools_making_80pct": needed,
            "share_of_schools_making_80pct": round(needed / len(schools), 4) if total else None,
            "share_of_schools_excluding": round(float((made > 0).mean()), 4) if len(made) else None,
            "spearman_rate_vs_idaci": rho,
            "spearman_p_value": p_value,
            "schools_in_correlation": int(len(sized)),
            "spearman_rate_vs_idaci_secondary": rho_secondary,
            "spearman_p_value_secondary": p_secondary,
            "secondary_schools_in_correlation": int(len(secondary)),
        }
    return out


def _spearman(schools: pd.DataFrame, outcome: str) -> tuple[float | None, float | None]:
    """Spearman's rho of the schools' `outcome` rate with their mean IDACI decile, and its p-value (None
    for fewer than MIN_SCHOOLS schools, where scipy's t approximation is no test and rho would order the
    schools' withheld counts, or a constant column)."""
    from scipy.stats import spearmanr

    if len(schools) < MIN_SCHOOLS:
        return None, None
    result = spearmanr(schools[outcome] / schools["pupils"], schools["idaci"])
    if result.statistic != result.statistic:
        return None, None
    return round(float(result.statistic), 3), float(f"{result.pvalue:.3g}")


def _schools_note(secondary: dict) -> str:
    """The study row's note on the secondary schools its correlation is read over, or why it is not."""
    schools = secondary["secondary_schools_in_correlation"]
    if schools is None:
        return "secondary schools: not shown, too few permanent exclusions to publish"
    if schools < MIN_SCHOOLS:
        return f"{schools} secondary schools: too few (under {MIN_SCHOOLS}) to read a correlation"
    return f"{schools} secondary schools"


def children(frame: pd.DataFrame) -> tuple[int, int]:
    """Distinct children (`describe_frame`'s pupil key) and those of them with any suspension or permanent
    exclusion in any of the years: the study's unit, not the pupil-year."""
    excluded = frame.groupby(PUPIL)["any"].max()
    return len(excluded), int(excluded.sum())


def chi2_caveat(frame: pd.DataFrame) -> str | None:
    """What Pearson's tests here overstate, where a child is a row in more than one year; None where each
    child is one row (one year): the test takes its rows as independent, and a child's years are not."""
    n_children = frame[PUPIL].nunique()
    repeated = int(n_children - (frame.groupby(PUPIL).size() == 1).sum())
    if not repeated:
        return None
    share = percent(share_of(repeated, n_children)) or "some"
    return (f"These tests count pupil-years, which are not independent: {share} of the children are on "
            "more than one year's census and count in each, so the chi-square statistics and p-values "
            "overstate the evidence, and a statistic not far above 3.84 is no sure sign of a difference (the "
            "study counted each child once).")


def _count(value: int | str) -> str:
    """A count as published (under 10: "<10"; a withheld marker stays), with thousands separators."""
    shown = suppress_count(value) if isinstance(value, int) else value
    return f"{shown:,}" if isinstance(shown, int) else str(shown)


def _study(frame: pd.DataFrame, document: dict, cells: pd.DataFrame, conc: dict) -> tuple[pd.DataFrame, str]:
    overall = document["overall"]["permanent"]
    n_children, n_excluded = children(frame)
    years = ", ".join(document["years"])
    semh_perm = _rate_row(document, "permanent", "sen_type", "SEMH")
    year1_any = _rate_row(document, "any", "nc_year", "1")
    secondary = conc["permanent"]
    perm = frame[frame["permanent"].eq(1)]
    year1 = frame[frame["nc_year"].eq("1") & frame["any"].eq(1)]
    test = "any exclusion, 1 dof" + (f". {document['chi2_caveat']}" if document["chi2_caveat"] else "")
    rows = [
        ("linked children / pupil-years", "62,536 children (2015/16-2017/18)",
         f"{_count(n_children)} children, {_count(overall['pupils'])} pupil-years",
         f"children on the autumn census of {years}; a child on several years' census is one child and "
         "a pupil-year in each"),
        ("share of children excluded (any)", "about 3.5% of 62,536 children (2015/16-2017/18)",
         percent(share_of(n_excluded, n_children)),
         f"of the {_count(n_children)} children on the autumn census of {years}, those with any suspension "
         "or permanent exclusion after census day in any of those years, as the study counts children "
         "excluded at any time in its three years"),
        ("chi-square, boys vs all others", 584, two_by_two(frame, document, "sex", "M"), test),
        ("chi-square, FSM eligible vs all others", 676, two_by_two(frame, document, "fsm", "1"), test),
        ("chi-square, White British vs others", 373, two_by_two(frame, document, "ethnicity", "WBRI"), test),
        ("SEMH among permanently excluded", "16%",
         percent(share_of(int(perm["sen_type"].eq("SEMH").sum()), len(perm),
                          semh_perm["excluded"], overall["excluded"])), ""),
        ("SEMH among all pupils", "2%", percent(share_of(int(frame["sen_type"].eq("SEMH").sum()), len(frame),
                                                         semh_perm["pupils"], overall["pupils"])), ""),
        ("excluded in Year 1 with SEND", "over 75%",
         percent(share_of(int(year1["sen_provision"].isin(["K", "E"]).sum()), len(year1),
                          year1_any["excluded"])), ""),
        ("share of schools making 80% of permanent exclusions", "12% (West Midlands, 2017/18)",
         percent(conc["permanent"]["share_of_schools_making_80pct"]), "all schools on the census"),
        ("school permanent-exclusion rate vs deprivation", "0.04 (secondary schools, West Midlands)",
         secondary["spearman_rate_vs_idaci_secondary"],
         "Spearman, school mean IDACI decile (1 = most deprived), " + _schools_note(secondary)),
    ]  # fmt: skip
    p_values = [None] * len(rows)
    p_values[-1] = secondary["spearman_p_value_secondary"]
    shown = cells[(cells["outcome"] == "any") & (cells["variable"] == "ethnicity")].set_index("value")
    for name, code, published in STUDY_ETHNICITY:
        here = "folded into WBRI by the reader" if code is None else WITHHELD
        residual = None
        if code in shown.index:
            here = round(shown.loc[code, "observed_excluded"] - shown.loc[code, "expected_excluded"], 1)
            residual = shown.loc[code, "adjusted_residual_excluded"]
            # Cochran's rule, as the omnibus test keeps it: a group expected to have under 5 excluded is
            # not tested (White & Asian, 0 of 125 against 3.9 expected, was read as under-excluded)
            small = float(shown.loc[code, "expected_excluded"]) < COCHRAN_EXPECTED
            residual = None if is_withheld(residual) or small else float(residual)
        # the adjusted residual: its square is the group's own 2x2 chi-square against all others, so this
        # row reads as "chi-square, White British vs others" does (they had disagreed)
        rows.append((f"observed - expected excluded, {name}", published, here, "chi-square table, any "
                     "(adjusted residual)"))
        p_values.append(None if residual is None else residual_p_value(residual))
    table = pd.DataFrame(rows, columns=["measure", "study", "here", "note"]).assign(p_value=p_values)
    table, conclusion = read_side_by_side(table)
    table["here"] = table["here"].map(lambda v: WITHHELD if v is None else v).astype(object)
    return table, conclusion


COCHRAN_EXPECTED = 5  # a group expected to have fewer excluded is not tested on its own (Cochran's rule)
MIN_SCHOOLS = 10  # schools a rank correlation is read over: with 3, rho = -1 had "p = 0.0" (exactly, 0.33)

# chi2_cells.csv's columns (`describe.chi_square`'s cells)
CELL_COLUMNS = ["outcome", "variable", "value", "observed_excluded", "observed_not_excluded",
                "expected_excluded", "expected_not_excluded", "residual_excluded",
                "adjusted_residual_excluded", "residual_not_excluded"]


def analyse(frame: pd.DataFrame, years: list[str]) -> Description:
    """describe.json and the CSV tables of `frame` (rows of `describe_frame`)."""
    variables = [*VARIABLES, SCHOOL]
    true = {(o, v): counts(frame, v, o) for o in OUTCOMES for v in variables}
    shown = suppress_all(true, shared_sums(frame, true))
    rates, chi2, cells, pooled = [], [], [], []
    for (outcome, variable), table in true.items():
        if variable == SCHOOL:
            continue
        rates += rate_rows(outcome, variable, table, shown[(outcome, variable)])
        test = chi_square(outcome, variable, table, shown[(outcome, variable)])
        chi2.append(test.row)
        cells += test.cells
        pooled += [{"outcome": outcome, "variable": variable, "value": v} for v in test.pooled]
    first = shown[("any", "sex")]
    overall = {}
    for outcome in OUTCOMES:
        totals = shown[(outcome, "sex")].loc[TOTAL]
        visible = not (is_withheld(totals[EXCLUDED]) or is_withheld(totals[TOTAL]))
        overall[outcome] = {"pupils": first.loc[TOTAL, TOTAL], "excluded": totals[EXCLUDED],
                            "rate": round(int(frame[outcome].sum()) / len(frame), 4) if visible else None}
    conc = concentration(frame)
    for outcome, figures in conc.items():  # too few exclusions to publish: nothing about their schools
        if overall[outcome]["rate"] is None:
            figures.update({k: None for k in figures if k != "schools"})
    schools = _school_rows(frame, true, shown)
    cells_frame = pd.DataFrame(cells, columns=CELL_COLUMNS)  # its columns even where no test was run
    document = {
        "notice": DESCRIBE_NOTICE,  # beside the figures, as evaluate's, drift's and the review's carry theirs
        "years": years,
        "unit": "pupil-year on the autumn census; outcome after census day to 31 August",
        "overall": overall,
        "rates": rates,
        "chi2": chi2,
        "chi2_caveat": chi2_caveat(frame),
        "chi2_cells": cells,
        "chi2_pooled": pooled,
        "concentration": conc,
        "names": {v: value_names(v) for v in VARIABLES if value_names(v)},
        "suppression": SUPPRESSION_LEGEND,
    }
    study, conclusion = _study(frame, document, cells_frame, conc)
    document["study_comparison"] = study.to_dict(orient="records")
    document["study_conclusion"] = conclusion
    names = {v: value_names(v) for v in VARIABLES}
    rates_frame = pd.DataFrame(rates)
    rates_frame.insert(3, "name", [value_name(names[v], x) for v, x in zip(rates_frame["variable"],
                                                                        rates_frame["value"], strict=True)])
    tables = {"rates.csv": rates_frame, "chi2.csv": pd.DataFrame(chi2), "chi2_cells.csv": cells_frame,
              "schools.csv": schools, "study_comparison.csv": study}  # fmt: skip
    return Description(document, tables)


def _school_rows(frame: pd.DataFrame, true: dict, shown: dict) -> pd.DataFrame:
    """Each school's pupil-years and exclusions as published, its rates where both counts are shown."""
    idaci = frame.groupby(SCHOOL)["idaci_decile"].mean()
    table = pd.DataFrame(index=true[("any", SCHOOL)].index)
    for outcome in OUTCOMES:
        s = shown[(outcome, SCHOOL)].drop(index=TOTAL)
        t = true[(outcome, SCHOOL)]
        table["pupils"] = s[TOTAL]
        table[f"{outcome}_excluded"] = s[EXCLUDED]
        visible = ~(s[TOTAL].map(is_withheld) | s[EXCLUDED].map(is_withheld))
        rate = (t[EXCLUDED] / t.sum(axis=1)).round(4)
        table[f"{outcome}_rate"] = rate.where(visible).astype(object)
    big = true[("any", SCHOOL)].sum(axis=1) >= SUPPRESSION_THRESHOLD
    table["mean_idaci_decile"] = idaci.reindex(table.index).round(2).where(big)
    table.index.name = "school_urn"
    table = table.reset_index()
    table[["any_rate", "permanent_rate", "mean_idaci_decile"]] = table[
        ["any_rate", "permanent_rate", "mean_idaci_decile"]].astype(object).where(
        table[["any_rate", "permanent_rate", "mean_idaci_decile"]].notna(), None)  # fmt: skip
    return table

