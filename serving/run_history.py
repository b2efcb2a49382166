"""The service's scoring runs: every census scoring recorded in its database, compared with the last one.

`RunStore` keeps runs in the tables `scoring_runs` (no identifiers: what `GET /runs` lists) and
`scoring_run_pupils` (each pupil's UPN, school, probability, band and RAG: identifiers, kept in the
service's own 0600 database file, never logged). `record_census_scoring` records a scoring and compares
it, by `models.score_runs.compare`, with the most recent earlier run that scored any of the same
schools, giving the `run` and `changes` members of the score response. A school's earlier pupils absent
from the upload are listed as no longer on roll only when the upload holds at least MIN_SHARE_KEPT of
them (see there); otherwise `changes.leavers_not_listed` says so for that school, naming no pupil.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from exclusion_risk.models.risk_matrix import RAG_VALUES
from exclusion_risk.models.score_runs import (
    MIN_PREFIX,
    MODEL_FACTS,
    RANK,
    RUN_PUPIL_COLUMNS,
    ScoringRun,
    change_counts,
    changes_records,
    changes_sentence,
    compare,
    new_run,
    run_pupils,
)
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.scoring import model_census

RECENT_RUNS = 50  # runs `GET /runs` lists, newest first
EARLIER_SCORES = 50  # a pupil's earlier scores `POST /runs/earlier` returns, newest first
_IN_CHUNK = 500  # school URNs per `IN (...)` query
# The share of a school's pupils in the earlier run that an upload must have at that school for the
# school's other earlier pupils to be listed as no longer on roll. A term's census of a school keeps most
# of its pupils, even across a summer when a year group leaves (a fifth to a seventh of a school); a
# made-up or partial upload (one row at a school's URN) does not, and listing "who left" would hand it the
# school's whole earlier list, bands and RAG included. Earlier scores are otherwise read one UPN at a time
# (`POST /runs/earlier`).
MIN_SHARE_KEPT = 0.5
LEAVER = "no_longer_on_roll"
_RUN_FIELDS = (
    "run_id, recorded_at, model_name, model_version, risk_matrix_version, year, census, pupils, schools, "
    f"red, amber, green, {', '.join(MODEL_FACTS)}"
)
_PUPIL_FIELDS = 'upn, school_urn, probability, likelihood_band, rag, "rank"'


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
                f"VALUES ({', '.join('?' * 7)})",
                ((run.run_id, u, s or "", p, b, r, k) for u, s, p, b, r, k in rows.itertuples(index=False)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def latest_sharing(self, schools: list[str]) -> ScoringRun | None:
        """The most recent run that scored any of `schools`, or None."""
        schools = [s for s in schools if s]
        latest = None
        for i in range(0, len(schools), _IN_CHUNK):
            part = schools[i : i + _IN_CHUNK]
            row = self.db.execute(
                f"SELECT rowid, {_RUN_FIELDS} FROM scoring_runs WHERE run_id IN (SELECT run_id FROM "
                f"scoring_run_pupils WHERE school_urn IN ({', '.join('?' * len(part))})) "
                "ORDER BY rowid DESC LIMIT 1",
                tuple(part),
            ).fetchone()
            if row is not None and (latest is None or row[0] > latest[0]):
                latest = row
        return None if latest is None else _run_from_row(latest[1:])

    def run(self, run_id: str) -> ScoringRun | None:
        query = f"SELECT {_RUN_FIELDS} FROM scoring_runs WHERE run_id = ?"
        row = self.db.execute(query, (run_id,)).fetchone()
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
        pupils[RANK] = pd.to_numeric(pupils[RANK]).astype("Int64")
        return pupils

    def recent(self, limit: int = RECENT_RUNS) -> list[ScoringRun]:
        rows = self.db.execute(
            f"SELECT {_RUN_FIELDS} FROM scoring_runs ORDER BY rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    def earlier_scores(self, upn: str, limit: int = EARLIER_SCORES) -> list[dict[str, Any]]:
        """The pupil's scores in recorded runs, newest first (empty when none)."""
        rows = self.db.execute(
            "SELECT r.run_id, r.recorded_at, r.year, p.probability, p.likelihood_band, p.rag, "
            "r.model_version FROM scoring_run_pupils p JOIN scoring_runs r ON r.run_id = p.run_id "
            "WHERE p.upn = ? ORDER BY r.rowid DESC LIMIT ?",
            (upn, limit),
        ).fetchall()
        keys = ("run_id", "recorded_at", "year", "probability", "likelihood_band", "rag", "model_version")
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


