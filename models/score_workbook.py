"""scores.xlsx: the ranked list as an officer opens it in Excel, with the notice as its first sheet.

Sheets, in order: "Notice" (the decision-support notice, the model, year and date scored, the risk
matrix's legend and, where the matrix has them, each band's precision sentence; then what changed since
an earlier scoring, when there is one), "Ranked list" (every column of the scores, highest risk first),
"Changes" (only with a comparison: one row per pupil whose place changed) and one sheet per school, each
with its header row frozen and a filter over its rows.

Written by XlsxWriter in constant-memory mode, row by row, each sheet's XML to a temporary file in a
folder of the call's own (owner-only, removed whether the write finished or not): the demo's 62,509
pupils (the ranked list and again by school, about 2.25 million cells) took 59.8 s and 28 MB on this
two-core machine (2026-12-06, `bench/workbook.py --scores data/demo/scores/scores.csv`), against 99.5 s
for openpyxl's write-only mode writing the same cells, the writer before (its sheets' XML, about 2 KB a
pupil uncompressed, is on disk meanwhile: memory where /tmp is a tmpfs). XlsxWriter's default mode
(shared strings) was faster again (35 s against 53 s) but held about 230 MB more: the service writes
downloads beside its scorings. Every text cell is written as text and neutralised (`files.neutralise`),
so a string that starts with "=" is neither stored as a formula nor run by a spreadsheet the file is
converted for. The workbook holds every pupil's UPN, so the file is created owner-only
(`files.open_private`), and a file already at the path is replaced only by a finished workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from exclusion_risk.files import (
    SymlinkOutputError,
    neutralise,
    open_private,
    private_dir,
    remove_ended_scratch,
)
from exclusion_risk.models.reasons import REASON_COLUMNS_NOTE
from exclusion_risk.models.risk_matrix import need_labels
from exclusion_risk.models.score_runs import change_labels
from exclusion_risk.models.score_table import as_written
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

SCRATCH_PREFIX = ".scores-xlsx-"  # beside the workbook: each sheet's rows, while it is written

NOTICE_SHEET = "Notice"
RANKED_SHEET = "Ranked list"
CHANGES_SHEET = "Changes"
NO_SCHOOL = "No school"
MAX_TITLE = 31  # Excel's limit on a sheet name, in UTF-16 units (an emoji is two)
CUT_MARKER = " [cut: longer than a cell holds]"
EXCEL_ROWS = 1_048_576  # rows in a sheet, the header's included
MAX_CELL_CHARS = 32_767  # characters in a cell; XlsxWriter would cut a longer text without a word
TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Excel refuses a few names (case-insensitively); "History" is kept for its own change tracking.
RESERVED_TITLES = {"history"}
WIDTH_SAMPLE = 2_000  # rows looked at per column to size it
MIN_WIDTH, MAX_WIDTH = 8, 70
RAG_FILLS = {"red": "F4B6B6", "amber": "FBD9A6", "green": "C6E5C0"}
# Shown as percentages, as the page shows them; band_precision's interval beside it, text in scores.csv
# ("0.312-0.371"), is written "31.2%-37.1%" (`_percent_interval`): a school's sheet read 12.0% beside 0.073.
PERCENT_COLUMNS = ("probability", "band_precision")
# XML 1.0 cannot hold these control characters: openpyxl refuses a cell holding one.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Text stays text: XlsxWriter would otherwise store a string led by "=" as a formula (which Excel runs), a
# URL-like string as a link and a numeric-looking one as a number. Rows are written in order and each
# sheet's XML goes to a temporary file (in the call's own folder, `write_scores_workbook`), not memory.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def notice_lines_for(
    model_name: str, model_version: str, year: str, census: str, scored_on: str
) -> list[str]:
    """The notice sheet's lines about a scoring: which model, which census, when."""
    return [
        f"Model: {model_name} version {model_version}",
        f"Census scored: {year} {census}",
        f"Date scored: {scored_on}",
    ]


def scoring_words(model_name: str, model_version: str, year: str, census: str, scored_on: str) -> str:
    """A scoring in one line, for the head of each school's sheet (`notice_lines_for`'s facts)."""
    return f"{year} {census} census, scored {scored_on} with {model_name} version {model_version}"


