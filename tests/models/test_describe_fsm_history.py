"""FSM in the last six years beside FSM on census day: describe's rows are theirs, or parts of theirs.

"Ever eligible in six years" held "eligible on census day" (describe's own FSM table, and evaluate's and
the review's "eligible"): 15 permanently excluded ever eligible less 12 eligible now gave back the 3
permanently excluded who were eligible only earlier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.describe import describe_frame
from exclusion_risk.models.describe_analysis import analyse
from exclusion_risk.models.fairness import review_groups
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, is_withheld

# (pupils, any exclusion, permanent, fsm now, fsm in the last six years)
GROUPS = ((400, 60, 12, 1.0, 1.0), (300, 25, 3, 0.0, 1.0), (2300, 70, 10, 0.0, 0.0))


def _table() -> pd.DataFrame:
    rows = []
    for pupils, excluded, permanent, now, ever in GROUPS:
        rows += [{"fsm": now, "fsm_ever6": ever, "label_any": float(k < excluded),
                  "label_permanent": float(k < permanent)} for k in range(pupils)]  # fmt: skip
    table = pd.DataFrame(rows)
    n = len(table)
    rng = np.random.default_rng(4)
    codes = pd.Series(rng.choice(["WBRI", "AIND"], n))
    return table.assign(
        upn=[f"A{i:012d}" for i in range(n)], AcademicYear="2019/20", SchoolURN="100001",
        sex=rng.choice(["M", "F"], n), ethnicity_code=codes, ethnicity_group=codes.map(
            {"WBRI": "White British", "AIND": "Asian"}),
        nc_year=8.0, sen_provision="N", sen_type="none", idaci_decile=5.0,
        **dict.fromkeys(("cin_open", "cpp_open", "cla_open", "cin_ever", "cpp_ever", "cla_ever"), 0.0),
    )  # fmt: skip


def _rows(document: dict, frame: pd.DataFrame) -> list[tuple[str, np.ndarray, dict]]:
    """(name, pupils, {count: as published}) of every published describe row."""
    rows = {}
    for r in document["rates"]:
        key = (r["variable"], r["value"])
        mask = np.isin(frame[r["variable"]].astype(str), str(r["value"]).split("+"))
        counts = rows.setdefault(key, (f"{key[0]}={key[1]}", mask, {"pupils": r["pupils"]}))[2]
        counts[r["outcome"]] = r["excluded"]
    return list(rows.values())


def _nested_given_back(rows, counts, whole_too=True):
    """(outer, inner, count, a, b) for each published row nested in another whose shown counts differ by
    1-9: the pupils (or excluded) of the difference given back. `whole_too`: rows of every pupil count as
    outer rows."""
    given_back = []
    for outer_name, outer, outer_counts in rows:
        for inner_name, inner, inner_counts in rows:
            if not inner.any() or (inner & ~outer).any() or inner.sum() == outer.sum():
                continue
            if outer.all() and not whole_too:
                continue
            for count in counts:
                a, b = outer_counts.get(count), inner_counts.get(count)
                if a is None or b is None or is_withheld(a) or is_withheld(b):
                    continue
                if 0 < int(a) - int(b) < SUPPRESSION_THRESHOLD:
                    given_back.append((outer_name, inner_name, count, a, b))
    return given_back

def test_no_fsm_row_holds_another_rows_pupils_and_a_few_more():
    table = _table()
    frame = describe_frame(table)
    rows = _rows(analyse(frame, ["2019/20"]).document, frame)
    eligible = (review_groups(table)["free school meals"] == "eligible").to_numpy()  # evaluate's too
    rows.append(("review: eligible", eligible, {"pupils": int(eligible.sum()), "any": 60}))
    given_back = _nested_given_back(rows, ("pupils", "any", "permanent"))
    assert not given_back  # before: ('fsm_ever6=1', 'fsm=1', 'permanent', 15, 12): 3 eligible only earlier


def test_a_year_with_no_exclusions_is_described_without_a_traceback(tmp_path):
    # describe of a year in which no pupil was suspended or excluded (a small authority's quiet year, or a
    # tiny cohort): no chi-square test is run, so there are no cells, and the study's comparison read the
    # cells' "outcome" column from a frame that had none: KeyError: 'outcome' on the code before.
    from exclusion_risk.models.describe_report import write_describe

    table = _table().assign(label_any=0.0, label_permanent=0.0)
    description = analyse(describe_frame(table), ["2019/20"])
    assert description.document["chi2_cells"] == []
    assert list(description.tables["chi2_cells.csv"].columns)[:3] == ["outcome", "variable", "value"]
    assert write_describe(description, tmp_path)


def test_no_fsm_row_is_the_reviews_group_less_a_few_pupils():
    # The review (and evaluate) publish FSM "not eligible", which is describe's "earlier" and "never"
    # together. Describe withheld its own FSM "0" row's excluded ("x") to protect the 6 excluded eligible
    # only earlier, and showed "never" (70): the review's not eligible (76) less 70 gave the 6 back.
    from exclusion_risk.models import fairness, fairness_report

    groups = ((400, 60, 12, 1.0, 1.0), (300, 6, 0, 0.0, 1.0), (2300, 70, 10, 0.0, 0.0))
    rows = []
    for pupils, excluded, permanent, now, ever in groups:
        rows += [{"fsm": now, "fsm_ever6": ever, "label_any": float(k < excluded),
                  "label_permanent": float(k < permanent)} for k in range(pupils)]  # fmt: skip
    base = _table()
    table = base.assign(**{c: pd.DataFrame(rows)[c].to_numpy() for c in rows[0]})
    frame = describe_frame(table)
    published = _rows(analyse(frame, ["2019/20"]).document, frame)
    y = table["label_any"].to_numpy()
    p = np.linspace(0.9, 0.01, len(table))
    model = {"model_type": "x", "year": "2019/20", "include_protected": False}
    review = fairness_report.summary_json(fairness.review(y, p, table, 0.05, model, n_boot=5))
    labels = review_groups(table)["free school meals"].to_numpy()
    fsm = next(t for t in review["groups"] if t["name"] == "free school meals")
    for r in fsm["rows"]:
        counts = {"pupils": r["n"], "any": r["positives"]}
        published.append((f"review: {r['group']}", labels == r["group"], counts))
    given_back = _nested_given_back(published, ("pupils", "any"))
    assert not given_back  # before: ('review: not eligible', 'fsm_ever6=never', 'any', 76, 70)


def test_small_ethnic_groups_are_not_pooled_across_their_broad_groups():
    # Ethnicity's groups under 10 pupils (BAFR 8, MOTH 5) were pooled into one row of 13, shown; then the
    # broad group less its other code gave one back: Black 24 less BCRB 16 is BAFR's 8 pupils (describe's
    # own ethnic group table, and the review's).
    table = _table()
    codes = {"BCRB": ("Black", 16), "BAFR": ("Black", 8), "MOTH": ("Mixed", 5), "MWBC": ("Mixed", 30)}
    start = 0
    for code, (broad, count) in codes.items():
        rows = table.index[start : start + count]
        table.loc[rows, "ethnicity_code"], table.loc[rows, "ethnicity_group"] = code, broad
        start += count
    frame = describe_frame(table)
    rows = _rows(analyse(frame, ["2019/20"]).document, frame)
    given_back = _nested_given_back(rows, ("pupils", "any", "permanent"), whole_too=False)
    assert not given_back  # before: ('ethnicity_group=Black', 'ethnicity=BCRB', 'pupils', 24, 16)
