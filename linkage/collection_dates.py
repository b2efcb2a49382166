"""A census folder's files against their names: the collection date in the name is the file's year and term.

In a census folder (`census/census_2018-10-01.csv`, one file per collection) AcademicYear and CensusTerm
come from the date in each file's name (data contract). A file may still carry either column, as an MIS
export does; its value is then checked against the name's, never taken over it: a 2017/18 row in the
2018-10-01 collection, read as it was written, counted that collection's pupils in 2017/18 twice (each a
"dual registration") and left 2018/19 without the autumn census that scoring needs.

- A blank value takes the name's (the column is there, the row just does not say).
- A value that says the same in another spelling (`2018-19`, `Autumn`) agrees.
- A row whose value names another year or term is rejected, as any row that breaks the contract is
  (file, row, column, the value as written, a fixed reason that `exclusion-risk check` counts), and the
  file's note says how many, so that the analyst sees it beside the file's rows.
- A file whose every row names another year (or term) is misnamed (or the wrong file), not a file of
  bad rows: the read stops naming it and the column, as it stops for a copy of a collection or a date
  in a name that is no day (linkage.readers; a copy: `copied_collections`), rather than reject a whole
  collection row by row.

A value that is no year or term at all is left to validation (linkage.schemas), which says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.linkage.codes import CENSUS_TERM_MAP
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.parsing import parse_academic_years
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

# Fixed wording (no value): `exclusion-risk check` counts rejects by reason.
OFF_COLLECTION_YEAR = "AcademicYear is not the year of the collection date in the file name"
OFF_COLLECTION_TERM = "CensusTerm is not the term of the collection date in the file name"
OFF_COLLECTION = {"AcademicYear": OFF_COLLECTION_YEAR, "CensusTerm": OFF_COLLECTION_TERM}


def _said(values: pd.Series, column: str) -> pd.Series:
    """Each category of the column in its canonical form (2018/19, AUT); NA where it is none."""
    categories = pd.Series(values.cat.categories, dtype=object)
    if column == "AcademicYear":
        return parse_academic_years(categories.astype("string")).astype(object)
    return categories.map(CENSUS_TERM_MAP)


def _disagreeing(values: pd.Series, column: str, named: str) -> np.ndarray:
    """The rows whose value is another year or term than `named` (not blank, nor no year or term)."""
    said = _said(values, column)
    other = (said.notna() & (said != named)).to_numpy(dtype=bool)
    codes = values.cat.codes.to_numpy()
    known = codes >= 0
    off = np.zeros(len(codes), dtype=bool)
    off[known] = other[codes[known]]
    return off


def blanks_filled(values: pd.Series, named: str) -> pd.Series:
    """A categorical column with its blanks set to `named` (the reader's `blanks` use it too)."""
    if not values.isna().any():
        return values
    if named not in values.cat.categories:
        values = values.cat.add_categories([named])
    return values.fillna(named)


def agree_with_collection(
    raw: RawFile, work: pd.DataFrame, collection: dict[str, str], mapping: dict[str, int]
) -> pd.DataFrame:
    """`work` less the rows whose AcademicYear or CensusTerm is not the file name's collection (`collection`:
    the name's values; {} outside a census folder, or for a name without a date), blanks given the name's.
    The rows taken out go to raw.rejects, one line each (the first column that disagrees)."""
    off_rows = np.zeros(len(work), dtype=bool)
    rejects = []
    for column, named in collection.items():
        if column not in mapping:  # the name's value is the column (linkage.readers)
            continue
        off = _disagreeing(work[column], column, named)
        if off.all() and len(off):
            raise ExtractError(
                raw.name,
                f"its {column} column names another {'year' if column == 'AcademicYear' else 'term'} than "
                f"the collection date in the file name ({named}) on every row: rename the file "
                f"with its collection date, or leave {column} out (the name gives it)",
            )
        new = off & ~off_rows  # a row off in both columns is one line, naming the first
        if new.any():
            rows = work.index.to_numpy()[new]
            rejects.append(reject_frame(raw.name, rows, column, raw.values(mapping[column], rows),
                                        OFF_COLLECTION[column]))  # fmt: skip
        off_rows |= off
        work[column] = blanks_filled(work[column], named)
    if not off_rows.any():
        return work
    raw.rejects.extend(rejects)
    columns = " or ".join(c for c in collection if c in mapping)
    raw.skipped.append(
        f"{int(off_rows.sum())} row(s) rejected: their {columns} is not that of the collection date in the "
        "file name (which gives the year and term)"
    )
    return work[~off_rows]


def _collection_words(collection: dict[str, str]) -> str:
    return f"the {collection['AcademicYear']} {calendar.census_name(collection['CensusTerm'])} census"


def copied_collections(files: list[Path], found: dict[Path, dict[str, str]], name: Callable[[Path], str]
                       ) -> list[str]:
    """Census folder files that are byte-for-byte copies of one another, by their collections (`found`:
    each file's from its name, {} without a date; `name`: a file's name in messages). A copy of a file of
    the same collection (census_2018-10-04 (copy).csv beside its original; or two files whose names give no
    date) stops the read, naming both: read twice, every pupil of it would be on two rows (a dual
    registration each). A copy named as another collection (census_2018-10-04.csv a copy of
    census_2017-10-04.csv: the names, not the rows, give the year) is read, as the name says, and warned of,
    naming both: read without a word, a tester's 3,020 pupils were scored in 2018/19 with 2017/18's year
    groups, every one a year behind their age. One collection split over several files is read."""
    by_size: dict[int, list[Path]] = {}
    for file in (f for f in files if f.is_file()):  # one not there is the reader's to name
        by_size.setdefault(file.stat().st_size, []).append(file)
    seen: dict[tuple, Path] = {}
    first_of: dict[str, Path] = {}
    warnings = []
    for same_size in (group for group in by_size.values() if len(group) > 1):
        for file in same_size:  # only files of one size can be copies: only they are hashed
            with file.open("rb") as handle:
                sha = hashlib.file_digest(handle, "sha256").hexdigest()
            digest = (sha, *found[file].values())
            if digest in seen:
                copy = f"a copy of {name(seen[digest])} (the same bytes): keep one of them"
                raise ExtractError(name(file), copy)
            seen[digest] = file
            original = first_of.setdefault(sha, file)
            if original is not file and found[original] and found[file]:
                was, now = _collection_words(found[original]), _collection_words(found[file])
                warnings.append(
                    f"{name(original)} and {name(file)} hold the same rows (the same bytes), read as {was} "
                    f"and {now}: a collection copied under another's name? Its pupils are read on {now} as "
                    f"they were on {was} (year groups and all); put that collection's own file in its place"
                )
    return warnings
