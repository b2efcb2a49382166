"""`describe`: the Walsall study's descriptive analysis, on any authority's feature table with labels.

Unit: a pupil on the autumn census of a chosen year (a pupil on two chosen years counts in each);
outcomes are the feature table's labels, `any` (a suspension or permanent exclusion after census day,
to 31 August) and `permanent`. Each pupil-year is counted under its value of each variable on census
day and under its census school.

Social care is grouped as the fairness review and evaluate group it (`features.need.social_care_status`):
the status open on census day (looked after; else a child protection plan; else child in need), else
formerly known (an episode by census day, none open), else never known. Grouped by the highest status
ever, describe's "looked after" (at any time by census day: 245 pupils, 30 excluded on a 20,000-pupil
authority) held evaluate's and the review's (open on census day: 106, 21), and the difference gave back the
9 formerly looked-after pupils who were excluded, which no report's own rule could see. Disjoint and alike,
a group of one report is the same group of another, and a difference of two groups is a row of one table,
which its rule protects. The study's finding still reads from the table: children known to social care to
any degree are every row but `none`; looked-after children and those on a plan are read on census day,
those no longer are `former`. So, too, FSM in the last six years is split within the census day's FSM
(eligible now, earlier only, never), not "ever eligible" holding "eligible now" (`_fsm_history`); and a
variable whose groups the review publishes never folds a few pupils into one of them (`fold_small_groups`).

Groups of fewer than 10 pupils are first folded into one row. Publication (`suppress_all`): counts go
through `privacy.suppress_table` — a count under 10 is "<10", and a count that a "<10" could be worked
out from by subtraction along a row or column is withheld too ("x"). The totals that two tables share (a
value's pupils in the `any` and the `permanent` table, the outcome's column totals in every variable's
table, the grand total) are withheld in all of them once any one withholds them; and so are the sums two
variables' tables share (`shared_sums`: detailed ethnicity within its broad group, where White other's
excluded less WOTH's and WROM's gave White Irish's "<10" back exactly), none left with a withheld value a
reader can work out, by the rule of a table's line (`privacy.withheld_pinned`: one withheld value, or
several whose sum pins one, as Mixed's 38 permanently excluded less MWBC's 36 and MWBA's 0 left MWAS's
and MOTH's "<10" summing to 2, both 1), its partner the one that loses least (`privacy.complement`),
chosen one at a time. An outcome of 1-9 pupils is not split at all (`privacy.withhold_split`: a 0 or
"<10" beside another told who). A rate, rate ratio or residual is shown only where both counts are.
Chi-square: rows with a withheld count are pooled into one row before the test, so the statistic is a
function of what is published (on the full table, a statistic and the shown cells can be solved for a
withheld cell); `chi2_cells` names the pooled values. No test is run where the outcome's totals are
withheld: every expected count is a row total times a column total over all pupils. This defends each
table's own rows and columns and the shared totals, solved together too (`describe_joint`), not two runs'
windows of years differenced (`describe_ledger` refuses a second output over the same pupils). Nor is one
run where, pooled, the outcome is in the pooled row only, or
expected counts break Cochran's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.features import registry
from exclusion_risk.features.need import NOT_KNOWN_TO_SOCIAL_CARE, SOCIAL_CARE_STATUS, social_care_status
from exclusion_risk.linkage.codes import NC_YEAR_NUMBERS, nc_year_code
from exclusion_risk.models.describe_joint import joint_key, linked_parts
from exclusion_risk.models.describe_study import adjusted_residuals
from exclusion_risk.privacy import (
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    complement,
    exposure_in,
    is_withheld,
    suppress_table,
    withheld_pinned,
    withhold_split,
)

OUTCOMES = {"any": "label_any", "permanent": "label_permanent"}
OUTCOME_LABELS = {"any": "any suspension or permanent exclusion", "permanent": "permanent exclusion"}
UNKNOWN = "unknown"
NONE = "none"
FORMER = SOCIAL_CARE_STATUS[-1][0]  # formerly known to social care, nothing open on census day
POOLED = "withheld groups (pooled)"
POOL_SEPARATOR = "+"  # a folded row's value: its groups' codes, e.g. "MSI+PMLD" (no code holds a "+")
EXCLUDED, NOT_EXCLUDED = "excluded", "not_excluded"
OUTCOME_COUNTS = [EXCLUDED, NOT_EXCLUDED]
# FSM in the last six years as rows within the census day's (`_fsm_history`): "ever eligible" held the
# census day's "eligible" (describe's own FSM table, evaluate's and the review's), so with both shown the
# difference (the earlier-only pupils excluded, permanently excluded) was a count; as "now", "earlier" and
# "never" each row is one of theirs or part of one, a sum the tables share (`shared_sums`), never a
# different group nesting theirs. Ever eligible is "now" and "earlier" together.
NOW, EARLIER, NEVER = "now", "earlier", "never"
FSM_HISTORY_NAMES = {NOW: "eligible on census day",
                     EARLIER: "eligible earlier in the last six years, not on census day",
                     NEVER: "not eligible in the last six years"}  # fmt: skip
# variable -> (label, reference value for rate ratios; None: the largest group)
VARIABLES: dict[str, tuple[str, str | None]] = {
    "sex": ("sex", "F"),
    "fsm": ("free school meals on census day", "0"),  # its rows are named (value_names)
    "fsm_ever6": ("free school meals: on census day, earlier in the last six years, or neither", NEVER),
    "sen_provision": ("SEN provision", "N"),
    "sen_type": ("SEN primary need", NONE),
    "ethnicity": ("ethnicity (CBDS main code)", "WBRI"),
    "ethnicity_group": ("ethnic group", "White British"),
    "social_care": ("social care: status open on census day, else formerly known", NOT_KNOWN_TO_SOCIAL_CARE),
    "nc_year": ("national curriculum year", None),
}
SCHOOL = "school"
PUPIL = "pupil"  # the child across years (PUPIL_KEY, else upn): only counted, as the study counts children
# The variables whose groups the fairness review and evaluate publish as well, defined alike
# (`fairness.review_groups`), or parts of theirs (FSM's history): a describe row holding one of their
# groups and more would give the more back.
REVIEWED = frozenset({"sex", "fsm", "fsm_ever6", "sen_provision", "ethnicity", "ethnicity_group",
                      "social_care"})  # fmt: skip
# The fairness review's and evaluate's social care groups (`features.need.social_care_status`), disjoint:
# each report's group is another's same group, never one nested in a different one (module text).
SOCIAL_CARE_NAMES = {"CLA": "looked after now", "CPP": "child protection plan now (not looked after)",
                     "CIN": "child in need now (no plan, not looked after)",
                     FORMER: "formerly known to social care (nothing open on census day)",
                     NOT_KNOWN_TO_SOCIAL_CARE: "never known to social care"}  # fmt: skip
Z95 = 1.959963984540054


def value_names(variable: str) -> dict[str, str]:
    """Plain-English names of a variable's codes (every CBDS ethnicity code has one)."""
    if variable == "ethnicity":
        return dict(registry.ETHNICITY_NAMES)
    if variable == "sen_type":
        return {**registry.SEN_TYPE_NAMES, NONE: "no SEN recorded"}
    if variable == "sen_provision":
        return dict(registry.SEN_PROVISION_PHRASES)
    if variable == "social_care":
        return dict(SOCIAL_CARE_NAMES)
    if variable == "fsm_ever6":
        return dict(FSM_HISTORY_NAMES)
    if variable == "fsm":
        return {"1": "eligible", "0": "not eligible"}
    if variable == "sex":
        return {"M": "boys", "F": "girls"}
    return {}


