"""What a scoring is compared with: each pupil's latest earlier scoring, and each school's latest earlier
scoring that holds the school's census as this one does. The rules `exclusion-risk score --compare-with`
and the service's census uploads share (`models.score_runs.compare` applies them).

The earlier scorings a comparison may use are, for `score`, the run it is compared with and the runs of
that run's year and census recorded before it in the same runs folder; for the service, every run it
recorded up to the one it compares with. A pupil is compared with their latest scoring among them, so a
scoring of part of a census never hides what the scorings before it said: a pupil red at the census
before a partial upload is not "new red" at the next census, nor "new on roll".

A school's pupils who are not in this scoring are listed as no longer on roll only where an earlier
scoring and this one both plausibly hold the school's census (`roll_kind`): the earlier one had at least
MIN_ROLL pupils there; this one has at least MIN_SHARE_HELD of them there (a partial or made-up file is
not read as the school's census, and is not handed the school's earlier list); and they are at least
MIN_SHARE_HELD of this one's pupils there (a partial scoring is not read as the census this one follows).
The school's latest earlier scoring that passes gives its leavers; where none passes, none is listed and
`leaver_reason` / `leaver_notes` say why, naming no pupil.

Pupils are matched by UPN, and by the pupil the linked history knows a UPN as (`pupil_keys`): a pupil
whose UPN was corrected since an earlier scoring (a temporary or mistyped UPN replaced by the valid one)
is compared under the UPN scored now (`upn_changes`), not listed as gone under the one and new under the
other; `upn_notes` says how many were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

import pandas as pd

from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.values import counted

RUN = "run_id"  # the earlier scoring a row of an earlier view is from
PUPILS = "pupils"  # in `school_runs`: a run's pupils at the school
# A census keeps most of a school's pupils from one term to the next, even across a summer, when a year
# group leaves and another joins: a fifth to a seventh of most schools, a third of an infant school's.
MIN_SHARE_HELD = Fraction(2, 3)
# With fewer pupils at a school, its census cannot be told from part of it: one row fewer is a pupil gone
# or a file missing a row alike (a 5-row upload of a demo census held 1 of a school's 2 earlier pupils).
MIN_ROLL = 10
FEW, PART_NOW, PART_THEN = "few", "part_now", "part_then"  # why a school's leavers are not listed


def roll_kind(before: set[str], now: set[str]) -> str:
    """"" where `before` and `now` (a school's pupils in an earlier scoring and in this one) both
    plausibly are the school's census; otherwise why not: FEW, PART_NOW or PART_THEN."""
    kept = len(before & now)
    if len(before) < MIN_ROLL:
        return FEW
    if kept < MIN_SHARE_HELD * len(before):
        return PART_NOW
    if kept < MIN_SHARE_HELD * len(now):
        return PART_THEN
    return ""


def _may_hold(before: int, now: int) -> bool:
    """Whether pupil counts of `before` and `now` allow roll_kind to pass (before reading the pupils)."""
    return before >= MIN_ROLL and MIN_SHARE_HELD * before <= now and MIN_SHARE_HELD * now <= before


_WHY = {
    FEW: "{the} latest earlier scoring had fewer than {min} pupils there, too few to tell {its} census from "
    "part of it",
    PART_NOW: "this {word} has fewer than two thirds of the pupils {the} latest earlier scoring had there, "
    "so it is not read as {its} census; upload {a} whole census to see who left",
    PART_THEN: "{the} latest earlier scoring had fewer than two thirds of the pupils this {word} has there, "
    "so it was not {its} census, and no earlier scoring of the school matches this {word}",
}


def _why(kind: str, word: str, many: bool) -> str:
    names = {"the": "each school's", "its": "its", "a": "a school's"} if many else {
        "the": "the school's", "its": "the school's", "a": "the school's"}  # fmt: skip
    return _WHY[kind].format(word=word, min=MIN_ROLL, **names)


def leaver_reason(kind: str, school: str, word: str = "upload") -> str:
    """Why a school's pupils missing from this scoring (`word`: upload or scoring) are not listed."""
    return f"Pupils at school {school} who are not in this {word} are not listed as no longer on roll: " + (
        f"{_why(kind, word, many=False)}."
    )


def school_names(schools: list[str], most: int = 10) -> str:
    """URNs joined, the first `most` named: 104001, 104002 and 3 more."""
    more = len(schools) - most
    return ", ".join(schools[:most]) + (f" and {more:,} more" if more > 0 else "")


def leaver_notes(not_held: dict[str, str], word: str = "scoring") -> list[str]:
    """The schools whose leavers are not listed, a sentence for each reason."""
    notes = []
    for kind in (PART_NOW, PART_THEN, FEW):
        schools = sorted(s for s, k in not_held.items() if k == kind)
        if schools:
            notes.append(
                f"Pupils who are not in this {word} are not listed as no longer on roll at "
                f"{counted(len(schools), 'school')} ({school_names(schools)}): "
                f"{_why(kind, word, many=len(schools) > 1)}."
            )
    return notes


class EarlierScorings(Protocol):
    """The earlier scorings a comparison may use (the runs folder's, the service's database)."""

    def school_runs(self, schools: list[str]) -> pd.DataFrame:
        """school_urn, RUN, PUPILS (its pupils there): each earlier run that scored each of `schools`,
        newest first."""

    def roll(self, run_id: str, school: str) -> set[str]:
        """The UPNs a run scored at a school."""

    def latest(self, upns: list[str]) -> pd.DataFrame:
        """Each of `upns`' latest earlier row (run pupils' columns and RUN); none for a UPN never scored."""

    def run_order(self, run_ids: list[str]) -> dict[str, int]:
        """Each of `run_ids`' place among all the earlier runs, the newest lowest."""


@dataclass
class EarlierView:
    """What a scoring is compared with (`earlier_view`)."""

    pupils: pd.DataFrame  # the latest earlier row of each pupil of this scoring and of each leaver
    rolls: pd.DataFrame  # upn, school_urn, RUN: each school's pupils in the scoring its leavers are from
    compared: set[str] = field(default_factory=set)  # schools of this scoring an earlier one scored
    not_held: dict[str, str] = field(default_factory=dict)  # compared schools whose leavers are not listed
    renamed: int = 0  # pupils of this scoring compared with an earlier row under another UPN (upn_changes)


def pupil_keys(history=None, scored: pd.DataFrame | None = None) -> pd.Series:
    """UPN -> the pupil the linkage knows it as, where the two differ (a UPN not in it is its own pupil):
    `scored`'s `upn` -> PUPIL_KEY (a feature table's, or scores', as this scoring read its pupils), then
    the linked `history`'s pupil_of_upn (each UPN a census row was recorded under or gave as FormerUPN)."""
    parts = []
    if scored is not None and PUPIL_KEY in scored.columns:
        rows = scored[["upn", PUPIL_KEY]].dropna().astype("string")
        rows = rows[rows["upn"] != rows[PUPIL_KEY]]
        parts.append(pd.Series(rows[PUPIL_KEY].to_numpy(), index=rows["upn"].to_numpy(), dtype="string"))
    if history is not None:
        parts.append(history.pupil_of_upn)
    keys = pd.concat(parts) if parts else pd.Series(dtype="string")
    return keys[~keys.index.duplicated()]


def upn_changes(current: pd.Series, pupil_of: pd.Series) -> dict[str, str]:
    """Earlier UPN -> the UPN of `current` (UPNs scored now) that is the same pupil: a UPN not scored now
    whose pupil (`pupil_of` it, else itself: `pupil_keys`) is the pupil of exactly one UPN scored now. A UPN
    scored now is compared by itself; one the mapping does not know, or a pupil two UPNs now claim, too."""
    if not len(pupil_of):
        return {}
    now = pd.Series(pd.unique(current.dropna().astype(object)), dtype=object)
    pupil = now.map(pupil_of).astype(object).fillna(now)
    single = ~pupil.duplicated(keep=False)
    holder = dict(zip(pupil[single], now[single], strict=True))  # pupil -> their one UPN scored now
    known = pupil_of.dropna()
    olds = dict(zip(known.index, known.map(holder), strict=True))
    olds.update({p: u for p, u in holder.items() if p not in known.index})  # the pupil's own UPN
    scored = set(now)
    return {old: new for old, new in olds.items() if isinstance(new, str) and old not in scored}


class SamePupils:
    """EarlierScorings with each earlier UPN of `changes` (upn_changes) read as the UPN scored now: in
    the schools' rolls and in the pupils' latest rows (of a pupil's rows under both, the newer scoring's,
    by `run_order` over every earlier run, not only those that scored this scoring's schools: a pupil
    who moved school was compared with an older row; in one scoring, the row under the UPN scored now)."""

    def __init__(self, scorings: EarlierScorings, changes: dict[str, str]):
        self.scorings, self.changes = scorings, changes
        self.olds: dict[str, list[str]] = {}
        for old, new in changes.items():
            self.olds.setdefault(new, []).append(old)
        self.renamed = 0

    def school_runs(self, schools: list[str]) -> pd.DataFrame:
        return self.scorings.school_runs(schools)

    def run_order(self, run_ids: list[str]) -> dict[str, int]:
        return self.scorings.run_order(run_ids)

    def roll(self, run_id: str, school: str) -> set[str]:
        return {self.changes.get(upn, upn) for upn in self.scorings.roll(run_id, school)}

    def latest(self, upns: list[str]) -> pd.DataFrame:
        olds = sorted({old for upn in upns for old in self.olds.get(upn, ())})
        rows = self.scorings.latest(sorted(set(upns) | set(olds)))
        if not olds:
            return rows
        old = rows["upn"].isin(olds)
        order = self.scorings.run_order(sorted(set(rows[RUN])))
        rows = rows.assign(upn=rows["upn"].map(self.changes).fillna(rows["upn"]), _old=old,
                           _order=rows[RUN].map(order))  # fmt: skip
        rows = rows.sort_values(["_order", "_old"], kind="stable").drop_duplicates("upn")
        self.renamed = int(rows["_old"].sum())
        return rows.drop(columns=["_order", "_old"]).reset_index(drop=True)


def upn_notes(view: EarlierView) -> list[str]:
    """How many pupils `view` compares under a UPN other than their earlier scoring's (counts only)."""
    n = view.renamed
    if not n:
        return []
    return [
        f"{counted(n, 'pupil')} whose UPN changed since the earlier scoring {'is' if n == 1 else 'are'} "
        f"compared under {'its' if n == 1 else 'their'} new UPN: the linked history knows both UPNs as "
        f"one pupil, so {'it is' if n == 1 else 'they are'} not listed as no longer on roll and new on roll."
    ]


def earlier_view(
    scorings: EarlierScorings, current: pd.DataFrame, pupil_of: pd.Series | None = None
) -> EarlierView:
    """Each pupil of `current` (run pupils) with their latest earlier row, and each of its schools with
    its latest earlier scoring that passes `roll_kind` (or, in `not_held`, why the latest does not).
    `pupil_of` (`pupil_keys`): earlier UPNs of pupils now scored under another are read as that one."""
    now = current.drop_duplicates("upn")
    changes = upn_changes(now["upn"], pupil_of) if pupil_of is not None else {}
    if changes:
        scorings = SamePupils(scorings, changes)
    named = now[now["school_urn"] != ""]
    at = named.groupby("school_urn")["upn"].agg(lambda upns: set(upns.to_numpy(dtype=object)))
    runs = scorings.school_runs(sorted(at.index))
    rolls, not_held = [], {}
    for school, found in runs.groupby("school_urn", sort=False):
        upns, why = at[school], None
        for run_id, pupils in zip(found[RUN], found[PUPILS], strict=True):
            if why is not None and not _may_hold(int(pupils), len(upns)):
                continue  # an older scoring that cannot pass: not read
            roll = scorings.roll(run_id, school)
            kind = roll_kind(roll, upns)
            if not kind:
                rolls.append(pd.DataFrame({"upn": sorted(roll), "school_urn": school, RUN: run_id}))
                break
            why = why or kind  # the school's latest scoring says why
        else:
            not_held[school] = why
    rolls = pd.concat(rolls, ignore_index=True) if rolls else pd.DataFrame(columns=["upn", "school_urn", RUN])
    wanted = set(now["upn"].to_numpy(dtype=object)) | set(rolls["upn"])
    pupils = scorings.latest(sorted(wanted))
    renamed = scorings.renamed if isinstance(scorings, SamePupils) else 0
    return EarlierView(pupils, rolls, set(runs["school_urn"]), not_held, renamed)


class ScoringFrames:
    """EarlierScorings from run pupils' frames, newest first: (run id, the frame or what reads it). Each is
    read once for its counts and rows, and again only where its pupils at a school are wanted."""

    def __init__(self, runs: list[tuple[str, pd.DataFrame | Callable[[], pd.DataFrame]]]):
        self.runs = runs
        self._read: tuple[str, pd.DataFrame] | None = None
        self._latest = pd.DataFrame(columns=["upn", RUN])  # each UPN's row in the newest run read

    def _frame(self, i: int) -> pd.DataFrame:
        run_id, frame = self.runs[i]
        if self._read is not None and self._read[0] == run_id:
            return self._read[1]
        frame = (frame if isinstance(frame, pd.DataFrame) else frame()).drop_duplicates("upn")
        self._read = (run_id, frame)
        return frame

    def school_runs(self, schools: list[str]) -> pd.DataFrame:
        counts = []
        for i, (run_id, _) in enumerate(self.runs):
            frame = self._frame(i)
            at = frame.loc[frame["school_urn"].isin(schools), "school_urn"].value_counts(sort=False)
            counts += [(school, run_id, int(n)) for school, n in at.items()]
            older = frame[~frame["upn"].isin(self._latest["upn"])].assign(**{RUN: run_id})
            self._latest = pd.concat([self._latest, older], ignore_index=True) if len(self._latest) else older
        return pd.DataFrame(counts, columns=["school_urn", RUN, PUPILS])

    def roll(self, run_id: str, school: str) -> set[str]:
        frame = self._frame([r for r, _ in self.runs].index(run_id))
        return set(frame.loc[frame["school_urn"] == school, "upn"].to_numpy(dtype=object))

    def latest(self, upns: list[str]) -> pd.DataFrame:
        return self._latest[self._latest["upn"].isin(upns)].reset_index(drop=True)

    def run_order(self, run_ids: list[str]) -> dict[str, int]:
        wanted = set(run_ids)
        return {run_id: i for i, (run_id, _) in enumerate(self.runs) if run_id in wanted}


def earlier_notes(
    view: EarlierView, current: pd.DataFrame, since: str, name: str, word: str = "scoring",
    leavers: bool = True,
) -> list[str]:
    """What a comparison with `name` (run id `since`) took from scorings before it, and (`leavers`) the
    schools whose leavers it does not list (`word`: scoring or upload)."""
    # pupils at the schools compared only: a school the earlier scorings never held is not compared at
    # all (comparison_notes says so), though its pupils may have been scored before at another school
    compared = current.loc[current["school_urn"].isin(view.compared - {""}), "upn"]
    scored = view.pupils[view.pupils["upn"].isin(compared)]
    pupils = int((scored[RUN] != since).sum())
    schools = sorted(set(view.rolls.loc[view.rolls[RUN] != since, "school_urn"]))
    notes = []
    if pupils:
        notes.append(
            f"Each pupil is compared with their latest earlier scoring: {counted(pupils, 'pupil')} of this "
            f"{word} {'was' if pupils == 1 else 'were'} not in {name} and {'is' if pupils == 1 else 'are'} "
            "compared with a scoring before it."
        )
    if schools:
        notes.append(
            f"At {counted(len(schools), 'school')} ({school_names(schools)}), pupils no longer on roll are "
            f"taken from the school's latest earlier scoring that held its census, before {name}."
        )
    return notes + (leaver_notes(view.not_held, word) if leavers else [])
