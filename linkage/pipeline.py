"""The linkage run: standardise, UPN stage, name-DOB stage, probabilistic stage, one-to-one, bands.

`link_extracts(extracts, settings)` links the exclusions and social-care extracts to the census
pupils; `run_linkage(data_dir, out_dir, settings)` reads them from a folder, links them and writes
the outputs (linkage.outputs). Each source record is linked once, by the first stage that links it.
The run log (logger `linkage`) carries counts and timings only: never a name or a date of birth, and
a count of records or pupils only as report.json publishes it (under 10 "<10", "x" where a "<10" could
be worked out), so run.log may be shared as the report is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from exclusion_risk.linkage.assign import assign, entity_pairs, pupils_with_twins
from exclusion_risk.linkage.engines import DEFAULT_BACKEND, EngineInput, get_engine
from exclusion_risk.linkage.engines.splink_backends import check_backend, check_duckdb_memory
from exclusion_risk.linkage.extract_frames import ids_with_two_dates_of_birth
from exclusion_risk.linkage.outputs import (
    LinkageResult,
    links_table,
    remove_outputs,
    review_pupils,
    review_table,
    unlinked_table,
    write_outputs,
    write_rejects,
)
from exclusion_risk.linkage.read_counts import ExtractRead, NoCleanCensus, extract_reads
from exclusion_risk.linkage.readers import Extracts, read_extracts
from exclusion_risk.linkage.registrations import collection_repeats
from exclusion_risk.linkage.report import build_report
from exclusion_risk.linkage.report_words import source_line
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.sources import SOURCES, SourceSpec
from exclusion_risk.linkage.stage_clock import StageClock
from exclusion_risk.linkage.stages import CensusKeys, census_keys, name_dob_stage, upn_stage
from exclusion_risk.linkage.standardise import IdentityColumns, census_pupil_ids, identity_rows, standardise
from exclusion_risk.linkage.upn_columns import tidy_upn_column
from exclusion_risk.privacy import suppress_count

log = logging.getLogger(__name__)


def extra_columns(settings: LinkageSettings | None) -> dict[str, str]:
    """Variant column -> source column of the run's extra comparisons."""
    extras = settings.comparisons.extra if settings is not None else []
    return {e.variant_column: e.column for e in extras}


# The census columns a linkage run reads: census_variants' (names, DOB, sex, postcode, UPNs) and
# review.csv's (each pupil's newest row: AcademicYear, CensusTerm); the report's count of pupils on
# two rows of one collection (EnrolStatus); plus the extra comparisons'.
LINKAGE_CENSUS_COLUMNS = (
    "UPN", "FormerUPN", "Surname", "PreferredSurname", "FormerSurname", "MiddleNames", "Forename", "DOB",
    "Sex", "Postcode", "AcademicYear", "CensusTerm", "EnrolStatus",
)  # fmt: skip


def linkage_census_columns(settings: LinkageSettings | None = None) -> list[str]:
    """LINKAGE_CENSUS_COLUMNS and the run's extra comparisons' census columns."""
    extras = extra_columns(settings or LinkageSettings()).values()
    return list(dict.fromkeys([*LINKAGE_CENSUS_COLUMNS, *extras]))


def linkage_extracts(extracts: Extracts, settings: LinkageSettings | None = None) -> Extracts:
    """`extracts` as a linkage run reads them: the census's linkage_census_columns, both sources and
    every reject. Not the census's other columns nor the termly attendance rows, which only the pupil
    history reads: at 2,000,000 pupils they are about 1.7 GB that `link` held through every stage."""
    wanted = linkage_census_columns(settings)
    census = extracts.census[[c for c in wanted if c in extracts.census.columns]]
    return Extracts(census, extracts.exclusions, extracts.social_care, extracts.rejects)


def read_for_linkage(data_dir: Path, settings: LinkageSettings | None = None) -> Extracts:
    """linkage_extracts of the extracts in `data_dir`, the census narrowed file by file as it is read
    (read_census's `columns`): held whole until the read ended, the other columns set the read's peak
    (2,000,000 pupils: 4.60 -> 3.89 GB, 74 -> 65 s). The termly attendance files are read for their
    rejects only (`attendance_rows`): their 6,000,000 clean rows were read, matched against the census
    and dropped (2,000,000 pupils: 1.8 GB of the read's peak)."""
    return read_counted_for_linkage(data_dir, settings)[0]


