"""Issue #12 for the linkage report: no '<10' can be worked out by subtraction from a shown total."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.linkage.report import build_report, render_html
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.privacy import is_withheld


def _source(id_column: str, ethnicity: list[str], bands: list[str], method: str):
    ids = [f"R{i}" for i in range(len(bands))]
    frame = pd.DataFrame({id_column: ids, "Sex": "M", "Ethnicity": ethnicity})
    decisions = pd.DataFrame(
        {
            "eid_l": ids,
            "band": bands,
            "method": [method if b == "accept" else "" for b in bands],
            "score": 1.0,
        }
    )
    return frame, decisions


def _report():
    # Exclusions: 40 WBRI records all linked, 20 BAFR records of which 3 not linked (17 linked).
    exclusions, ex_decisions = _source(
        "RecordID", ["WBRI"] * 40 + ["BAFR"] * 20, ["accept"] * 57 + ["reject"] * 3, "upn"
    )
    # Social care: 30 records, 5 left for clerical review.
    social_care, sc_decisions = _source(
        "LAchildID", ["WBRI"] * 30, ["accept"] * 25 + ["review"] * 5, "name_dob"
    )
    extracts = SimpleNamespace(
        census=pd.DataFrame({"UPN": ["A"]}), exclusions=exclusions, social_care=social_care, rejects=None
    )
    decisions = {"exclusions": ex_decisions, "social_care": sc_decisions}
    return build_report(extracts, decisions, LinkageSettings(), {})


def _lone(values: list) -> bool:
    return sum(is_withheld(v) for v in values) == 1


def test_no_stage_or_group_count_can_be_subtracted_out():
    report = _report()
    for name, s in report["sources"].items():
        methods = list(s["linked"].values())
        assert not _lone([*methods, s["unlinked"], s["records"]]), name
        assert not _lone([s["linked_total"], s["unlinked"], s["records"]]), name
        assert not _lone([*methods, s["linked_total"]]), name
        for column, rows in s["by_group"].items():
            for r in rows:
                # records - linked is the group's unlinked count: both shown means it is shown.
                if not is_withheld(r["records"]) and not is_withheld(r["linked"]):
                    assert not 0 < r["records"] - r["linked"] < 10, (name, column, r)
            for part in ("records", "linked"):
                assert not _lone([r[part] for r in rows] + [s[f"{part}_total" if part == "linked" else part]])
    bafr = next(r for r in report["sources"]["exclusions"]["by_group"]["ethnicity"] if r["group"] == "BAFR")
    assert bafr["link_rate"] is None
    assert "x" in render_html(report)


def test_an_exclusions_files_rows_are_withheld_with_its_records():
    """One row per exclusion record: the rows printed beside a '<10' of records were that count (9)."""
    exclusions, ex_decisions = _source("RecordID", ["WBRI"] * 9, ["accept"] * 9, "upn")
    social_care, sc_decisions = _source("LAchildID", ["WBRI"] * 30, ["accept"] * 30, "name_dob")
    social_care = pd.concat([social_care, social_care.head(3)], ignore_index=True)  # 33 episodes
    extracts = SimpleNamespace(
        census=pd.DataFrame({"UPN": ["A"]}), exclusions=exclusions, social_care=social_care, rejects=None
    )
    report = build_report(extracts, {"exclusions": ex_decisions, "social_care": sc_decisions},
                          LinkageSettings(), {})  # fmt: skip
    assert report["sources"]["exclusions"]["records"] == "<10"
    assert report["sources"]["exclusions"]["rows"] == "<10"
    assert report["sources"]["social_care"]["rows"] == "x"  # 33 episodes less 30 children: 3 repeats
    more = pd.concat([social_care, social_care.head(12)], ignore_index=True)  # 45 episodes: 15 repeats
    extracts.social_care = more
    report = build_report(extracts, {"exclusions": ex_decisions, "social_care": sc_decisions},
                          LinkageSettings(), {})  # fmt: skip
    assert report["sources"]["social_care"]["rows"] == 45


def test_rejected_rows_whose_cells_the_total_would_pin_withhold_the_total():
    """1 exclusions row and 10 social-care rows rejected: '<10' and 'x' beside a total of 11 are 1 and 10."""
    rejects = pd.DataFrame({"file": ["exclusions.csv"] + ["social_care.csv"] * 10})
    exclusions, ex_decisions = _source("RecordID", ["WBRI"] * 20, ["accept"] * 20, "upn")
    social_care, sc_decisions = _source("LAchildID", ["WBRI"] * 30, ["accept"] * 30, "name_dob")
    extracts = SimpleNamespace(
        census=pd.DataFrame({"UPN": ["A"]}), exclusions=exclusions, social_care=social_care, rejects=rejects
    )
    report = build_report(extracts, {"exclusions": ex_decisions, "social_care": sc_decisions},
                          LinkageSettings(), {})  # fmt: skip
    shown = [report["sources"][s]["rows_rejected"] for s in ("exclusions", "social_care")]
    assert shown == ["<10", "x"] and is_withheld(report["rejected_rows"])


def test_the_gap_between_ethnic_groups_counts_what_withheld_groups_shown_counts_prove():
    """OOTH 8 of 11 linked is shown '<10' of 11 and BAFR 15 of 30 'x': the gap read 16.7 points (MOTH's
    100.0% less WBRI's 83.3%, the rates shown), though '<10' of 11 is at most 81.9%: at least 18.1."""
    social_care, sc_decisions = _source(
        "LAchildID", ["OOTH"] * 11 + ["MOTH"] * 20 + ["WBRI"] * 60 + ["BAFR"] * 30,
        ["accept"] * 8 + ["reject"] * 3 + ["accept"] * 70 + ["reject"] * 10
        + ["accept"] * 15 + ["reject"] * 15,
        "name_dob",
    )
    exclusions, ex_decisions = _source("RecordID", ["WBRI"] * 40, ["accept"] * 40, "upn")
    extracts = SimpleNamespace(
        census=pd.DataFrame({"UPN": ["A"]}), exclusions=exclusions, social_care=social_care, rejects=None
    )
    report = build_report(extracts, {"exclusions": ex_decisions, "social_care": sc_decisions},
                          LinkageSettings(), {})  # fmt: skip
    care = report["sources"]["social_care"]
    assert care["largest_gap_by_ethnicity"] == 0.181 and care["largest_gap_by_ethnicity_at_least"]
    assert care["ethnicity_rates_withheld"] == ["BAFR", "OOTH"]
    html = render_html(report)
    assert ("Largest gap between ethnic groups' link rates: at least 18.1 percentage points (MOTH 100.0% "
            "against OOTH at most 81.9%") in html and "BAFR, OOTH.</p>" in html  # fmt: skip
    said = " ".join(report["conclusion"])
    assert "at least 18.1 percentage points" in said and "ethnicity BAFR, OOTH." in said
    for withheld in ("72.7%", "50.0%", "16.7 percentage"):
        assert withheld not in html + said, withheld
