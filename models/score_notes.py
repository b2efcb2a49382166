"""What the person scoring must know about a scoring beyond its counts, said wherever the scores are read:
on the console, in `scores.html` and on the workbook's notice sheet.

- Rows rejected as the extracts were read: a census row with one bad value (a DOB that is no date, a
  Sex code that is none) is not in the cohort, so its pupil is not scored, and an exclusion or
  social-care row rejected is missing from a pupil's history. `score` read them as `check` does and said
  nothing, so a child could drop off the list unseen (six bad census rows: 62,503 pupils scored of 62,509).
- Pupils whose UPN fails the DfE check, and those of them the linked history knows nothing else of
  (`models.upn_warning`, the service's words): such a pupil is scored without their history.
- Pupils whose need level may rest on a blank FSM or SEN provision value (`need_understated_by_blanks`):
  the risk matrix reads a blank as none, so their need level and rating may be understated.
- The drift check's warnings (`models.drift_cli.scoring_drift_lines`): a school whose FSM column went
  blank lowers its pupils' need level, and only the console said so.
- Pupils at a school the history holds no earlier year of (`new_school_lines`): a new school, or one
  under a new URN after academy conversion that the census does not show carrying on from its old code
  (`features.school_codes`), is given the authority's suspension and permanent-exclusion
  rates, and the pupil's context line reads that figure as "school's suspensions": a reviewer's find.
- A year the linked history holds nothing before (`history_start_lines`): every pupil is scored as
  having no earlier exclusions or school moves, and the list says nothing of it (a reviewer's find:
  the history's first year scored all 185 pupils of a school green, four of them red two years on).
- Bands re-cut for another capacity (`score --capacity`, `recut_lines`): `evaluate` reads its by-school
  top 5% beside the red counts of the scoring it evaluates and of the model's own thresholds, so this
  page's school table is safe beside an evaluation of this scoring only.

The console and the workbook sit with every pupil's score, so their counts are exact; `scores.html` is
the page that gets passed on, so a count under 10 there reads "fewer than 10".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features.build import school_successors, year_numbers
from exclusion_risk.features.census_upload import ATTENDANCE_SO_FAR_FEATURES
from exclusion_risk.features.need import blanks_understating, need_understated_by_blanks
from exclusion_risk.linkage.readers import Extracts
from exclusion_risk.linkage.rejects import REJECTS_FILE
from exclusion_risk.models.reasons import feature_label
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD
from exclusion_risk.values import and_join, counted

_EXTRACT_WORDS = {"census": "census", "exclusions": "exclusions", "social_care": "social care"}


def _rows(n: int, exact: bool) -> str:
    if not exact and n < SUPPRESSION_THRESHOLD:
        return "fewer than 10 rows"
    return counted(n, "row")


def rejected_counts(extracts: Extracts) -> dict[str, int]:
    """Rows each extract's read rejected, the census's termly attendance files apart; those with any."""
    counts = {name: result.rows_rejected for name, result in extracts.results.items()}
    termly = extracts.results.get("census")
    if termly is not None and termly.termly is not None:
        counts["termly attendance"] = termly.termly.rows_rejected
    return {name: n for name, n in counts.items() if n}


def rejected_listing(rejected: dict[str, int], exact: bool = True) -> str:
    """`rejected_counts` in words: "census 3 rows, exclusions fewer than 10 rows" (`exact=False`: a page
    passed on, where a count under 10 is not given)."""
    return ", ".join(f"{_EXTRACT_WORDS.get(name, name)} {_rows(n, exact)}" for name, n in rejected.items())


def rejected_rows_lines(extracts: Extracts, data: Path, exact: bool = True) -> list[str]:
    """One line when any extract had rows rejected as it was read (none otherwise): how many in each,
    what that means for the scores, and the command that lists them by file, row and column."""
    rejected = rejected_counts(extracts)
    if not rejected:
        return []
    listed = rejected_listing(rejected, exact)
    effects = []
    if "census" in rejected:
        effects.append("a pupil whose only census row for this collection was rejected is not scored")
    if set(rejected) - {"census"}:
        effects.append(
            "a rejected exclusion, social-care or attendance row is missing from its pupil's history"
        )
    return [
        f"Rows rejected as the extracts were read (bad or missing values): {listed}. "
        f"{'; '.join(effects).capitalize()}. `exclusion-risk check --data {data}` lists each by file, "
        "row and column; correct them at source and score again."
    ]


def rejected_census_words(extracts: Extracts, data: Path, links: Path | None, year: str) -> str:
    """For a refusal for want of `year`'s census: how many census rows the read rejected and where they
    are listed; "" when none were. The count is of every year's rows (a rejected row's year is not
    known: its AcademicYear may be the very value that failed), so it is said to be, and that some of
    them may be `year`'s (a stray quote once took all of a year's rows)."""
    census = extracts.results.get("census")
    n = census.rows_rejected if census is not None else 0
    if not n:
        return ""
    check = f"`exclusion-risk check --data {data}`"
    listed = f"{links / REJECTS_FILE} and {check} list" if links is not None else f"{check} lists"
    rows = counted(n, "census row")
    which = "which may be" if n == 1 else "some of which may be"
    return (
        f"; {rows} (of any year: a rejected row's year is not known) {'was' if n == 1 else 'were'} rejected "
        f"as the extracts were read, {which} {year}'s: {listed} {'it' if n == 1 else 'them'} by file, row "
        "and reason"
    )


def blank_need_lines(features: pd.DataFrame, exact: bool = True) -> list[str]:
    """One line when some pupils' need level may rest on a blank FSM or SEN provision value (none
    otherwise): how many, and what it means for their rating."""
    n = int(need_understated_by_blanks(features).sum()) if len(features) else 0
    if not n:
        return []
    pupils = "fewer than 10 pupils" if not exact and n < SUPPRESSION_THRESHOLD else f"{n:,} pupil(s)"
    blank = blanks_understating(features)  # only what is blank: a census upload refuses blank SEN provision
    value = " or ".join({"fsm": "free-school-meals", "sen_provision": "SEN provision"}[b] for b in blank)
    # a level-1 pupil with SEN provision blank would be raised by an EHC plan; level 0 by SEN support too
    raising = {"fsm": "eligible", "sen_provision": "on SEN support or with an EHC plan"}
    could = " or ".join(raising[b] for b in blank)
    return [
        f"{pupils[0].upper()}{pupils[1:]} have a need level that may rest on a blank {value} value, which "
        f"the risk matrix reads as none: where such a pupil is {could}, their need level and rating are "
        f"understated. Check {'those columns' if len(blank) > 1 else 'that column'} in the census extract."
    ]


# Children of school age at a census: 4 to 18 on the 31 August the academic year starts after.
SCHOOL_AGES = (4, 18)


def unlinked_status_episodes(extracts: Extracts, links: pd.DataFrame) -> pd.DataFrame:
    """The looked-after and protection-plan episodes of social-care children the linkage attached to no
    pupil (LAchildID, StartDate, EndDate, DOB; empty where none): what `unlinked_status_lines` counts,
    kept by the service for each upload's census day."""
    care = extracts.social_care
    columns = ["LAchildID", "StartDate", "EndDate", "DOB"]
    if care is None or care.empty or not {"Status", *columns} <= set(care):
        return pd.DataFrame(columns=columns)
    linked = set(links.loc[links["source"] == "social_care", "record_id"].astype(str))
    children = care["LAchildID"].astype(str)
    unlinked = care["Status"].isin(["CLA", "CPP"]) & ~children.isin(linked)
    return care.loc[unlinked, columns].reset_index(drop=True)


