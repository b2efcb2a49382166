"""Features of a census-shaped upload (the service's cohort file), with or without the linked history.

The upload's rows of the reference year's reference census (autumn unless the model was trained at
spring or summer) are the pupils scored; the linked history, when the
service has one, supplies everything registry features with `needs_history` read (earlier census rows,
exclusions, social care, school context), the upload's rows standing for their own collections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.features import registry
from exclusion_risk.features.build import build_year, finish_table, prepare, year_numbers
from exclusion_risk.features.columns import as_code, as_float, column
from exclusion_risk.linkage import extract_frames, registrations
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.linkage.registrations import CollectionRepeats, collection_repeats
from exclusion_risk.linkage.upn_columns import tidy_upn_column
from exclusion_risk.values import counted

# this year's absence features, read from the attendance so far (features.build); `attendance_gap`.
# The registry marks them: the only features with a value from a later census than autumn (the rate first).
ATTENDANCE_SO_FAR_FEATURES = tuple(f.name for f in registry.FEATURES if f.first_census != calendar.AUTUMN)


class NoReferenceRows(ValueError):
    """The upload has no row of the reference year's reference census: there is no pupil to score.

    `found` lists the census terms (codes) the upload has rows of for that year, so the caller can say
    which it got; the message names terms and the year only, never a pupil's value."""

    def __init__(self, message: str, found: tuple[str, ...] = ()):
        super().__init__(message)
        self.found = found


@dataclass(frozen=True)
class CensusFeatures:
    """An upload's features and its pupils' repeated rows in the collection scored, counted on the
    rows the features read (the upload's, with the history's where they stand: `collection_repeats`);
    `not_in_history`: the UPNs scored (the table's `upn`) of pupils the linked history does not know,
    who are scored without any history of their own (none without a history)."""

    table: pd.DataFrame
    repeats: CollectionRepeats
    not_in_history: frozenset[str] = frozenset()
    # the UPNs scored whose date of birth is not one the history recorded for the pupil their UPN names:
    # scored without that pupil's history (`_as_history_pupils`), and so among `not_in_history`
    date_differs: frozenset[str] = frozenset()


def build_features_for_census(
    census_rows: pd.DataFrame,
    history: PupilHistory | None = None,
    reference_year: str | None = None,
    census: str = calendar.AUTUMN,
) -> pd.DataFrame:
    """Features for a census-shaped upload (`features_for_census`'s table)."""
    return features_for_census(census_rows, history, reference_year, census).table


