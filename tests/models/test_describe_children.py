"""`describe`'s side by side with the Walsall study counts children where the study does. A reviewer's find
on the demo: the study's "about 3.5%" (of 62,536 children over 2015/16-2017/18, excluded at any time) sat
beside this authority's 3.3% per pupil-year and read "about the same as the study"; counted like for like,
children on the autumn censuses with any exclusion in any of the years, the demo's is about 6.2% of 77,111
children, 1.8 times the study's."""

from __future__ import annotations

from html import unescape

import pandas as pd

from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.models.describe import describe_frame
from exclusion_risk.models.describe_analysis import analyse
from exclusion_risk.models.describe_study import percent
from tests.models.test_describe import _feature_table

YEARS = ["2016/17", "2017/18"]


def _two_years(pupils: int = 1500) -> pd.DataFrame:
    """Every child on both years' census, under the pupil key; `upn` as each year's census wrote it (a
    corrected UPN in the second year), so only the pupil key finds the child again."""
    first = _feature_table(pupils, seed=5).assign(AcademicYear=YEARS[0])
    second = _feature_table(pupils, seed=6).assign(AcademicYear=YEARS[1])
    first[PUPIL_KEY] = first["upn"]
    second[PUPIL_KEY] = first["upn"]
    second["upn"] = "B" + second["upn"].str[1:]
    return pd.concat([first, second], ignore_index=True)


def _study_rows(table: pd.DataFrame, years: list[str]) -> dict[str, dict]:
    document = analyse(describe_frame(table), years).document
    return {r["measure"]: r for r in document["study_comparison"]}


def test_the_share_excluded_is_of_children_over_the_years_as_the_study_counts():
    table = _two_years()
    rows = _study_rows(table, YEARS)
    per_child = table.groupby(PUPIL_KEY)["label_any"].max()
    per_pupil_year = table["label_any"].mean()
    assert per_child.mean() > 1.5 * per_pupil_year  # the two units differ here, as on the demo
    row = rows["share of children excluded (any)"]
    assert row["here"] == percent(round(per_child.mean(), 4))
    assert "1,500 children" in row["note"] and "2016/17, 2017/18" in row["note"]
    assert "62,536 children" in row["study"] or "62,536 children" in row["note"]
    linked = rows["linked children / pupil-years"]["here"]
    assert linked == "1,500 children, 3,000 pupil-years"


def test_a_share_of_children_resting_on_fewer_than_10_is_withheld():
    table = _two_years(600)
    table["label_any"] = 0.0
    table["label_permanent"] = 0.0
    table.loc[table.index[:5], "label_any"] = 1.0  # 5 children excluded
    row = _study_rows(table, YEARS)["share of children excluded (any)"]
    assert row["here"] == "withheld" and row["reading"] == ""


def test_chi_square_over_repeated_children_says_its_p_values_overstate_the_evidence():
    """Pupil-years of one child are not independent: the study rows' chi-square (demo: boys 1,783, read
    "significant here, as in the study") and each group's test counted most children several times, and
    only the page's "compare in direction, not size" hinted at it."""
    from exclusion_risk.models.describe_report import _html

    description = analyse(describe_frame(_two_years()), YEARS)
    notes = [r["note"] for r in description.document["study_comparison"] if r["measure"].startswith("chi")]
    assert len(notes) == 3 and all("not independent" in n and "overstate" in n for n in notes)
    csv = description.tables["study_comparison.csv"]
    assert csv.loc[csv["measure"].str.startswith("chi"), "note"].str.contains("overstate").all()
    html = unescape(_html(description))
    assert html.count(description.document["chi2_caveat"]) >= 2  # beside the study and the group tests
    # one year: each child is one row, and the tests say nothing of repeats
    one = analyse(describe_frame(_feature_table(1500)), ["2017/18"])
    assert one.document["chi2_caveat"] is None
    assert not [r for r in one.document["study_comparison"] if "not independent" in str(r["note"])]


def test_the_report_carries_a_notice_for_descriptive_figures_beside_them(tmp_path):
    """describe.html and describe.json had no decision-support notice, unlike evaluate's, drift's and the
    fairness review's outputs; then they took the scoring commands' ("These scores support..."), where
    describe publishes no score, only counts and rates of groups."""
    import json

    from exclusion_risk.models.describe_report import HTML_FILE, JSON_FILE, write_describe

    description = analyse(describe_frame(_feature_table(600)), ["2017/18"])
    write_describe(description, tmp_path)
    notice = json.loads((tmp_path / JSON_FILE).read_text())["notice"]
    assert "score" not in notice.lower()
    assert "descriptive figures" in notice and "support a professional's judgement" in notice
    assert "No child should be treated differently" in notice
    html = unescape((tmp_path / HTML_FILE).read_text())
    assert html.count(notice) == 2  # first and last, as before
    from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, DESCRIBE_NOTICE

    assert notice == DESCRIBE_NOTICE and DECISION_SUPPORT_NOTICE not in html