def read_counted_for_linkage(
    data_dir: Path, settings: LinkageSettings | None = None
) -> tuple[Extracts, list[ExtractRead]]:
    """read_for_linkage's extracts, and each extract's rows read and rejected (which the narrowed
    extracts no longer carry), for what `link` says of the rejects."""
    extracts = read_extracts(data_dir, census_columns=linkage_census_columns(settings), attendance_rows=False)
    for result in extracts.results.values():
        if result.stand_in:  # census.txt read for census.csv: said, as `check` says it
            log.warning("%s", result.stand_in)
    return linkage_extracts(extracts, settings), extract_reads(extracts.results)


def census_identity(settings: LinkageSettings | None = None) -> IdentityColumns:
    """Where a census records its pupils' identifiers, for identity_rows and standardise alike."""
    return IdentityColumns(
        surname_columns=("Surname", "PreferredSurname", "FormerSurname"),
        upn_columns=("UPN", "FormerUPN"),
        middle_names_column="MiddleNames",
        extra_columns=extra_columns(settings),
    )


def census_identity_rows(census: pd.DataFrame, settings: LinkageSettings | None = None) -> pd.DataFrame:
    """The census rows' identifiers keyed by pupil (`_pupil`: newest UPN, following FormerUPN links),
    each distinct combination once (identity_rows): all census_variants reads of the termly census."""
    # Each distinct UPN stripped once, for both the check and the pupil ids (it was done twice: 2.4 s
    # and 0.7 GB resident at 2,000,000 pupils), and no copy of the census when every row has one (a
    # census row's UPN is required): per-row stripping and the copy took 0.56 GB.
    recorded = tidy_upn_column(census["UPN"])
    has_upn = (recorded.notna() & (recorded != "")).to_numpy(dtype=bool)
    if has_upn.all():
        pupils = census.assign(_pupil=census_pupil_ids(census, recorded))
    else:
        pupils = census[has_upn]
        pupils = pupils.assign(_pupil=census_pupil_ids(pupils, recorded[has_upn]))
    del recorded
    return identity_rows(pupils, "_pupil", census_identity(settings))


def census_variants(census: pd.DataFrame, settings: LinkageSettings | None = None) -> pd.DataFrame:
    """Variant rows of the census pupils, keyed by pupil (newest UPN, following FormerUPN links)."""
    return standardise_census(census_identity_rows(census, settings), settings)


def standardise_census(identity: pd.DataFrame, settings: LinkageSettings | None = None) -> pd.DataFrame:
    """Variant rows of census_identity_rows (`identity`, with the same settings)."""
    return standardise(identity, "_pupil", **vars(census_identity(settings)), distinct=True)


def _unrecorded_notes(left: pd.DataFrame) -> list[str]:
    """A note when no record left for the probabilistic stage has a name or DOB: the field then
    compares as missing (neutral), so those records link on the other fields, or not at all."""
    missing = [c for c in ("forename", "surname", "dob") if not left.empty and left[c].isna().all()]
    if not missing:
        return []
    fields = " or ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    return [f"no record left after the deterministic stages has a {fields}: compared on the other fields"]


@dataclass(frozen=True)
class _Deterministic:
    """One source after its deterministic stages: its variant rows, its entities and their links."""

    source: pd.DataFrame
    entities: pd.Index
    links: pd.DataFrame  # LINK_COLUMNS


def _deterministic(
    spec: SourceSpec,
    frame: pd.DataFrame,
    census: pd.DataFrame,
    keys: CensusKeys,
    settings: LinkageSettings,
    clock: StageClock,
    bar: tqdm,
) -> _Deterministic:
    """A source standardised and linked by the UPN and name-DOB stages; `keys`: the census's name-DOB
    keys (census_keys), built once for every source."""
    with clock.stage(f"{spec.name}.standardise"):
        source = standardise(frame, spec.id_column, extra_columns=extra_columns(settings))
        entities = pd.Index(frame[spec.id_column].astype("string").unique(), name="eid_l")
    bar.update(1)

    with clock.stage(f"{spec.name}.deterministic"):
        by_upn = upn_stage(source, census, settings, keys)
        rest = source[~source["eid"].isin(by_upn["eid_l"])]
        by_key = name_dob_stage(rest, census, unique_source=spec.unique_key, settings=settings, keys=keys)
        det = pd.concat([by_upn, by_key], ignore_index=True)
    # No counts here: the records, and those left for the next stage, are the report's to publish
    # (suppressed); run.log gives each source's line from it (`source_line`) once the run is linked.
    bar.update(1)
    return _Deterministic(source, entities, det)


