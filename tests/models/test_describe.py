"""`exclusion-risk describe`: rates, chi-square tests and rate ratios equal an independent computation
(pandas crosstab + scipy) on the same data; no published count can be worked out by subtraction;
describe.json has the shape issue 13 fixes; bad input exits 2 with an `error:` line."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.features import registry
from exclusion_risk.models.describe import REVIEWED, describe_frame
from exclusion_risk.models.describe_analysis import analyse
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, is_withheld
from exclusion_risk.synth.truth import write_truth_links

RATE_KEYS = {"outcome", "variable", "value", "reference", "pupils", "excluded", "rate", "rate_ratio",
             "ci_low", "ci_high"}  # fmt: skip
CHI2_KEYS = {"outcome", "variable", "statistic", "dof", "p_value", "not_computed"}
VARIABLE_NAMES = {"sex", "fsm", "fsm_ever6", "sen_provision", "sen_type", "ethnicity", "ethnicity_group",
                  "social_care", "nc_year"}  # fmt: skip


def _feature_table(pupils: int = 6000, seed: int = 3) -> pd.DataFrame:
    """The feature-table columns describe reads, with rates that differ by group and small groups
    (rare ethnicity codes, a few unknown sexes) that must be suppressed."""
    rng = np.random.default_rng(seed)
    codes = list(registry.ETHNICITY_NAMES)
    weights = np.array([40, 1, 0.1, 0.3, 3, 3, 1, 1, 1, 6, 8, 4, 1, 2, 2, 0.5, 0.4, 0.6, 0.5, 0.2])
    ethnicity = rng.choice(codes, pupils, p=weights / weights.sum())
    sex = rng.choice(["M", "F", "unknown"], pupils, p=[0.4985, 0.4985, 0.003])
    provision = rng.choice(["N", "K", "E", "unknown"], pupils, p=[0.8, 0.14, 0.05, 0.01])
    need = rng.choice(["SEMH", "MLD", "SLCN", "ASD", "PD"], pupils, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    sen_type = np.where(np.isin(provision, ["N", "unknown"]), "none", need)
    fsm = rng.choice([1.0, 0.0, np.nan], pupils, p=[0.25, 0.74, 0.01])
    care = rng.random((3, pupils)) < np.array([[0.05], [0.015], [0.01]])
    logit = (-3.6 + 0.9 * (sex == "M") + 0.9 * (fsm == 1) + 1.3 * (sen_type == "SEMH")
             + 0.6 * (provision == "K") - 1.2 * (ethnicity == "AIND") + 0.8 * care.any(axis=0))  # fmt: skip
    p_any = 1 / (1 + np.exp(-logit))
    label_any = (rng.random(pupils) < p_any).astype(float)
    label_permanent = label_any * (rng.random(pupils) < 0.12)
    open_now = care & (rng.random((3, pupils)) < 0.5)  # an episode open on census day is one ever too
    return pd.DataFrame({
        "upn": [f"A{n:012d}" for n in range(pupils)], "AcademicYear": "2017/18",
        "SchoolURN": rng.choice([f"1{n:05d}" for n in range(25)], pupils),
        "sex": sex, "ethnicity_code": ethnicity,
        "ethnicity_group": [registry.ETHNICITY_GROUPS[c] for c in ethnicity],
        "nc_year": rng.integers(0, 12, pupils).astype(float), "fsm": fsm,
        "fsm_ever6": np.where(fsm == 1, 1.0, (rng.random(pupils) < 0.1).astype(float)),
        "sen_provision": provision, "sen_type": sen_type,
        "cin_ever": care[0].astype(float), "cpp_ever": care[1].astype(float),
        "cla_ever": care[2].astype(float), "cin_open": open_now[0].astype(float),
        "cpp_open": open_now[1].astype(float), "cla_open": open_now[2].astype(float),
        "idaci_decile": rng.integers(1, 11, pupils).astype(float),
        "label_any": label_any, "label_permanent": label_permanent,
    })  # fmt: skip


def _independent_groups(table: pd.DataFrame) -> dict[str, pd.Series]:
    """Each variable's groups worked out here from the feature table, not with describe's code."""
    flags = {1.0: "1", 0.0: "0"}
    ever = (table[["cin_ever", "cpp_ever", "cla_ever"]] > 0).any(axis=1)
    care = np.select([table["cla_open"] > 0, table["cpp_open"] > 0, table["cin_open"] > 0, ever],
                     ["CLA", "CPP", "CIN", "former"], "none")  # fmt: skip
    nc = table["nc_year"].astype(int).astype(str).replace({"0": "R"})
    return {
        "sex": table["sex"], "ethnicity": table["ethnicity_code"],
        "ethnicity_group": table["ethnicity_group"],
        "fsm": table["fsm"].map(flags).fillna("unknown"),
        "fsm_ever6": pd.Series(np.select([table["fsm"].isna(), table["fsm"] == 1, table["fsm_ever6"] == 1],
                                         ["unknown", "now", "earlier"], "never"), index=table.index),
        "sen_provision": table["sen_provision"],
        "sen_type": table["sen_type"].where(table["sen_provision"] != "unknown", "unknown"),
        "social_care": pd.Series(care, index=table.index), "nc_year": nc,
    }  # fmt: skip


def _folded(crosstab: pd.DataFrame, doc: dict, variable: str) -> pd.DataFrame:
    """The crosstab with the groups describe folded together (values joined by "+") as one row each."""
    values = {r["value"] for r in doc["rates"] if r["variable"] == variable and "+" in r["value"]}
    for value in values:
        codes = value.split("+")
        crosstab = pd.concat([crosstab.drop(index=codes), crosstab.loc[codes].sum().to_frame(value).T])
    return crosstab


def _pool(crosstab: pd.DataFrame, pooled: list[str]) -> pd.DataFrame:
    """The groups named in chi2_pooled as one row (how describe tests a table with withheld counts)."""
    if not pooled:
        return crosstab
    return pd.concat([crosstab.drop(index=pooled), crosstab.loc[pooled].sum().to_frame("pooled").T])


@pytest.fixture(scope="module")
def described():
    table = _feature_table()
    return table, analyse(describe_frame(table), ["2017/18"]).document


def test_rates_and_ratios_equal_an_independent_crosstab(described):
    table, doc = described
    groups = _independent_groups(table)
    outcomes = {"any": table["label_any"], "permanent": table["label_permanent"]}
    checked = 0
    for row in doc["rates"]:
        crosstab = pd.crosstab(groups[row["variable"]], outcomes[row["outcome"]])
        crosstab = _folded(crosstab, doc, row["variable"])
        if row["value"] not in crosstab.index:
            assert row["pupils"] == 0
            continue
        excluded, pupils = crosstab.loc[row["value"]].get(1.0, 0), crosstab.loc[row["value"]].sum()
        if not is_withheld(row["pupils"]):
            assert row["pupils"] == pupils
        if not is_withheld(row["excluded"]):
            assert row["excluded"] == excluded
        if row["rate"] is None:
            continue
        assert row["rate"] == pytest.approx(excluded / pupils, abs=5e-5)
        reference = crosstab.loc[row["reference"]]
        a, n1, c, n0 = excluded, pupils, reference.get(1.0, 0), reference.sum()
        if row["value"] != row["reference"] and a > 0:
            ratio = (a / n1) / (c / n0)
            se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
            assert row["rate_ratio"] == pytest.approx(ratio, abs=5e-4)
            assert row["ci_low"] == pytest.approx(math.exp(math.log(ratio) - 1.96 * se), abs=2e-3)
            assert row["ci_high"] == pytest.approx(math.exp(math.log(ratio) + 1.96 * se), abs=2e-3)
            checked += 1
    assert checked > 20  # boys, FSM, SEMH, Indian... all compared


def test_chi_square_equals_scipy_on_the_same_table(described):
    table, doc = described
    groups = _independent_groups(table)
    outcomes = {"any": table["label_any"], "permanent": table["label_permanent"]}
    for row in doc["chi2"]:
        crosstab = pd.crosstab(groups[row["variable"]], outcomes[row["outcome"]])
        crosstab = _folded(crosstab, doc, row["variable"])
        pooled = [p["value"] for p in doc["chi2_pooled"]
                  if (p["outcome"], p["variable"]) == (row["outcome"], row["variable"])]  # fmt: skip
        if pooled:  # groups with a withheld count are tested as one group
            crosstab = _pool(crosstab, pooled)
        if row["statistic"] is None:
            continue
        result = chi2_contingency(crosstab.to_numpy(), correction=False)
        assert row["statistic"] == pytest.approx(result.statistic, abs=0.01)
        assert row["dof"] == result.dof
        assert row["p_value"] == pytest.approx(result.pvalue, rel=1e-2)
    fsm = next(r for r in doc["chi2"] if (r["outcome"], r["variable"]) == ("any", "fsm"))
    assert fsm["statistic"] > 50  # FSM pupils' higher rate is found
    cells = pd.DataFrame(doc["chi2_cells"]).set_index(["outcome", "variable", "value"])
    crosstab = _folded(pd.crosstab(groups["sen_type"], outcomes["any"]), doc, "sen_type")
    pooled = [p["value"] for p in doc["chi2_pooled"] if (p["outcome"], p["variable"]) == ("any", "sen_type")]
    crosstab = _pool(crosstab, pooled)
    expected = chi2_contingency(crosstab.to_numpy(), correction=False).expected_freq
    semh = list(crosstab.index).index("SEMH")
    semh_cell = cells.loc[("any", "sen_type", "SEMH")]
    assert semh_cell["expected_excluded"] == pytest.approx(expected[semh, 1], abs=0.05)
    observed = crosstab.loc["SEMH", 1.0]
    residual = (observed - expected[semh, 1]) / math.sqrt(expected[semh, 1])
    assert semh_cell["residual_excluded"] == pytest.approx(residual, abs=0.01)


def test_school_concentration_equals_an_independent_computation(described):
    from scipy.stats import spearmanr

    table, doc = described
    for outcome, label in (("any", "label_any"), ("permanent", "label_permanent")):
        schools = table.groupby("SchoolURN").agg(made=(label, "sum"), pupils=(label, "size"),
                                                 idaci=("idaci_decile", "mean"))  # fmt: skip
        made = sorted(schools["made"], reverse=True)
        total, running, needed = sum(made), 0, 0
        while running < 0.8 * total:
            running += made[needed]
            needed += 1
        figures = doc["concentration"][outcome]
        assert figures["schools_making_80pct"] == needed
        assert figures["share_of_schools_making_80pct"] == pytest.approx(needed / len(schools), abs=1e-4)
        rho = spearmanr(schools["made"] / schools["pupils"], schools["idaci"]).statistic
        assert figures["spearman_rate_vs_idaci"] == pytest.approx(rho, abs=1e-3)


def _line_recoverable(shown: list, total) -> bool:
    """A line (its cells and its total) gives one cell away when exactly one value in it is withheld."""
    return not is_withheld(total) and sum(is_withheld(v) for v in shown) == 1


def test_no_published_count_is_recoverable_by_subtraction(described):
    _, doc = described
    rates = pd.DataFrame(doc["rates"])
    observed = {(c["outcome"], c["variable"], c["value"]): c["observed_not_excluded"]
                for c in doc["chi2_cells"]}  # fmt: skip
    withheld_somewhere = 0
    for (outcome, variable), rows in rates.groupby(["outcome", "variable"]):
        overall = doc["overall"][outcome]
        # columns: the groups' pupils add up to all pupils, their excluded to all excluded
        assert not _line_recoverable(list(rows["pupils"]), overall["pupils"]), (outcome, variable)
        assert not _line_recoverable(list(rows["excluded"]), overall["excluded"]), (outcome, variable)
        for row in rows.itertuples():
            # a row: excluded + not excluded (published in the chi-square table) = pupils
            not_excluded = observed.get((outcome, variable, row.value), "x")
            if not is_withheld(row.excluded) and not is_withheld(row.pupils):
                not_excluded = row.pupils - row.excluded  # derivable: as good as published
            assert not _line_recoverable([row.excluded, not_excluded], row.pupils), row
            for count in (row.pupils, row.excluded, not_excluded):
                assert is_withheld(count) or count == 0 or count >= SUPPRESSION_THRESHOLD, row
            if is_withheld(row.excluded) or is_withheld(row.pupils):
                withheld_somewhere += 1
                assert pd.isna(row.rate) and pd.isna(row.rate_ratio), row
    # a value's pupils are the same count in the `any` and the `permanent` table: withheld in both or neither
    pupils = rates.set_index(["variable", "value", "outcome"])["pupils"].unstack("outcome")
    assert (pupils["any"].map(is_withheld) == pupils["permanent"].map(is_withheld)).all()
    assert withheld_somewhere > 10  # the data has small groups: suppression was exercised
    # a chi-square over withheld counts would let them be solved for: those groups are pooled first
    pooled = {(p["outcome"], p["variable"], p["value"]) for p in doc["chi2_pooled"]}
    for row in doc["rates"]:
        if row["pupils"] != 0 and (is_withheld(row["pupils"]) or is_withheld(row["excluded"])):
            assert (row["outcome"], row["variable"], row["value"]) in pooled, row


def _nested_lines_with_one_withheld(doc: dict) -> list:
    """(outcome, broad group, count, its line) where a broad group's count and its detailed codes' rows
    (registry.ETHNICITY_GROUPS; a folded row counts where all its codes are in that group) hold exactly
    one withheld value: that value is the broad group's less the others."""
    rates = {(r["outcome"], r["variable"], r["value"]): r for r in doc["rates"]}
    found = []
    for outcome in ("any", "permanent"):
        for group in sorted(set(registry.ETHNICITY_GROUPS.values())):
            parent = rates.get((outcome, "ethnicity_group", group))
            rows = [(r, {registry.ETHNICITY_GROUPS.get(c) for c in value.split("+")})
                    for (o, v, value), r in rates.items() if (o, v) == (outcome, "ethnicity")]  # fmt: skip
            children = [r for r, groups in rows if groups == {group}]
            if parent is None or not children or any(group in g and len(g) > 1 for _, g in rows):
                continue  # a row folded across groups: the group's sum holds an unpublished part
            for count in ("pupils", "excluded"):
                line = [parent[count]] + [r[count] for r in children]
                if sum(is_withheld(v) for v in line) == 1:
                    found.append((outcome, group, count, line))
    return found


