"""The service's scoring runs: every census scoring recorded in its database, compared with the last one
of its year and census term.

`RunStore` keeps runs in the tables `scoring_runs` (no identifiers: what `GET /runs` lists) and
`scoring_run_pupils` (each pupil's UPN, school, probability, band, RAG and need level: identifiers, kept in
the service's own 0600 database file, never logged). `record_census_scoring` records a scoring and compares
it, by `models.score_runs.compare`, with the most recent earlier run of the same year and census term
that scored any of the same schools (`since`; as `score --compare-with last`, never another year's),
giving the `run` and `changes` members of the score response. Each pupil is compared with their latest
scoring among the runs of that year and term recorded up to that one, and each school's pupils missing
from the upload are listed as no longer on roll only where an earlier run and the upload both plausibly
hold the school's census (`models.earlier_scorings`: a partial upload neither lists pupils of the census
as gone nor makes the next census's pupils look new); otherwise `changes.leavers_not_listed` says so for
that school, naming no pupil, and `changes.leavers_not_listed_notes` says it once for all the schools
with one reason (models.earlier_scorings.leaver_notes, the workbook's and the console's words).
`changes.notes` says what the counts do not say on their own, in `exclusion-risk score`'s words
(models.comparison_notes): the schools not compared (scored by only one of the two runs:
"0 new red" is no news of them), a change of model or risk matrix between the runs, and a run of another
year or term named by `since`, and how many pupils whose UPN was corrected since the earlier run are
compared under their new UPN (the linked history knows both as one pupil: models.earlier_scorings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from exclusion_risk.models.comparison_notes import comparison_notes, nothing_compared, pupils_compared_notes
from exclusion_risk.models.earlier_scorings import (
    PUPILS,
    RUN,
    earlier_view,
    leaver_notes,
    leaver_reason,
)
from exclusion_risk.models.risk_matrix import RAG_VALUES, need_labels
from exclusion_risk.models.score_runs import (
    MIN_PREFIX,
    MODEL_FACTS,
    NEED,
    RANK,
    RUN_PUPIL_COLUMNS,
    ScoringRun,
    change_counts,
    changes_records,
    changes_sentence,
    compare,
    new_run,
)
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.school_scope import visible_runs
from exclusion_risk.serving.scoring import model_census

RECENT_RUNS = 50  # runs `GET /runs` lists, newest first
EARLIER_SCORES = 50  # a pupil's earlier scores `POST /runs/earlier` returns, newest first
_IN_CHUNK = 500  # school URNs or UPNs per `IN (...)` query
# A school's earlier pupils are listed as no longer on roll only where the upload plausibly is the
# school's census (models.earlier_scorings.roll_kind): listing "who left" to a made-up or partial upload
# (one row at a school's URN) would hand it the school's whole earlier list, bands and RAG included.
# Earlier scores are otherwise read one UPN at a time (`POST /runs/earlier`).
LEAVER = "no_longer_on_roll"
_RUN_FIELDS = (
    "run_id, recorded_at, model_name, model_version, risk_matrix_version, year, census, pupils, schools, "
    f"red, amber, green, {', '.join(MODEL_FACTS)}"
)
_PUPIL_FIELDS = 'upn, school_urn, probability, likelihood_band, rag, need_level, "rank"'
# What a comparison naming a run no longer held says (`since`, `recorded_as`, `before`): runs are deleted
# by `exclusion-risk runs delete` and by EXCLUSION_RISK_KEEP_RUNS_DAYS, so an id the page or a client
# kept may name one.
# One sentence for all three, so a school's key learns nothing of scorings beyond its schools (a SENCO read
# "never recorded" of a run the authority had recorded and the pupil panel's earlier scores named).
NO_RUN = ("no recorded scoring run this key may see has that id (never recorded, deleted since, or a "
          "scoring of schools beyond a school's key's own)")


def _run_from_row(row: tuple) -> ScoringRun:
    (run_id, recorded_at, name, version, matrix, year, census, pupils, schools, *rest) = row
    rag, facts = rest[: len(RAG_VALUES)], rest[len(RAG_VALUES) :]
    return ScoringRun(
        run_id=run_id, recorded_at=recorded_at, model_name=name, model_version=version,
        risk_matrix_version=matrix, year=year, census=census, pupils=pupils, schools=schools,
        rag=dict(zip(RAG_VALUES, rag, strict=True)),
        **{key: value or "" for key, value in zip(MODEL_FACTS, facts, strict=True)},
    )  # fmt: skip


def run_json(run: ScoringRun) -> dict[str, Any]:
    """A run as the score response's `run` member (RunInfo)."""
    return {
        "id": run.run_id, "recorded_at": run.recorded_at, "pupils": run.pupils, "schools": run.schools,
        "model_version": run.model_version, "risk_matrix_version": run.risk_matrix_version,
        "year": run.year, "census": run.census,
    }  # fmt: skip


