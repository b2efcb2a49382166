"""History-aware by default: one setting (EXCLUSION_RISK_DATA_DIR) names the authority's extracts, its
linkage output is the `linkage` folder beside them, and `serve` started where `make demo` wrote
data/demo uses the demo authority's history with no setting at all. `/health` and `/model` say which
history is loaded (folder names, counts, link rates); census uploads are then scored with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.serving.schemas import HealthResponse, HistoryInfo
from exclusion_risk.serving.settings import ServiceSettings
from exclusion_risk.upn import is_valid_upn

REPORT = {"sources": {"exclusions": {"link_rate": 0.975}, "social_care": {"link_rate": 0.95}}}


def _authority(root: Path, champion) -> Path:
    """root/extracts (the champion's extracts) and root/linkage (its links and a linkage report), laid
    out as `make demo` writes them; returns the extracts folder."""
    (root / "linkage").mkdir(parents=True)
    (root / "extracts").symlink_to(champion.extracts, target_is_directory=True)
    (root / "linkage" / LINKS_FILE).symlink_to(champion.links / LINKS_FILE)
    (root / "linkage" / "report.json").write_text(json.dumps(REPORT))
    return root / "extracts"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATA_DIR", "EXTRACTS_DIR", "LINKS_DIR"):
        monkeypatch.delenv(f"EXCLUSION_RISK_{name}", raising=False)
    return monkeypatch


def test_one_setting_names_the_extracts_and_the_linkage_beside_them(clean_env, tmp_path):
    clean_env.chdir(tmp_path)  # no data/demo here
    assert ServiceSettings().data_dir is None and ServiceSettings().links_dir is None
    clean_env.setenv("EXCLUSION_RISK_DATA_DIR", str(tmp_path / "la" / "extracts"))
    settings = ServiceSettings()
    assert settings.extracts_dir == tmp_path / "la" / "extracts"
    assert settings.links_dir == tmp_path / "la" / "linkage"
    # The older pair still works, and an explicit LINKS_DIR wins over the default.
    clean_env.delenv("EXCLUSION_RISK_DATA_DIR")
    clean_env.setenv("EXCLUSION_RISK_EXTRACTS_DIR", str(tmp_path / "e"))
    clean_env.setenv("EXCLUSION_RISK_LINKS_DIR", str(tmp_path / "l"))
    assert (ServiceSettings().data_dir, ServiceSettings().links_dir) == (tmp_path / "e", tmp_path / "l")
    # The rule itself, outside the environment: links beside the extracts unless given.
    rule = ServiceSettings.model_construct(data_dir=tmp_path / "x" / "extracts", extracts_dir=None,
                                           links_dir=None)
    assert rule._history_folders().links_dir == tmp_path / "x" / "linkage"


def test_the_demo_authority_is_the_default_where_make_demo_wrote_it(clean_env, tmp_path):
    (tmp_path / "data" / "demo" / "extracts").mkdir(parents=True)
    (tmp_path / "data" / "demo" / "linkage").mkdir()
    clean_env.chdir(tmp_path)
    assert ServiceSettings().data_dir is None  # no links.csv yet: linkage not run, so no default
    (tmp_path / "data" / "demo" / "linkage" / LINKS_FILE).write_text("source,record_id,upn\n")
    settings = ServiceSettings()
    assert settings.data_dir.resolve() == (tmp_path / "data" / "demo" / "extracts").resolve()
    assert settings.links_dir.resolve() == (tmp_path / "data" / "demo" / "linkage").resolve()
    assert ServiceSettings(data_dir=None).data_dir is None  # said explicitly: no history


def _check_history_reported(service, extracts_label: str, links_label: str) -> dict:
    health = service.wait_for("ready")
    info = health["history_info"]
    assert health["history"] == info["state"] == "ready"
    parsed = HealthResponse.model_validate(health).history_info  # the documented shape
    assert isinstance(parsed, HistoryInfo) and parsed.census_years and parsed.social_care_rows >= 0
    assert (info["extracts"], info["links"]) == (extracts_label, links_label)
    assert info["pupils"] > 1000 and info["census_rows"] >= info["pupils"]
    assert parsed.exclusion_rows > 0
    assert info["link_rates"] == {"exclusions": 0.975, "social_care": 0.95}
    assert "/" not in info["extracts"].split("/", 1)[1]  # folder names only, never a full path
    return info


@pytest.mark.slow  # the champion and a real server
def test_a_server_given_only_the_data_folder_loads_and_reports_its_history(champion, start_service, tmp_path):
    extracts = _authority(tmp_path / "authority", champion)
    service = start_service(tmp_path / "service", {"MLFLOW_TRACKING_URI": champion.tracking_uri,
                                                   "EXCLUSION_RISK_DATA_DIR": str(extracts)})
    try:
        info = _check_history_reported(service, "authority/extracts", "authority/linkage")
        cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
        with service.client() as client:
            model = client.get("/model").json()
            scored = client.post("/score/file", params={"skip_invalid": "true"},
                                 files={"file": ("census.csv", cohort.to_csv(index=False), "text/csv")})
        assert model["history"] == info
        body = scored.json()
        assert scored.status_code == 200 and body["history"] == "linked" and body["missing_features"] == []
        assert "linked history ready" in service.log_text() and str(tmp_path) not in service.log_text()
    finally:
        service.stop()


@pytest.mark.slow
def test_serve_where_make_demo_ran_uses_the_demo_history_with_no_setting(champion, start_service, tmp_path):
    workdir = tmp_path / "repo"
    _authority(workdir / "data" / "demo", champion)
    service = start_service(workdir, {"MLFLOW_TRACKING_URI": champion.tracking_uri})
    try:
        _check_history_reported(service, "demo/extracts", "demo/linkage")
    finally:
        service.stop()


def _sign_in(chromium, service):
    page = chromium.new_context().new_page()
    page.goto(service.base_url + "/")
    page.fill("#api-key", service.keys["scorer"])
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_says_which_history_is_loaded(chromium, live_service):
    from playwright.sync_api import expect

    page = _sign_in(chromium, live_service)
    try:
        expect(page.locator("#history-status")).to_contain_text("scored with the linked history in")
        expect(page.locator("#history-status")).to_contain_text("pupils")
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_says_why_a_census_is_refused_without_history(chromium, champion, start_service, tmp_path):
    from playwright.sync_api import expect

    service = start_service(tmp_path / "bare", {"MLFLOW_TRACKING_URI": champion.tracking_uri})
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(20)
    cohort.to_csv(tmp_path / "census.csv", index=False)
    try:
        page = _sign_in(chromium, service)
        expect(page.locator("#history-status")).to_contain_text("Census uploads cannot be scored now")
        expect(page.locator("#history-status")).to_contain_text("EXCLUSION_RISK_DATA_DIR")
        page.set_input_files("#cohort-file", str(tmp_path / "census.csv"))
        page.get_by_role("button", name="Score cohort").click()
        expect(page.locator("#errors")).to_contain_text("linked pupil history is not configured")
        page.context.close()
    finally:
        service.stop()



def _hard_cases(census_csv: Path, uploaded: set[str]) -> tuple[set[str], set[str]]:
    """Uploaded UPNs the history knows the pupil by another UPN: a temporary UPN a later census row
    replaces (FormerUPN), and a UPN that fails its check letter (keyed wrongly on this census)."""
    census = pd.read_csv(census_csv, dtype=str, keep_default_na=False)
    former = set(census.loc[census["FormerUPN"] != "", "FormerUPN"].str.strip().str.upper())
    invalid = {u for u in uploaded if not is_valid_upn(u)}
    return uploaded & former, invalid


@pytest.fixture(scope="module")
def page_and_command_line(chromium, live_service, champion, exclusion_risk_bin, tmp_path_factory):
    """(the page's download, `exclusion-risk score`'s scores.csv) for the champion's autumn census:
    uploaded on the page, scored from the same extracts and links with the same model version on the
    command line."""
    import os
    import subprocess

    from playwright.sync_api import expect

    tmp_path = tmp_path_factory.mktemp("page_and_cli")
    with live_service.client() as client:
        served = client.get("/model").json()["version"]
    cli_out = tmp_path / "cli" / "scores.csv"
    subprocess.run(
        [str(exclusion_risk_bin), "score", "--data", str(champion.extracts), "--year", "2018/19",
         "--links", str(champion.links), "--alias", served, "--out", str(cli_out)],
        env={**os.environ, "MLFLOW_TRACKING_URI": champion.tracking_uri}, check=True, capture_output=True,
        timeout=600,
    )  # fmt: skip
    context = chromium.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(live_service.base_url + "/")
        page.fill("#api-key", live_service.keys["scorer"])
        page.get_by_role("button", name="Sign in").click()
        page.set_input_files("#cohort-file", str(champion.cohort_csv))
        page.get_by_role("button", name="Score cohort").click()
        expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
        with page.expect_download() as download_info:
            page.click("#download-button")
        from_page_csv = tmp_path / "page.csv"
        download_info.value.save_as(from_page_csv)
    finally:
        context.close()
    text = {"upn": str, "model_version": str, "school_urn": str}
    cli = pd.read_csv(cli_out, dtype=text, keep_default_na=False).set_index("upn")
    web = pd.read_csv(from_page_csv, dtype=text, keep_default_na=False).set_index("upn")
    return web, cli


def _compare(web: pd.DataFrame, cli: pd.DataFrame) -> None:
    assert np.abs(web["probability"].to_numpy() - cli["probability"].to_numpy()).max() < 1e-6
    assert (web["rag"].to_numpy() == cli["rag"].to_numpy()).all()
    assert list(web.columns) == list(cli.columns)  # the officer's new columns are on the page's too
    for column in cli.columns.drop("probability"):
        left, right = web[column].reset_index(drop=True), cli[column].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(right) and pd.api.types.is_numeric_dtype(left):
            pd.testing.assert_series_equal(left, right, check_exact=False, atol=1e-6, check_names=False)
        else:
            assert (left.astype(str) == right.astype(str)).all(), column


@pytest.mark.browser
@pytest.mark.slow
def test_a_cohort_uploaded_on_the_page_scores_as_the_command_line_does(page_and_command_line, champion):
    """Issue #12: the autumn census uploaded on the page gets the probabilities (within 1e-6: scores.csv
    keeps six places), RAG and every officer's column that `exclusion-risk score` gives the same pupils,
    each under the UPN on the census: pupils first recorded under a temporary UPN, and pupils whose UPN
    was keyed wrongly on it, included (both read with their own history, by the history's pupil id)."""
    web, cli = page_and_command_line
    assert len(web) > 1000 and set(web.index) == set(cli.index) and web.index.is_unique
    temporary, mistyped = _hard_cases(champion.extracts / "census.csv", set(web.index))
    assert temporary and mistyped  # the cohort holds both hard cases
    # scores.csv ends with the feature table's pupil key (pupil_upn); the page's download keeps the columns
    # the service gives, the rest of scores.csv's
    assert cli.columns[-1] == "pupil_upn"
    _compare(web, cli.loc[web.index].drop(columns="pupil_upn"))
