"""Issue #12 for the fairness review: no group count can be subtracted out of the page's totals."""

from __future__ import annotations

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.privacy import SUPPRESSED, is_withheld

# The counts of a group's row each rate rests on (an error rate: all of them, and tp, fp, fn, tn)
RESTS_ON = {"base_rate": ("n", "positives"), "selection_rate": ("n", "selected")}


def _context(training, test_year):
    result, _ = training
    pipeline = result.models["lightgbm"].pipeline
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"  # six pupils: "<10" beside 1494 others
    p = pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(
        frame["label"].to_numpy(), p, frame, 0.05,
        {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": False},
        n_boot=20,
    )  # fmt: skip
    return fairness_report.report_context(review)


def test_no_group_count_is_alone_in_its_column_and_no_rate_gives_one_back(training, test_year):
    context = _context(training, test_year)
    totals = {"n": context["pupils"], "positives": context["positives"]}
    for a in context["attributes"]:
        for column, total in totals.items():
            cells = [r[column] for r in a["rows"]] + [total]
            assert sum(is_withheld(v) for v in cells) != 1, (a["name"], column, cells)
        for r in a["rows"]:
            # selection rate * pupils = selected, and so on: no rate beside a withheld count it rests on.
            for metric, m in zip(fairness_report.REPORT_METRICS, r["metrics"], strict=True):
                if any(is_withheld(r[c]) for c in RESTS_ON.get(metric, ("n", "selected", "positives"))):
                    assert m["rate"] in ("-", SUPPRESSED) and m["ratio"] == "-", (metric, r)
        for c in a["calibration"]:
            row = next(r for r in a["rows"] if r["group"] == c["group"])
            if any(is_withheld(row[k]) for k in RESTS_ON["base_rate"]):
                assert c["observed"] in ("-", SUPPRESSED), c  # observed rate * pupils = excluded
    ethnic = next(a for a in context["attributes"] if a["name"] == "ethnic group")
    assert next(r for r in ethnic["rows"] if r["group"] == "Gypsy/Roma")["n"] == "<10"


def test_a_groups_true_positives_cannot_be_subtracted_out_of_its_siblings_error_rates(training, test_year):
    # Precision x selected gives a group's true positives back. Girls have 7 (their error rates hidden),
    # boys 40: shown, boys' precision and the sex table's total (every pupil is a boy or a girl) gave
    # the girls' 7 back by subtraction. Boys' error rates must be withheld too.
    import numpy as np
    import pandas as pd

    frame = pd.concat([test_year] * 10, ignore_index=True)
    label = frame["label"].to_numpy()
    boy = (frame["sex"] == "M").to_numpy()
    rng = np.random.default_rng(5)
    p = np.full(len(frame), 0.01)
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(boy & (label == 1)), 40, replace=False),
        rng.choice(np.flatnonzero(~boy & (label == 1)), 7, replace=False),
    ])  # fmt: skip
    p[chosen] = 0.99
    capacity = 0.05
    others = rng.choice(np.flatnonzero(label == 0), int(capacity * len(frame)) - len(chosen), replace=False)
    p[others] = 0.9
    ablated = p.copy()
    ablated[rng.choice(len(p), 50)] = 0.95
    review = fairness.review(label, p, frame, capacity, {"model_type": "x", "year": "x"}, n_boot=20,
                             ablated_probabilities=ablated)  # fmt: skip
    context = fairness_report.report_context(review, figures=False)
    sex = next(a for a in context["attributes"] if a["name"] == "sex")
    at = fairness_report.REPORT_METRICS.index("precision")
    hidden = [r["group"] for r in sex["rows"] if r["metrics"][at]["value"] is None]
    assert len(hidden) != 1, f"only {hidden} hide their precision: subtraction gives it back"
    assert "girls" in hidden and "boys" in hidden
    # Nor does the ablation's table give them back (the model's precision there x boys' selected).
    errors = {fairness.METRIC_LABELS[m] for m in fairness.ERROR_RATES}
    changes = [c for c in context["ablation"]["changes"] if c["attribute"] == "sex"]
    shown = [c for c in changes if c["metric"] in errors and c["model"] not in ("-", "<10")]
    assert shown == [], shown


