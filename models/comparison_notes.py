"""What the counts of a comparison of two scorings do not say on their own (`comparison_notes`): the
console's, the workbook's and the service's notes beside `score_runs.compare`'s changes; and
`need_level_notes`, how many pupils were compared with an earlier row that keeps no need level."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pandas as pd

from exclusion_risk.models.earlier_scorings import RUN, EarlierView, earlier_notes, school_names, upn_notes
from exclusion_risk.models.score_runs import NEED, ScoringRun, run_pupils
from exclusion_risk.values import and_join, counted


def _schools_listed(schools: list[str], pupils: pd.Series) -> str:
    count = int(pupils.isin(schools).sum())  # never called with no school
    return f"{counted(len(schools), 'school')} ({school_names(schools)}; {counted(count, 'pupil')})"


def comparison_notes(
    previous: ScoringRun, current: ScoringRun, before: pd.DataFrame, after: pd.DataFrame,
    compared: set[str] = frozenset(),
) -> list[str]:
    """What the counts of a comparison do not say on their own: another census or year (what changed
    between the censuses shows as changes), a change of model, risk matrix or capacity between the two
    scorings (pupils then move bands because the cut moved, not the pupil), and the schools only one of
    them scored, which `compare` leaves out. `before`/`after`: the runs' pupils;
    `compared`: schools of `after` compared through scorings before `previous` (EarlierView.compared)."""
    notes = []
    # `last` finds a run of the same year and census, but a run named by its id, a scores.csv, or the
    # service's latest run sharing a school may be of another: the term between shows as news
    terms = ((previous.year, previous.census), (current.year, current.census))
    if all(all(term) for term in terms) and terms[0] != terms[1]:
        notes.append(
            f"The earlier list is of the {previous.year} {previous.census} census, this one of the "
            f"{current.year} {current.census} census: what changed between the two censuses (pupils who "
            "joined or left, the attendance and exclusions recorded since) shows as changes, not only "
            "changes in the pupils' risk."
        )
    elif not all(terms[0]) and all(terms[1]):  # a scores.csv no recorded run is known to have written
        notes.append(
            "The earlier list does not record which year and census it scored, nor the risk matrix or "
            "capacity its bands were cut for (a scores.csv keeps only the model version): if it was not "
            f"the {current.year} {current.census} census's, or its bands were cut otherwise, what changed "
            "between them shows as changes too."
        )
    if _other_model(previous, current):
        notes.append(
            f"The earlier scoring used model {_model(previous)}, this one {_model(current)}: a pupil may "
            "have moved because the model changed, not because anything about the pupil did."
        )
    elif not (previous.model_name or previous.model_version):
        notes.append(
            f"The earlier list does not record the model that scored it: if it was not "
            f"{_model(current)}, a pupil may have moved because the model changed."
        )
    if _other_matrix(previous, current):
        notes.append(
            f"The risk matrix was version {previous.risk_matrix_version} then and "
            f"{current.risk_matrix_version} now: a rating may have changed with the matrix."
        )
    if _other_capacity(previous, current):
        notes.append(
            f"The likelihood bands were cut for a capacity of {100 * previous.capacity:g}% then and "
            f"{100 * current.capacity:g}% now: moves between bands and new red follow the new cut as much "
            "as the pupils."
        )
    then, now = run_pupils(before)["school_urn"], run_pupils(after)["school_urn"]
    only_then = sorted(set(then) - set(now) - {""})
    only_now = sorted(set(now) - set(then) - set(compared) - {""})
    if only_then or only_now:
        parts = [f"{_schools_listed(only_then, then)} scored only in the earlier scoring"] * bool(only_then)
        parts += [f"{_schools_listed(only_now, now)} scored only in this one"] * bool(only_now)
        notes.append(
            f"Not compared: {' and '.join(parts)}. A school one scoring did not cover would show all its "
            "pupils as new or gone, so its pupils are not in the changes."
        )
    return notes


def _other_model(previous: ScoringRun, current: ScoringRun) -> bool:
    """`previous` records a model and it is not `current`'s: another version, name or MLflow run (the run
    id only where both recorded one: runs kept before it was have ""; a scores.csv compared with directly
    may record the model's version and not its name)."""
    runs = (previous.model_run_id, current.model_run_id)
    other_run = all(runs) and runs[0] != runs[1]
    renamed = bool(previous.model_name) and previous.model_name != current.model_name
    return bool(previous.model_version) and (renamed or previous.model_version != current.model_version
                                             or other_run)


def _other_matrix(previous: ScoringRun, current: ScoringRun) -> bool:
    """`previous` records a risk matrix version and it is not `current`'s."""
    return bool(previous.risk_matrix_version) and previous.risk_matrix_version != current.risk_matrix_version


def _other_capacity(previous: ScoringRun, current: ScoringRun) -> bool:
    """Both record the capacity their bands were cut for (0: not recorded), and they differ."""
    return bool(previous.capacity and current.capacity) and abs(previous.capacity - current.capacity) > 1e-12