def unlinked_status_lines(episodes: pd.DataFrame, year: str, term: str, exact: bool = True) -> list[str]:
    """One line when social-care children of school age with an open looked-after episode or child
    protection plan on census day are linked to no pupil (`unlinked_status_episodes`; none otherwise): any
    of them on roll is scored without that status, below need level 3, and nothing a Virtual School Head
    read said so (only the link report did). Counts only; 1-9 as "fewer than 10" where `exact` is False
    (a page or answer passed on)."""
    if episodes.empty:
        return []
    day = calendar.census_date(year, term)
    born = pd.to_datetime(episodes["DOB"], errors="coerce")
    age = calendar.start_year(year) - born.dt.year - (born.dt.month > 8)  # on 31 August, as year groups
    open_now = ((pd.to_datetime(episodes["StartDate"]) <= day)
                & (episodes["EndDate"].isna() | (pd.to_datetime(episodes["EndDate"]) > day))
                & (age.between(*SCHOOL_AGES) | born.isna()))  # no date of birth: perhaps of school age
    n = int(episodes.loc[open_now, "LAchildID"].nunique())
    if not n:
        return []
    said, are = (("Fewer than 10 children", "are") if not exact and n < SUPPRESSION_THRESHOLD
                 else (f"{n:,} {'child' if n == 1 else 'children'}", "is" if n == 1 else "are"))  # fmt: skip
    return [
        f"{said} of school age (or with no date of birth) with an open looked-after episode or child "
        "protection plan on census day "
        f"({day.date()}) {are} linked to no pupil (the linkage's unlinked.csv or review.csv): most may be on "
        "roll elsewhere, but any of them on roll here is scored without that status, below need level 3. "
        "Check them with the social-care team and in review.csv. Children looked after by another "
        "authority are in no extract here and are scored the same way."
    ]