def features_for_census(
    census_rows: pd.DataFrame,
    history: PupilHistory | None = None,
    reference_year: str | None = None,
    census: str = calendar.AUTUMN,
) -> CensusFeatures:
    """Features for a census-shaped upload (the service's cohort file), without labels.

    The pupils are those on the upload's `census` (term code, default autumn) rows of `reference_year`
    (default: the latest year in the upload; rows without a CensusTerm count as that census), and only
    they: a pupil on other collections' rows only is not scored, though the history holds their row of
    the collection scored. Rows of a later collection (a later term or year) are not read at all, so
    they change no pupil's features (point in time: nothing after census day). Taken from those rows:
    sex, ethnicity, NC year, FSM, SEN, IDACI decile and last year's absence. Everything with
    `needs_history` in the registry (FSM ever, school moves, exclusions, social care, school context)
    comes from `history` (a PupilHistory) when given — the upload's rows replace history's rows for the
    same pupil and collection (but a history row that is not a subsidiary registration stands beside
    uploaded subsidiary rows alone: `_main_rows_kept`) — and is NaN otherwise.
    This year's attendance so far (spring, summer) comes from the history's termly rows of the pupil,
    year and term uploaded (`attendance_gap` says when a material share of the pupils has none).
    """
    dates = column(census_rows, "DOB")  # for the identity check only (`_as_history_pupils`), then dropped
    upload = drop_identifying(census_rows).copy()
    if "UPN" not in upload.columns:
        raise ValueError("the census rows have no UPN column")
    term = calendar.parse_census(census)  # `census` is reused below for the census frame built
    upload["CensusTerm"] = as_code(column(upload, "CensusTerm")).fillna(term)
    years = year_numbers(column(upload, "AcademicYear"))
    if reference_year is None:
        if years.dropna().empty:
            raise ValueError("the census rows have no AcademicYear: give reference_year")
        reference_year = calendar.format_year(int(years.max()))
    reference_year = calendar.normalise_year(reference_year)
    upload["AcademicYear"] = years.map(calendar.format_year, na_action="ignore").fillna(reference_year)
    in_year = upload["AcademicYear"].eq(reference_year)
    if not (in_year & upload["CensusTerm"].eq(term)).any():
        found = tuple(t for t in calendar.CENSUS_TERMS if upload.loc[in_year, "CensusTerm"].eq(t).any())
        raise NoReferenceRows(
            f"no {calendar.census_name(term)} census rows (CensusTerm {term}) for {reference_year} "
            f"in the census rows (they have: {', '.join(found) or 'none'})",
            found,
        )
    # Rows of a later collection are not read (nothing after census day), before anything else reads
    # them: a later row under a pupil's valid UPN made the mistyped or temporary UPN of their row scored
    # "shared" with it in `_as_history_pupils`, and so scored without the pupil's history.
    read = ~_after(upload, years, reference_year, term)
    upload, dates = upload[read], dates[read]
    upload = upload.assign(_row=np.arange(len(upload)))
    # The pupils scored are those on the upload's rows of the collection scored; a pupil on its other
    # rows only (an earlier collection, or a later one, which is not read) is not scored, even where the
    # history holds their row of that collection: the upload did not name them on that census. (The
    # steps below change the rows' columns, never which rows there are.)
    on_census = upload["AcademicYear"].eq(reference_year) & upload["CensusTerm"].eq(term)

    empty = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})
    census = upload
    exclusions, social_care = empty, empty
    as_uploaded: dict[str, str] = {}  # pupil id -> the UPN the upload gives that pupil
    if history is not None:
        upload, as_uploaded, dates_differ = _as_history_pupils(upload, history, dates, on_census)
        past = history.census.copy()
        uploaded, past_key = _collection_keys(upload), _collection_keys(past)
        # Upload rows stand for their collection; history rows come after them in `_row` order.
        upload = _attendance_to_date_from(upload, history, uploaded, past_key)
        past = past[~past_key.isin(uploaded) | _main_rows_kept(past, past_key, upload, uploaded)]
        order = past["_row"] if "_row" in past.columns else pd.Series(np.arange(len(past)), index=past.index)
        past = past.assign(_row=order + len(upload))
        census = pd.concat([upload, past], ignore_index=True)
        exclusions, social_care = history.exclusions, history.social_care

    prep = prepare(PupilHistory(census=census, exclusions=exclusions, social_care=social_care))
    table = build_year(prep, calendar.start_year(reference_year), term)
    in_upload = set(tidy_upn_column(upload.loc[on_census.to_numpy(dtype=bool), "UPN"]).dropna())
    # by the history's pupil id (PUPIL_KEY), then named by the UPN uploaded, as before the table had it
    table = table[table[PUPIL_KEY].isin(in_upload)].reset_index(drop=True)
    table["upn"] = table[PUPIL_KEY].map(as_uploaded).fillna(table[PUPIL_KEY])
    not_in_history: frozenset[str] = frozenset()
    date_differs: frozenset[str] = frozenset()
    if history is None:
        for name in registry.history_feature_names():
            table[name] = np.nan
    else:
        not_in_history = frozenset(table.loc[~table[PUPIL_KEY].isin(history.pupil_ids), "upn"])
        date_differs = frozenset(table["upn"]) & dates_differ
        # Scored without the history their UPN names: a "none" read from no records at all is not known
        # (a child on a protection plan whose date of birth was keyed wrongly had "never a child in need"
        # among the reasons), while what the upload's own rows show (FSM on its census day, a move between
        # its collections) stays known.
        withheld = table["upn"].isin(date_differs).to_numpy()
        for name in WITHHELD_FEATURES:
            values = table[name].astype("float64")
            table[name] = values.where(~withheld | values.gt(0))
    pupils_rows = census[tidy_upn_column(census["UPN"]).isin(in_upload).to_numpy(dtype=bool)]
    repeats = collection_repeats(pupils_rows, reference_year, term)
    return CensusFeatures(finish_table(table), repeats, not_in_history, date_differs)


def _after(upload: pd.DataFrame, years: pd.Series, reference_year: str, term: str) -> np.ndarray:
    """The upload's rows of a collection after `reference_year`'s `term` census: a later year, or a later
    term of that year (a term code not known counts as after, as `collections_not_scored` says it)."""
    first = calendar.start_year(reference_year)
    order = upload["CensusTerm"].map(calendar.TERM_ORDER).fillna(len(calendar.TERM_ORDER))
    year = years.fillna(first)
    later = year.gt(first) | (year.eq(first) & order.gt(calendar.TERM_ORDER[term]))
    return later.to_numpy(dtype=bool)