def _percent_interval(text: object) -> object:
    """scores.csv's band_precision_ci ("0.312-0.371") as the workbook's percentages read it ("31.2%-37.1%");
    any other value as it is."""
    if not isinstance(text, str) or not re.fullmatch(r"\d\.\d+-\d\.\d+", text):
        return text
    low, high = (float(part) for part in text.split("-"))
    return f"{100 * low:.1f}%-{100 * high:.1f}%"


def _utf16_cut(text: str, units: int, doubled: str = "") -> str:
    """The start of `text` that fits in `units` UTF-16 units, as Excel counts a sheet name's length (a
    character beyond the Basic Multilingual Plane is two); each character of `doubled` counts twice (a
    page header's "&", written "&&"). One pass: cutting a character at a time took 30 s for a school
    name of 1,500 characters, once per sheet."""
    count = 0
    for position, character in enumerate(text):
        count += (2 if ord(character) > 0xFFFF else 1) * (2 if character in doubled else 1)
        if count > units:
            return text[:position]
    return text


def sheet_title(text: str, taken: set[str]) -> str:
    """`text` as a sheet name Excel accepts (no []:*?/\\ characters, at most 31 UTF-16 units, not led or
    ended by an apostrophe), unique among `taken` (compared case-insensitively, as Excel does); added to
    `taken`. (A school named with an emoji near the 31st character was 31 characters but 32 units, and
    the workbook was refused.)"""
    base = TITLE_FORBIDDEN.sub(" ", ILLEGAL_XML.sub(" ", str(text)))
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    base = _utf16_cut(base, MAX_TITLE).rstrip("'").rstrip() or "Sheet"
    title, n = base, 1
    while title.lower() in taken or title.lower() in RESERVED_TITLES:
        n += 1
        suffix = f" ({n})"
        title = _utf16_cut(base, MAX_TITLE - len(suffix)).rstrip() + suffix
    taken.add(title.lower())
    return title


def _cell(value: Any) -> Any:
    """A value written as it is: text neutralised and XML-safe, missing values empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return neutralise(ILLEGAL_XML.sub(" ", value))
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _column_values(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column as plain Python values passed through `_cell`, converted once: the per-school sheets
    take their rows from these lists by position (a text column's repeated values are neutralised once)."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
            columns.append([_cell(v) for v in values.astype(object).tolist()])  # NaN and NA: `_cell`'s None
        else:
            seen: dict[Any, Any] = {}
            converted = []
            for v in values.tolist():
                if isinstance(v, str):
                    if v not in seen:
                        seen[v] = _cell(v)
                    converted.append(seen[v])
                else:
                    converted.append(_cell(v))
            columns.append(converted)
    return columns


def _with_school_names(changes: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The Changes sheet names each pupil's school beside its URN, as the ranked list does (a leaver's
    school is one this scoring covered: `compare` lists no other), where the scores name schools."""
    if "school_urn" not in changes.columns or "school_name" not in scores.columns or "school_name" in changes:
        return changes
    def tidy(urns: pd.Series) -> pd.Series:  # URNs as text, as `_school_groups` reads them
        return urns.astype("string").str.strip()

    named = scores.assign(_urn=tidy(scores["school_urn"])).dropna(subset=["_urn", "school_name"])
    names = named[named["school_name"].astype("string").str.strip() != ""].drop_duplicates("_urn")
    at = changes.columns.get_loc("school_urn") + 1
    return changes.reindex(columns=[*changes.columns[:at], "school_name", *changes.columns[at:]]).assign(
        school_name=tidy(changes["school_urn"]).map(names.set_index("_urn")["school_name"]).to_numpy()
    )


def _widths(headers: Sequence[str], columns: Sequence[Sequence[Any]]) -> list[float]:
    """A width per column: its header or its longest value among the first rows, within limits."""
    widths = []
    for name, values in zip(headers, columns, strict=True):
        longest = max([len(str(name))] + [len(str(v)) for v in values[:WIDTH_SAMPLE] if v is not None])
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))))
    return widths


