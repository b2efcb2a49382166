"""`exclusion-risk drift`: a year's cohort against the model's training years, in drift.json and drift.html.

The reference years are the champion's fitted years (its stored profile's, else its `fitted_years` tag,
else `train_years`) or `--reference-year`; feature by feature, with link rates and the exclusion rate
(`models.drift`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import out_folder
from exclusion_risk.features.labels import TARGETS
from exclusion_risk.features.registry import get as feature_def
from exclusion_risk.files import write_text
from exclusion_risk.models import tracking
from exclusion_risk.models.cli_inputs import fail, linked_data
from exclusion_risk.models.drift_link_rates import rate_words
from exclusion_risk.models.rendering import render
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

if TYPE_CHECKING:
    from exclusion_risk.models.drift import DriftReport

JSON_FILE = "drift.json"
HTML_FILE = "drift.html"
QUIET = "no drift warnings"


def register(app: typer.Typer) -> None:
    app.command("drift")(drift_command)


def _years(values: list[str] | None, option: str) -> list[str]:
    try:
        return sorted({calendar.normalise_year(y) for v in values or [] for y in v.split(",") if y.strip()})
    except ValueError as exc:
        fail(f"{option}: {exc}")


def _champion_years() -> tuple[list[str], object]:
    """The years the champion was fitted on: its stored drift profile's, else its `fitted_years`
    tag (else, registered before that, its `train_years`); and the champion's registry version."""
    from exclusion_risk.models.drift_data import stored_profile  # imported here: see drift_command

    uri = tracking.setup_read()
    version = tracking.resolve_version(tracking.CHAMPION)
    if version is None:
        fail(
            f"no {tracking.REGISTERED_MODEL}@{tracking.CHAMPION} in the MLflow store {uri}; "
            "give --reference-year (e.g. --reference-year 2016/17,2017/18)"
        )
    profile = stored_profile(version.run_id)
    tags = version.tags
    tagged = tags.get("fitted_years") or tags.get("train_years") or ""
    years = profile["years"] if profile else tagged.split(",")
    years = sorted(y for y in years if y)
    if not years:
        fail(f"the champion (version {version.version}) names no training years; give --reference-year")
    return years, version


def _trained_elsewhere(version, table, references: list[str], year: str, term: str) -> list[str]:
    """A warning where the champion's reference years are not these extracts' (its training data
    fingerprint's pupils per year differ): the check then compares these extracts' years with each other,
    and says nothing of the data the model learned from (a consortium analyst's other authority read
    "no drift" against a model trained on the first). Pupils only: the label asked for may be another."""
    from exclusion_risk.models.fingerprint import data_differs, kept_years

    if version is None or calendar.parse_census(tracking.census_of(version.tags)) != term:
        return []  # another census's pupils differ by the census, not the extracts
    differs = data_differs(kept_years(version.tags.get("train_id")), table, references, facts=("pupils",))
    if differs is None:
        return []
    return [f"The champion (version {version.version}) was trained on other extracts than these "
            f"({differs}): this check compares these extracts' {year} with their own "
            f"{', '.join(references)}, not with the data the model learned from; the model may be another "
            "authority's, and its drift is not checked."]