def test_detailed_ethnicity_cannot_be_subtracted_from_its_broad_group(described):
    # White other 71 excluded - WOTH 58 - WROM 10 gave White Irish's "<10" back (3) on the demo.
    table, _ = described
    table = table.copy()
    table.loc[table["ethnicity_code"] == "WIRI", "ethnicity_code"] = "WOTH"
    irish = np.flatnonzero(table["ethnicity_code"] == "WOTH")[:150]
    table.loc[irish, "ethnicity_code"] = "WIRI"
    table.loc[irish, ["label_any", "label_permanent"]] = 0.0
    table.loc[irish[:3], "label_any"] = 1.0  # 3 of 150 White Irish pupils excluded
    doc = analyse(describe_frame(table), ["2017/18"]).document
    irish_row = next(r for r in doc["rates"] if (r["outcome"], r["value"]) == ("any", "WIRI"))
    assert irish_row["excluded"] == "<10"
    assert _nested_lines_with_one_withheld(doc) == []


def test_groups_under_10_pupils_are_folded_so_they_hide_no_large_group(described):
    table, doc = described
    groups = _independent_groups(table)
    folded = 0
    for row in doc["rates"]:
        pupils = groups[row["variable"]].value_counts()
        codes = row["value"].split("+")
        if len(codes) > 1:  # a folded row: it holds every group of 1-9 pupils, and is not itself small
            folded += 1
            assert all(pupils.get(c, 0) < SUPPRESSION_THRESHOLD for c in codes[1:]) or \
                all(pupils.get(c, 0) < SUPPRESSION_THRESHOLD for c in codes)  # fmt: skip
            assert sum(pupils.get(c, 0) for c in codes) >= SUPPRESSION_THRESHOLD
        elif row["variable"] in REVIEWED:  # a lone group under 10 of the review's stays a row: "<10"
            assert not 0 < pupils.get(row["value"], 0) < SUPPRESSION_THRESHOLD or row["pupils"] == "<10", row
        else:
            assert not 0 < pupils.get(row["value"], 0) < SUPPRESSION_THRESHOLD, row
    assert folded == 0  # the data's groups of a few pupils are rare ethnicity codes: the review's
    # three pupils of unknown sex: folded into boys ("M+unknown") they left boys' and girls' rates shown,
    # but the review publishes boys, and "M+unknown" less boys gave the 3 back. The review's groups are
    # never folded into one of theirs: unknown stays a row, "<10", withheld by the table's rule.
    few = table.copy()
    known = np.where(few["sex"] == "unknown", "F", few["sex"])
    few["sex"] = np.where(np.arange(len(few)) < 3, "unknown", known)
    rates = analyse(describe_frame(few), ["2017/18"]).document["rates"]
    sex = {r["value"]: r for r in rates if (r["outcome"], r["variable"]) == ("any", "sex")}
    assert set(sex) == {"F", "M", "unknown"} and sex["unknown"]["pupils"] == "<10", sex
    # a describe-only variable still folds a pool under 10 into its largest other group: 3 pupils with
    # multi-sensory impairment join SEMH (the largest SEN need; "none" is the reference)
    few.loc[few.index[few["sen_type"].isin(["MLD", "SLCN"])][:3], "sen_type"] = "MSI"
    rates = analyse(describe_frame(few), ["2017/18"]).document["rates"]
    needs = {r["value"]: r for r in rates if (r["outcome"], r["variable"]) == ("any", "sen_type")}
    assert "MSI" not in needs and any(v.endswith("+MSI") for v in needs), needs