def _printed_with_notice(sheet, title: str, header_row: int = 0) -> None:
    """Printed, a sheet carries its name at the head of each page, its header row on each page, and the
    decision-support notice at the foot: a school's sheet is printed and handed on without the notice
    sheet. ("&" is Excel's header/footer code character, so a school's "&" is doubled; Excel holds 255
    characters of a page header.)"""
    text = _utf16_cut(f"Risk of school exclusion: {title}", 253, doubled="&")
    sheet.set_header("&L" + text.replace("&", "&&"))
    sheet.set_footer("&C" + DECISION_SUPPORT_NOTICE.replace("&", "&&"))
    sheet.repeat_rows(header_row)


def _write_value(sheet, row: int, column: int, value: Any, date_format, number_format=None) -> None:
    """One cell by its type: text always as text (never a formula or a link), numbers as numbers (in
    `number_format` where given)."""
    if value is None:
        return
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARS:
            value = value[: MAX_CELL_CHARS - len(CUT_MARKER)] + CUT_MARKER
        sheet.write_string(row, column, value)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, number_format)
    elif isinstance(value, dt.date | dt.datetime):
        sheet.write_datetime(row, column, value, date_format)
    else:
        sheet.write_string(row, column, _cell(str(value)))


def _table_sheet(
    workbook,
    formats: dict[str, Any],
    title: str,
    headers: Sequence[str],
    columns: Sequence[Sequence[Any]],
    rows: Sequence[int] | None = None,
    lead: Sequence[str] = (),
    printed_title: str | None = None,
) -> None:
    """A sheet of `columns` (the `rows` positions of them, or all): `lead`'s lines in bold above a bold
    header, frozen with it, a filter over the used range, sized columns, the RAG column coloured by a
    conditional format (one rule per colour, not a style per cell). Written row by row (the workbook is
    in constant-memory mode). `printed_title`: the page header's, where the sheet's name is cut."""
    if isinstance(rows, range) and rows.start == 0 and rows.step == 1:
        columns = [values[: rows.stop] for values in columns]  # the list's first rows: a slice
    elif rows is not None:
        columns = [[values[i] for i in rows] for values in columns]
    count = len(columns[0]) if columns else 0
    sheet = workbook.add_worksheet(title)
    top = len(lead)  # the header's row
    _printed_with_notice(sheet, printed_title or title, top)
    for index, width in enumerate(_widths(headers, columns)):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, top + count, max(0, len(headers) - 1))
    if "rag" in headers:
        column = list(headers).index("rag")
        for rag in RAG_FILLS:
            sheet.conditional_format(
                top + 1, column, top + max(1, count), column,
                {"type": "cell", "criteria": "==", "value": f'"{rag}"', "format": formats[rag]},
            )  # fmt: skip
    for row, line in enumerate(lead):  # one cell each, running over the empty cells beside it
        sheet.write_string(row, 0, _cell(line), formats["bold"])
    for index, name in enumerate(headers):
        sheet.write_string(top, index, _cell(str(name)), formats["bold"])
    date_format = formats["date"]
    # probabilities shown as the page and scores.html show them (82.6%); the cell keeps the number
    number_formats = [formats["percent"] if name in PERCENT_COLUMNS else None for name in headers]
    for row, values in enumerate(zip(*columns, strict=True), start=top + 1):
        for index, value in enumerate(values):
            _write_value(sheet, row, index, value, date_format, number_formats[index])
    # Its rows are written: close its temporary file now (XlsxWriter reopens it to package the workbook,
    # `Workbook.close`), or a county's 600 school sheets held 600 open files until the end.
    sheet._opt_close()