def _flag(series: pd.Series) -> pd.Series:
    return series.map({1.0: "1", 0.0: "0"}).fillna(UNKNOWN).astype(object)


def _nc(series: pd.Series) -> pd.Series:
    return series.astype("float64").map(lambda x: nc_year_code(x) or UNKNOWN).astype(object)


def _fsm_history(table: pd.DataFrame) -> pd.Series:
    """FSM in the last six years as disjoint groups within the census day's: eligible now ("now"); not
    now, but in the last six years ("earlier"); neither ("never"); unknown on census day ("unknown")."""
    now, ever = _flag(table["fsm"]), table["fsm_ever6"].fillna(0.0).gt(0)
    history = pd.Series(np.where(ever, EARLIER, NEVER), index=table.index, dtype=object)
    return history.where(now.ne("1"), NOW).where(now.ne(UNKNOWN), UNKNOWN)


def describe_frame(table: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled pupil-year: variables as text, school, IDACI decile, outcomes 0/1, pupil key."""
    table = table[table["label_any"].notna()]
    unrecorded = table["sen_provision"].eq(UNKNOWN) & table["sen_type"].eq(NONE)  # not "no SEN": unknown
    sen_type = table["sen_type"].astype(object).where(~unrecorded, UNKNOWN)
    out = pd.DataFrame(
        {
            "sex": table["sex"].astype(object),
            "fsm": _flag(table["fsm"]),
            "fsm_ever6": _fsm_history(table),
            "sen_provision": table["sen_provision"].astype(object),
            "sen_type": sen_type,
            "ethnicity": table["ethnicity_code"].astype(object),
            "ethnicity_group": table["ethnicity_group"].astype(object),
            "social_care": social_care_status(table),
            "nc_year": _nc(table["nc_year"]),
            SCHOOL: table["SchoolURN"].astype(object).fillna(UNKNOWN),
            "idaci_decile": table["idaci_decile"].astype("float64"),
            PUPIL: table[PUPIL_KEY if PUPIL_KEY in table else "upn"].astype(object),
        },
        index=table.index,
    )
    for outcome, column in OUTCOMES.items():
        out[outcome] = table[column].astype(int)
    return out.reset_index(drop=True)


def _order(variable: str, values) -> list[str]:
    """Display order: the code list's order (every code, even with no pupils), then the rest, unknown last."""
    present = [str(v) for v in values]
    if variable == "nc_year":
        rank = NC_YEAR_NUMBERS
        known = sorted((v for v in present if v != UNKNOWN),
                       key=lambda v: rank.get(v, int(v) if v.isdigit() else 99))  # fmt: skip
        return known + [UNKNOWN] * (UNKNOWN in present)
    listed = {
        "ethnicity": list(registry.ETHNICITY_NAMES),
        "sen_type": [NONE, *registry.SEN_TYPE_NAMES],
        "sen_provision": ["N", "K", "E"],
        "social_care": [NOT_KNOWN_TO_SOCIAL_CARE, FORMER, "CIN", "CPP", "CLA"],
        "fsm": ["0", "1"],
        "fsm_ever6": [NEVER, EARLIER, NOW],
        "sex": ["F", "M"],
    }.get(variable, [])
    rest = sorted(v for v in present if v not in listed and v != UNKNOWN)
    return listed + rest + [UNKNOWN] * (UNKNOWN in present)


def counts(frame: pd.DataFrame, variable: str, outcome: str) -> pd.DataFrame:
    """Pupil-years by value (rows, display order; tiny groups folded, see `fold_small_groups`) x
    [excluded, not_excluded]."""
    grouped = frame.groupby(variable)[outcome].agg(["size", "sum"])
    index = _order(variable, grouped.index) if variable != SCHOOL else sorted(grouped.index)
    grouped = grouped.reindex(index, fill_value=0)
    table = pd.DataFrame(
        {EXCLUDED: grouped["sum"].astype(int), NOT_EXCLUDED: (grouped["size"] - grouped["sum"]).astype(int)},
        index=pd.Index(index, name="value"),
    )
    return fold_small_groups(table, variable)


def fold_small_groups(table: pd.DataFrame, variable: str) -> pd.DataFrame:
    """Groups of 1-9 pupils pooled into one row named by their codes joined with "+" (e.g. `MSI+PMLD`).

    Why: such a group's pupils are "<10", and keeping them from being worked out of the column totals
    withholds a large group's counts too: three pupils of unknown sex hid both boys' and girls' rates.
    Pooled, the row is shown like any other. A pool still under 10 pupils joins the largest other group
    that is not the variable's reference (`SEMH+MSI`: the largest moves least), so every published row
    has 10 or more pupils or none; except for a variable whose groups the fairness review and evaluate
    publish too (`REVIEWED`): there the host's count less theirs would give the pool back (a 3,000-pupil
    authority's "former+CPP", 156 pupils, less evaluate's "previously involved", 153: the 3 on a plan),
    so the pool stays a row of its own, "<10", withheld by the table's rule as theirs is. Nor are their
    groups pooled with each other: a pool of 10 or more holding small groups of different broad groups (BAFR
    8 and MOTH 5) gave one back from its broad group (Black 24 less BCRB 16: BAFR's 8), so each small group
    of theirs is a row of its own, "<10", and the shared sums protect it. The grouping
    depends on pupils only, so it is the same for both outcomes.
    """
    pupils = table.sum(axis=1)
    small = [v for v in table.index if 0 < pupils[v] < SUPPRESSION_THRESHOLD]
    if not small or variable in REVIEWED:  # each of their groups a row of its own, "<10" (see above)
        return table
    if pupils[small].sum() < SUPPRESSION_THRESHOLD:
        preferred = VARIABLES.get(variable, ("", None))[1]
        hosts = [v for v in table.index if v not in small and pupils[v] > 0]
        hosts = [v for v in hosts if v != preferred] or hosts
        if not hosts:  # the whole table is under 10 pupils: nothing to pool with; suppression hides it
            return table
        small = [max(hosts, key=lambda v: pupils[v]), *small]
    kept = table.drop(index=small)
    pooled = table.loc[small].sum().to_frame(POOL_SEPARATOR.join(small)).T
    return pd.concat([kept, pooled]).rename_axis("value")


def value_name(names: dict[str, str], value: str) -> str:
    """A row's plain-English name (`value_names`); a folded row's names joined, marked as pooled."""
    codes = str(value).split(POOL_SEPARATOR)
    if len(codes) == 1:
        return names.get(value, "")
    return " + ".join(names.get(c, c) for c in codes) + " (pooled: groups under 10 pupils)"


def _withheld_keys(outcome: str, variable: str, shown: pd.DataFrame) -> set[tuple]:
    keys = set()
    for value in shown.index[:-1]:
        if is_withheld(shown.loc[value, TOTAL]):
            keys.add(("pupils", variable, value))
    for column in (EXCLUDED, NOT_EXCLUDED):
        if is_withheld(shown.loc[TOTAL, column]):
            keys.add(("column", outcome, column))
    if is_withheld(shown.loc[TOTAL, TOTAL]):
        keys.add(("grand",))
    return keys


def shared_sums(frame: pd.DataFrame, tables: dict[tuple[str, str], pd.DataFrame]) -> list[list[tuple]]:
    """Rows of two variables' tables that hold the same pupils beyond the whole population: each a list
    of (variable, row) whose rows of the first variable sum to its rows of the second (detailed ethnicity
    within its broad group; the SEN needs to SEN support and EHC plans; a single row alike in both, as
    WBRI and White British). Found from the pupils themselves: the rows of two variables linked by a
    pupil in both, taken as far as those links reach; every part short of everyone is such a sum."""
    variables = sorted({variable for _, variable in tables})
    first = next(iter(OUTCOMES))
    rows = {}
    for variable in variables:
        index = tables[(first, variable)].index
        rows[variable] = {part: str(row) for row in index for part in str(row).split(POOL_SEPARATOR)}
    labels = {v: frame[v].astype(str).map(rows[v]) for v in variables}
    lines = []
    for i, a in enumerate(variables):
        for b in variables[i + 1 :]:
            pairs = pd.DataFrame({"a": labels[a], "b": labels[b]}).dropna().drop_duplicates()
            parts = linked_parts([((a, x), (b, y)) for x, y in zip(pairs["a"], pairs["b"], strict=True)])
            if len(parts) > 1:
                lines += parts
    return lines


def _count(table: pd.DataFrame, row, column: str) -> int:
    return int(table.loc[row].sum() if column == TOTAL else table.loc[row, column])


def _line_key(lines: list, tables: dict, shown: dict[tuple[str, str], pd.DataFrame]) -> tuple | None:
    """The first shared sum (`shared_sums`: one variable's rows = the other's) whose withheld values a
    reader can work out, by the rule of a table's line (`privacy.withheld_pinned`: one withheld value is
    the other side's sum less the rest; several, if the shown values leave their signed sum pinning one,
    as two "<10" summing to 2 are both 1), and the shown value beside them to withhold too, the one that
    loses least (`privacy.complement`: fewest of its table's rows and columns left pinned, then the
    smallest); None when there is none. One at a time, each table suppressed again around it before the
    next: two chosen from the same tables would each be costed without the other."""
    for outcome in OUTCOMES:
        for members in lines:
            for column in (EXCLUDED, NOT_EXCLUDED, TOTAL):
                values = {(v, row): shown[(outcome, v)].loc[row, column] for v, row in members}
                held = [m for m, x in values.items() if is_withheld(x)]
                true = [_count(tables[(outcome, v)], row, column) for v, row in held]
                signs = [1 if v == members[0][0] else -1 for v, _ in held]  # which side of the sum
                if not withheld_pinned(true, [values[m] == SUPPRESSED for m in held], signs):
                    continue
                candidates = sorted(m for m, x in values.items() if not is_withheld(x) and int(x) > 0)
                if not candidates:
                    continue
                outcomes = list(OUTCOMES) if column == TOTAL else [outcome]  # pupils: in every outcome's

                def cost(member, outcomes=outcomes, column=column):
                    variable, row = member
                    return sum(exposure_in(tables[(o, variable)], shown[(o, variable)], (row, column))
                               for o in outcomes)  # fmt: skip

                v, row = complement(candidates, lambda m, values=values: int(values[m]), cost)
                return ("pupils", v, row) if column == TOTAL else ("cell", outcome, v, row, column)
    return None


def suppress_all(
    tables: dict[tuple[str, str], pd.DataFrame], lines: list[list[tuple[str, str]]] = ()
) -> dict[tuple[str, str], pd.DataFrame]:
    """Every (outcome, variable) table as published, shared totals withheld alike (see the module doc),
    and no sum two tables share (`lines`, from `shared_sums`) leaving a withheld value one value only."""
    shared: set[tuple] = set()
    done: dict[tuple, pd.DataFrame] = {}  # (table, what it withholds from the start) -> as published
    small = {o for (o, _), t in tables.items() if 0 < int(t[EXCLUDED].sum()) < SUPPRESSION_THRESHOLD}
    while True:
        shown, found = {}, set()
        for (outcome, variable), table in tables.items():
            withhold = [(v, TOTAL) for v in table.index if ("pupils", variable, v) in shared]
            withhold += [(TOTAL, c) for c in (EXCLUDED, NOT_EXCLUDED) if ("column", outcome, c) in shared]
            withhold += [(TOTAL, TOTAL)] if ("grand",) in shared else []
            withhold += sorted((k[3], k[4]) for k in shared if k[:3] == ("cell", outcome, variable))
            key = (outcome, variable, tuple(withhold))
            if key not in done:
                done[key] = suppress_table(table, withhold=withhold)
            shown[(outcome, variable)] = done[key]
            found |= _withheld_keys(outcome, variable, shown[(outcome, variable)])
        if not found <= shared:  # totals shared between tables first: the shared sums are read after
            shared |= found
            continue
        if (key := _split_key(shown) or _line_key(list(lines), tables, shown)) is None:
            final = {k: withhold_split(t, OUTCOME_COUNTS) if k[0] in small else t for k, t in shown.items()}
            if (key := joint_key(final, tables, lines, small, ("permanent", "any", EXCLUDED))) is None:
                return final  # no sum, nor all of them solved together, pins a withheld count
        shared.add(key)


# Rows of describe's that are parts of one group the review and evaluate publish for the same pupils: FSM
# earlier only and never are the review's "not eligible". Its count is published there whatever describe
# withholds, so one part withheld beside the other shown is the review's count less the shown part.
SPLIT_PARTS = {"fsm_ever6": (EARLIER, NEVER)}


def _split_key(shown: dict[tuple[str, str], pd.DataFrame]) -> tuple | None:
    """The shown part (`SPLIT_PARTS`) to withhold where its partner is withheld, one at a time."""
    for (outcome, variable), table in shown.items():
        parts = [p for p in SPLIT_PARTS.get(variable, ()) if p in table.index]
        for column in (EXCLUDED, NOT_EXCLUDED, TOTAL):
            held = [p for p in parts if is_withheld(table.loc[p, column])]
            open_ = [p for p in parts if not is_withheld(table.loc[p, column])
                     and int(table.loc[p, column]) > 0]  # fmt: skip
            if held and open_:
                return ("pupils", variable, open_[0]) if column == TOTAL else ("cell", outcome, variable,
                                                                                open_[0], column)
    return None


def rate_ratio(a: int, n1: int, c: int, n0: int) -> tuple[float, float, float] | None:
    """(a/n1) / (c/n0) with its 95% interval by the log method; None when either count is 0."""
    if min(a, c) <= 0 or min(n1, n0) <= 0:
        return None
    ratio = (a / n1) / (c / n0)
    se = np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    return ratio, float(np.exp(np.log(ratio) - Z95 * se)), float(np.exp(np.log(ratio) + Z95 * se))


def _reference(variable: str, table: pd.DataFrame, shown: pd.DataFrame) -> str | None:
    """The preferred reference value when its counts are shown and some were excluded, else the largest
    such group; None when no group qualifies (then no ratios)."""
    preferred = VARIABLES.get(variable, (None, None))[1]
    usable = [v for v in table.index if not is_withheld(shown.loc[v, TOTAL])
              and not is_withheld(shown.loc[v, EXCLUDED]) and table.loc[v, EXCLUDED] > 0]  # fmt: skip
    if preferred in usable:
        return preferred
    known = [v for v in usable if v != UNKNOWN]
    return max(known, key=lambda v: table.loc[v].sum()) if known else None


def rate_rows(outcome: str, variable: str, table: pd.DataFrame, shown: pd.DataFrame) -> list[dict]:
    """describe.json's `rates` rows of one table: counts as published, rates only where both are shown."""
    reference = _reference(variable, table, shown)
    rows = []
    for value in table.index:
        excluded, pupils = int(table.loc[value, EXCLUDED]), int(table.loc[value].sum())
        visible = not is_withheld(shown.loc[value, TOTAL]) and not is_withheld(shown.loc[value, EXCLUDED])
        row = {"outcome": outcome, "variable": variable, "value": value, "reference": reference,
               "pupils": shown.loc[value, TOTAL], "excluded": shown.loc[value, EXCLUDED],
               "rate": round(excluded / pupils, 4) if visible and pupils else None,
               "rate_ratio": None, "ci_low": None, "ci_high": None}  # fmt: skip
        if visible and reference is not None:
            if value == reference:
                row["rate_ratio"] = 1.0
            else:
                ref = table.loc[reference]
                ratio = rate_ratio(excluded, pupils, int(ref[EXCLUDED]), int(ref.sum()))
                if ratio is not None:
                    row["rate_ratio"], row["ci_low"], row["ci_high"] = (round(x, 3) for x in ratio)
        rows.append(row)
    return rows


@dataclass
class ChiSquare:
    row: dict  # describe.json's chi2 row
    cells: list[dict]  # observed, expected and standardised residual per shown value
    pooled: list[str]  # values pooled because a count of theirs is withheld


# The chi-square distribution fits Pearson's statistic only where expected counts are not small
COCHRAN_RULE = "Cochran's rule: no expected count under 1, and no more than 20% of them under 5"
PLURALS = {"any": "suspensions or permanent exclusions", "permanent": "permanent exclusions"}


def _why_not_tested(outcome: str, observed: pd.DataFrame, totals_shown: bool) -> str | None:
    """Why the pooled table gets no statistic (describe.json's `not_computed`), None where it gets one."""
    if not totals_shown:
        return f"not computed: the number of {PLURALS[outcome]} is withheld, and a test would give it back"
    if not (observed.sum(axis=0) > 0).all():
        return "not computed: no pupil had the outcome, or every pupil did"
    if len(observed) < 2 and POOLED not in observed.index:
        return "not computed: every pupil is in one group"
    # Pooling puts every group with a "<10" in one row: where it holds all the outcomes, the test compares
    # the pooled mix with groups that have none (SEN type's 16 permanent exclusions, in no SEN and SEMH,
    # pooled read "p = 0.998"; unpooled, p < 0.001). A shown group holding them all (15 boys) is tested.
    if list(observed.index[observed[EXCLUDED] > 0]) == [POOLED]:
        return (f"not computed: too few {PLURALS[outcome]} to test by group once the groups with a "
                "withheld count are pooled (they all fall in the pooled row)")
    from scipy.stats.contingency import expected_freq

    expected = expected_freq(observed.to_numpy())
    if (expected < 1).any() or (expected < 5).mean() > 0.2:
        return f"not computed: expected counts too small for the test ({COCHRAN_RULE})"
    return None


def chi_square(outcome: str, variable: str, table: pd.DataFrame, shown: pd.DataFrame) -> ChiSquare:
    """Pearson chi-square (no continuity correction) of value x outcome, withheld rows pooled; where the
    pooled table cannot be tested (`_why_not_tested`) the row says why, and the cells stay where its
    totals are shown (each describes its own group)."""
    from scipy.stats import chi2_contingency  # scipy.stats takes a while to import; only describe needs it

    table = table[table.sum(axis=1) > 0]
    columns = (EXCLUDED, NOT_EXCLUDED, TOTAL)
    pooled = [v for v in table.index if any(is_withheld(shown.loc[v, c]) for c in columns)]
    observed = table.drop(index=pooled)
    if pooled:
        observed.loc[POOLED] = table.loc[pooled].sum()
    # Expected counts are a row's total times the outcome's column total over all pupils, and the statistic
    # and residuals rest on them: with a column total withheld, any of them gives it back (a reviewer
    # read 5 permanent exclusions, withheld as "<10", from one expected count).
    totals_shown = not any(is_withheld(shown.loc[TOTAL, column]) for column in columns)
    why_not = _why_not_tested(outcome, observed, totals_shown)
    row = {"outcome": outcome, "variable": variable, "statistic": None, "dof": None, "p_value": None,
           "not_computed": why_not}  # fmt: skip
    cells = []
    if totals_shown and len(observed) >= 2 and (observed.sum(axis=0) > 0).all():
        result = chi2_contingency(observed.to_numpy(), correction=False)
        if why_not is None:
            row.update(statistic=round(float(result.statistic), 2), dof=int(result.dof),
                       p_value=float(f"{result.pvalue:.3g}"))  # fmt: skip
        expected = result.expected_freq
        residual, adjusted = (observed.to_numpy() - expected) / np.sqrt(expected), adjusted_residuals(
            observed.to_numpy(), expected)  # the second a standard normal deviate  # fmt: skip
        for i, value in enumerate(observed.index):
            if value == POOLED:
                continue
            cells.append({"outcome": outcome, "variable": variable, "value": value,
                          "observed_excluded": int(observed.iloc[i, 0]), "observed_not_excluded":
                          int(observed.iloc[i, 1]), "expected_excluded": round(float(expected[i, 0]), 1),
                          "expected_not_excluded": round(float(expected[i, 1]), 1), "residual_excluded":
                          round(float(residual[i, 0]), 2), "adjusted_residual_excluded":
                          round(float(adjusted[i, 0]), 2), "residual_not_excluded":
                          round(float(residual[i, 1]), 2)})  # fmt: skip
    return ChiSquare(row, cells, pooled)