def _collection_keys(census: pd.DataFrame) -> pd.MultiIndex:
    """(UPN in its tidy form, AcademicYear, CensusTerm upper-cased) of each row: one collection's key."""
    years_terms = census[["AcademicYear", "CensusTerm"]].astype("string").apply(lambda s: s.str.upper())
    return pd.MultiIndex.from_arrays(
        [tidy_upn_column(census["UPN"]), years_terms["AcademicYear"], years_terms["CensusTerm"]]
    )


def _main_rows_kept(
    past: pd.DataFrame, past_key: pd.MultiIndex, upload: pd.DataFrame, uploaded: pd.MultiIndex
) -> np.ndarray:
    """History rows that stand beside the upload's rows of their collection: those that are not a
    subsidiary registration where every uploaded row of the collection is one. A subsidiary school's
    return uploaded alone (an alternative provision's) must not replace the main school's row, from
    which `score` describes the pupil (`registrations.standing_order`)."""
    uploaded_subsidiary = registrations.subsidiary(upload)
    if not uploaded_subsidiary.any():
        return np.zeros(len(past), dtype=bool)
    subsidiary_alone = uploaded[uploaded_subsidiary].difference(uploaded[~uploaded_subsidiary])
    return past_key.isin(subsidiary_alone) & ~registrations.subsidiary(past)


def _attendance_to_date_from(
    upload: pd.DataFrame, history: PupilHistory, uploaded: pd.MultiIndex, past_key: pd.MultiIndex
) -> pd.DataFrame:
    """The upload's rows with this year's attendance so far where the upload has none (it comes from the
    authority's termly attendance files, which a school's census export does not carry).

    Derived from the history's termly rows by pupil id, the upload's year and the upload's term, by the
    reader's own rule (`extract_frames.attendance_to_date`), so a new spring census (one the history does
    not hold yet, the usual upload) still gets its autumn term; a history without termly rows (one made
    before they were kept) falls back to its census row of the same pupil and collection."""
    derived = extract_frames.attendance_to_date(upload, history.attendance)
    past = history.census
    present = [name for name in ATTENDANCE_TO_DATE if name in past.columns]
    known = past[present].set_axis(past_key)
    known = known[~known.index.duplicated()].reindex(uploaded)
    filled = {}
    for name, source in ATTENDANCE_TO_DATE.items():
        from_termly = pd.Series(derived[source], index=upload.index)
        if name in present:
            from_termly = from_termly.fillna(pd.Series(as_float(known[name]).to_numpy(), index=upload.index))
        values = as_float(column(upload, name)).fillna(from_termly).round()  # whole sessions
        filled[name] = pd.Series(pd.array(values.to_numpy(), dtype="Int64"), index=upload.index)
    return upload.assign(**filled)


# Warned above this share of an upload's pupils without attendance so far: a few pupils new to the
# authority (no termly row yet) are expected, but a tenth is more like a school's return or a term's file
# missing from the history, lowering those pupils' scores unseen.
ATTENDANCE_GAP_SHARE = 0.10
# A school is named where at least this share of its pupils lack it: its return is the likely gap.
SCHOOL_GAP_SHARE = 0.5
MAX_SCHOOLS_NAMED = 10  # beyond these, "and N more": a sentence, not a list of every school


