"""scores.xlsx: the ranked list as an officer opens it in Excel, with the notice as its first sheet.

Sheets, in order: "Notice" (the decision-support notice, the model, year and date scored, the risk
matrix's legend and, where the matrix has them, each band's precision sentence; then what changed since
an earlier scoring, when there is one), "Ranked list" (every column of the scores, highest risk first),
"Changes" (only with a comparison: one row per pupil whose place changed) and one sheet per school, each
with its header row frozen and a filter over its rows.

Written in openpyxl's write-only mode, row by row: 62,536 pupils (the ranked list and again by school,
about 1.5 million cells) took 12 s on a shared two-core machine (2026-12-02), nearly all of it
openpyxl's XML serialisation. Every text cell is neutralised (`files.neutralise`): openpyxl would store
a string that starts with "=" as a formula, which Excel runs. The workbook holds every pupil's UPN, so
the file is created owner-only (`files.open_private`); openpyxl's own temporary files while writing
are created by `tempfile` (owner-only too) and removed when the workbook is saved.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.files import neutralise, open_private
from exclusion_risk.models.score_table import as_written
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

NOTICE_SHEET = "Notice"
RANKED_SHEET = "Ranked list"
CHANGES_SHEET = "Changes"
NO_SCHOOL = "No school"
MAX_TITLE = 31  # Excel's limit on a sheet name
TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Excel refuses a few names (case-insensitively); "History" is kept for its own change tracking.
RESERVED_TITLES = {"history"}
WIDTH_SAMPLE = 2_000  # rows looked at per column to size it
MIN_WIDTH, MAX_WIDTH = 8, 70
RAG_FILLS = {"red": "F4B6B6", "amber": "FBD9A6", "green": "C6E5C0"}
# XML 1.0 cannot hold these control characters: openpyxl refuses a cell holding one.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def notice_lines_for(
    model_name: str, model_version: str, year: str, census: str, scored_on: str
) -> list[str]:
    """The notice sheet's lines about a scoring: which model, which census, when."""
    return [
        f"Model: {model_name} version {model_version}",
        f"Census scored: {year} {census}",
        f"Date scored: {scored_on}",
    ]


def sheet_title(text: str, taken: set[str]) -> str:
    """`text` as a sheet name Excel accepts (no []:*?/\\ characters, at most 31, not led or ended by an
    apostrophe), unique among `taken` (compared case-insensitively, as Excel does); added to `taken`."""
    base = TITLE_FORBIDDEN.sub(" ", ILLEGAL_XML.sub(" ", str(text)))
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    base = base[:MAX_TITLE].rstrip("'").rstrip() or "Sheet"
    title, n = base, 1
    while title.lower() in taken or title.lower() in RESERVED_TITLES:
        n += 1
        suffix = f" ({n})"
        title = base[: MAX_TITLE - len(suffix)].rstrip() + suffix
    taken.add(title.lower())
    return title


def _cell(value: Any) -> Any:
    """A value openpyxl writes as it is: text neutralised and XML-safe, missing values empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return neutralise(ILLEGAL_XML.sub(" ", value))
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _row_values(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """The frame's rows as plain Python values, ready for `_cell` (columns converted once each)."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
            as_object = values.astype(object)
            columns.append(as_object.where(values.notna(), None).tolist())
        else:
            columns.append(values.tolist())
    for row in zip(*columns, strict=True):
        yield [_cell(v) for v in row]


def _widths(frame: pd.DataFrame) -> list[float]:
    """A width per column: its header or its longest text among the first rows, within limits."""
    head = frame.head(WIDTH_SAMPLE)
    widths = []
    for name in frame.columns:
        lengths = head[name].map(lambda v: len(str(v)) if v is not None and not pd.isna(v) else 0)
        longest = max(len(str(name)), int(lengths.max()) if len(lengths) else 0)
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))))
    return widths


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _printed_with_notice(sheet, title: str) -> None:
    """Printed, a sheet carries its name at the head of each page, its header row on each page, and the
    decision-support notice at the foot: a school's sheet is printed and handed on without the notice
    sheet. ("&" is Excel's header/footer code character, so a school's "&" is doubled.)"""
    sheet.oddHeader.left.text = f"Risk of school exclusion: {title}".replace("&", "&&")
    sheet.oddFooter.center.text = DECISION_SUPPORT_NOTICE.replace("&", "&&")
    sheet.print_title_rows = "1:1"