def schools_not_held(previous: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The schools of `current` (this upload's run pupils) whose earlier pupils (`previous`'s at the
    school) it mostly lacks: fewer than MIN_SHARE_KEPT of them are at that school in `current`."""
    before = run_pupils(previous).drop_duplicates("upn")
    after = run_pupils(current).drop_duplicates("upn")
    named = set(after["school_urn"].to_numpy(dtype=object)) - {""}
    before = before[before["school_urn"].isin(named)]
    if before.empty:
        return []
    pairs = ["upn", "school_urn"]
    still_there = pd.MultiIndex.from_frame(before[pairs].astype(object)).isin(
        pd.MultiIndex.from_frame(after[pairs].astype(object))
    )
    share = pd.Series(still_there).groupby(before["school_urn"].to_numpy(dtype=object)).mean()
    return sorted(share.index[share < MIN_SHARE_KEPT])


def _not_held_reason(school: str) -> str:
    return (
        f"This upload has fewer than half of the pupils the earlier scoring had at school {school}, so it "
        "is not read as that school's census: its earlier pupils who are not in this upload are not listed "
        "as no longer on roll. Upload the school's whole census to see who left."
    )


def record_census_scoring(
    store: RunStore, scores: pd.DataFrame, scorer, year: str, key_id: str | None,
    *, record: bool = True, since: str | None = None,
) -> RecordedScoring:
    """Record a census scoring and compare it with the most recent run that scored any of its schools.

    `record=False` scores without recording (the page's workbook download re-sends a file it has just
    scored); `since` compares with that recorded run instead of the most recent one (the run the first
    scoring was compared with, so the workbook shows the same changes). An unknown `since` is a
    LookupError."""
    run, pupils = new_run(
        scores, model_name=scorer.name, model_version=str(scorer.model_version),
        risk_matrix_version=scorer.matrix.version, year=year, census=model_census(scorer),
        model_info=scorer.info() if hasattr(scorer, "info") else None,  # test stand-ins have none
    )  # fmt: skip
    if since is not None:
        previous = store.run(since)
        if previous is None:
            raise LookupError("no recorded scoring run has that id")
    else:
        previous = store.latest_sharing(sorted(set(pupils["school_urn"].dropna())))
    if record:
        store.record(run, pupils, key_id)
    scored = run_json(run)
    shown = scored if record else None
    if previous is None:
        return RecordedScoring(shown, scored=scored)
    earlier = store.pupils(previous.run_id)
    changes = compare(earlier, pupils, [band.label for band in scorer.matrix.bands])
    not_held = schools_not_held(earlier, pupils)
    withheld = (changes["change"] == LEAVER) & changes["school_urn"].isin(not_held)
    changes = changes[~withheld.to_numpy(dtype=bool)].reset_index(drop=True)
    counts = change_counts(changes)
    since_run = {"id": previous.run_id, "recorded_at": previous.recorded_at, "year": previous.year,
                 "census": previous.census, "model_version": previous.model_version}  # fmt: skip
    body = {
        "since": since_run, "counts": counts, "pupils": changes_records(changes),
        "leavers_not_listed": [{"school_urn": s, "reason": _not_held_reason(s)} for s in not_held],
    }  # fmt: skip
    summary = changes_sentence(counts, previous.describe())
    if not_held:
        summary += (
            f"; leavers not listed for school(s) {', '.join(not_held)}: this upload has under half of the "
            "pupils the earlier scoring had there"
        )
    return RecordedScoring(shown, body, changes, summary, scored=scored, listed_leavers=counts[LEAVER])