def attendance_gap(
    features: pd.DataFrame, reference_year: str, census: str, history: PupilHistory | None = None
) -> list[str]:
    """Plain sentences on what a spring or summer census upload's attendance so far lacks (the history
    holds no complete termly row of the year's ended terms for the pupil): a model reads a missing
    absence feature as a pupil absent from nothing, so their scores fall.

    - no pupil has it: said, with the number of pupils (the caller lists the features as missing);
    - more than ATTENDANCE_GAP_SHARE of the pupils lack it: their number and share, and the schools
      (SchoolURN) where at least half of the pupils lack it, the likely missing returns;
    - `history` given: an ended term of the year the history holds no termly row of at all (a summer
      upload before the spring file was loaded), which every pupil's attendance so far lacks.

    Nothing at autumn (no term of the year has ended). Counts and school URNs only: no pupil's value or UPN.
    """
    term = calendar.parse_census(census)
    rate = ATTENDANCE_SO_FAR_FEATURES[0]
    if term == calendar.AUTUMN or rate not in features.columns or features.empty:
        return []
    before = f"for {reference_year} before the {calendar.census_name(term)} census in the history"
    lacking = features[rate].isna()
    total = len(features)
    if lacking.all():
        return [f"no termly attendance {before}: this year's absence features are missing for {total:,} "
                "pupils"]
    said = []
    if lacking.mean() > ATTENDANCE_GAP_SHARE:
        said.append(
            f"{int(lacking.sum()):,} of {total:,} pupils ({lacking.mean():.0%}) have no termly attendance "
            f"{before}: their absence features for this year are missing{_schools_lacking(features, lacking)}"
        )
    missing_terms = _terms_not_held(history, reference_year, term) if history is not None else []
    if missing_terms:
        names = " and ".join(calendar.census_name(t) for t in missing_terms)
        have = int((~lacking).sum())
        said.append(
            f"no {names} term attendance for {reference_year} in the history: this year's absence features "
            f"of {have:,} of {total:,} pupils ({have / total:.0%}) count the earlier term(s) only"
        )
    return said


def _schools_lacking(features: pd.DataFrame, lacking: pd.Series) -> str:
    school = as_code(column(features, "SchoolURN")).fillna("(no SchoolURN)")
    share = lacking.groupby(school.to_numpy()).mean()
    named = sorted(share.index[share >= SCHOOL_GAP_SHARE])
    if not named:
        return ""
    more = f" and {len(named) - MAX_SCHOOLS_NAMED} more" if len(named) > MAX_SCHOOLS_NAMED else ""
    return f"; at least half the pupils lack it at SchoolURN {', '.join(named[:MAX_SCHOOLS_NAMED])}{more}"


def _terms_not_held(history: PupilHistory, reference_year: str, term: str) -> list[str]:
    """The terms of the year ended by `term`'s census of which the history holds no termly row, when it
    holds a row of another (with none at all, the upload's pupils all lack it and that is said)."""
    a = history.attendance
    held = set(a.loc[(a["AcademicYear"].astype("string") == reference_year).to_numpy(), "Term"].astype(str))
    ended = list(calendar.CENSUS_TERMS[: calendar.TERM_ORDER[term]])
    missing = [t for t in ended if t not in held]
    return missing if len(missing) < len(ended) else []


# Added to an uploaded UPN whose date of birth its history pupil lacks: an id no pupil has (letters, which
# the UPNs' tidy form keeps), so the row is scored without that history and named by its UPN as uploaded.
DATE_DIFFERS = "DOBDIFFERS"
# What a pupil's date-differs row is scored without: every feature the linked history can raise, its
# exclusions, social care and earlier census rows (FSM in the last six years, school moves), but this
# year's attendance so far (the upload's own rows, or none: the termly files are read by the history's
# pupil) and the school's rates (the school's, not the child's).
WITHHELD_FEATURES = [f.name for f in registry.FEATURES if f.needs_history and f.source != "school"
                     and f.name not in ATTENDANCE_SO_FAR_FEATURES]  # fmt: skip


