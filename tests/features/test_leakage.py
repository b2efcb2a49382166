"""Features for year Y from data cut at Y's reference census day equal features from the full data.

For each reference census (autumn, spring, summer): if any feature looked past that census day (a
later census row of the year or the next, an exclusion or social-care episode after the date, a
school's events of year Y, the attendance of a term not yet ended), the truncated rebuild would
differ. The truncated history's attendance so far is derived again, by the reader's own rule, from
the termly attendance files that existed on census day (terms ended before it). The check itself is
checked: builders that leak a later census row, a later exclusion, a later episode or the running
term's attendance are caught at every census.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.features import build, registry
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.linkage import extract_frames
from exclusion_risk.linkage.history import PupilHistory

YEARS = ["2014/15", "2015/16", "2016/17", "2017/18"]
COMPARED = ["upn", "AcademicYear", "SchoolURN", *[f.name for f in registry.FEATURES], "need_level"]
CENSUSES = list(calendar.CENSUS_TERMS)
LEAK_YEAR = "2016/17"  # a year with a later year after it: every census has a later collection


SEED = 11


@pytest.fixture(scope="module")
def full_history(random_history):
    return random_history(3000, YEARS, seed=SEED)


@pytest.fixture(scope="module")
def termly(full_history, termly_attendance):
    """The termly attendance files `full_history`'s attendance so far was derived from."""
    return termly_attendance(full_history.census, SEED)


def _features(history, year, census):
    return build_feature_table(history, [year], census=census).sort_values("upn", ignore_index=True)


def _with_attendance(history: PupilHistory, termly: pd.DataFrame) -> PupilHistory:
    """`history` with its census rows' attendance so far derived (by the reader's rule, looked up when
    called) from `termly`."""
    derived = extract_frames.apply_attendance(history.census, termly)
    census = history.census.assign(**{c: derived[c] for c in extract_frames.ATTENDANCE_TO_DATE})
    return PupilHistory(census, history.exclusions, history.social_care, attendance=termly)


def _termly_known_on(termly: pd.DataFrame, year: str, census: str) -> pd.DataFrame:
    """The termly files that existed on `year`'s `census` day: every term that had ended by then."""
    years = termly["AcademicYear"].map(calendar.start_year)
    earlier_term = termly["Term"].map(calendar.TERM_ORDER).lt(calendar.TERM_ORDER[census])
    ended = (years < calendar.start_year(year)) | (years.eq(calendar.start_year(year)) & earlier_term)
    return termly[ended.to_numpy()]


def _both(full_history, termly, truncate_at, year, census):
    """Features for `year` at `census` from the full data and from what was held on that census day."""
    full = _with_attendance(full_history, termly)
    cut = _with_attendance(truncate_at(full_history, year, census), _termly_known_on(termly, year, census))
    return full, cut


@pytest.mark.parametrize("census", CENSUSES)
@pytest.mark.parametrize("year", YEARS[1:])
def test_truncated_data_give_identical_features(full_history, termly, year, census, truncate_at):
    _, truncated = _both(full_history, termly, truncate_at, year, census)
    # the cut really removes later data that a leaky feature would see (the last year's summer census
    # has no later collection in these data)
    if not (census == calendar.SUMMER and year == YEARS[-1]):
        assert len(truncated.census) < len(full_history.census)
    assert len(truncated.exclusions) < len(full_history.exclusions)
    assert truncated.social_care["EndDate"].notna().sum() < full_history.social_care["EndDate"].notna().sum()

    full = _features(full_history, year, census)
    cut = _features(truncated, year, census)
    assert len(full) == 3000
    # attendance so far is there to compare from spring on (the autumn term has ended), never at autumn
    so_far = full["absence_rate_this_year"]
    assert so_far.isna().all() if census == calendar.AUTUMN else so_far.notna().mean() > 0.9
    pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED], check_exact=True)
    # outcomes lie after the cut: known in the full data, unknown in the truncated data
    assert full["label"].notna().all() and full["label"].sum() > 0
    assert cut["label"].isna().all()


def _later_census_row(real):
    """A census-history builder that also reads the collection after the reference one (at autumn
    the spring row, at spring the summer row, at summer next year's autumn row)."""

    def leaky(prep, ref, year, term):
        following = year * build.TERMS_A_YEAR + term + 1
        return real(prep, ref, following // build.TERMS_A_YEAR, following % build.TERMS_A_YEAR)

    return leaky


def _later_exclusion(real):
    """An exclusion builder that counts exclusions up to the year's end (31 August)."""

    def leaky(prep, ref, year, day):
        return real(prep, ref, year, calendar.year_end(year))

    return leaky


def _later_episode(real):
    """A social-care builder that sees episodes started (and ended) up to the year's end."""

    def leaky(prep, ref, day):
        return real(prep, ref, calendar.year_end(calendar.academic_year_of(day)))

    return leaky


def _running_term(real):
    """The reader's attendance so far taken up to the end of the census's own term (still running on
    census day): at autumn the autumn term, at spring autumn and spring."""

    def leaky(census, termly):
        order = census["CensusTerm"].map(calendar.TERM_ORDER) + 1
        later = order.map(dict(enumerate(calendar.CENSUS_TERMS)))
        shifted = real(census.assign(CensusTerm=later.fillna("SUM_END")), termly)
        # the summer census's running term is its year's last: sum every term of the year
        sessions = list(extract_frames.ATTENDANCE_TO_DATE.values())
        year_total = termly.groupby(["UPN", "AcademicYear"])[sessions].sum()
        at_summer = order.gt(len(calendar.CENSUS_TERMS) - 1).to_numpy()
        keys = pd.MultiIndex.from_frame(census.loc[at_summer, ["UPN", "AcademicYear"]])
        for column, source in extract_frames.ATTENDANCE_TO_DATE.items():
            values = year_total[source].reindex(keys).to_numpy(dtype="float64", na_value=float("nan"))
            shifted.loc[at_summer, column] = pd.array(values, dtype="Int64")
        return shifted

    return leaky


# leak -> (the module and builder function it replaces, a maker of the leaky variant from the real one)
LEAKS = {
    "later census row": (build, "_census_history_features", _later_census_row),
    "later exclusion": (build, "_exclusion_features", _later_exclusion),
    "later social-care episode": (build, "_social_care_features", _later_episode),
    "running term's attendance": (extract_frames, "apply_attendance", _running_term),
}


@pytest.mark.parametrize("census", CENSUSES)
@pytest.mark.parametrize("leak", list(LEAKS))
def test_the_leakage_check_detects_a_leak(full_history, termly, monkeypatch, truncate_at, census, leak):
    """The check itself: at each reference census, a builder that reads a later census row, a later
    exclusion, a later social-care episode or the running term's attendance gives different features
    on the truncated data."""
    module, name, make_leaky = LEAKS[leak]
    monkeypatch.setattr(module, name, make_leaky(getattr(module, name)))
    full_history, truncated = _both(full_history, termly, truncate_at, LEAK_YEAR, census)
    full = _features(full_history, LEAK_YEAR, census)
    cut = _features(truncated, LEAK_YEAR, census)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED])


def test_a_census_date_past_the_census_is_caught(full_history, monkeypatch, truncate_at):
    """Every date cut moved to the year's end at once (the autumn check as it always was)."""
    truncated = truncate_at(full_history, LEAK_YEAR)
    monkeypatch.setattr(calendar, "census_date", lambda year, term=calendar.AUTUMN: calendar.year_end(year))
    full = _features(full_history, LEAK_YEAR, calendar.AUTUMN)
    cut = _features(truncated, LEAK_YEAR, calendar.AUTUMN)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED])