def new_school_lines(features: pd.DataFrame, censuses: list[pd.DataFrame], year: str,
                     exact: bool = True) -> list[str]:
    """One line when some pupils scored for `year` are at a school that no census row of an earlier year
    in `censuses` (the history's, and an upload's own) names: their school's rates are the authority's
    (`features.build.school_rates`); a school the census shows carrying on under a new code has its old
    code's years. None when no earlier year is held at all (the rates are then not known, and the context
    line says so)."""
    start = calendar.start_year(year)
    earlier: set[str] = set()
    for census in censuses:
        if census is None or not {"SchoolURN", "AcademicYear"} <= set(census.columns):
            continue
        before = year_numbers(census["AcademicYear"]).lt(start).fillna(False).to_numpy(dtype=bool)
        earlier.update(census.loc[before, "SchoolURN"].dropna().astype(str).str.strip())
    if not earlier or not len(features):
        return []
    schools = features["SchoolURN"].astype("string").str.strip()
    new = ~schools.isin(earlier).fillna(False)
    held = [c for c in censuses if c is not None and {"UPN", "CensusTerm", "SchoolURN"} <= set(c.columns)]
    if new.any() and held:  # one carrying on under a new code is read with its old code's years
        successors = school_successors(pd.concat(held, ignore_index=True))  # (features.school_codes)
        earlier.update(code for old, code in successors.items() if old in earlier)
        new = ~schools.isin(earlier).fillna(False)
    n = int(new.sum())
    if not n:
        return []
    count = schools[new].nunique()
    pupils = "fewer than 10 pupils" if not exact and n < SUPPRESSION_THRESHOLD else f"{n:,} pupil(s)"
    return [
        f"{pupils[0].upper()}{pupils[1:]} at {count:,} school(s) that the linked history holds no earlier "
        "year of (a new school, or one under a new URN, e.g. after academy conversion) are scored with the "
        "authority's suspension and permanent-exclusion rates in place of their school's own, and their "
        "\"school's suspensions\" context is the authority's figure."
    ]


def history_start_lines(history, year: str) -> list[str]:
    """One line when `history` (a PupilHistory) holds no census row and no exclusion before `year`: the
    features read last year's and earlier exclusions and school moves from it, and would read none."""
    if history is None:
        return []  # no history at all: the service refuses census rows, and says why
    start = calendar.year_start(year)
    earlier_census = year_numbers(history.census["AcademicYear"]).lt(start.year).fillna(False).any()
    starts = pd.to_datetime(history.exclusions.get("StartDate", pd.Series(dtype=object)), errors="coerce")
    if earlier_census or starts.lt(start).any():
        return []
    return [
        f"The linked history holds no census row or exclusion before {year}: every pupil is scored as "
        "having no earlier exclusions or school moves, which understates risk. Score a year the history "
        "holds the year before of, or link the extracts of earlier years."
    ]