def _table_sheet(workbook, title: str, frame: pd.DataFrame) -> None:
    """A sheet of `frame`: bold header frozen on row 1, a filter over the used range, sized columns, the
    RAG column coloured by a conditional format (one rule, not a style per cell)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    sheet = workbook.create_sheet(title)
    _printed_with_notice(sheet, title)
    for index, width in enumerate(_widths(frame), start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    last = _column_letter(max(1, len(frame.columns)))
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    if "rag" in frame.columns:
        column = _column_letter(list(frame.columns).index("rag") + 1)
        cells = f"{column}2:{column}{max(2, len(frame) + 1)}"
        for rag, colour in RAG_FILLS.items():
            fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
            sheet.conditional_formatting.add(
                cells, CellIsRule(operator="equal", formula=[f'"{rag}"'], fill=fill)
            )
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(sheet, value=_cell(str(name)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in _row_values(frame):
        sheet.append(row)


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
    notice_lines: Sequence[str],
    risk_matrix: dict | None,
    changes_summary: str | None,
    school_sheets: int,
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(NOTICE_SHEET)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["E"].width = 60
    title = WriteOnlyCell(sheet, value="Risk of school exclusion: scores")
    title.font = Font(bold=True, size=14)
    notice = WriteOnlyCell(sheet, value=_cell(DECISION_SUPPORT_NOTICE))
    notice.font = Font(bold=True)
    rows: list[list[Any]] = [[title], [notice], []]
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
        [],
    ]
    rows += _legend_rows(risk_matrix)
    for row in rows:
        sheet.append([value if not isinstance(value, str) else _cell(value) for value in row])


def _school_groups(scores: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    """(sheet title wanted, rows) per school, schools in URN order, pupils in the list's order."""
    if "school_urn" not in scores.columns:
        return []
    urns = scores["school_urn"].astype("string").fillna("").str.strip()
    names = (
        scores["school_name"].astype("string").fillna("").str.strip()
        if "school_name" in scores.columns
        else pd.Series("", index=scores.index, dtype="string")
    )
    groups = []
    for urn, rows in scores.groupby(urns.to_numpy(), sort=True):
        name = next((n for n in names.loc[rows.index] if n), "")
        wanted = f"{urn} {name}".strip() if urn else NO_SCHOOL
        groups.append((wanted, rows))
    return groups


def write_scores_workbook(
    scores: pd.DataFrame,
    path: Path | io.BytesIO,
    *,
    notice_lines: Sequence[str],
    risk_matrix: dict | None = None,
    changes: pd.DataFrame | None = None,
    changes_summary: str | None = None,
) -> Path | io.BytesIO:
    """scores.xlsx at `path` (created 0600), or into a BytesIO (the service's download).

    `scores`: the ranked list, all its columns in order. `notice_lines`: what the notice sheet says about
    this scoring (`notice_lines_for`). `risk_matrix`: `RiskMatrix.to_dict()`, for the legend.
    `changes`/`changes_summary`: a comparison with an earlier scoring (`models.score_runs`)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    scores = as_written(scores)  # every sheet, the per-school ones too, gives year groups as the census does
    groups = list(_school_groups(scores))
    with_changes = changes is not None and changes_summary is not None
    _notice_sheet(workbook, notice_lines, risk_matrix, changes_summary if with_changes else None, len(groups))
    _table_sheet(workbook, RANKED_SHEET, scores)
    taken = {NOTICE_SHEET.lower(), RANKED_SHEET.lower(), CHANGES_SHEET.lower()}
    if with_changes:
        _table_sheet(workbook, CHANGES_SHEET, changes)
    for wanted, rows in groups:
        _table_sheet(workbook, sheet_title(wanted, taken), rows)
    if isinstance(path, io.BytesIO):
        workbook.save(path)
        return path
    with open_private(Path(path), "wb") as handle:
        workbook.save(handle)
    return Path(path)