def _legend_rows(risk_matrix: dict | None) -> list[list[Any]]:
    """The risk matrix's legend: each cell's RAG and response, then each band's precision sentence."""
    if not risk_matrix:
        return []
    rows: list[list[Any]] = [
        [f"Risk matrix {risk_matrix.get('version', '')}".strip()],
        ["Likelihood band", "Need level", "Cell", "RAG", "Suggested response"],
    ]
    need_labels = {level.get("level"): level.get("label") for level in risk_matrix.get("need_levels", [])}
    for cell in risk_matrix.get("cells", []):
        need = cell.get("need_level")
        label = need_labels.get(need)
        rows.append(
            [
                cell.get("likelihood_band"),
                f"{need} {label}" if label else need,
                cell.get("matrix_cell"),
                cell.get("rag"),
                cell.get("response"),
            ]
        )
    precision = []
    for band in risk_matrix.get("likelihood_bands", []):
        text = (band.get("precision") or {}).get("text") if isinstance(band.get("precision"), dict) else None
        if text:
            precision.append([band.get("label"), text])
    if precision:
        # scores.html's words: for the low band, 0.7% excluded is the band borne out, not "right" 0.7%
        rows += [[], ["How sure each band is: what happened to the pupils each band held in the model's "
                      "test year (95% interval in brackets)."], *precision]
    return rows


def _notice_sheet(
    workbook,
    formats: dict[str, Any],
    notice_lines: Sequence[str],
    risk_matrix: dict | None,
    changes_summary: str | None,
    school_sheets: int,
) -> None:
    sheet = workbook.add_worksheet(NOTICE_SHEET)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 16)
    sheet.set_column(4, 4, 60)
    sheet.write_string(0, 0, "Risk of school exclusion: scores", formats["title"])
    sheet.write_string(1, 0, _cell(DECISION_SUPPORT_NOTICE), formats["bold"])
    rows: list[list[Any]] = [[]]
    rows += [[line] for line in notice_lines]
    if changes_summary:
        rows += [[], [changes_summary]]
    rows += [
        [],
        [
            f"Sheets: '{RANKED_SHEET}' (every pupil, highest risk first)"
            + (f", '{CHANGES_SHEET}'" if changes_summary else "")
            + f" and {school_sheets} per-school sheet(s). Each has a filter on its header row."
        ],
        [REASON_COLUMNS_NOTE],
        [],
    ]
    rows += _legend_rows(risk_matrix)
    for row, values in enumerate(rows, start=2):
        for index, value in enumerate(values):
            _write_value(sheet, row, index, _cell(value), formats["date"])


def _school_groups(scores: pd.DataFrame) -> Iterable[tuple[str, np.ndarray]]:
    """(sheet title wanted, row positions) per school, schools in URN order, pupils in the list's order."""
    if "school_urn" not in scores.columns:
        return []
    urns = scores["school_urn"].astype("string").fillna("").str.strip().to_numpy()
    names = (
        scores["school_name"].astype("string").fillna("").str.strip().to_numpy()
        if "school_name" in scores.columns
        else np.full(len(scores), "", dtype=object)
    )
    groups = []
    for urn, positions in pd.Series(np.arange(len(scores))).groupby(urns, sort=True):
        rows = positions.to_numpy()
        name = next((n for n in names[rows] if n), "")
        wanted = f"{urn} {name}".strip() if urn else NO_SCHOOL
        groups.append((wanted, rows))
    return groups


def _formats(workbook) -> dict[str, Any]:
    formats = {rag: workbook.add_format({"bg_color": f"#{colour}"}) for rag, colour in RAG_FILLS.items()}
    formats["bold"] = workbook.add_format({"bold": True})
    formats["title"] = workbook.add_format({"bold": True, "font_size": 14})
    formats["date"] = workbook.add_format({"num_format": "yyyy-mm-dd"})
    formats["percent"] = workbook.add_format({"num_format": "0.0%"})
    return formats