def recut_lines(capacity: float, stored: float, year: str) -> list[str]:
    """One line when the bands were re-cut (`score --capacity`) for another capacity than the model's
    stored thresholds' (none otherwise): `evaluate` reads its by-school top 5% beside the red counts by
    school of the scoring it evaluates and of the stored thresholds (`models.evaluate_schools`), so this
    page's school table, beside an evaluation of another scoring of the year, is not checked."""
    if abs(capacity - stored) <= 1e-12:
        return []
    return [
        f"The likelihood bands were re-cut for a capacity of {100 * capacity:g}% (the model's own "
        f"thresholds are for {100 * stored:g}%), so the red counts by school here are not those of a scoring "
        f"of {year} at the model's own capacity. `exclusion-risk evaluate` withholds a school's pupils in "
        "the top 5% where, beside the red count of the scoring it evaluates or of the model's own "
        "capacity, they would give back a count under 10 (the school's pupils red outside the top 5%); "
        "this page's counts only when it evaluates this scoring. Publish this page's school table beside "
        "an evaluation of this scoring only (`exclusion-risk evaluate --scores` this scores.csv)."
    ]


def wholly_missing_words(names: list[str], year: str, census: str, data: Path | None) -> str:
    """`score`'s (and the service's) refusal where no pupil has model inputs the training years held for
    most pupils (`drift_data.inputs_wholly_missing`), with what to do: this year's attendance so far comes
    from the termly attendance files (DATA_CONTRACT), the likeliest thing left out; `data`: the extracts'
    folder (None: the service's linked history)."""
    labels = [feature_label(name).lower() for name in names]
    said = (f"no pupil on the {year} {census} census has {and_join(labels)}, which the model's training "
            "years held for most pupils: scored as missing, every pupil's score would move (not a list to "
            "act on)")
    if set(names) & set(ATTENDANCE_SO_FAR_FEATURES):
        where = (f"put them in {data / 'attendance'} (see DATA_CONTRACT.md) and link again" if data
                 else "link them into the service's history and reload it")
        said += (f"; this year's attendance so far comes from the termly attendance files: {where}, or "
                 "score the autumn census with a model trained for it")
    return said


def shared_code_lines(census: pd.DataFrame | None, year: str, term: str) -> list[str]:
    """One line when a school code carries two names in the scored collection (`year`, `term` code),
    each on 10 or more rows: two schools under one code (two authorities' extracts pooled, a code
    mistyped) whose pupils the lists and the workbook's sheets give under one name (a consortium analyst's
    find: a school's 240 pupils listed under another school's name, its own nowhere). A name written two
    ways (case, spaces, punctuation) is one name."""
    if census is None or not {"SchoolURN", "SchoolName", "AcademicYear", "CensusTerm"} <= set(census.columns):
        return []
    rows = census[(census["AcademicYear"].astype("string") == year)
                  & (census["CensusTerm"].astype("string") == term)]  # fmt: skip
    names = rows["SchoolName"].astype("string").str.lower().str.replace(r"[^a-z0-9]", "", regex=True)
    counts = pd.DataFrame({"code": rows["SchoolURN"].astype("string").str.strip(), "name": names})
    counts = counts.dropna().value_counts()
    named = counts[counts >= SUPPRESSION_THRESHOLD].reset_index()
    shared = sorted(named.loc[named["code"].duplicated(keep=False), "code"].unique())
    if not shared:
        return []
    return [
        f"School code(s) {', '.join(shared)} carry two or more school names on the {year} census: two "
        "schools under one code? Their pupils are listed under one name (the one most rows give), and "
        "share that school's rates. Check the code in each school's return."
    ]