def test_describe_json_has_the_issue_shape(described):
    _, doc = described
    assert {"rates", "chi2"} <= set(doc)
    assert all(set(row) == RATE_KEYS for row in doc["rates"])
    assert all(set(row) == CHI2_KEYS for row in doc["chi2"])
    assert {row["outcome"] for row in doc["rates"]} == {"any", "permanent"}
    assert {row["variable"] for row in doc["rates"]} == VARIABLE_NAMES
    ethnicity = {code for row in doc["rates"] if row["variable"] == "ethnicity"
                 for code in row["value"].split("+")}  # fmt: skip
    assert set(registry.ETHNICITY_NAMES) <= ethnicity  # every CBDS main code, with its name in `names`
    assert set(doc["names"]["ethnicity"]) == set(registry.ETHNICITY_NAMES)
    markers = {v for row in doc["rates"] for v in (row["pupils"], row["excluded"]) if isinstance(v, str)}
    assert "<10" in markers and markers <= {"<10", "x"}
    assert markers <= set(doc["suppression"])  # a reader of the JSON is told what each marker means
    json.dumps(doc)  # plain JSON types only


runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "reports"  # tests/artifacts/ is git-ignored


def test_describe_refuses_bad_input_with_exit_2(tmp_path):
    missing = runner.invoke(app, ["describe", "--data", str(tmp_path / "nowhere"),
                                  "--out", str(tmp_path / "o")])  # fmt: skip
    assert missing.exit_code == 2 and "error:" in missing.output and "not a folder" in missing.output
    bad_year = runner.invoke(app, ["describe", "--data", str(tmp_path), "--years", "next year"])
    assert bad_year.exit_code == 2 and "error: --years" in bad_year.output
    no_links = runner.invoke(app, ["describe", "--data", str(tmp_path), "--links", str(tmp_path)])
    assert no_links.exit_code == 2 and "error:" in no_links.output and "links.csv" in no_links.output
    assert not any("Traceback" in r.output for r in (missing, bad_year, no_links))