def write_scores_workbook(
    scores: pd.DataFrame,
    path: Path | io.BytesIO,
    *,
    notice_lines: Sequence[str],
    risk_matrix: dict | None = None,
    changes: pd.DataFrame | None = None,
    changes_summary: str | None = None,
    scoring: str = "",
) -> Path | io.BytesIO:
    """scores.xlsx at `path` (created 0600), or into a BytesIO (the service's download).

    `scores`: the ranked list, all its columns in order. `notice_lines`: what the notice sheet says about
    this scoring (`notice_lines_for`). `risk_matrix`: `RiskMatrix.to_dict()`, for the legend.
    `changes`/`changes_summary`: a comparison with an earlier scoring (`models.score_runs`). `scoring`:
    which census, when and with which model (`scoring_words`), at the head of each school's sheet with the
    notice and what each suggested response means: a head given their school's sheet alone could not
    tell which term's census it was, read the notice only on paper and a response by its name alone."""
    import xlsxwriter

    scores = as_written(scores)  # every sheet, the per-school ones too, gives year groups as the census does
    if "band_precision_ci" in scores.columns:
        scores = scores.assign(band_precision_ci=scores["band_precision_ci"].map(_percent_interval))
    groups = list(_school_groups(scores))
    with_changes = changes is not None and changes_summary is not None
    if with_changes and "change" in changes.columns:  # the page's words (new red), not changes.csv's codes
        labels = need_labels((risk_matrix or {}).get("need_levels"))
        changes = changes.assign(change=change_labels(changes, labels))
    if with_changes:
        changes = _with_school_names(changes, scores)
    headers = [str(name) for name in scores.columns]
    columns = _column_values(scores)
    lines = list(notice_lines)
    if len(scores) >= EXCEL_ROWS:  # said, never cut without a word
        lines.append(f"'{RANKED_SHEET}' holds the {EXCEL_ROWS - 1:,} highest-ranked of the "
                     f"{len(scores):,} pupils scored: an Excel sheet holds no more rows. scores.csv holds "
                     "every pupil.")  # fmt: skip
    if with_changes and len(changes) >= EXCEL_ROWS:
        lines.append(f"'{CHANGES_SHEET}' holds the first {EXCEL_ROWS - 1:,} of the {len(changes):,} "
                     "pupils whose place changed: an Excel sheet holds no more rows.")  # fmt: skip

    def write(target: Path | io.BytesIO | IO[bytes], scratch: str) -> None:
        workbook = xlsxwriter.Workbook(target, {**WORKBOOK_OPTIONS, "tmpdir": scratch})
        formats = _formats(workbook)
        summary = changes_summary if with_changes else None
        _notice_sheet(workbook, formats, lines, risk_matrix, summary, len(groups))
        ranked = range(min(len(scores), EXCEL_ROWS - 1))
        _table_sheet(workbook, formats, RANKED_SHEET, headers, columns, ranked)
        taken = {NOTICE_SHEET.lower(), RANKED_SHEET.lower(), CHANGES_SHEET.lower()}
        if with_changes:
            change_columns = _column_values(changes)
            _table_sheet(workbook, formats, CHANGES_SHEET, [str(c) for c in changes.columns], change_columns,
                         range(min(len(changes), EXCEL_ROWS - 1)))  # fmt: skip
        responses = [str(text) for text in ((risk_matrix or {}).get("responses") or {}).values()]
        for wanted, rows in groups:
            about = f"{wanted}, {scoring}" if scoring else wanted
            lead = [f"Risk of school exclusion: {about}", DECISION_SUPPORT_NOTICE, *responses]
            _table_sheet(workbook, formats, sheet_title(wanted, taken), headers, columns, rows, lead, about)
        workbook.close()

    # The sheets' rows go to temporary files in a folder of this call's own (0700), removed on the way out
    # whether the write finished or not: they hold every pupil's UPN. For a file, that folder is beside it,
    # on the output's disk (not a tmpfs's memory, about 130 MB for the demo; nor, should the process be
    # killed, a folder the machine's users share). A file at `path` is replaced only by a finished
    # workbook (written beside it, owner-only, then renamed over it).
    if isinstance(path, io.BytesIO):
        with tempfile.TemporaryDirectory(prefix="scores-xlsx-") as scratch:
            write(path, scratch)
        return path
    path = Path(path)
    if os.path.islink(path):
        raise SymlinkOutputError(path)
    # named with the process id: a run killed outright (SIGTERM) leaves it, a run an hour on removes it
    remove_ended_scratch(SCRATCH_PREFIX, private_dir(path.parent), idle_s=3600)
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=path.parent) as scratch:
        with open_private(path, "wb") as handle:  # in place once whole (files._replacing)
            write(handle, scratch)
    return path
