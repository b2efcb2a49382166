"""Scoring runs and what changed between two of them: the logic `exclusion-risk score` and the service share.

A run is what a scoring was (`ScoringRun`: id, when, model, risk-matrix version, year and census, how
many pupils and schools, RAG counts; no identifiers) plus its pupils' rows (`RUN_PUPIL_COLUMNS`: UPN,
school, probability, likelihood band, RAG, need level), kept privately by whoever stores the run: the CLI
in a runs folder (`RunFolder`), the service in its database.

`compare(previous, current, band_order)` lists, for the schools both scored, each pupil whose place changed:
`new_red` (red now; not red before, or not scored before), `rating_up` / `rating_down` (a higher or lower RAG
rating in the same likelihood band), `need_up` / `need_down` (a higher or lower need level, the band and
rating the same), `moved_up` / `moved_down` (a higher or lower likelihood band),
`no_longer_on_roll` (scored before at one of those schools, absent now) and `new_on_roll` (not scored before,
now at one of those schools); each in words by `change_kinds.change_labels`. `previous` is an earlier run's
pupils, or the `EarlierView` of several (`models.earlier_scorings`: each pupil compared with their latest
earlier scoring, so a scoring of part of a census hides nothing the scorings before it said). A pupil is
matched by UPN across the whole of it, so one who moved school keeps their history, and by the pupil the
linked history knows a UPN as, so one whose UPN was corrected is compared under the new UPN. Pupils are listed
as no longer on roll only at schools whose earlier and current pupils both plausibly are the school's census
(`earlier_scorings.roll_kind`; `earlier_notes` says where not, and why). A school no earlier scoring scored is
not compared (its pupils would all look new); `comparison_notes` names the schools only one scoring covered,
and says when the runs scored another census or year, or the model, risk matrix or capacity changed between
them.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.files import open_private, private_dir, write_csv
from exclusion_risk.models.change_kinds import (  # noqa: F401  (score_runs' callers import them here)
    CHANGE_COLUMNS,
    CHANGE_NEEDS,
    CHANGES,
    change_counts,
    change_labels,
    changes_records,
    changes_sentence,
    rating_moves,
)
from exclusion_risk.models.earlier_scorings import EarlierView, ScoringFrames, earlier_view
from exclusion_risk.models.risk_matrix import NEED_LEVELS, RAG_VALUES
from exclusion_risk.upn import upn_key

RUN_PUPIL_COLUMNS = ["upn", "school_urn", "probability", "likelihood_band", "rag", "need_level"]
# Runs recorded before need levels were kept have none (empty): a comparison with one cannot see a change
# of need level that left the rating as it was (`comparison_notes` says so).
NEED = "need_level"
# Each pupil's place in the list as scored (1 = first), kept in the runs folder's pupils.csv so that
# `evaluate` takes exactly the top k% the officer saw (probabilities are stored to 6 dp and tie often).
RANK = "rank"
RUNS_FOLDER = "score_runs"  # the CLI's default runs folder, beside scores.csv
CHANGES_FILE = "changes.csv"  # beside scores.csv, when `score --compare-with` is given
RUN_FILE = "run.json"
RUN_PUPILS_FILE = "pupils.csv"
SHORT_ID = 8  # characters of a run id shown to people
MIN_PREFIX = 4  # shortest run-id prefix `--compare-with` accepts
LAST = "last"
# The census a run scored, as people say it; runs recorded before the census could be chosen scored it.
CENSUS_AUTUMN = calendar.census_name(calendar.AUTUMN)
# The model's facts a run records (ScoringRun fields; each is `model_` + the key of the scorer's info).
MODEL_FACTS = ("model_run_id", "model_label", "model_census", "model_test_year")
_TEXT = {"upn": "string", "school_urn": "string", "likelihood_band": "string", "rag": "string"}


class RunNotFound(LookupError):
    """No earlier run matches what was asked for; the message says what was looked for and where."""


@dataclass(frozen=True)
class ScoringRun:
    """One scoring, without identifiers: safe to list, log and return from `GET /runs`."""

    run_id: str
    recorded_at: str  # UTC, ISO 8601 to the second
    model_name: str
    model_version: str
    risk_matrix_version: str
    year: str  # "2018/19"
    census: str  # "autumn", "spring" or "summer": the reference census scored
    pupils: int
    schools: int
    rag: dict[str, int] = field(default_factory=dict)
    # The model that scored, so `evaluate` can tell it is checking that model and not another store's
    # version of the same number: its MLflow run id, label (the outcome it predicts), the census it was
    # trained at and its test year. "" in runs recorded before these were (and for the service's runs).
    model_run_id: str = ""
    model_label: str = ""
    model_census: str = ""
    model_test_year: str = ""
    # The capacity (share of pupils) the likelihood bands were cut for; 0 where not recorded (runs kept
    # before it was, and the service's, which always scores at the model's own).
    capacity: float = 0.0

    @property
    def short_id(self) -> str:
        return self.run_id[:SHORT_ID]

    @property
    def scored_on(self) -> str:
        """The date of the scoring, YYYY-MM-DD (UTC)."""
        return self.recorded_at[:10]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringRun:
        return cls(
            run_id=str(data["run_id"]), recorded_at=str(data["recorded_at"]),
            model_name=str(data.get("model_name", "")), model_version=str(data.get("model_version", "")),
            risk_matrix_version=str(data.get("risk_matrix_version", "")), year=str(data.get("year", "")),
            census=str(data.get("census", CENSUS_AUTUMN)), pupils=int(data.get("pupils", 0)),
            schools=int(data.get("schools", 0)),
            rag={str(k): int(v) for k, v in (data.get("rag") or {}).items()},
            **{key: str(data.get(key) or "") for key in MODEL_FACTS},
            capacity=float(data.get("capacity") or 0.0),
        )  # fmt: skip

    def describe(self) -> str:
        """Names the run for people: the 2018/19 autumn scoring of 2026-11-02 (run 1a2b3c4d)."""
        what = f"the {self.year} {self.census} scoring" if self.year else "the scoring"
        return f"{what} of {self.scored_on} (run {self.short_id})"


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _need_levels(values: pd.Series) -> pd.Series:
    """Need levels as whole numbers 0-3 (the matrix's), anything else (text, 1.5, 99, 1e20) not known."""
    numbers = pd.to_numeric(values.astype(object), errors="coerce").astype("float64")
    return numbers.where(numbers.isin(NEED_LEVELS)).astype("Int64")


def run_pupils(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows a run keeps of each pupil (RUN_PUPIL_COLUMNS), school missing as ""."""
    pupils = pd.DataFrame(index=scores.index)
    for column in RUN_PUPIL_COLUMNS:
        if column in scores.columns:
            pupils[column] = scores[column]
        else:
            pupils[column] = pd.NA
    # a need level that is not one of the matrix's (a hand-edited file) is not known rather than an error
    pupils[NEED] = _need_levels(pupils[NEED])
    pupils = pupils.astype({**_TEXT, "probability": "float64"})
    pupils["school_urn"] = pupils["school_urn"].fillna("").str.strip()
    if RANK in scores.columns:
        pupils[RANK] = pd.to_numeric(scores[RANK], errors="coerce").astype("Int64")
    return pupils.reset_index(drop=True)


def new_run(
    scores: pd.DataFrame,
    *,
    model_name: str,
    model_version: str,
    risk_matrix_version: str,
    year: str,
    census: str = CENSUS_AUTUMN,
    recorded_at: str | None = None,
    model_info: dict[str, Any] | None = None,
    capacity: float = 0.0,
) -> tuple[ScoringRun, pd.DataFrame]:
    """The record of a scoring of `scores` (any frame with RUN_PUPIL_COLUMNS, in the list's order) and its
    pupils' rows, with RANK (their order in `scores`).
    `model_info`: the scorer's `info()` (its `run_id`, `label`, `census`, `test_year` are recorded);
    `capacity`: the share the bands were cut for."""
    pupils = run_pupils(scores)
    pupils[RANK] = pd.array(range(1, len(pupils) + 1), dtype="Int64")
    counts = pupils["rag"].value_counts()
    schools = int(pupils.loc[pupils["school_urn"] != "", "school_urn"].nunique())
    run = ScoringRun(
        run_id=uuid.uuid4().hex, recorded_at=recorded_at or now_utc(), model_name=str(model_name),
        model_version=str(model_version), risk_matrix_version=str(risk_matrix_version), year=str(year),
        census=census, pupils=len(pupils), schools=schools,
        rag={rag: int(counts.get(rag, 0)) for rag in RAG_VALUES},
        **{key: str((model_info or {}).get(key.removeprefix("model_")) or "") for key in MODEL_FACTS},
        capacity=float(capacity),
    )  # fmt: skip
    return run, pupils


def compare(
    previous: pd.DataFrame | EarlierView, current: pd.DataFrame, band_order: list[str],
    pupil_of: pd.Series | None = None,
) -> pd.DataFrame:
    """What changed from `previous` (an earlier run's pupils, or the `earlier_view` of several) to
    `current` run pupils (CHANGE_COLUMNS; see the module docstring).

    `band_order`: likelihood band labels, highest first (the current risk matrix's). A band either run
    names that is not in it counts as no move. Rows are ordered by change, then school, then UPN.
    `pupil_of`: with an earlier run's pupils, UPN -> pupil (`earlier_scorings.pupil_keys`; a view has
    applied it already)."""
    after = run_pupils(current).drop_duplicates("upn")
    if not isinstance(previous, EarlierView):
        previous = earlier_view(ScoringFrames([("", run_pupils(previous))]), after, pupil_of)
    before = run_pupils(previous.pupils).drop_duplicates("upn").set_index("upn")
    after = after.set_index("upn")
    common = previous.compared - {""}
    in_after = after.index[after["school_urn"].isin(common)].to_numpy(dtype=object)
    in_before = before.index[before["school_urn"].isin(common)].to_numpy(dtype=object)
    upns = sorted(set(in_after) | set(in_before))
    joined = pd.DataFrame({"upn": upns})
    for side, frame in (("before", before), ("after", after)):
        rows = frame.reindex(upns)
        joined[f"{side}_school"] = rows["school_urn"].to_numpy()
        joined[f"{side}_band"] = rows["likelihood_band"].to_numpy()
        joined[f"{side}_rag"] = rows["rag"].to_numpy()
        joined[f"{side}_need"] = rows[NEED].to_numpy()
    was, now = joined["before_rag"].notna(), joined["after_rag"].notna()
    # gone: on the roll of a school's latest earlier scoring that held its census as this one does
    rolls = pd.MultiIndex.from_frame(previous.rolls[["upn", "school_urn"]].astype(object))
    on_roll = pd.MultiIndex.from_arrays([joined["upn"], joined["before_school"]]).isin(rolls)
    rank = {label: i for i, label in enumerate(band_order)}
    before_rank = joined["before_band"].map(rank).astype("float64")
    after_rank = joined["after_band"].map(rank).astype("float64")
    red_now = now & (joined["after_rag"] == "red").fillna(False)
    change = pd.Series(pd.NA, index=joined.index, dtype="string")
    # a need level known both times (runs recorded before they were kept have none) that differs: the band
    # and rating the same, the matrix's cell (and perhaps its suggested response) moved all the same
    before_need, after_need = joined["before_need"].astype("Float64"), joined["after_need"].astype("Float64")
    change[was & now & (after_need > before_need).fillna(False)] = "need_up"
    change[was & now & (after_need < before_need).fillna(False)] = "need_down"
    rating_up, rating_down = rating_moves(joined["before_rag"], joined["after_rag"])
    change[was & now & rating_down] = "rating_down"  # in the same band: a band move says it below
    change[was & now & rating_up] = "rating_up"
    change[was & now & (after_rank > before_rank)] = "moved_down"
    change[was & now & (after_rank < before_rank)] = "moved_up"
    change[~was & now] = "new_on_roll"
    change[was & ~now & on_roll] = "no_longer_on_roll"
    change[red_now & ~(joined["before_rag"] == "red").fillna(False)] = "new_red"
    joined["change"] = change
    joined["school_urn"] = joined["after_school"].where(now, joined["before_school"])
    changed = joined[joined["change"].notna()].copy()
    changed["order"] = changed["change"].map({c: i for i, c in enumerate(CHANGES)})
    changed = changed.sort_values(["order", "school_urn", "upn"], kind="stable")
    types = {c: "Int64" if c in CHANGE_NEEDS else "string" for c in CHANGE_COLUMNS}
    return changed[CHANGE_COLUMNS].reset_index(drop=True).astype(types)


# ---- the CLI's runs folder ---------------------------------------------------------------------


def read_run_pupils(path: Path) -> pd.DataFrame:
    """A run's pupils file (with RANK when recorded since it was kept), or a scores.csv (its
    RUN_PUPIL_COLUMNS)."""
    header = pd.read_csv(path, nrows=0).columns  # another file (a census) is named before it is read
    missing = [c for c in ("upn", "likelihood_band", "rag") if c not in header]
    if missing:
        raise RunNotFound(
            f"{path} is not a scores.csv or a run's pupils file (no {', '.join(missing)} column)"
        )
    read = pd.read_csv(path, dtype=_TEXT, keep_default_na=False, na_values=[""], low_memory=False)
    if "probability" in read.columns:  # pandas' cast error quotes the cell (an officer's note, a name)
        numbers = pd.to_numeric(read["probability"], errors="coerce")
        bad = read.index[read["probability"].notna() & numbers.isna()]
        if len(bad):
            rows = ", ".join(str(i + 1) for i in bad[:5]) + (" and more" if len(bad) > 5 else "")
            raise RunNotFound(f"{path}: the probability column is not a number in data row {rows} (the "
                              "value is not shown); a file edited by hand may have text typed into it")
        read["probability"] = numbers
    pupils = run_pupils(read)
    # a run recorded before separators inside a UPN were removed matches the pupil's tidy UPN now
    return pupils.assign(upn=pupils["upn"].map(lambda u: upn_key(u) if isinstance(u, str) else u))


class RunFolder:
    """Runs of `exclusion-risk score`, one sub-folder each: run.json (no identifiers) and pupils.csv
    (UPNs: 0600). The folder is created owner-only (0700)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def record(self, run: ScoringRun, pupils: pd.DataFrame) -> Path:
        folder = private_dir(self.root / run.run_id)
        columns = [*RUN_PUPIL_COLUMNS, *([RANK] if RANK in pupils.columns else [])]
        write_csv(pupils[columns], folder / RUN_PUPILS_FILE, private=True, float_format="%.6f")
        with open_private(folder / RUN_FILE, "w", encoding="utf-8") as handle:
            json.dump(run.to_dict(), handle, indent=2)
        return folder

    def runs(self) -> list[ScoringRun]:
        """Every readable run in the folder, oldest first. recorded_at is to the second: two scorings
        within one are ordered by when their run.json was written (the random run id had decided, so
        `--compare-with last` could name the earlier of the two)."""
        found = []
        for path in sorted(self.root.glob(f"*/{RUN_FILE}")) if self.root.is_dir() else []:
            try:
                run = ScoringRun.from_dict(json.loads(path.read_text(encoding="utf-8")))
                found.append(((run.recorded_at, path.stat().st_mtime_ns, run.run_id), run))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a half-written or foreign folder: not a run
        return [run for _, run in sorted(found, key=lambda pair: pair[0])]

    def pupils(self, run: ScoringRun) -> pd.DataFrame:
        return read_run_pupils(self.root / run.run_id / RUN_PUPILS_FILE)

    def before(self, run: ScoringRun) -> list[ScoringRun]:
        """The runs of `run`'s year and census recorded before it, newest first."""
        runs = [r for r in self.runs() if (r.year, r.census) == (run.year, run.census)]
        ids = [r.run_id for r in runs]
        # a recorded run: those before it in the folder's order; one not recorded yet: all up to its time
        earlier = runs[: ids.index(run.run_id)] if run.run_id in ids else [
            r for r in runs if r.recorded_at <= run.recorded_at
        ]
        return earlier[::-1]

    def find(self, wanted: str, year: str, census: str = CENSUS_AUTUMN) -> ScoringRun:
        """`last` (the latest run of `year`'s `census` census), or a run id or a unique prefix of one
        (MIN_PREFIX+)."""
        runs = self.runs()
        if wanted == LAST:
            # a spring list compared with an autumn one would show every change of the term as news
            same = [r for r in runs if r.year == year and r.census == census]
            if not same:
                raise RunNotFound(f"no earlier scoring of the {year} {census} census in {self.root}")
            return same[-1]
        key = wanted.strip().lower()
        matches = [r for r in runs if len(key) >= MIN_PREFIX and r.run_id.lower().startswith(key)]
        if len(matches) > 1:
            raise RunNotFound(
                f"run id {wanted!r} matches {len(matches)} runs in {self.root}: give more of it"
            )
        if not matches:
            raise RunNotFound(
                f"no run {wanted!r} in {self.root} (give a run id or its first {MIN_PREFIX}+ characters, "
                "a run folder, a scores.csv, or `last`)"
            )
        return matches[0]


@dataclass
class EarlierRun:
    """A scoring to compare with: the run, its pupils' rows, and how to name it to people; for a run in a
    runs folder, the folder and the runs of its year and census recorded before it there, newest first."""

    run: ScoringRun
    pupils: pd.DataFrame
    name: str
    before: list[ScoringRun] = field(default_factory=list)
    folder: RunFolder | None = None

    def view(self, current: pd.DataFrame, pupil_of: pd.Series | None = None) -> EarlierView:
        """What `current` (run pupils) is compared with: each pupil's and school's latest scoring among the
        run and those before it (`models.earlier_scorings`; `pupil_of`: its `pupil_keys`)."""
        runs: list = [(self.run.run_id, self.pupils)]
        if self.folder is not None:
            runs += [(r.run_id, functools.partial(self.folder.pupils, r)) for r in self.before]
        return earlier_view(ScoringFrames(runs), run_pupils(current), pupil_of)


def file_run(path: Path) -> ScoringRun:
    """A stand-in run for a scores.csv no recorded run is known to have written: named by its file, dated
    by its mtime, with the model version its model_version column gives ("" where it has none, or more
    than one). A scores.csv records no year, census, model name, risk matrix or capacity ("")."""
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    # read defensively: a file written before the column was, or one made by hand, lacks it
    column = pd.read_csv(path, usecols=lambda c: c == "model_version", dtype=str, keep_default_na=False)
    versions = set(column["model_version"].str.strip()) - {""} if "model_version" in column else set()
    return ScoringRun(
        run_id=path.name, recorded_at=when, model_name="",
        model_version=versions.pop() if len(versions) == 1 else "", risk_matrix_version="", year="",
        census="", pupils=0, schools=0,
    )  # fmt: skip


def recorded_run(
    path: Path, pupils: pd.DataFrame, *folders: RunFolder
) -> tuple[ScoringRun, RunFolder] | None:
    """The run that wrote the scores.csv `path` (read as `pupils`): one in the runs folder `score` keeps
    beside it, or in `folders`, whose pupils are the file's (UPN, school, probability, band, RAG, and need
    level where the run kept it, in its order); of several (the same list scored twice), the one recorded
    nearest the file's last change. None where none is (the file moved from its runs, edited, or written
    before runs were kept)."""
    written, found, seen = path.stat().st_mtime, [], set()
    for folder in (RunFolder(path.parent / RUNS_FOLDER), *folders):
        for run in folder.runs():
            if run.run_id in seen or run.pupils != len(pupils):
                continue
            seen.add(run.run_id)
            try:
                theirs = folder.pupils(run)
            except (OSError, ValueError, RunNotFound):
                continue  # a pupils file unreadable or gone: not this one
            # need levels only where the run kept them (runs recorded before they were have none)
            same = [c for c in RUN_PUPIL_COLUMNS if c != NEED or theirs[NEED].notna().any()]
            if theirs[same].equals(pupils[same]):
                distance = abs(datetime.fromisoformat(run.recorded_at).timestamp() - written)
                found.append((distance, run, folder))
    return min(found, key=lambda f: f[0])[1:] if found else None


def resolve_previous(wanted: str, folder: RunFolder, year: str, census: str = CENSUS_AUTUMN) -> EarlierRun:
    """(run, its pupils, how to name it) for `--compare-with`: `last` (the latest of the same year and
    census), a run id or prefix in the runs folder, a run's folder, or a previous scores.csv. Raises
    RunNotFound."""
    path = Path(wanted)
    if wanted != LAST and (path / RUN_FILE).is_file():
        other = RunFolder(path.parent)
        run = ScoringRun.from_dict(json.loads((path / RUN_FILE).read_text(encoding="utf-8")))
        return EarlierRun(run, other.pupils(run), run.describe(), other.before(run), other)
    if wanted != LAST and path.suffix.lower() == ".csv":
        if not path.is_file():
            raise RunNotFound(f"--compare-with: {path} does not exist")
        pupils = read_run_pupils(path)
        # compared as the run that wrote it, so that its model, census and year are known and said
        recorded = recorded_run(path, pupils, folder)
        if recorded is not None:
            run, other = recorded
            return EarlierRun(run, pupils, f"{path}, {run.describe()}", other.before(run), other)
        run = file_run(path)
        return EarlierRun(run, pupils, f"{path} (written {run.scored_on})")
    if wanted != LAST and path.is_dir():
        raise RunNotFound(f"{path} is not a scoring run's folder (it has no {RUN_FILE})")
    run = folder.find(wanted, year, census)
    return EarlierRun(run, folder.pupils(run), run.describe(), folder.before(run), folder)
