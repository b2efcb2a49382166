"""A date column written month-first (US order, `m/d/yyyy`), or as Excel's day numbers, stops the read,
naming the file and column.

The readers take `nn/nn/yyyy` as DD/MM/YYYY. An MIS or spreadsheet in a US locale writes 2 September
2015 as 09/02/2015: read day-first, every date whose day is 12 or less was silently the wrong day and
month (exclusions in the wrong academic year) and the rest were rejected as "not a date". A column is
refused when none of its slashed dates can only be day-first (first number above 12), and those that can
only be month-first (second number above 12, first at most 12) are at least 2 and at least a tenth of
the slashed ones (a real US file has about 60% of its dates with a day above 12), where slashed dates are
most (more than half) of its distinct values or `MONTH_FIRST_BLOCK` (10) or more can only be month-first
(a block of a US export joined to an ISO file). Anything else (a hand-typed US date or a few among ISO
ones, one impossible-month typo in a day-first file, both kinds) is left to the row checks, which reject
the impossible rows one by one.
Distinct values only are looked at: a census's million dates of birth hold a few thousand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.fields import Field

# Slashed dates that are a minority of the column are refused too once this many can only be month-first:
# a data officer's find, 328 rows of a US-locale export joined to an ISO file, of whose dates 51 kept
# were read with day and month swapped (17 in another academic year) and 276 rejected one by one.
MONTH_FIRST_BLOCK = 10
# A date column saved from Excel unformatted holds day numbers (days since 1900: 1980-2100 is 29221-73415)
_EXCEL_SERIAL = r"^(?:29[2-9]\d\d|[3-6]\d{4}|7[0-3]\d{3})(?:\.0+)?$"
EXCEL_SERIALS = (
    "the dates are day numbers, as Excel saves a date column not formatted as a date: format the column "
    "as a date (DD/MM/YYYY) in the spreadsheet and save it as CSV again"
)
# The two leading numbers of a slashed date (a time may follow), as linkage.parsing reads it.
_SLASHED = r"^(?P<first>\d{1,2})/(?P<second>\d{1,2})/\d{4}(?:[ T]|$)"
MONTH_FIRST = (
    "the dates look month-first (US order, m/d/yyyy): some can only be read that way and none only "
    "day-first; re-save them as YYYY-MM-DD or DD/MM/YYYY"
)


def _month_first_only(distinct: pa.Array) -> bool:
    struct = pc.extract_regex(distinct, _SLASHED)
    first = pc.cast(pc.struct_field(struct, "first"), pa.int64()).to_numpy(zero_copy_only=False)
    second = pc.cast(pc.struct_field(struct, "second"), pa.int64()).to_numpy(zero_copy_only=False)
    matched = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    first, second = np.where(matched, first, 0), np.where(matched, second, 0)
    month_first = matched & (first <= 12) & (second > 12)
    day_first = matched & (first > 12)
    slashed, only_month_first = int(matched.sum()), int(month_first.sum())
    # most of the column slashed; or a block of them (another export joined on) that is plainly US order
    enough = 2 * slashed > len(distinct) or only_month_first >= MONTH_FIRST_BLOCK
    return enough and only_month_first >= 2 and 10 * only_month_first >= slashed and not day_first.any()


def refuse_month_first(name: str, work: pd.DataFrame, fields: tuple[Field, ...]) -> None:
    """ExtractError naming the file and the first date column of `work` (pre-cleaned text, categorical)
    whose values look month-first (the module docstring); never a value."""
    for f in fields:
        if f.kind != "date" or f.name not in work.columns:
            continue
        column = work[f.name]
        if isinstance(column.dtype, pd.CategoricalDtype):  # the values of the rows still read, once each
            codes = column.cat.codes.to_numpy()
            values = column.cat.categories[np.unique(codes[codes >= 0])]
        else:
            values = column.dropna().unique()
        distinct = pa.array(pd.Series(values, dtype=object).astype(str).tolist(), pa.string())
        if len(distinct) and _month_first_only(distinct):
            raise ExtractError(name, MONTH_FIRST, column=f.name)
        serial = pc.sum(pc.match_substring_regex(distinct, _EXCEL_SERIAL)).as_py() or 0
        if 2 * serial > len(distinct):  # every such row rejected as "not a date", and no word of why
            raise ExtractError(name, EXCEL_SERIALS, column=f.name)
