"""The linked pupil history: what every later stage sees of the extracts.

Names, middle names and dates of birth are dropped here: they are used for linkage only.
Exclusion and social-care rows carry `upn`, the census pupil they were linked to. Termly attendance
rows carry the pupil id in `UPN` (TERMLY_COLUMNS only), and the census's previous-year
`Sessions*` fill and this year's attendance so far are derived from them here, by pupil id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.contract import LINKS_COLUMNS, LINKS_FILE
from exclusion_risk.linkage import extract_frames, upn_columns
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.identity_check import IdentityKeys
from exclusion_risk.linkage.outputs import UNLINKED_FILE
from exclusion_risk.linkage.pipeline import link_extracts
from exclusion_risk.linkage.readers import Extracts, read_extracts
from exclusion_risk.linkage.sources import SOURCES
from exclusion_risk.linkage.standardise import census_pupil_ids
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD

# Identifying columns that never leave the linkage stage.
IDENTIFYING_COLUMNS = (
    "Surname",
    "Forename",
    "MiddleNames",
    "PreferredSurname",
    "FormerSurname",
    "DOB",
)


# The UPN a census row was recorded under, kept beside the pupil id (`UPN`) that replaced it.
RECORDED_UPN = "RecordedUPN"

# The columns of links.csv a pupil history is built from (method and score are for people to read).
LINKED_BY = ("source", "record_id", "upn")


@dataclass
class PupilHistory:
    # canonical census columns less IDENTIFYING_COLUMNS; pupil id is `UPN`, the UPN the row was
    # recorded under is RECORDED_UPN
    census: pd.DataFrame
    exclusions: pd.DataFrame  # canonical exclusions less IDENTIFYING_COLUMNS, plus `upn`
    social_care: pd.DataFrame  # canonical social care less IDENTIFYING_COLUMNS, plus `upn`
    # termly attendance rows (TERMLY_COLUMNS): pupil id in `UPN`; the service derives an upload's
    # attendance so far from them
    attendance: pd.DataFrame = field(default_factory=extract_frames.empty_attendance_frame)
    # keyed hashes of each (pupil id, date of birth) the census recorded, never the dates: the service
    # scores an uploaded row whose date of birth its UPN's pupil lacks without that pupil's history
    identity: IdentityKeys | None = None

    @cached_property
    def pupil_of_upn(self) -> pd.Series:
        """UPN -> the pupil id the history knows it by, for every UPN a census row was recorded under
        (RECORDED_UPN) or gave as a FormerUPN that is not itself the id, where only one pupil claims it.
        Stripped and upper-case on both sides. Derived once per history (the service reads it for every
        census upload; `features.census_upload`)."""
        return _pupil_of_upn(self.census)

    @cached_property
    def pupil_ids(self) -> pd.Index:
        """The pupil ids of the census, stripped and upper-case (an upload's UPN is looked up in them)."""
        return _ids_of(upn_columns.tidy_upns(self.census["UPN"]))


def _ids_of(tidy: np.ndarray) -> pd.Index:
    """`PupilHistory.pupil_ids` from the census's UPNs in their tidy form, one per row."""
    ids = pd.unique(tidy)
    return pd.Index(ids[pd.notna(ids)], dtype="string")


def _pupil_of_upn(census: pd.DataFrame) -> pd.Series:
    """`PupilHistory.pupil_of_upn` of a history census (also used before the history exists)."""
    columns = [c for c in (RECORDED_UPN, "FormerUPN") if c in census.columns]
    if not columns:
        return pd.Series(dtype="string")
    # each distinct UPN tidied once, and only the rows whose UPN differs from the id kept before any
    # frame is built: on most rows the recorded UPN is the id and FormerUPN is blank
    pupil = upn_columns.tidy_upns(census["UPN"])
    raw = np.concatenate([upn_columns.tidy_upns(census[c]) for c in columns])
    pupil = np.concatenate([pupil] * len(columns))
    differs = pd.notna(raw) & pd.notna(pupil) & (raw != pupil)
    pairs = pd.DataFrame({"raw": raw[differs], "pupil": pupil[differs]}, dtype="string").drop_duplicates()
    pairs = pairs[pairs.groupby("raw")["pupil"].transform("nunique") == 1]
    return pd.Series(pairs["pupil"].to_numpy(), index=pairs["raw"].to_numpy(), dtype="string")


# The columns of the history's termly rows: what attendance so far is derived from, nothing more (the
# file's UPN, file name and row number stay with the reader's rejects and counts; the service holds these
# rows for as long as it runs)
TERMLY_COLUMNS = ["UPN", "AcademicYear", "Term", *extract_frames.SESSION_COLUMNS.values()]


def termly_by_pupil(termly: pd.DataFrame, pupil_of_upn: pd.Series) -> pd.DataFrame:
    """Termly attendance rows (TERMLY_COLUMNS) keyed by the history's pupil id (`UPN`).

    A termly file names the UPN the school held that term; a pupil whose temporary UPN was replaced, or
    whose UPN changed, in-year is one pupil in the history, so their autumn row under the old UPN and
    the spring census under the new one meet. A UPN the census does not know stands for itself."""
    recorded = upn_columns.tidy_upn_column(termly["UPN"])
    pupil = recorded.map(pupil_of_upn).fillna(recorded) if len(pupil_of_upn) else recorded
    # typed as the history census's pupil ids (linkage.standardise.census_pupil_ids), so keys meet as they are
    return termly[TERMLY_COLUMNS].assign(UPN=pupil.astype("string"))


def drop_identifying(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in IDENTIFYING_COLUMNS if c in frame.columns])


