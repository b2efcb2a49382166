"""The fairness review shows each group's rate exactly where the counts it rests on are shown: the base
rate (and observed, in the calibration tables) with the group's pupils and excluded, the selection rate
with its pupils and selected, an error rate with all of its counts (with the pupils, selected and
excluded any one gives tp, fp, fn and tn back). A count withheld elsewhere in the row does not hide a
rate that does not rest on it; a hidden rate reads "<10" where a count it rests on is under 10, "-"
where they are withheld as "x" only; in the page, fairness.json, the summary, ablation and options."""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness_options import AS_IS, measure_options
from exclusion_risk.models.fairness_run import fairness_json
from exclusion_risk.privacy import SECONDARY, SUPPRESSED, is_withheld

from .disclosure_audit import Equations, fairness_equations, small_counts_determined

MODEL = {"model_type": "x", "year": "x", "include_protected": False}
# group: pupils, excluded, (true positives, false positives) in the top 180 (5.3%). As shown:
# Asian 500 pupils, 80 excluded, selected "<10"; Black 400, selected 30, excluded "<10";
# Mixed 300, excluded 40, selected "x"; Chinese 200, selected 23, excluded "x".
SPEC = {"White British": (2000, 200, (60, 40)), "Asian": (500, 80, (3, 2)), "Black": (400, 5, (2, 28)),
        "Mixed": (300, 40, (10, 12)), "Chinese": (200, 30, (10, 13))}  # fmt: skip
RATES = dict.fromkeys(fairness_report.REPORT_METRICS)


def _review(options: bool = False):
    labels, y, p = [], [], []
    for group, (n, excluded, (tp, fp)) in SPEC.items():
        for i in range(n):
            out, place = i < excluded, (i if i < excluded else i - excluded)
            labels.append(group)
            y.append(int(out))
            p.append(0.9 if place < (tp if out else fp) else 0.1)
    frame = pd.DataFrame({"sex": "M", "ethnicity_group": labels, "sen_provision": "N", "fsm": 0})
    y, p = np.array(y), np.array(p)
    capacity = 180 / len(y)
    ablated = p if options else None
    review = fairness.review(y, p, frame, capacity, MODEL, n_boot=20, ablated_probabilities=ablated)
    if options:
        references = {a.attribute: a.reference for a in review.attributes}
        review.options = measure_options(y, {AS_IS: p, "same": p.copy()}, fairness.review_groups(frame),
                                         capacity, references, n_boot=10)  # fmt: skip
    return review


def _rows(context: dict) -> dict[str, dict]:
    ethnic = next(a for a in context["attributes"] if a["name"] == "ethnic group")
    return {r["group"]: {**r, "rates": dict(zip(RATES, r["metrics"], strict=True))} for r in ethnic["rows"]}


def test_the_counts_as_constructed():
    rows = _rows(fairness_report.report_context(_review(), figures=False))
    counts = {g: (r["n"], r["selected"], r["positives"]) for g, r in rows.items()}
    assert counts == {"White British": (2000, 100, 200), "Asian": (500, SUPPRESSED, 80),
                      "Black": (400, 30, SUPPRESSED), "Mixed": (300, SECONDARY, 40),
                      "Chinese": (200, 23, SECONDARY)}  # fmt: skip


def test_a_groups_base_and_selection_rates_are_shown_where_their_own_counts_are():
    """They were withheld with any of the group's counts: Asian's base rate (80 of 500) read "-" because
    its selected was "<10", Black's selection rate (30 of 400) because its excluded was."""
    data = json.loads(fairness_json(_review()))
    rows = _rows({"attributes": data["groups"]})
    expected = {("Asian", "base_rate"): 80 / 500, ("Mixed", "base_rate"): 40 / 300,
                ("Black", "selection_rate"): 30 / 400, ("Chinese", "selection_rate"): 23 / 200}  # fmt: skip
    for (group, metric), value in expected.items():
        rate = rows[group]["rates"][metric]
        assert rate["value"] == value and rate["rate"].startswith(f"{value:.3f} ["), (group, metric, rate)
        # its ratio to the reference's (shown) rate is shown with it
        assert rate["ratio_value"] is not None and rate["ratio"] != "-", (group, metric, rate)
    parts = {"base_rate": ("n", "positives"), "selection_rate": ("n", "selected")}
    for group, r in rows.items():
        for metric, cells in parts.items():
            shown = not any(is_withheld(r[c]) for c in cells)
            assert (r["rates"][metric]["value"] is not None) == shown, (group, metric, r["rates"][metric])
            if shown:  # the rate gives back its counts, which are the shown ones
                assert round(r["rates"][metric]["value"] * r["n"]) == r[cells[1]]
        for metric in fairness.ERROR_RATES:  # resting on all the group's counts, hidden with any of them
            if any(is_withheld(r[c]) for c in ("n", "selected", "positives")):
                assert r["rates"][metric]["value"] is None and r["rates"][metric]["ratio"] == "-"


def test_read_with_the_counts_the_rates_shown_pin_down_no_count_under_10():
    equations = Equations()
    fairness_equations(equations, json.loads(fairness_json(_review())))
    assert small_counts_determined(equations) == []