def pupils_compared_notes(
    view: EarlierView, pupils: pd.DataFrame, current: ScoringRun, since: str, name: str,
    run_of: Callable[[str], ScoringRun | None], word: str = "scoring", leavers: bool = True,
) -> list[str]:
    """What each pupil's comparison took that the counts do not say, in one order wherever a comparison
    is given (`score --compare-with`, its workbook, the service): pupils compared under a corrected UPN,
    with a row keeping no need level, with a scoring before `name` (run id `since`; `leavers`: and the
    schools whose leavers are not listed, `word` naming this scoring), and with one of another model,
    matrix or capacity (`earlier_run_notes`, `run_of` its lookup). Counts only, never a pupil."""
    return (upn_notes(view) + need_level_notes(view, pupils)
            + earlier_notes(view, pupils, since, name, word, leavers=leavers)
            + earlier_run_notes(view, pupils, current, since, name, run_of))


def earlier_run_notes(
    view: EarlierView, pupils: pd.DataFrame, current: ScoringRun, since: str, name: str,
    run_of: Callable[[str], ScoringRun | None],
) -> list[str]:
    """The model, risk matrix or capacity of the scorings before `name` (run id `since`) that pupils were
    compared with, where they are not this scoring's: `comparison_notes` says it of the run named alone,
    and each pupil is compared with their latest earlier scoring (after a new champion, one school's early
    upload, then the whole census: 111 'moved down' against the old model's scoring, and no word of the
    model). `pupils`: this scoring's; `run_of`: a run id's ScoringRun (None where it is not held)."""
    compared = pupils.loc[pupils["school_urn"].isin(view.compared - {""}), "upn"]
    rows = view.pupils[view.pupils["upn"].isin(compared) & (view.pupils[RUN] != since)]
    models, matrices, capacities = Counter(), Counter(), Counter()
    for run_id, n in rows[RUN].value_counts().items():
        run = run_of(str(run_id))
        if run is None:
            continue
        if _other_model(run, current):
            models[_model(run)] += int(n)
        if _other_matrix(run, current):
            matrices[f"version {run.risk_matrix_version}"] += int(n)
        if _other_capacity(run, current):
            capacities[f"{100 * run.capacity:g}%"] += int(n)
    said = []
    for what, seen, now, why in (
        ("model", models, _model(current), "the model changed"),
        ("risk matrix", matrices, f"version {current.risk_matrix_version}", "the risk matrix changed"),
        ("capacity", capacities, f"{100 * current.capacity:g}%", "the bands were cut for another capacity"),
    ):
        if seen:
            n = sum(seen.values())
            said.append(
                f"{counted(n, 'pupil')} compared with a scoring before {name} {'was' if n == 1 else 'were'} "
                f"scored then with {what} {and_join(sorted(seen))}, this one with {now}: "
                f"{'that pupil' if n == 1 else 'they'} may have moved because {why}, not because anything "
                "about them did."
            )
    return said


def _model(run: ScoringRun) -> str:
    """exclusion-risk version 6, or version 6 where the name is not recorded (a scores.csv)."""
    return f"{run.model_name} version {run.model_version}".strip()


def need_level_notes(view: EarlierView, current: pd.DataFrame) -> list[str]:
    """How many pupils `compare` compared with an earlier row that keeps no need level (a run recorded
    before need levels were kept, a scores.csv without them, a cell left blank) while this scoring gives
    one: a change of need level within their rating cannot be seen. Counted over the rows compared (each
    pupil's latest earlier scoring), not the run named: a school last scored before the upgrade is
    compared through that older run. Counts only, never a pupil."""
    after = run_pupils(current).drop_duplicates("upn").set_index("upn")
    before = run_pupils(view.pupils).drop_duplicates("upn").set_index("upn")
    upns = after.index[after["school_urn"].isin(view.compared - {""}) & after[NEED].notna()]
    rows = before.reindex(upns)
    n = int((rows["rag"].notna() & rows[NEED].isna()).sum())
    if not n:
        return []
    return [
        f"{counted(n, 'pupil')} {'was' if n == 1 else 'were'} compared with an earlier scoring that kept no "
        "need level for them (recorded before need levels were kept, or given without them): a "
        "change of need level that left their likelihood band and rating as they were is not listed, and a "
        "rating that changed within a band may have changed with the need level or the risk matrix."
    ]


def nothing_compared(since: str) -> str:
    """What a comparison with an earlier scoring that held none of this scoring's schools says in place of
    its counts ("0 new red since ..." was news of nobody): another authority's scoring in a shared folder,
    say, or one of other schools. The notes after it name the schools each scored."""
    return (
        f"Nothing is compared with {since}: it scored none of this scoring's schools, so no pupil's change "
        "is counted (compare with an earlier scoring of these schools)"
    )