@pytest.fixture(scope="module")
def authority_report(small_authority, tmp_path_factory):
    """`describe` run once on the small synthetic authority (linked in-process): (result, out folder)."""
    out = tmp_path_factory.mktemp("describe") / "report"
    result = runner.invoke(app, ["describe", "--data", str(small_authority), "--years", "2017/18",
                                 "--out", str(out), "--ledger", str(out.parent / "l.jsonl")])  # fmt: skip
    return result, out


def test_describe_writes_its_report_on_a_synthetic_authority(authority_report, small_authority, tmp_path):
    result, out = authority_report
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "describe.json").read_text())
    assert doc["years"] == ["2017/18"]
    html = (out / "describe.html").read_text()
    assert "Walsall" in html and "data:image/png;base64," in html and "no basis for treating" in html
    # FSM's heading names the variable, its rows the groups (the heading once read "(1 eligible)" above
    # rows 0 and 1, each already named)
    fsm = html[html.index("<code>fsm</code>"):html.index("<code>fsm_ever6</code>")]
    assert "free school meals on census day (<code>" in html and "eligible)" not in html
    assert '<td>1</td><td class="name">eligible</td>' in fsm and '<td class="name">not eligible</td>' in fsm
    for name in ("rates.csv", "chi2.csv", "chi2_cells.csv", "schools.csv", "study_comparison.csv"):
        assert (out / name).stat().st_size > 0
    # the generator's links (not a second in-process linkage, about 30 s of the test's time): the refusal is
    # about the years the census holds, read before any link is used
    links = write_truth_links(small_authority, tmp_path / "links").parent
    unknown_year = runner.invoke(app, ["describe", "--data", str(small_authority), "--links", str(links),
                                       "--years", "2030/31"])  # fmt: skip
    assert unknown_year.exit_code == 2 and "no autumn census for 2030/31" in unknown_year.output