def _as_history_pupils(
    upload: pd.DataFrame, history: PupilHistory, dates: pd.Series, scored: pd.Series
) -> tuple[pd.DataFrame, dict[str, str], frozenset[str]]:
    """The upload's rows under the history's pupil ids, and each id's UPN as uploaded.

    The history knows a pupil by one id (linkage.standardise.census_pupil_ids): the permanent UPN that
    replaced a temporary one (FormerUPN), or the valid UPN a mistyped one was matched to by name and
    date of birth. An uploaded UPN the history recorded or gave as a FormerUPN
    (`PupilHistory.pupil_of_upn`) is read as that pupil, so the upload gets the pupil's own history, as
    `exclusion-risk score` does; the scores still name the UPN uploaded. An uploaded UPN the history does
    not know at all, whose row gives a FormerUPN the history does know (a temporary UPN replaced at the
    census uploaded, which the history has not seen yet), is read as the pupil of that FormerUPN. A UPN
    the history does not know otherwise, or one that two UPNs on the census scored (`scored`: its rows)
    would share a pupil through, stands for itself, and so do the upload's other rows of that pupil; an
    earlier collection's row under another UPN of a pupil is that pupil, as the history links them (a
    temporary or mistyped UPN on the census scored, the pupil's known UPN on an earlier one). An
    uploaded UPN any of whose rows gives a date of birth the history does not hold
    for the pupil it names (`linkage.identity_check`: a UPN keyed wrongly that is another child's, or a
    made-up row under a child's UPN) is read as no pupil of the history; those UPNs are returned too.
    """
    uploaded = tidy_upn_column(upload["UPN"])
    pupil = uploaded.map(history.pupil_of_upn)
    unknown = pupil.isna() & ~uploaded.isin(history.pupil_ids)
    if unknown.any():
        former = tidy_upn_column(column(upload, "FormerUPN")).where(unknown)
        via_former = former.map(history.pupil_of_upn).fillna(former.where(former.isin(history.pupil_ids)))
        pupil = pupil.fillna(via_former)
    differ: frozenset[str] = frozenset()
    if history.identity is not None:
        named = pupil.fillna(uploaded.where(uploaded.isin(history.pupil_ids)))
        differ = frozenset(uploaded[history.identity.disagree(named, dates).to_numpy()].dropna())
        pupil = pupil.mask(uploaded.isin(differ), uploaded + DATE_DIFFERS)
    # Two UPNs on the census scored that would become one pupil are left apart (the upload lists them as
    # it has them), with every row naming that pupil; across collections one pupil's UPNs are one pupil.
    each = pupil.fillna(uploaded)
    claimed = pd.DataFrame({"raw": uploaded, "pupil": each})[scored.to_numpy(dtype=bool)].dropna()
    shared = claimed.drop_duplicates().groupby("pupil")["raw"].nunique()
    pupil = pupil.where(~each.isin(set(shared.index[shared > 1])))
    # each pupil named by its UPN on the census scored (the last of a pupil's pairs is the one kept)
    named = pd.DataFrame({"pupil": pupil, "raw": uploaded, "scored": scored.to_numpy(dtype=bool)})
    named = named[pupil.notna().to_numpy()].sort_values("scored", kind="stable")
    as_uploaded = dict(zip(named["pupil"], named["raw"], strict=True))
    return upload.assign(UPN=pupil.fillna(uploaded)), as_uploaded, differ


def collections_not_scored(
    census_rows: pd.DataFrame, reference_year: str, census: str, scored_upns: pd.Series
) -> list[str]:
    """A plain sentence on the upload's rows of other collections than the one scored (none when every
    row is of it): an upload is scored at one collection, `reference_year`'s `census`, and its other rows
    are read as earlier history of the pupils on that census (an earlier collection) or not at all (a
    later one: features use only what was known on the census day). Their pupils who are not on the
    census scored (not among `scored_upns`, the UPNs scored) are not scored, so the sentence counts rows
    by collection and those pupils.

    A row without an AcademicYear or CensusTerm counts as the collection scored, as the features read
    it. Counts, years and terms only: never a pupil's value or UPN."""
    term = calendar.parse_census(census)
    first = calendar.start_year(reference_year)
    years = year_numbers(column(census_rows, "AcademicYear")).fillna(first).astype("int64")
    terms = as_code(column(census_rows, "CensusTerm")).fillna(term)
    scored = (years.eq(first) & terms.eq(term)).to_numpy(dtype=bool)
    if scored.all():
        return []
    others = pd.DataFrame({"year": years[~scored], "term": terms[~scored]})
    others = others.assign(order=others["term"].map(calendar.TERM_ORDER).fillna(len(calendar.TERM_ORDER)))
    reference = (first, calendar.TERM_ORDER[term])
    parts = []
    for (year, order, code), rows in others.groupby(["year", "order", "term"], sort=True).size().items():
        read = "read as earlier history" if (year, order) < reference else "after the census scored, not read"
        name = calendar.census_name(code) if code in calendar.TERM_ORDER else "unknown"
        parts.append(f"{counted(rows, 'row')} of {calendar.format_year(int(year))} {name} ({code}), {read}")
    upns = tidy_upn_column(column(census_rows, "UPN"))
    on_census = set(tidy_upn_column(scored_upns).dropna())
    left_out = upns[~scored & ~upns.isin(on_census).to_numpy(dtype=bool)].nunique()
    pupils = (f"{left_out:,} pupil(s) on those rows only are not scored" if left_out
              else "each of their pupils is on the census scored")
    scored_name = f"{calendar.format_year(first)} {calendar.census_name(term)} census"
    return [
        f"{int((~scored).sum()):,} of the upload's {len(census_rows):,} rows are not of the {scored_name} "
        f"scored ({counted(int(scored.sum()), 'row')}): {'; '.join(parts)}. {pupils}; to score another "
        "year's census, send academic_year or upload that census alone"
    ]


