"""Issue #13: intersections (suppressed as two-way tables against the single characteristics' tables) and
detailed ethnicity (CBDS codes) beside the broad groups."""

from __future__ import annotations

import numpy as np

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.privacy import SUPPRESSED, is_withheld

COUNTS = ("n", "selected", "positives")
# The counts each rate rests on (an error rate: all of COUNTS, and tp, fp, fn, tn)
RESTS_ON = {"base_rate": ("n", "positives"), "selection_rate": ("n", "selected")}


def _context(training, frame, **kwargs):
    result, _ = training
    p = result.models["lightgbm"].pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(
        frame["label"].to_numpy(), p, frame, 0.05, {"model_type": "x", "year": "x"}, **kwargs
    )
    return review, fairness_report.report_context(review)


def test_intersections_are_reviewed_and_no_cell_can_be_subtracted_out(training, test_year):
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"  # six pupils, in both sexes
    review, context = _context(training, frame, n_boot=20)
    names = [a["name"] for a in context["intersections"]]
    assert names == ["sex × ethnic group", "sex × SEN provision", "free school meals × ethnic group"]
    single = {a["name"]: {r["group"]: r for r in a["rows"]} for a in context["attributes"]}
    pairs = {
        "sex × ethnic group": ("sex", "ethnic group"),
        "sex × SEN provision": ("sex", "SEN provision"),
        "free school meals × ethnic group": ("free school meals", "ethnic group"),
    }
    for table, a in zip(review.intersections, context["intersections"], strict=True):
        first, second = pairs[a["name"]]
        rows = {r["group"]: r for r in a["rows"]}
        # the counts shown are the real ones where shown
        for _, r in table.table.iterrows():
            for c in COUNTS:
                shown = rows[r["group"]][c]
                assert is_withheld(shown) or shown == int(r[c])
                if 0 < r[c] < 10:
                    assert shown == SUPPRESSED
        for axis, attribute in ((0, first), (1, second)):
            for value, total in single[attribute].items():
                line = [r for g, r in rows.items() if g.split(" / ")[axis] == value]
                for c in COUNTS:
                    cells = [r[c] for r in line] + [total[c]]
                    # a line (cells + the single table's total) never holds exactly one withheld value
                    assert sum(is_withheld(v) for v in cells) != 1, (a["name"], value, c, cells)
        for r in a["rows"]:
            for metric, m in zip(fairness_report.REPORT_METRICS, r["metrics"], strict=True):
                if any(is_withheld(r[c]) for c in RESTS_ON.get(metric, COUNTS)):
                    assert m["rate"] in ("-", SUPPRESSED) and m["ratio"] == "-", (metric, r)
    small = [r for r in context["intersections"][0]["rows"] if "Gypsy/Roma" in r["group"]]
    assert small and all(r["n"] == SUPPRESSED for r in small)
    html = fairness_report.render_report(review)
    assert "By sex × SEN provision" in html


def test_detailed_ethnicity_is_reviewed_beside_the_broad_group(training, test_year):
    frame = test_year.copy()
    codes = np.array(["AIND", "APKN", "ABAN", "WBRI"])
    frame["ethnicity_code"] = codes[np.arange(len(frame)) % 4]
    frame.loc[frame.index[:3], "ethnicity_code"] = "CHNE"  # three pupils
    review, context = _context(training, frame, n_boot=20)
    groups = fairness.review_groups(frame)
    assert "ethnic group" in groups and fairness.DETAILED_ETHNICITY in groups
    detailed = next(a for a in context["attributes"] if a["name"] == fairness.DETAILED_ETHNICITY)
    rows = {r["group"]: r for r in detailed["rows"]}
    assert {"Indian (AIND)", "Pakistani (APKN)", "Bangladeshi (ABAN)", "White British (WBRI)"} <= set(rows)
    assert rows["Pakistani (APKN)"]["n"] == int((frame["ethnicity_code"] == "APKN").sum())
    assert rows["Chinese (CHNE)"]["n"] == SUPPRESSED
    assert "By ethnicity (detailed)" in fairness_report.render_report(review)