def _crafted(test_year, girls_tp: int, seed: int = 5):
    """(frame, labels, probabilities) with the top 5% holding 40 excluded boys, `girls_tp` excluded girls
    and excluded-free others."""
    import numpy as np
    import pandas as pd

    frame = pd.concat([test_year] * 10, ignore_index=True)
    label = frame["label"].to_numpy()
    boy = (frame["sex"] == "M").to_numpy()
    rng = np.random.default_rng(seed)
    p = np.full(len(frame), 0.01)
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(boy & (label == 1)), 40, replace=False),
        rng.choice(np.flatnonzero(~boy & (label == 1)), girls_tp, replace=False),
    ])  # fmt: skip
    p[chosen] = 0.99
    others = rng.choice(np.flatnonzero(label == 0), int(0.05 * len(frame)) - len(chosen), replace=False)
    p[others] = 0.9
    return frame, label, p


def test_the_ablated_models_and_each_options_counts_are_suppressed_across_groups(test_year):
    # The model's own counts are all 10 or more (girls' true positives 40), the ablated model's are not
    # (girls' 7). Its rates are published to three decimals, and boys' selection rate, precision and
    # recall with their exact pupils and excluded pin boys' true positives; the ablated model's overall
    # precision pins its total: girls' 7 is the difference. So boys' ablated error rates must be hidden
    # beside girls', as the model's own are in its table; likewise an option's selection ratio.
    from exclusion_risk.models.fairness_options import AS_IS, measure_options

    frame, label, p = _crafted(test_year, girls_tp=40)
    ablated = _crafted(test_year, girls_tp=7, seed=6)[2]
    review = fairness.review(label, p, frame, 0.05, {"model_type": "x", "year": "x"}, n_boot=20,
                             ablated_probabilities=ablated)  # fmt: skip
    groups = fairness.review_groups(frame)
    references = {a.attribute: a.reference for a in review.attributes}
    review.options = measure_options(label, {AS_IS: p, "ablated": ablated}, groups, 0.05, references,
                                     n_boot=20)
    context = fairness_report.report_context(review, figures=False)
    sex = next(a for a in context["attributes"] if a["name"] == "sex")
    at = fairness_report.REPORT_METRICS.index("precision")
    assert all(r["metrics"][at]["value"] is not None for r in sex["rows"])  # the model's: all shown
    errors = {fairness.METRIC_LABELS[m] for m in fairness.ERROR_RATES}
    changes = [c for c in context["ablation"]["changes"] if c["attribute"] == "sex" and c["metric"] in errors]
    hidden = {c["group"] for c in changes if c["ablated"] in ("-", "<10")}
    assert hidden == {"boys", "girls"}, changes
    # hidden, it reads "-": "<10" is a count
    assert {c["group"]: c["ablated"] for c in changes if c["metric"] == "precision"}["girls"] == "-"