def download_name(run: dict[str, Any], extension: str, run_id: str | None = None) -> str:
    """A download's file name saying which census it scored and with which model (a run's `run_json`),
    and which recorded run it is (`run_id`'s first 8 characters, as `runs list` shows it):
    `scores_2019-20_autumn_model_7_run_3f2a9c1e.xlsx`. Named by the model alone, every term's list of one
    model was one name, and an officer's autumn list and spring list were told apart by the browser's
    "(1)"; without the run, two scorings of one census were."""
    parts = [run.get("year", "").replace("/", "-"), run.get("census", ""), f"model_{run['model_version']}",
             f"run_{run_id[:8]}" if run_id else ""]  # fmt: skip
    # only letters, digits, dash, dot and underscore: the name goes in a header and a file system
    return re.sub(r"[^A-Za-z0-9._-]", "", "_".join(["scores", *filter(None, parts)])) + f".{extension}"


class RunStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, run: ScoringRun, pupils: pd.DataFrame, key_id: str | None) -> None:
        """The run and its pupils' rows, in one transaction."""
        pupils = pupils if RANK in pupils.columns else pupils.assign(**{RANK: range(1, len(pupils) + 1)})
        columns = [*RUN_PUPIL_COLUMNS, RANK]
        rows = pupils[columns].astype(object).where(pupils[columns].notna(), None)
        values = (run.run_id, run.recorded_at, run.model_name, run.model_version, run.risk_matrix_version,
                  run.year, run.census, run.pupils, run.schools,
                  *(run.rag.get(rag, 0) for rag in RAG_VALUES), *(getattr(run, f) for f in MODEL_FACTS),
                  key_id)  # fmt: skip
        conn = self.db.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                f"INSERT INTO scoring_runs ({_RUN_FIELDS}, key_id) VALUES ({', '.join('?' * len(values))})",
                values,
            )
            conn.executemany(
                f"INSERT OR REPLACE INTO scoring_run_pupils (run_id, {_PUPIL_FIELDS}) "
                f"VALUES ({', '.join('?' * 8)})",
                ((run.run_id, u, s or "", *rest) for u, s, *rest in rows.itertuples(index=False)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def latest_sharing(self, schools: list[str], year: str, census: str, before: str | None = None,
                       scope: frozenset[str] | None = None) -> ScoringRun | None:
        """The most recent run of `year`'s `census` census that scored any of `schools`, or None; with
        `before` (a run id), the most recent recorded before that run (a LookupError when no run has that
        id). Of the same year and census only, as `score --compare-with last` picks: a 2015/16 upload
        after 2018/19 ones was "2 new red, 49 moved down, 65 new on roll" since a 2018/19 run, backwards
        in time, and a spring list compared with an autumn one shows every change of the term as news.
        `scope`: a school's key's schools (None: the whole authority's), the runs it may see only."""
        schools = [s for s in schools if s]
        below = self._rowid(before, scope) if before is not None else None  # None: every run
        visible, shown = visible_runs(scope, "scoring_runs.run_id")
        latest = None
        for i in range(0, len(schools), _IN_CHUNK):
            part = schools[i : i + _IN_CHUNK]
            row = self.db.execute(
                f"SELECT rowid, {_RUN_FIELDS} FROM scoring_runs WHERE run_id IN (SELECT run_id FROM "
                f"scoring_run_pupils WHERE school_urn IN ({', '.join('?' * len(part))})) "
                f"AND year = ? AND census = ? AND (? IS NULL OR rowid < ?) AND {visible} "
                "ORDER BY rowid DESC LIMIT 1",
                (*part, year, census, below, below, *shown),
            ).fetchone()
            if row is not None and (latest is None or row[0] > latest[0]):
                latest = row
        return None if latest is None else _run_from_row(latest[1:])

    def _rowid(self, run_id: str, scope: frozenset[str] | None = None) -> int:
        """The run's place in the order runs were recorded (a LookupError when no run has that id, or
        none that a key for `scope` may see)."""
        visible, shown = visible_runs(scope)
        row = self.db.execute(f"SELECT rowid FROM scoring_runs r WHERE run_id = ? AND {visible}",
                              (run_id, *shown)).fetchone()
        if row is None:
            raise LookupError(NO_RUN)
        return row[0]

    def delete_runs(self, run_ids: list[str]) -> tuple[int, int]:
        """Delete these runs and their pupils' rows: (runs, pupil rows) deleted."""
        runs = pupils = 0
        for i in range(0, len(run_ids), _IN_CHUNK):
            part = run_ids[i : i + _IN_CHUNK]
            done = self._delete(f"run_id IN ({', '.join('?' * len(part))})", tuple(part))
            runs, pupils = runs + done[0], pupils + done[1]
        return runs, pupils

    def delete_before(self, cutoff: str) -> tuple[int, int]:
        """Delete the runs recorded before `cutoff` (UTC, ISO 8601: a day `2026-02-01` or a time
        `2026-02-01T09:00:00+00:00`, compared as text with `recorded_at`, which is UTC to the second)
        and their pupils' rows: (runs, pupil rows) deleted."""
        return self._delete("recorded_at < ?", (cutoff,))

    def _delete(self, where: str, params: tuple) -> tuple[int, int]:
        conn = self.db.connection()  # secure_delete on (Database): the deleted rows are overwritten
        conn.execute("BEGIN IMMEDIATE")
        try:
            pupils = conn.execute("DELETE FROM scoring_run_pupils WHERE run_id IN "
                                  f"(SELECT run_id FROM scoring_runs WHERE {where})", params).rowcount
            runs = conn.execute(f"DELETE FROM scoring_runs WHERE {where}", params).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if runs:
            # and out of the write-ahead log as far as readers allow (what it cannot move now goes at a
            # later checkpoint)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return runs, pupils

    def run(self, run_id: str, scope: frozenset[str] | None = None) -> ScoringRun | None:
        """The run with that id (None when there is none that a key for `scope` may see)."""
        visible, shown = visible_runs(scope)
        query = f"SELECT {_RUN_FIELDS} FROM scoring_runs r WHERE run_id = ? AND {visible}"
        row = self.db.execute(query, (run_id, *shown)).fetchone()
        return None if row is None else _run_from_row(row)

    def find(self, wanted: str) -> ScoringRun | None:
        """The run whose id is `wanted` or starts with it (MIN_PREFIX+ characters, one run only)."""
        if len(wanted) < MIN_PREFIX:
            return None
        rows = self.db.execute(
            f"SELECT {_RUN_FIELDS} FROM scoring_runs WHERE substr(run_id, 1, ?) = ? LIMIT 2",
            (len(wanted), wanted),
        ).fetchall()
        return _run_from_row(rows[0]) if len(rows) == 1 else None

    def pupils(self, run_id: str) -> pd.DataFrame:
        """A run's pupils in the list's order (RUN_PUPIL_COLUMNS and RANK; rank empty, and the order by
        UPN, for runs recorded before it was kept)."""
        rows = self.db.execute(
            f'SELECT {_PUPIL_FIELDS} FROM scoring_run_pupils WHERE run_id = ? ORDER BY "rank", upn', (run_id,)
        ).fetchall()
        pupils = pd.DataFrame(rows, columns=[*RUN_PUPIL_COLUMNS, RANK])
        for column in (RANK, NEED):  # empty in runs recorded before it was kept
            pupils[column] = pd.to_numeric(pupils[column]).astype("Int64")
        return pupils

    def recent(self, limit: int = RECENT_RUNS, scope: frozenset[str] | None = None,
               before: str | None = None) -> list[ScoringRun]:
        """The latest runs, newest first; for a key of `scope`, those whose pupils are all its schools';
        with `before` (a run id), those recorded before it (the next page; a LookupError when no run this
        key may see has that id)."""
        visible, shown = visible_runs(scope)
        below = self._rowid(before, scope) if before is not None else None
        rows = self.db.execute(
            f"SELECT {_RUN_FIELDS} FROM scoring_runs r WHERE {visible} AND (? IS NULL OR r.rowid < ?) "
            "ORDER BY rowid DESC LIMIT ?",
            (*shown, below, below, limit),
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    def visible_count(self, scope: frozenset[str] | None = None) -> int:
        """How many runs a key of `scope` may see (`recent`'s, on every page)."""
        visible, shown = visible_runs(scope)
        row = self.db.execute(f"SELECT COUNT(*) FROM scoring_runs r WHERE {visible}", shown).fetchone()
        return int(row[0])

    def earlier_scores(self, upn: str, limit: int = EARLIER_SCORES, before: str | None = None,
                       scope: frozenset[str] | None = None) -> list[dict[str, Any]]:
        """The pupil's scores in recorded runs, newest first (empty when none); with `before` (a run id),
        only in the runs recorded before that one (a LookupError when no run has that id). `scope`: a
        school's key's schools, its scores at those schools only (of any run)."""
        below = self._rowid(before, scope) if before is not None else None  # None: every run
        at = "" if not scope else f"AND p.school_urn IN ({', '.join('?' * len(scope))}) "
        rows = self.db.execute(
            "SELECT r.run_id, r.recorded_at, r.year, r.census, p.probability, p.likelihood_band, p.rag, "
            "r.model_version FROM scoring_run_pupils p JOIN scoring_runs r ON r.run_id = p.run_id "
            f"WHERE p.upn = ? {at}AND (? IS NULL OR r.rowid < ?) ORDER BY r.rowid DESC LIMIT ?",
            (upn, *sorted(scope or ()), below, below, limit),
        ).fetchall()
        keys = ("run_id", "recorded_at", "year", "census", "probability", "likelihood_band", "rag",
                "model_version")
        return [dict(zip(keys, row, strict=True)) for row in rows]


@dataclass
class RecordedScoring:
    """A census scoring as recorded: the response's `run` and `changes` members, and for the workbook the
    changes' rows and their summary sentence (None when there was no earlier run to compare with)."""

    run: dict[str, Any] | None  # None when the scoring was not recorded (record=False)
    changes: dict[str, Any] | None = None
    rows: pd.DataFrame | None = None
    summary: str | None = None
    scored: dict[str, Any] | None = None  # the run as scored, recorded or not (the workbook's notice)
    # Pupils not in the upload whose earlier scores `changes` lists (leavers): the audit log counts them
    # beside the pupils scored, as their data leaves the service too.
    listed_leavers: int = 0


class StoredScorings:
    """The runs of `since`'s year and census recorded up to and with `since` (run id), as
    models.earlier_scorings.EarlierScorings: the runs `score --compare-with` reads (RunFolder.before), so
    no pupil is compared with their scoring of another year or term; for a school's key (`scope`), only
    the runs it may see (school_scope.visible_runs)."""

    def __init__(self, db: Database, since: str, scope: frozenset[str] | None = None):
        self.db, self.since = db, since
        self.visible, self.shown = visible_runs(scope)
        row = db.execute("SELECT rowid, year, census FROM scoring_runs WHERE run_id = ?", (since,)).fetchone()
        if row is None:  # deleted since it was found (EXCLUSION_RISK_KEEP_RUNS_DAYS, `runs delete`)
            raise LookupError(f"the run compared with, {since[:8]}: {NO_RUN}")
        (self.upto, self.year, self.census) = row

    def _chunks(self, sql: str, values: list[str]) -> list[tuple]:
        rows = []
        for i in range(0, len(values), _IN_CHUNK):
            part = values[i : i + _IN_CHUNK]
            rows += self.db.execute(sql.format(", ".join("?" * len(part)), visible=self.visible),
                                    (*part, self.upto, self.year, self.census, *self.shown)).fetchall()
        return rows

    def school_runs(self, schools: list[str]) -> pd.DataFrame:
        rows = self._chunks(
            "SELECT p.school_urn, p.run_id, COUNT(*), r.rowid FROM scoring_run_pupils p JOIN scoring_runs r "
            "ON r.run_id = p.run_id WHERE p.school_urn IN ({}) AND r.rowid <= ? AND r.year = ? "
            "AND r.census = ? AND {visible} GROUP BY p.school_urn, p.run_id",
            schools,
        )
        frame = pd.DataFrame(rows, columns=["school_urn", RUN, PUPILS, "order"])
        return frame.sort_values("order", ascending=False, kind="stable").drop(columns="order")

    def roll(self, run_id: str, school: str) -> set[str]:
        query = "SELECT upn FROM scoring_run_pupils WHERE school_urn = ? AND run_id = ?"
        return {upn for (upn,) in self.db.execute(query, (school, run_id))}

    def latest(self, upns: list[str]) -> pd.DataFrame:
        # `since`'s own rows first (read by its key, as one run's pupils): most UPNs are there
        found = self.db.execute(
            "SELECT upn, school_urn, probability, likelihood_band, rag, need_level, run_id "
            "FROM scoring_run_pupils WHERE run_id = ?",
            (self.since,),
        ).fetchall()
        wanted = set(upns)
        found = [row for row in found if row[0] in wanted]
        rest = sorted(wanted - {row[0] for row in found})
        # SQLite takes a row's other columns from the row whose MAX(r.rowid) it returns: the latest run's
        found += [row[:-1] for row in self._chunks(
            "SELECT p.upn, p.school_urn, p.probability, p.likelihood_band, p.rag, p.need_level, p.run_id, "
            "MAX(r.rowid) "
            "FROM scoring_run_pupils p JOIN scoring_runs r ON r.run_id = p.run_id "
            "WHERE p.upn IN ({}) AND r.rowid <= ? AND r.year = ? AND r.census = ? AND {visible} "
            "GROUP BY p.upn",
            rest,
        )]  # fmt: skip
        return pd.DataFrame(found, columns=[*RUN_PUPIL_COLUMNS, RUN])

    def run_order(self, run_ids: list[str]) -> dict[str, int]:
        rows = self._chunks("SELECT run_id, rowid FROM scoring_runs r WHERE run_id IN ({}) AND rowid <= ? "
                            "AND year = ? AND census = ? AND {visible}", run_ids)  # fmt: skip
        return {run_id: -rowid for run_id, rowid in rows}  # recorded later: a larger rowid


def record_census_scoring(
    store: RunStore, scores: pd.DataFrame, scorer, year: str, key_id: str | None,
    *, record: bool = True, since: str | None = None, recorded_as: str | None = None,
    pupil_of: pd.Series | None = None, schools: frozenset[str] | None = None,
) -> RecordedScoring:
    """Record a census scoring and compare it with the most recent run of its year and census that scored
    any of its schools (none of them: no comparison, `changes` None).

    `record=False` scores without recording (the page's workbook download re-sends a file it has just
    scored); `since` compares with that recorded run instead of the most recent one; `recorded_as` (the
    run the file was recorded as when first scored) compares as that run was, with the most recent run
    recorded before it: without it, a file sent again just after its first scoring was compared with
    itself ("0 new red since" its own run) where its first scoring had nothing to compare with. An
    unknown `since` or `recorded_as`, or `recorded_as` with `record` or `since`, is a LookupError that
    names the parameter. `pupil_of` (models.earlier_scorings.pupil_keys of the linked history and the
    upload's features): a pupil whose UPN was corrected since an earlier run is compared under the new
    UPN, not listed as gone under the old one and new under the new one. `schools`: a school's key's
    (serving.school_scope), compared with the runs it may see only, as if the others were not held."""
    if recorded_as is not None and (record or since is not None):
        raise LookupError("recorded_as: only with record=false and without since (it names the run a "
                          "file sent again was recorded as)")
    run, pupils = new_run(
        scores, model_name=scorer.name, model_version=str(scorer.model_version),
        risk_matrix_version=scorer.matrix.version, year=year, census=model_census(scorer),
        model_info=scorer.info() if hasattr(scorer, "info") else None,  # test stand-ins have none
    )  # fmt: skip
    if since is not None:
        previous = store.run(since, schools)
        if previous is None:
            raise LookupError(f"since: {NO_RUN}")
    else:
        try:
            previous = store.latest_sharing(sorted(set(pupils["school_urn"].dropna())), run.year, run.census,
                                            before=recorded_as, scope=schools)
        except LookupError as exc:
            raise LookupError(f"recorded_as: {exc}") from None
    scored = run_json(run)
    shown = scored if record else None
    result = (RecordedScoring(shown, scored=scored) if previous is None
              else _changes_since(store, previous, run, pupils, scorer, pupil_of, shown, scored, schools))
    if record:  # after the comparison: one whose earlier run was deleted meanwhile is refused unrecorded
        store.record(run, pupils, key_id)
    return result


def _changes_since(store: RunStore, previous, run, pupils: pd.DataFrame, scorer, pupil_of,
                   shown: dict | None, scored: dict, schools: frozenset[str] | None) -> RecordedScoring:
    """The scoring compared with `previous` (what changed, its counts, notes and summary)."""
    view = earlier_view(StoredScorings(store.db, previous.run_id, schools), pupils, pupil_of)
    changes = compare(view, pupils, [band.label for band in scorer.matrix.bands])
    counts = change_counts(changes)
    # what the counts do not say on their own, as `score --compare-with` says it: schools not compared,
    # another census or year, a new model or risk matrix (a pupil may move band though nothing about them
    # changed)
    since = previous.describe()
    notes = comparison_notes(previous, run, store.pupils(previous.run_id), pupils, view.compared)
    # and what each pupil's comparison took (a corrected UPN, no need level kept, a scoring before that one
    # and its model): the schools whose leavers it does not list are `leavers_not_listed_notes`, the page
    # showing both lists, the workbook's summary all of them
    notes += pupils_compared_notes(view, pupils, run, previous.run_id, since,
                                   lambda run_id: store.run(run_id, schools), "upload", leavers=False)
    labels = need_labels(scorer.matrix.need_levels)  # "2 (EHC plan or child in need)"
    since_run = {"id": previous.run_id, "recorded_at": previous.recorded_at, "year": previous.year,
                 "census": previous.census, "model_version": previous.model_version}  # fmt: skip
    not_held = sorted(view.not_held.items())
    body = {
        "since": since_run, "counts": counts, "notes": notes, "pupils": changes_records(changes, labels),
        "schools_compared": len(view.compared - {""}),
        "leavers_not_listed": [{"school_urn": s, "reason": leaver_reason(kind, s)} for s, kind in not_held],
        # the same schools, one sentence per reason, as the workbook and `score --compare-with` say them
        "leavers_not_listed_notes": leaver_notes(view.not_held, "upload"),
    }  # fmt: skip
    # a run named by `since` may hold none of these schools (another authority's): no count is news
    summary = changes_sentence(counts, since) if body["schools_compared"] else nothing_compared(since)
    notes = notes + body["leavers_not_listed_notes"]
    if notes:
        summary = " ".join([f"{summary}.", *notes])
    return RecordedScoring(shown, body, changes, summary, scored=scored, listed_leavers=counts[LEAVER])