def _linked(frame: pd.DataFrame, id_column: str, links: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rows of `frame` whose record was linked, with `upn` (the census pupil) added."""
    mine = links[links["source"] == source]
    upn = pd.Series(
        mine["upn"].astype("string").to_numpy(), index=mine["record_id"].astype("string").to_numpy()
    )
    ids = frame[id_column].astype("string")
    out = drop_identifying(frame).assign(upn=ids.map(upn).astype("string").to_numpy())
    return out[out["upn"].notna()].reset_index(drop=True)


def pupil_history(extracts: Extracts, links: pd.DataFrame) -> PupilHistory:
    """The extracts without names or DOB; exclusion and social-care rows carry their linked `upn`.

    Unlinked records are dropped here (the linkage report counts them).
    """
    # One id per pupil: rows under a temporary UPN take the permanent UPN that replaced it, the id
    # links.csv uses.
    census = extracts.census.assign(
        **{RECORDED_UPN: extracts.census["UPN"]}, UPN=census_pupil_ids(extracts.census)
    )
    dates = census["DOB"] if "DOB" in census.columns else pd.Series(pd.NaT, index=census.index)
    tidy = upn_columns.tidy_upns(census["UPN"])  # for the identity keys and `pupil_ids`, tidied once
    identity = IdentityKeys.of(pd.Series(tidy, dtype="string"), dates)
    census = drop_identifying(census).reset_index(drop=True)
    pupil_of_upn = _pupil_of_upn(census)
    attendance = termly_by_pupil(extracts.attendance, pupil_of_upn).reset_index(drop=True)
    history = PupilHistory(
        census=extract_frames.apply_attendance(census, attendance),
        exclusions=_linked(extracts.exclusions, "RecordID", links, "exclusions"),
        social_care=_linked(extracts.social_care, "LAchildID", links, "social_care"),
        attendance=attendance,
        identity=identity,
    )
    # the cached properties seeded with what was just derived (the census they read has the same UPNs)
    history.__dict__["pupil_of_upn"] = pupil_of_upn
    history.__dict__["pupil_ids"] = _ids_of(tidy)
    return history


def read_links(links_dir: str | Path) -> pd.DataFrame:
    """`links.csv` from the output folder of an earlier `exclusion-risk link` (the one reader of it)."""
    path = Path(links_dir) / LINKS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{links_dir} has no {LINKS_FILE} (run `exclusion-risk link` first)")
    try:
        links = pd.read_csv(path, dtype={"record_id": "string", "upn": "string"})
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise ExtractError(
            str(path), f"not a links file written by `exclusion-risk link` ({type(exc).__name__})"
        ) from None
    missing = [c for c in LINKED_BY if c not in links.columns]
    if missing:
        raise ExtractError(
            str(path),
            f"missing column(s) {', '.join(missing)}; "
            f"`exclusion-risk link` writes {', '.join(LINKS_COLUMNS)}",
        )
    # Tidied once, before the checks, so that what is checked is what attaches: a hand-edited
    # " exclusions" passed checks that stripped it and then attached nothing.
    for column in LINKED_BY:
        links[column] = links[column].astype("string").str.strip()
    links["upn"] = upn_columns.tidy_upn_column(links["upn"])  # a UPN's tidy form (upn.upn_key)
    _check_links(links, str(path))
    return links


def _rows(mask) -> str:
    """The 1-based data rows where `mask` holds, the first few of them (never their values)."""
    rows = [int(i) + 1 for i in np.flatnonzero(np.asarray(mask))]
    shown = ", ".join(map(str, rows[:5]))
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"row {shown}" if len(rows) == 1 else f"rows {shown}{more}"


def _check_links(links: pd.DataFrame, file: str) -> None:
    """Stop with one message naming the file, rows and column (never a value) on what `link` never writes:
    a blank source, record_id or upn, a source other than exclusions or social_care, one record linked
    twice (it would be counted twice, or to two pupils), a score that is not a number. `links`: as
    `read_links` tidied them (LINKED_BY stripped)."""
    for column in LINKED_BY:
        blank = links[column].eq("").fillna(True)  # missing or empty
        if blank.any():
            raise ExtractError(file, f"blank at {_rows(blank)}", column=column)
    unknown = ~links["source"].isin([spec.name for spec in SOURCES])
    if unknown.any():
        raise ExtractError(file, f"not exclusions or social_care at {_rows(unknown)}", column="source")
    twice = links[["source", "record_id"]].duplicated(keep=False)
    if twice.any():
        raise ExtractError(
            file, f"one record linked more than once ({_rows(twice)}, same source and record_id)",
            column="record_id",
        )
    if "score" in links.columns:
        bad = links["score"].notna() & pd.to_numeric(links["score"], errors="coerce").isna()
        if bad.any():
            raise ExtractError(file, f"not a number at {_rows(bad)}", column="score")


@dataclass
class LinkedExtracts:
    """What loading a pupil history read along the way (training reports its counts and timings)."""

    extracts: Extracts
    links: pd.DataFrame
    history: PupilHistory
    seconds: dict[str, float] = field(default_factory=dict)  # "read", "link"
    # what a given links.csv does not match in the extracts, in counts (`links_warnings`), after the
    # census read's own (files copied under another collection's name): commands print them, the service
    # logs them
    warnings: list[str] = field(default_factory=list)


# A links.csv of which fewer than this share attach is refused: links `link` wrote for these extracts all
# attach, and an extract corrected since loses a few, never most.
MOST_UNATTACHED = 0.5


def _of(n: int, total: int, published: bool) -> str:
    """"n of the total", or where the words are `published` (the service's answers, passed on) "n of the"
    with n under 10 read "fewer than 10" and no total (which, less a shown count, gives one back)."""
    if not published:
        return f"{n:,} of the {total:,}"
    return f"{'fewer than 10' if n < SUPPRESSION_THRESHOLD else f'{n:,}'} of the"


def links_warnings(extracts: Extracts, links: pd.DataFrame, history: PupilHistory, file: str,
                   published: bool = False) -> list[str]:
    """What a links.csv read from disk does not match in these extracts, as sentences of counts.

    Links that name a record the extract lacks, or a pupil the census lacks, attach nothing: scored,
    those children would have no exclusions or social care. Some such links, or a source with records
    and no links, are warnings; a links.csv that attaches no record at all while the extracts hold
    some (empty, or written for other extracts) stops with an ExtractError naming it, and so does one
    where most links attach nothing (MOST_UNATTACHED): another authority's links.csv, say, whose few
    links that happen to name a record and a pupil here gave a full list with 1 pupil red of 126."""
    warnings, attached, records = [], 0, 0
    for source, id_column in ((spec.name, spec.id_column) for spec in SOURCES):
        frame = getattr(extracts, source)
        mine = links[links["source"] == source]  # as read_links tidied them
        records += len(frame)
        if not len(mine):
            if len(frame):
                held = "" if published else f" {len(frame):,}"
                warnings.append(f"{file} links none of the{held} {source} records: every pupil is "
                                f"read as having no {source.replace('_', ' ')}")
            continue
        known_record = mine["record_id"].astype("string").isin(set(frame[id_column].astype("string")))
        known_pupil = mine["upn"].isin(history.pupil_ids)
        attached += int((known_record & known_pupil).sum())
        if (~known_record).any():
            warnings.append(f"{_of(int((~known_record).sum()), len(mine), published)} {source} links in "
                            f"{file} name a record the {source} extract does not hold")
        if (~known_pupil).any():
            warnings.append(f"{_of(int((~known_pupil).sum()), len(mine), published)} {source} links in "
                            f"{file} name a UPN the census does not hold")
    if records and not attached:
        held = f"these extracts hold {records:,} exclusion and social-care records"
        problem = f"no links, while {held}" if links.empty else (
            f"none of its {len(links):,} links names both a record of these extracts and a census pupil"
        )
        raise ExtractError(file, f"{problem}: every pupil would be read as having none of them (run "
                           "`exclusion-risk link` on these extracts)")
    if records and attached < MOST_UNATTACHED * len(links):
        raise ExtractError(file, f"only {attached:,} of its {len(links):,} links name both a record of these "
                           "extracts and a census pupil: it was written for other extracts, and most "
                           "children's exclusions and social care would be lost (run `exclusion-risk link` "
                           "on these extracts)")
    return warnings


def records_since_link(extracts: Extracts, links: pd.DataFrame, links_dir: str | Path,
                       file: str | None = None, published: bool = False) -> list[str]:
    """Records of these extracts that the `link` run behind `links_dir` neither linked nor listed in its
    unlinked.csv (which lists every record it did not link): records added to the extracts since it ran,
    read as linked to no pupil. Last year's links with this year's extracts once left the new year's
    exclusions unlinked and `train` and `drift` took the year for one whose outcomes are not yet in,
    without a word. Counts and a start date, never a record; `published` words (the service's) withhold
    a count under 10 and the total, and give no date. No unlinked.csv beside links.csv: not said. `file`:
    links.csv as the words name it (default: its path)."""
    file = file or str(Path(links_dir) / LINKS_FILE)
    path = Path(links_dir) / UNLINKED_FILE
    if not path.is_file():
        return []
    try:
        unlinked = pd.read_csv(path, dtype="string", usecols=["source", "record_id"])
    except (ValueError, UnicodeDecodeError):  # pandas' parser errors are ValueErrors
        return [f"the {UNLINKED_FILE} beside {file} is not one written by `exclusion-risk link`: records "
                "added to the extracts since that run cannot be told from those it did not link"]
    warnings = []
    for spec in SOURCES:
        frame = getattr(extracts, spec.name)
        if not len(frame):
            continue
        listed = unlinked.loc[unlinked["source"].str.strip() == spec.name, "record_id"].str.strip()
        named = set(links.loc[links["source"] == spec.name, "record_id"].astype("string")) | set(listed)
        ids = frame[spec.id_column].astype("string")
        new = ~ids.isin(named)
        if not new.any():
            continue
        dated = "StartDate" in frame and not published  # a date beside a small count is one record's
        starts = pd.to_datetime(frame.loc[new, "StartDate"] if dated else pd.Series(dtype="string"),
                                errors="coerce")  # fmt: skip
        newest = f" (the newest starts on {starts.max():%-d %B %Y})" if starts.notna().any() else ""
        warnings.append(
            f"{_of(ids[new].nunique(), ids.nunique(), published)} {spec.name} records of these extracts are "
            f"in neither {file} nor the {UNLINKED_FILE} beside it: they were not in the "
            f"extracts that `exclusion-risk link` run read{newest}, are read as linked to no pupil, and a "
            "year they complete is read as not yet complete; run `exclusion-risk link` on these extracts"
        )
    return warnings


def load_linked(data_dir: str | Path, links_dir: str | Path | None = None, links_label: str | None = None,
                published: bool = False) -> LinkedExtracts:
    """Extracts in `data_dir` + their links: `links_dir/links.csv`, or linked now when it is None.
    The warnings name links.csv as `links_label` (default: its path); `published` words withhold counts
    under 10 (`links_warnings`, `records_since_link`): the service passes its warnings on."""
    started = time.perf_counter()
    # links.csv first: a broken one is reported before minutes go on reading the extracts
    links = read_links(links_dir) if links_dir is not None else None
    reading_links = time.perf_counter() - started
    started = time.perf_counter()
    extracts = read_extracts(Path(data_dir))
    seconds = {"read": time.perf_counter() - started}
    started = time.perf_counter()
    given = links is not None
    if links is None:
        links = link_extracts(extracts, progress=False).links
    history = pupil_history(extracts, links)
    file = links_label or (str(Path(links_dir) / LINKS_FILE) if given else "")
    warnings = []
    if given:
        warnings = (links_warnings(extracts, links, history, file, published)
                    + records_since_link(extracts, links, links_dir, file, published))
    census = extracts.results.get("census")  # its files copied under another collection's name, said first
    warnings[:0] = census.warnings if census is not None else []
    seconds["link"] = reading_links + time.perf_counter() - started
    return LinkedExtracts(extracts, links, history, seconds, warnings)


def load_history(data_dir: str | Path, links_dir: str | Path | None = None) -> PupilHistory:
    """The linked pupil history every command and the service score from (see `load_linked`)."""
    return load_linked(data_dir, links_dir).history