def test_an_options_selection_ratios_do_not_give_a_small_groups_selected_back(test_year):
    # An option selects 5 of 60 Gypsy/Roma pupils: its ratio there is hidden ("-"). Every other ethnic group's
    # ratio (2 decimals) with its pupils gives its selected back to within a pupil or two, and they sum to
    # the capacity's share: one other group's ratio must be withheld beside it, as its table's counts are.
    import numpy as np

    from exclusion_risk.models.fairness_options import AS_IS, measure_options
    from exclusion_risk.models.fairness_words import group_phrase

    frame, label, p = _crafted(test_year, girls_tp=40)
    frame["ethnicity_group"] = np.where(np.arange(len(frame)) % 2, "White British", "Asian")
    # 60 Gypsy/Roma pupils, 30 of them excluded; the model selects 10 of each, as many as it drops
    roma = np.zeros(len(frame), dtype=bool)
    roma[np.flatnonzero(label == 1)[-30:]] = roma[np.flatnonzero(label == 0)[-30:]] = True
    frame.loc[roma, "ethnicity_group"] = "Gypsy/Roma"
    top = [*np.flatnonzero(roma & (label == 1))[:10], *np.flatnonzero(roma & (label == 0))[:10]]
    p[np.flatnonzero((p == 0.9) & ~roma)[: 20 - int((p[roma] > 0.5).sum())]] = 0.01
    p[roma] = 0.01
    p[top] = 0.95
    option = np.where(roma, 0.0, p)
    option[np.flatnonzero(roma)[:5]] = 0.995
    option[np.flatnonzero(option == 0.9)[:5]] = 0.01
    review = fairness.review(label, p, frame, 0.05, {"model_type": "x", "year": "x"}, n_boot=20)
    groups = fairness.review_groups(frame)
    references = {a.attribute: a.reference for a in review.attributes}
    review.options = measure_options(label, {AS_IS: p, "option": option}, groups, 0.05, references, n_boot=20)
    context = fairness_report.report_context(review, figures=False)
    ethnic = next(a for a in context["options"]["attributes"] if a["name"] == "ethnic group")
    ratios = {g["group"]: g["cells"][1]["selection_ratio"] for g in ethnic["groups"]}
    assert {g["group"]: g["cells"][0]["selection_ratio"] for g in ethnic["groups"]}["Gypsy/Roma"] != "-"
    assert ratios["Gypsy/Roma"] == "-", ratios  # hidden; "<10" is a count
    hidden = [g for g, r in ratios.items() if r in ("-", "<10") and g != ethnic["reference"]]
    assert len(hidden) >= 2, ratios
    # nor does the summary quote a ratio its table withholds
    option = next(f for f in context["findings_all"] if f["group"] == "option")
    quoted = option["meaning"].split("selection ratios: ")[1].split("; in observed")[0]
    assert not any(group_phrase("ethnic group", g) in quoted for g in hidden), quoted


def test_the_ablated_models_error_rates_are_hidden_where_its_selected_is_withheld():
    # Five groups; the ablated model selects 5 of group A ("<10"), so another group's ablated selected
    # is withheld beside it (B's 22, "x"). B's tp..tn are all shown, but its recall and false-positive
    # rate with its pupils (400) and excluded (61) give tp 11 and fp 11: selected 22, and then A's 5 is
    # the capacity's 167 less the others'. An error rate needs all of the group's counts shown.
    spec = {"Big": (1000, 100, (40, 33), (30, 30)), "B": (400, 61, (15, 15), (11, 11)),
            "D": (300, 40, (10, 10), (10, 30)), "E": (310, 65, (10, 10), (30, 10)),
            "A": (50, 12, (12, 12), (2, 3))}  # group: pupils, excluded, model (tp, fp), ablated (tp, fp)
    labels, y, model, ablated = [], [], [], []
    for group, (n, excluded, (tp, fp), (atp, afp)) in spec.items():
        for i in range(n):
            out, place = i < excluded, (i if i < excluded else i - excluded)
            labels.append(group)
            y.append(int(out))
            model.append(0.9 if place < (tp if out else fp) else 0.1)
            ablated.append(0.9 if place < (atp if out else afp) else 0.1)
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"sex": "M", "ethnicity_group": labels, "sen_provision": "N", "fsm": 0})
    capacity = 167 / len(y)
    review = fairness.review(np.array(y), np.array(model), frame, capacity, {"model_type": "x", "year": "x"},
                             n_boot=10, ablated_probabilities=np.array(ablated))  # fmt: skip
    context = fairness_report.report_context(review, figures=False)
    published = {(c["group"], c["metric"]): c["ablated"] for c in context["ablation"]["changes"]
                 if c["attribute"] == "ethnic group"}  # fmt: skip
    assert published[("A", "selection rate")] == "-"  # hidden: a rate reads "-", "<10" is a count
    b = {metric: value for (group, metric), value in published.items() if group == "B"}
    assert b["selection rate"] == "-", b
    assert all(b[fairness.METRIC_LABELS[m]] == "-" for m in fairness.ERROR_RATES), b
