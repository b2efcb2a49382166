"""History-aware by default: one setting (EXCLUSION_RISK_DATA_DIR) names the authority's extracts, its
linkage output is the `linkage` folder beside them, and `serve` started where `make demo` wrote
data/demo uses the demo authority's history with no setting at all. `/health` and `/model` say which
history is loaded (folder names, counts, link rates); census uploads are then scored with it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.serving.schemas import HealthResponse, HistoryInfo
from exclusion_risk.serving.settings import ServiceSettings

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