def write_report(report: DriftReport, out: Path, source: dict | None = None) -> tuple[Path, Path]:
    """drift.json (the report's document; `source`: the extracts' digests, models.fingerprint) and
    drift.html (a short page with the notice) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / JSON_FILE, out / HTML_FILE
    document = report.document() | ({"source": source} if source else {})
    write_text(json_path, json.dumps(document, indent=2) + "\n")
    t = report.thresholds
    # A PSI withheld (None: a flag's PSI would give its share back) sorts last and is no notice.
    by_psi = sorted(report.features, key=lambda r: (r["psi"] is None, -(r["psi"] or 0)))
    rows = [{**row, "label": feature_def(row["feature"]).label,
             "band": "warning" if row["warning"] else "notice" if (row["psi"] or 0) >= t.psi_notice else ""}
            for row in by_psi]  # fmt: skip
    html = render(HTML_FILE + ".j2", report=report, rows=rows, notice=DECISION_SUPPORT_NOTICE,
                  thresholds=t, rate_words=rate_words)  # fmt: skip
    write_text(html_path, html)
    return json_path, html_path


def drift_command(
    data: Path = typer.Option(..., "--data", help="Folder with census, exclusions and social_care extracts."),
    year: str = typer.Option(..., "--year", help="Academic year whose cohort is checked, e.g. 2018/19."),
    links: Path = typer.Option(
        None, "--links", help="Output folder of `exclusion-risk link` (default: link now)."
    ),
    reference_year: list[str] = typer.Option(
        None,
        "--reference-year",
        help="Reference year(s), repeatable or a comma list (default: the champion model's training years).",
    ),
    census: str = typer.Option(
        "autumn",
        "--census",
        help="The census the cohort and the reference years are taken at: autumn, spring or summer.",
    ),
    label: str = typer.Option(
        "any", "--label", help="The outcome whose rate is compared: any, permanent or repeat (as `train`'s)."
    ),
    config: Path = typer.Option(None, "--config", help="YAML of thresholds replacing models/drift.yaml's."),
    out: Path = typer.Option(Path("drift"), "--out", help="Folder for drift.json and drift.html."),
) -> None:
    """Has the cohort moved away from the years the model learned from? PSI and missing rates per feature,
    link rates per source, the exclusion rate; a warning sentence for each threshold crossed."""
    # imported here: the feature table and the drift profiles load pandera, which `--help` and the other
    # commands need not wait for
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.models.drift import DriftError, load_thresholds
    from exclusion_risk.models.drift_data import context_of, drift_report, profile_for
    from exclusion_risk.models.fingerprint import extracts_source

    out_folder(out, "--out")  # before the champion, the extracts and the features
    started = time.perf_counter()
    try:
        thresholds = load_thresholds(config)
        term = calendar.parse_census(census)
        if label not in TARGETS:
            raise ValueError(f"--label {label!r} is not one of {', '.join(TARGETS)}")
    except (DriftError, ValueError) as exc:
        fail(str(exc))
    year = _years([year], "--year")[0]
    references, champion = _years(reference_year, "--reference-year"), None
    if not references:
        references, champion = _champion_years()
    if year in references:
        fail(f"--year {year} is one of the reference years; compare it with other years")
    linked = linked_data(data, links)
    available = calendar.census_years(linked.history.census, term)
    missing = [y for y in [*references, year] if y not in available]
    if missing:
        fail(f"no {calendar.census_name(term)} census for {', '.join(missing)} in {data} "
             f"(have: {', '.join(available) or 'none'})")  # fmt: skip
    table = build_feature_table(linked.history, [*references, year], census=term)
    context = context_of(linked)
    try:
        profile = profile_for(table, references, context, of={"census": term, "label": label})
    except DriftError as exc:
        fail(str(exc))
    report = drift_report(profile, table[table["AcademicYear"] == year], year, context, thresholds)
    report.warnings[:0] = _trained_elsewhere(champion, table, references, year, term)
    source = extracts_source(data)  # read before the writing, whose failures alone the message below names
    try:
        json_path, html_path = write_report(report, out, source)
    except OSError as exc:  # a file where a folder of the path should be, no permission, a full disk
        fail(f"cannot write drift.json and drift.html in --out {out}: {exc.strerror or type(exc).__name__}")
    for line in report.warnings or [QUIET]:
        typer.echo(line)
    for line in report.notes:  # what crossed a line without warning, and why; shorter look-backs
        typer.echo(f"note: {line}")
    typer.echo(f"{year} against {', '.join(references)}: wrote {json_path} and {html_path} "
               f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
    typer.echo(DECISION_SUPPORT_NOTICE)  # as on drift.html and in drift.json: beside the figures