def test_a_year_without_complete_outcomes_is_refused_naming_the_years_that_are(small_authority, tmp_path):
    # Asked for 2018/19 of extracts whose exclusions stop in June 2019, describe said "(complete: none)":
    # it looked only among the years asked for. The extracts complete 2017/18, as evaluate says.
    for name in ("census.csv", "social_care.csv"):
        shutil.copy(small_authority / name, tmp_path / name)
    exclusions = pd.read_csv(small_authority / "exclusions.csv", dtype=str, keep_default_na=False)
    exclusions[exclusions["StartDate"] < "2019-06-01"].to_csv(tmp_path / "exclusions.csv", index=False)
    # the generator's links rather than an in-process linkage (about 30 s): completeness is read from the
    # linked exclusions' latest date, and links to the dropped exclusions are only counted as unmatched
    links = write_truth_links(small_authority, tmp_path / "links").parent
    result = runner.invoke(app, ["describe", "--data", str(tmp_path), "--links", str(links), "--years",
                                 "2018/19", "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "outcomes for 2018/19 are not complete in the data (complete through 2017/18)" in result.output


@pytest.mark.browser
def test_the_report_renders_in_a_browser_and_is_screenshotted(authority_report):
    """describe.html in headless Chromium: the tables and every plot render; a screenshot is saved in
    tests/artifacts/reports/ (git-ignored) for a person to look at."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    result, out = authority_report
    assert result.exit_code == 0, result.output
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((out / "describe.html").as_uri())
        assert page.locator("h1").inner_text().startswith("Exclusions by group")
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        assert len(widths) == 3 and min(widths) > 100  # both rate plots and the schools plot decoded
        assert page.locator("table").count() >= 12  # overall, study, one per variable, schools
        page.screenshot(path=ARTIFACTS / "describe.png", full_page=False)
        browser.close()


def test_the_study_preset_is_demographics_and_needs_only():
    from exclusion_risk.models.config import DEFAULT_CONFIG, load_config
    from exclusion_risk.models.train import model_features

    config = load_config(DEFAULT_CONFIG.with_name("study.yaml"))
    assert list(config.enabled_models()) == ["random_forest"]
    assert config.experiment != load_config(None).experiment  # never a candidate for the main champion
    sources = {f.name: f.source for f in registry.FEATURES}
    features = model_features(config)
    assert {"sex", "ethnicity_code", "fsm", "sen_type", "sen_provision", "cla_ever"} <= set(features)
    assert {sources[name] for name in features} == {"census", "social_care"}
    assert not [name for name in features if name.startswith(("suspension", "absence", "sc_", "school_"))]


def test_a_group_with_every_pupil_or_none_gets_no_chi_square_rather_than_an_error():
    # An authority whose pupils are all White British, none eligible for FSM: the 2 x 2 table has an empty
    # row, whose expected counts are 0; scipy raised and describe stopped.
    table = _feature_table(600).assign(ethnicity_code="WBRI", ethnicity_group="White British", fsm=0.0)
    rows = {r["measure"]: r["here"] for r in analyse(describe_frame(table), ["2017/18"]).document[
        "study_comparison"]}  # fmt: skip
    assert rows["chi-square, White British vs others"] == rows["chi-square, FSM eligible vs all others"]
    assert rows["chi-square, White British vs others"] == "withheld"


def test_with_permanent_exclusions_too_few_to_publish_no_test_or_figure_gives_them_back():
    """A reviewer's find on a 400-pupil authority: 5 permanent exclusions, withheld as "<10", came back
    from chi2_cells' expected counts (see test_describe_suppression), and the study row's note read
    "None secondary schools"."""
    table = _feature_table(600)
    table["label_permanent"] = 0.0
    table.loc[table.index[:5], "label_permanent"] = 1.0
    table.loc[table.index[:5], "label_any"] = 1.0
    document = analyse(describe_frame(table), ["2017/18"]).document
    assert is_withheld(document["overall"]["permanent"]["excluded"])
    statistics = [t["statistic"] for t in document["chi2"] if t["outcome"] == "permanent"]
    assert statistics and statistics == [None] * len(statistics)
    assert not [c for c in document["chi2_cells"] if c["outcome"] == "permanent"]
    notes = " ".join(str(r["note"]) for r in document["study_comparison"])
    assert "None" not in notes and "secondary schools: not shown" in notes


def test_the_legend_is_true_of_an_outcome_of_1_to_9_pupils():
    """An outcome of 1-9 pupils has every group's count withheld alike as "x" (a 0 or "<10" beside another
    told which groups held them), but describe.json's legend said "x" is "a count of 10 or more" and that
    zeros are shown: a tester read 67 "x" counts of permanent exclusions, each in truth 0-9, beside an
    overall "<10". The legend now says so, as the page does."""
    table = _feature_table()
    table["label_permanent"] = 0.0
    table.loc[table.index[:4], "label_permanent"] = 1.0  # 4 permanent exclusions in all
    doc = analyse(describe_frame(table), ["2017/18"]).document
    permanent = [r for r in doc["rates"] if r["outcome"] == "permanent"]
    assert doc["overall"]["permanent"]["excluded"] == "<10"
    assert {r["excluded"] for r in permanent} == {"x"}  # every group's, all 0-9 in truth
    legend = doc["suppression"]
    assert "outcome whose total is 1 to 9" in legend["x"] and "zero included" in legend["x"]
    assert "except" in legend["zero"]