def _probabilistic(
    spec: SourceSpec,
    first: _Deterministic,
    census: pd.DataFrame,
    twins: set[str],
    settings: LinkageSettings,
    trained: dict[str, Any] | None,
    clock: StageClock,
    bar: tqdm,
    backend: str = DEFAULT_BACKEND,
    candidates: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, dict, list[str]]:
    """Decisions for one source after its deterministic stages (`first`): eid_l, eid_r, method, score,
    band (accept/review/reject/none), gamma_*; the engine's trained parameters, and its notes on what it
    could not do. `candidates` gets the number of pairs the blocking rules generated (the engine logs
    it before predicting); `twins`: pupils with a possible twin (pupils_with_twins), built once."""
    candidates = {} if candidates is None else candidates
    source, det = first.source, first.links
    remaining = first.entities.difference(pd.Index(det["eid_l"]))
    with clock.stage(f"{spec.name}.probabilistic"):
        data = EngineInput(
            source=source, census=census, score_eids=remaining, labels=det[["eid_l", "eid_r", "method"]]
        )
        result = get_engine(settings, backend).run(data, trained=trained)
    if result.candidate_pairs is not None:
        candidates[spec.name] = result.candidate_pairs
    # Pairs, not records: the records left to this stage are records less the earlier stages' links,
    # which the report may withhold; the pairs under 10 as "<10" (a few pairs may be a few links).
    log.info(
        "%s: %s engine (%s) kept %s scored pairs above the floor",
        spec.name,
        settings.engine,
        backend,
        suppress_count(len(result.pairs)),
    )
    notes = _unrecorded_notes(source[source["eid"].isin(remaining)]) + result.notes
    for note in notes:
        # A warning, so the console's count of run.log warnings points at it.
        log.warning("%s: probabilistic stage: %s", spec.name, note)
    bar.update(1)

    with clock.stage(f"{spec.name}.assign"):
        cands = entity_pairs(result.pairs, source, census)
        taken = set(det["eid_r"]) if spec.one_to_one else set()
        # The method added with DataFrame.assign, not set in place: assign's result is a column pick
        # that pandas marks as a copy of its working frame, and setting on it warned on the console.
        decided = assign(
            cands,
            settings.thresholds,
            one_to_one=spec.one_to_one,
            unavailable=taken,
            twins=twins,
        ).assign(method="probabilistic")
        det = det.assign(band="accept", match_weight=float("inf"))
        no_candidates = remaining.difference(pd.Index(decided["eid_l"]))
        none = pd.DataFrame(
            {"eid_l": no_candidates.astype("string"), "band": "none", "method": "probabilistic"}
        )
        out = pd.concat([det, decided, none], ignore_index=True)
        out = out.sort_values("eid_l", kind="stable").reset_index(drop=True)
    bar.update(1)
    return out, result.trained, notes


