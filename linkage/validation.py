"""Headers -> contract names, the file's pre-cleaned text, and its validation: failing rows rejected.

Headers are matched case-insensitively, ignoring spaces and punctuation, with the contract's aliases
(an MIS export's `Estab, Gender, DoB, SENNeed1, FSME on Census Day` read as they are); a missing
required column is one `ExtractError` naming the file and column(s), and so are two or more columns
of one spelling (`UPN` and `upn`): which holds the values is unknown. Different spellings of one
field (`URN` and `LAEstab`) read the contract's first, and the note says which was not read. The mapped
columns are pre-cleaned (stripped, blank -> NA, codes upper-cased, and a code written as a whole number
with a zero decimal part read without it: `1.0`, `0.00`, `9.0` as a pandas or Excel float export writes
the FSM flag, NC year or CIN sex digit, as the numeric columns read `2.0`; `1.5` stays itself, and so
unknown) and validated with the pandera schemas of linkage.schemas, lazily, so every failure is reported:
a failing row is one line of the rejects naming every failing column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.absent_columns import absent_notes, close_header_hint
from exclusion_risk.linkage.arrow_text import text_series
from exclusion_risk.linkage.date_order import refuse_month_first
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.fields import FIELDS, Field, header_key
from exclusion_risk.linkage.parsing import LATEST_DATE
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import one_line_per_row, reject_frame, visible
from exclusion_risk.linkage.schemas import MISSING, build_schema, frame_check_columns
from exclusion_risk.values import number_ranges


def map_header(raw: RawFile, fields: tuple[Field, ...], derivable: set[str] = frozenset(),
               name_gives: tuple[str, ...] = ()) -> dict[str, int]:
    """canonical name -> column position; ExtractError naming every missing required column, or every
    field whose one spelling two or more columns share (`UPN` and `upn`: which holds the values is
    unknown, and taking the first read a blanked copy). Where a field's different spellings are all
    there (`URN` and `LAEstab`, `Sex` and `Gender`: exports carry both), the one read is the
    contract's name, else the first alias in the contract's order, and the note says which was not.
    `name_gives`: columns a collection date in the file's name would give (a census folder's file), of
    which a missing one is said with how to name the file."""
    keys = [header_key(h) for h in raw.header]
    mapping: dict[str, int] = {}
    aliased: list[str] = []
    missing: list[Field] = []
    repeated: dict[str, list[int]] = {}  # field -> the positions of every column of one spelling
    for f in fields:
        spellings = list(dict.fromkeys(header_key(spelling) for spelling in (f.name, *f.aliases)))
        found = [[i for i, key in enumerate(keys) if key == spelling] for spelling in spellings]
        same = [positions for positions in found if len(positions) > 1]
        present = [positions[0] for positions in found if positions]
        if same:
            repeated[f.name] = same[0]
        elif present:
            mapping[f.name] = present[0]
            # headers as written, but a control character (a header matches ignoring it) as an escape:
            # the note reaches consoles and the service's warnings
            read = visible(raw.header[present[0]])
            if keys[present[0]] != header_key(f.name):
                aliased.append(f"{read} -> {f.name}")
            aliased += [f"{visible(raw.header[i])} not read ({read} is)" for i in present[1:]]
        elif f.required and f.name not in derivable:
            missing.append(f)
    if missing:
        accepted = [
            f"{f.name!r} (accepted headers, in any case: {', '.join((f.name, *f.aliases))})" for f in missing
        ]
        said = (f"column missing; {accepted[0]}" if len(missing) == 1
                else f"columns missing: {'; '.join(accepted)}")  # fmt: skip
        # a first line naming none of the contract's columns may be a pupil's values (no header row):
        # nothing of it is offered as a likely header
        read = set(mapping.values()) | _positions(repeated)
        hint = close_header_hint(raw.header, missing, read) if mapping else ""
        if any(f.name in name_gives for f in missing):
            hint += (". In a census folder a collection date in the file's name gives AcademicYear and "
                     "CensusTerm: name the file with it (census_2018-01-18.csv)")
        error = ExtractError(raw.name, f"required {said}{hint or _title_hint(raw)}")
        error.column = missing[0].name
        raise error
    if repeated:
        error = ExtractError(raw.name, _repeated_problem(raw.header, repeated))
        error.column = next(iter(repeated))
        raise error
    raw.aliased, raw.mapping = aliased, mapping
    raw.skipped += absent_notes(raw.header, fields, mapping, _extract_of(fields))
    return mapping


def _positions(repeated: dict[str, list[int]]) -> set[int]:
    return {position for positions in repeated.values() for position in positions}


def _extract_of(fields: tuple[Field, ...]) -> str:
    return next((extract for extract, its in FIELDS.items() if its is fields or its == fields), "")


def _title_hint(raw: RawFile) -> str:
    """Where the first line names one column only: a report title above the header row ("Exclusions
    report") read as the header had every column said to be missing, though all are on line 2."""
    if sum(1 for h in raw.header if h.strip()) > 1:
        return ""
    return (". The first line holds one column name only: if a title line sits above the header row, "
            "remove it (the header row must be the file's first line)")


# A header is shown as written, but a pathological one (thousands of spaces) is cut short.
SHOWN_HEADER_CHARS = 60


def _repeated_problem(header: list[str], repeated: dict[str, list[int]]) -> str:
    """The message for fields read from more than one column: each column as written and where it is
    (two columns can be spelt alike), 1-based. Column names only: no value of the file."""

    def shown(position: int) -> str:
        name = header[position]
        if len(name) > SHOWN_HEADER_CHARS:
            name = name[:SHOWN_HEADER_CHARS] + "..."
        return f"{name!r} (column {position + 1})"

    clauses = []
    for field, positions in repeated.items():
        columns = [shown(p) for p in positions]
        listed = f"{', '.join(columns[:-1])} and {columns[-1]}"
        clauses.append(f"columns {listed} are {'both' if len(columns) == 2 else 'all'} read as {field!r}")
    keep = "keep one column for it" if len(repeated) == 1 else "keep one column for each"
    return f"a field must appear once; {'; '.join(clauses)} (headers match in any case and by alias): {keep}"


# A whole number with a zero decimal part ("1.0", "09.00"): in a code column, read as its digits.
_POINT_ZEROS = r"^(\d+)\.0+$"


def _clean_column(
    encoding: pa.DictionaryArray, upper: bool, alive: np.ndarray, index: pd.Index, code: bool = False,
    null_word: bool = False,
) -> tuple[pd.Series, int]:
    """Pre-cleaned column as a categorical, cleaning each distinct text once: stripped, blank -> NA;
    `code`: a whole number with a zero decimal part as its digits (the module docstring); `null_word`:
    the word NULL (any case) -> NA, as a database export writes an empty cell. With the number of live
    cells so read.

    The categories are arrow text (so the checks and conversions read them without a copy).
    """
    dictionary = pc.utf8_trim_whitespace(encoding.dictionary)
    nulls = 0
    if null_word:
        is_null = pc.fill_null(pc.equal(pc.utf8_upper(dictionary), NULL_WORD), False)
        if pc.any(is_null).as_py():
            at = np.flatnonzero(is_null.to_numpy(zero_copy_only=False))
            nulls = int(np.isin(pc.fill_null(encoding.indices, -1).to_numpy()[alive], at).sum())
            dictionary = pc.if_else(is_null, pa.scalar(None, dictionary.type), dictionary)
    if upper:
        dictionary = pc.utf8_upper(dictionary)
    if code:
        dictionary = pc.replace_substring_regex(dictionary, _POINT_ZEROS, r"\1")
    dictionary = pc.if_else(pc.equal(dictionary, ""), pa.scalar(None, dictionary.type), dictionary)
    # cleaning can merge distinct texts (" M" and "M") and blank some: re-encode the dictionary
    merged = pc.dictionary_encode(dictionary)
    remap = pc.fill_null(merged.indices, -1).to_numpy().astype(np.int32)
    remap = np.append(remap, np.int32(-1))  # null rows point past the end
    ids = pc.fill_null(encoding.indices, len(remap) - 1).to_numpy()
    categories = pd.Index(text_series(merged.dictionary, pd.RangeIndex(len(merged.dictionary))).array)
    categorical = pd.Categorical.from_codes(
        remap[ids[alive]], dtype=pd.CategoricalDtype(categories), validate=False
    )
    return pd.Series(categorical, index=index, copy=False), nulls


# SQL Server's "save results as" (and other database exports) write an empty cell as NULL: read as blank
# in every column but free text (a surname can be Null), and counted in the file's note.
NULL_WORD = "NULL"


def work_frame(raw: RawFile, fields: tuple[Field, ...], mapping: dict[str, int]) -> pd.DataFrame:
    """Pre-cleaned text of the mapped columns (categoricals): stripped, blank -> NA, codes upper-cased
    (and a code's `1.0` read as `1`), NULL -> NA outside free text (_clean_column)."""
    index = pd.Index(raw.rows[raw.alive], name="_row")
    out, nulls = {}, {}
    for f in fields:
        if f.name in mapping:
            out[f.name], nulls[f.name] = _clean_column(
                raw.encoded_column(mapping[f.name]), f.kind not in ("text", "date", "id"), raw.alive, index,
                code=f.kind == "code", null_word=f.kind != "text",
            )
    counted = [f"{count:,} in {name}" for name, count in nulls.items() if count]
    if counted:
        raw.skipped.append(f"cells written NULL (a database export's empty cell) read as blank: "
                           f"{', '.join(counted)}")
    if OPEN_END in out:
        out[OPEN_END], placeholders = _open_end_placeholders(out[OPEN_END])
        if placeholders:
            raw.skipped.append(f"{OPEN_END} written as a far-future date (such as 31/12/9999, a system's "
                               f"\"still open\") read as blank, the episode open: {placeholders:,} row(s)")
    return pd.DataFrame(out, index=index)


# A social-care system that cannot leave an end date blank writes an open episode's as 9999-12-31 (or
# 31/12/2999): rejected as "not a date", the open episodes were lost (a data officer's find: 85 rows, 24
# of them looked after, 30 pupils' need level lowered). A year past LATEST_DATE's is such a placeholder.
OPEN_END = "EndDate"
_FAR_FUTURE = r"^(?:(?P<iso>\d{4})-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/(?P<uk>\d{4}))(?:[ T].*)?$"


def _open_end_placeholders(column: pd.Series) -> tuple[pd.Series, int]:
    """`column` (categorical pre-cleaned text) with far-future dates blank, and how many rows were."""
    categories = pd.Series(column.cat.categories.astype(str))
    parts = categories.str.extract(_FAR_FUTURE)
    written = np.where(parts["iso"].notna(), parts["iso"], parts["uk"])  # the year, either way round
    year = pd.to_numeric(pd.Series(written), errors="coerce")
    far = categories[(year > LATEST_DATE.year).to_numpy()].tolist()
    if not far:
        return column, 0
    placeholders = int(column.isin(far).sum())
    return column.cat.remove_categories(far), placeholders


def _blank_unknown_details(
    raw: RawFile, failures: pd.DataFrame, work: pd.DataFrame, extract: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the failures that reject their rows, `work` with the rest blanked): a value a `blank_if_unknown`
    column does not accept, on a row with no other failure, is read as blank and the row kept, counted and
    its rows named in the file's note (row numbers, never the value). A row failing elsewhere too is
    rejected with every reason, as before."""
    soft = {f.name: f for f in FIELDS[extract] if f.blank_if_unknown}
    in_soft = (failures["schema_context"] == "Column") & failures["column"].isin(soft)
    rejected_rows = set(failures.loc[~in_soft, "index"])
    kept = in_soft & ~failures["index"].isin(rejected_rows)
    blank = failures[kept]
    if blank.empty:
        return failures, work
    work = work.copy()
    said = []
    for column, rows in blank.groupby("column", sort=False)["index"]:
        rows = np.unique(rows.to_numpy())
        at = work.index.isin(rows)
        salvage = soft[column].salvage  # what of the value is kept: Factors' codes among its words
        if salvage is None:
            work[column] = work[column].where(~at)
        else:
            work[column] = work[column].astype(object).where(~at, work.loc[at, column].map(salvage))
        saved = ", any codes among the words kept" if salvage else ""
        said.append(f"{column} {len(rows):,} row(s){saved} (rows {number_ranges(rows)})")  # every one named
    raw.skipped.append("values not in the data contract's lists read as blank, each row kept (its other "
                       f"columns are sound; correct them at source): {'; '.join(said)}")
    return failures[~kept], work


PANDERA_CONCAT_WARNING = "The behavior of DataFrame concatenation with empty or all-NA entries"


def validate(raw: RawFile, work: pd.DataFrame, extract: str, mapping: dict[str, int]) -> pd.DataFrame:
    """Run the pandera schema; failing rows go to raw.rejects. Returns the clean rows of `work`. A date
    column written month-first stops the read first (linkage.date_order)."""
    refuse_month_first(raw.name, work, FIELDS[extract])
    try:
        with warnings.catch_warnings():
            # pandera's own concat of the failure cases (an all-NA column among them), printed to the
            # console of `link` when a whole file fails: nothing the user's data or this code can change.
            warnings.filterwarnings("ignore", PANDERA_CONCAT_WARNING, FutureWarning)
            build_schema(extract).validate(work, lazy=True)
        return work
    except pandera.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    if failures["index"].isna().any():  # a check that crashed: our bug, never the user's data
        raise RuntimeError(f"{raw.name}: a validation check failed to run: {failures['check'].iloc[0]}")
    failures = failures.assign(index=failures["index"].astype(np.int64))
    failures, work = _blank_unknown_details(raw, failures, work, extract)
    if failures.empty:
        return work
    frame_level = failures["schema_context"] == "DataFrameSchema"
    if frame_level.any():  # one reject per row for a frame-level check, naming its column
        level = failures[frame_level].drop_duplicates(["index", "check"])
        level = level.assign(column=frame_check_columns(level["check"], level["index"].to_numpy(), work))
        failures = pd.concat([failures[~frame_level], level])
    order = {f.name: i for i, f in enumerate(FIELDS[extract])}  # a row's failures in column order
    failures = failures.assign(_order=failures["column"].map(order))
    failures = failures.sort_values(["index", "_order"], kind="stable")
    reasons = failures["check"].astype(str).where(failures["check"] != "not_nullable", MISSING)
    values = np.empty(len(failures), dtype=object)
    for column, positions in failures.groupby("column").indices.items():
        rows = failures["index"].to_numpy()[positions]
        if column in mapping:
            values[positions] = raw.values(mapping[column], rows)
        else:  # derived from the file name
            values[positions] = work[column].reindex(rows).to_numpy(dtype=object, na_value="")
    rejects = reject_frame(raw.name, failures["index"], failures["column"], values, reasons)
    raw.rejects.append(one_line_per_row(rejects))
    # work's index is the ascending row numbers: positions by binary search, not a hash of 1M labels
    keep = np.ones(len(work), dtype=bool)
    keep[np.searchsorted(work.index.to_numpy(), failures["index"].unique())] = False
    if extract == "social_care" and "LAchildID" in mapping:
        _children_wholly_rejected(raw, work[keep], failures["index"].unique(), mapping["LAchildID"])
    return work[keep]


def _children_wholly_rejected(raw: RawFile, clean: pd.DataFrame, rows: np.ndarray, position: int) -> None:
    """Count, in the file's note, the children every one of whose rows was rejected: the link report's
    rates are of the records read, so a child lost whole was in no count (a social-care data lead read
    '100.0% linked' with 8 children's every episode rejected)."""
    ids = {str(v).strip() for v in raw.values(position, np.sort(rows)) if v is not None and str(v).strip()}
    lost = len(ids - set(clean["LAchildID"].dropna().astype(str)))
    if lost:
        raw.skipped.append(f"{lost:,} child(ren) with every row rejected: none of their episodes is read, "
                           "and the link report's rates do not count them (rejects.csv lists the rows)")