def test_a_hidden_rate_reads_as_the_counts_it_rests_on():
    """"<10" where a count the rate rests on is under 10, "-" where they are withheld as "x" only: Black's
    base rate read "-" beside its error rates' "<10", both resting on its "<10" excluded."""
    rows = _rows(fairness_report.report_context(_review(), figures=False))
    markers = {(g, m): rows[g]["rates"][m]["rate"] for g in rows for m in ("base_rate", "selection_rate")}
    assert markers[("Black", "base_rate")] == SUPPRESSED
    assert markers[("Asian", "selection_rate")] == SUPPRESSED
    assert markers[("Mixed", "selection_rate")] == "-"
    assert markers[("Chinese", "base_rate")] == "-"
    for group in ("Asian", "Black"):  # their true positives are "<10"
        assert all(rows[group]["rates"][m]["rate"] == SUPPRESSED for m in fairness.ERROR_RATES), group
    for group in ("Mixed", "Chinese"):  # "x" only
        assert all(rows[group]["rates"][m]["rate"] == "-" for m in fairness.ERROR_RATES), group


def test_observed_in_the_calibration_table_is_shown_with_the_base_rate():
    """Observed is the base rate: hidden in one table and shown in the other, or hidden with a count it
    does not rest on, it was not the same figure."""
    data = json.loads(fairness_json(_review()))
    calibration = {c["group"]: c for c in data["calibration"]["ethnic group"]}
    rows = _rows({"attributes": data["groups"]})
    assert calibration["Asian"]["observed_value"] == 80 / 500
    for group, c in calibration.items():
        base = rows[group]["rates"]["base_rate"]
        assert (c["observed_value"] is None) == (base["value"] is None), (group, c, base)
        assert c["observed"] == (base["rate"] if base["value"] is None else f"{base['value']:.3f}"), c
        assert (c["ratio_value"] is None) == (base["value"] is None), c
        assert c["predicted"] not in ("-", SUPPRESSED), c  # a mean of scores gives no count back


def _html_rows(html: str, group: str) -> list[list[str]]:
    rows = re.findall(rf"<tr[^>]*><td>{re.escape(group)}</td>(.*?)</tr>", html, flags=re.S)
    return [[unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for row in rows]


def test_the_page_shows_the_same_rates():
    review = _review()
    html = fairness_report.render_report(review)
    context = fairness_report.report_context(review, figures=False)["attributes"]
    rows = _rows({"attributes": context})
    ethnic = next(a for a in context if a["name"] == "ethnic group")
    calibration = {c["group"]: c for c in ethnic["calibration"]}
    for group, r in rows.items():
        table = _html_rows(html, f"{group} (reference)" if r["reference"] else group)[0]
        rates = [v for m in r["metrics"] for v in (m["rate"], m["ratio"])]
        assert table == [str(r["n"]), str(r["selected"]), str(r["positives"]), *rates], group
        c = calibration[group]
        shown = [str(c["n"]), c["predicted"], c["observed"], c["ratio"], c["relative"]]
        assert shown in _html_rows(html, group), group
    asian = _html_rows(html, "Asian")
    assert asian[0][3].startswith("0.160 [") and asian[1][2] == "0.160", asian


def test_the_summary_states_a_base_rate_difference_its_table_shows():
    """Asian pupils were excluded 1.6 times as often as White British pupils, shown and flagged in the
    table; the summary left it out because the group's selected was "<10"."""
    context = fairness_report.report_context(_review(), figures=False)
    rows = _rows(context)
    assert rows["Asian"]["rates"]["base_rate"]["flagged"]
    found = [(f["group"], f["metric"]) for f in context["findings_all"]]
    assert ("Asian", fairness.METRIC_LABELS["base_rate"]) in found, found
    labels = {fairness.METRIC_LABELS[m]: m for m in RATES}
    for f in context["findings_all"]:
        if f["group"] in rows and f["metric"] in labels:  # a ratio the summary quotes is shown in the table
            assert rows[f["group"]]["rates"][labels[f["metric"]]]["ratio"] != "-", f


def test_the_ablation_and_options_show_a_rate_where_its_own_counts_are():
    """Black's selection rate (30 of 400) and selection ratio rest on its pupils and selected, not its
    "<10" excluded; Asian's and Mixed's observed / predicted on their pupils and excluded."""
    context = fairness_report.report_context(_review(options=True), figures=False)
    label = fairness.METRIC_LABELS["selection_rate"]
    changes = {c["group"]: c for c in context["ablation"]["changes"]
               if c["attribute"] == "ethnic group" and c["metric"] == label}  # fmt: skip
    assert changes["Black"]["model"] == "0.075" and changes["Black"]["ablated"] == "0.075", changes["Black"]
    assert changes["Chinese"]["model"] == "0.115", changes["Chinese"]
    assert changes["Asian"]["model"] == "-" and changes["Mixed"]["model"] == "-"
    ethnic = next(a for a in context["options"]["attributes"] if a["name"] == "ethnic group")
    cells = {g["group"]: g["cells"][0] for g in ethnic["groups"]}
    assert cells["Black"]["selection_ratio"] == "1.50" and cells["Chinese"]["selection_ratio"] == "2.30"
    assert cells["Asian"]["selection_ratio"] == "-" and cells["Mixed"]["selection_ratio"] == "-"
    for group in ("Asian", "Mixed"):
        assert cells[group]["calibration"] not in ("-", SUPPRESSED), (group, cells[group])
    assert cells["Black"]["calibration"] == "-" and cells["Chinese"]["calibration"] == "-"