def link_extracts(
    extracts: Extracts,
    settings: LinkageSettings | None = None,
    progress: bool = True,
    backend: str = DEFAULT_BACKEND,
    memory: bool = False,
    release_census: bool = False,
) -> LinkageResult:
    """Link `extracts` (census, exclusions, social_care, rejects as the readers return them); the
    probabilistic stage runs on `backend` (duckdb in-process, or spark). `memory`: also record each
    stage's peak resident memory (report["peak_memory_gb"]; bench/linkage.py asks for it).

    `release_census`: once the census's identity rows are taken (census_identity_rows), before they
    are standardised, `extracts.census` is replaced by what the outputs still read of it
    (review_pupils: each pupil's newest row, the review fields), so the termly frame is not held
    through standardisation and the stages (2,000,000 pupils: about 0.8 GB of 6,000,000 rows).
    For a caller that read the extracts for this run only, as run_linkage does."""
    settings = settings or LinkageSettings()
    check_backend(backend)  # a missing Spark is said before any work, not after the deterministic stages
    if backend == DEFAULT_BACKEND and settings.engine == "splink":
        check_duckdb_memory()  # so is a DuckDB memory cap it cannot use
    timings: dict[str, float] = {}
    clock = StageClock(timings, memory=memory)
    trained_in = settings.trained or {}
    trained_out: dict[str, Any] = {}
    decisions: dict[str, pd.DataFrame] = {}
    notes: dict[str, list[str]] = {}
    candidates: dict[str, int] = {}
    with tqdm(total=1 + 4 * len(SOURCES), desc="linkage", unit="step", disable=not progress) as bar:
        with clock.stage("census.review_pupils"):
            census_pupils = int(extracts.census["UPN"].nunique())
            repeats = collection_repeats(extracts.census)
            pupils = review_pupils(extracts.census)
        with clock.stage("census.standardise"):
            identity = census_identity_rows(extracts.census, settings)
            if release_census:  # before standardising: the termly frame is not needed for it
                extracts.census = pupils.reset_index(drop=True)
            census = standardise_census(identity, settings)
            del identity
        # the census's UPNs as report.json counts them (census_upns), not its pupils (the difference is
        # the pupils whose UPN changed, a count the report does not give), nor its variant rows (less the
        # UPNs, the names, dates of birth or postcodes a pupil changed: 6 for 3 surnames changed of 300)
        log.info("census: %d UPNs", census_pupils)
        # The twins before the name-DOB keys, so their working frames and the keys are not held at
        # once (4,000,000 pupils: the twins stage, 5.40 GB, was the run's peak).
        with clock.stage("census.twins"):
            twins = pupils_with_twins(census)
        with clock.stage("census.name_dob_keys"):
            keys = census_keys(census)
        bar.update(1)
        # Every source's deterministic stages first: they are all that read the census's name-DOB
        # keys, which then go before the probabilistic stages run (2,000,000 pupils: 0.37 GB).
        firsts = {}
        for spec in SOURCES:
            bar.set_postfix_str(spec.name)
            firsts[spec.name] = _deterministic(
                spec, getattr(extracts, spec.name), census, keys, settings, clock, bar
            )
        del keys
        for spec in SOURCES:
            bar.set_postfix_str(spec.name)
            decisions[spec.name], trained_out[spec.name], notes[spec.name] = _probabilistic(
                spec, firsts.pop(spec.name), census, twins, settings, trained_in.get(spec.name), clock, bar,
                backend, candidates,
            )
    conflicting = ids_with_two_dates_of_birth(extracts.social_care, "LAchildID")
    if conflicting:
        # A warning, so the console's count of run.log warnings points at it; a count, never an id.
        log.warning(
            "social_care: %s child id(s) (LAchildID) have rows giving two or more dates of birth. Each id "
            "is linked as one child, so one child's episodes may be another's: check those ids in the "
            "social-care system (`exclusion-risk check` counts them exactly)", suppress_count(conflicting),
        )  # as report.json gives it
    run_settings = settings.model_copy(update={"trained": trained_out})
    links = links_table(decisions)
    review = review_table(decisions, extracts, pupils)
    unlinked = unlinked_table(decisions)
    report = build_report(extracts, decisions, run_settings, timings, census_pupils, repeats)
    _add_notes(report, notes)
    if "social_care" in report["sources"]:
        report["sources"]["social_care"]["ids_with_two_dates_of_birth"] = suppress_count(conflicting)
    for name, count in candidates.items():
        report["sources"][name]["candidate_pairs"] = count
    if clock.peak_gb:
        report["peak_memory_gb"] = {k: round(v, 2) for k, v in clock.peak_gb.items()}
    for name, source in report["sources"].items():
        log.info("%s", source_line(name, source))  # the report's counts: run.log is shared as it is
    for name, seconds in timings.items():
        log.info("time %s: %.1f s", name, seconds)
    return LinkageResult(
        links=links,
        review=review,
        unlinked=unlinked,
        report=report,
        settings=run_settings,
        decisions=decisions,
    )


def _add_notes(report: dict[str, Any], notes: dict[str, list[str]]) -> None:
    """Each source's probabilistic-stage notes in its report entry and beside its model (which
    report.html shows), so a reader sees what the stage could not estimate on this data."""
    for name, source_notes in notes.items():
        if not source_notes:
            continue
        report["sources"][name]["probabilistic_notes"] = source_notes
        model = report["model"].get(name)
        if isinstance(model, dict):
            model["notes"] = source_notes


def run_linkage(
    data_dir: Path,
    out_dir: Path,
    settings: LinkageSettings | None = None,
    progress: bool = True,
    backend: str = DEFAULT_BACKEND,
    memory: bool = False,
) -> tuple[Extracts, LinkageResult]:
    """Read the extracts in `data_dir`, link them and write the outputs to `out_dir`; the extracts
    returned are what linkage read of them (linkage_extracts), the census as review_pupils (the run
    releases the termly frame once its variants are built); the result's `reads`, each extract's rows
    read and rejected. NoCleanCensus, after rejects.csv is written, when no census row is clean: there
    is no pupil to link to."""
    extracts, reads = read_counted_for_linkage(Path(data_dir), settings)
    if extracts.census.empty:
        remove_outputs(Path(out_dir))
        write_rejects(extracts, Path(out_dir))
        raise NoCleanCensus(reads)
    result = link_extracts(
        extracts, settings, progress=progress, backend=backend, memory=memory, release_census=True
    )
    result.reads = reads
    write_outputs(result, extracts, Path(out_dir))
    return extracts, result
