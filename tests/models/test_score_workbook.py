"""scores.xlsx (issue #12): the notice first, the ranked list with a frozen, filtered header, a sheet per
school with that school's pupils, every text cell neutralised, the file owner-only."""

from __future__ import annotations

import io
import os
import stat
import tempfile

import openpyxl
import pandas as pd
import pytest

from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.score_workbook import (
    CHANGES_SHEET,
    NOTICE_SHEET,
    RANKED_SHEET,
    notice_lines_for,
    scoring_words,
    sheet_title,
    write_scores_workbook,
)
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

FORMULA = '=HYPERLINK("http://x","y")'


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "upn": ["A000000000001", FORMULA, "A000000000003", "A000000000004", "A000000000005"],
            "probability": [0.9, 0.7, 0.5, 0.3, 0.1],
            "likelihood_band": ["Very high", "High", "Medium", "Low", "Low"],
            "need_level": [3, 1, 0, 2, 0],
            "rag": ["red", "amber", "amber", "green", "green"],
            "reasons": ["+1 suspension", "absence 14%", "", "-", "none"],
            "school_urn": pd.array(["104001", "104002", "104001", None, "104002"], dtype="string"),
            "school_name": ["Oak: Academy [North]/South*?", "", "Oak: Academy [North]/South*?", "", ""],
            "nc_year": pd.array([7, 0, 9, None, -2], dtype="Int64"),
            "band_precision": [0.312, 0.073, 0.073, float("nan"), float("nan")],
            "band_precision_ci": ["0.280-0.345", "0.066-0.079", "0.066-0.079", None, None],
        }
    )


def _matrix(precision: bool) -> dict:
    """The matrix's dict with a precision sentence per band, or with no precision at all."""
    matrix = load_risk_matrix().to_dict()
    for band in matrix["likelihood_bands"]:
        if precision:
            band["precision"] = {"text": f"In {band['label']}, 4 in 10 were suspended (test year)."}
        else:
            band.pop("precision", None)
    return matrix


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.usefixtures("umask_022")
def test_workbook_sheets_notice_filters_schools_neutralised_and_private(tmp_path):
    scores = _scores()
    path = tmp_path / "out" / "scores.xlsx"
    lines = notice_lines_for("exclusion-risk", "7", "2018/19", "autumn", "2026-11-02")
    about = scoring_words("exclusion-risk", "7", "2018/19", "autumn", "2026-11-02")
    write_scores_workbook(scores, path, notice_lines=lines, risk_matrix=_matrix(precision=True),
                          scoring=about)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    book = openpyxl.load_workbook(path)
    names = book.sheetnames
    assert names[0] == NOTICE_SHEET and names[1] == RANKED_SHEET
    notice_text = [str(v) for row in _rows(book[NOTICE_SHEET]) for v in row if v is not None]
    assert DECISION_SUPPORT_NOTICE in notice_text
    assert {
        "Model: exclusion-risk version 7",
        "Census scored: 2018/19 autumn",
        "Date scored: 2026-11-02",
    } <= set(notice_text)
    matrix = load_risk_matrix().to_dict()
    legend = {
        row[2]: row
        for row in _rows(book[NOTICE_SHEET])
        if row and row[2] in {c["matrix_cell"] for c in matrix["cells"]}
    }
    assert len(legend) == len(matrix["cells"])  # every cell of the matrix: its RAG and response
    for cell in matrix["cells"]:
        assert legend[cell["matrix_cell"]][3:5] == (cell["rag"], cell["response"])
    assert "In very high, 4 in 10 were suspended (test year)." in notice_text
    # what the reason columns are, and that an adverse factor the child has is never a lowering one
    assert any("never listed as lowering the risk" in t and "reasons_lowering" in t for t in notice_text)
    # a head read one school figure marked "raises risk" for some pupils and "lowers risk" for others
    assert any("one school's figure can raise one pupil's score and lower another's" in t
               for t in notice_text)

    ranked = book[RANKED_SHEET]
    assert ranked.freeze_panes == "A2" and ranked.oddFooter.center.text == DECISION_SUPPORT_NOTICE
    assert ranked["A1"].font.b and not ranked["A2"].font.b  # the header stands out
    assert book[NOTICE_SHEET]["A1"].font.b and book[NOTICE_SHEET]["A2"].font.b  # title and notice
    assert ranked.auto_filter.ref == f"A1:K{len(scores) + 1}"
    rows = _rows(ranked)
    assert list(rows[0]) == list(scores.columns)
    assert [r[0] for r in rows[1:]] == [
        "A000000000001",
        "'" + FORMULA,
        "A000000000003",
        "A000000000004",
        "A000000000005",
    ]
    assert rows[4][5] == "'-" and rows[4][6] is None and rows[4][8] is None  # "-" and missing values
    # year groups as the census writes them: Reception had been 0, so a filter on "R" found nobody
    assert [r[8] for r in rows[1:]] == ["7", "R", "9", None, "N1"]
    assert all(cell.data_type != "f" for row in ranked.iter_rows() for cell in row)  # no formula anywhere
    assert ranked.column_dimensions["A"].width >= len("A000000000001")
    # probabilities shown as percentages, as on the page (a bare 0.9 in General format before), the
    # numbers kept to sort and filter on; other numbers as they are
    assert [c.value for c in ranked["B"][1:]] == list(scores["probability"])
    assert {c.number_format for c in ranked["B"][1:]} == {"0.0%"} and ranked["D2"].number_format == "General"
    # how sure, in percentages beside them: a school's sheet read 12.0% beside 0.073 and "0.066-0.079"
    assert [ranked["J2"].value, ranked["J2"].number_format] == [0.312, "0.0%"]
    assert ranked["K2"].value == "28.0%-34.5%"
    assert ranked["K3"].value == "6.6%-7.9%" and ranked["K5"].value is None

    school_sheets = names[2:]
    assert len(school_sheets) == 3  # two schools and the pupil with none
    by_school = {}
    for title in school_sheets:
        assert len(title) <= 31 and not set(title) & set("[]:*?/\\")
        sheet = book[title]
        # handed to a school without the notice sheet: which census, when, and the notice, on screen above
        # the header (frozen with it) and on each printed page, the notice at each page's foot too
        top = _rows(sheet)[:6]
        lead, notice, *responses, header = [row[0] for row in top[:5]] + [top[5]]
        assert lead.startswith(f"Risk of school exclusion: {title.split(' ')[0]}")
        assert lead.endswith(", 2018/19 autumn census, scored 2026-11-02 with exclusion-risk version 7")
        assert notice == DECISION_SUPPORT_NOTICE and responses == list(matrix["responses"].values())
        assert responses[1].startswith("Targeted early help: the inclusion team contacts the school's SENCo")
        assert sheet["A1"].font.b and sheet["A2"].font.b and list(header) == list(scores.columns)
        assert sheet.freeze_panes == "A7" and sheet.auto_filter.ref.startswith("A6:K")
        assert sheet.oddFooter.center.text == DECISION_SUPPORT_NOTICE and sheet.print_title_rows == "$6:$6"
        assert sheet.oddHeader.left.text == lead  # which school and census, on each printed page
        by_school[title] = [r[0] for r in _rows(sheet)[6:]]
    oak = next(t for t in school_sheets if t.startswith("104001"))
    assert "Oak" in oak  # the school's name where the scores have one
    # its name whole at the sheet's head and on each printed page, where the sheet's name is cut
    assert _rows(book[oak])[0][0].startswith("Risk of school exclusion: 104001 Oak: Academy [North]/South*?,")
    assert book[oak].oddHeader.left.text.startswith(
        "Risk of school exclusion: 104001 Oak: Academy [North]/South*?, ")
    assert by_school[oak] == ["A000000000001", "A000000000003"]
    assert by_school["104002"] == ["'" + FORMULA, "A000000000005"]  # highest risk first, neutralised
    assert [r[8] for r in _rows(book["104002"])[6:]] == ["R", "N1"]  # a school's own sheet had 0 and -2
    assert by_school["No school"] == ["A000000000004"]


def test_notice_without_precision_and_with_changes(tmp_path):
    changes = pd.DataFrame({"upn": ["@A1"], "school_urn": ["104001"], "change": ["new_red"],
                            "before_band": ["Low"], "after_band": ["Very high"], "before_rag": ["green"],
                            "after_rag": ["red"]})  # fmt: skip
    buffer = io.BytesIO()
    summary = "1 new red since the 2018/19 autumn scoring of 2026-11-02 (run 1a2b3c4d)"
    write_scores_workbook(
        _scores(),
        buffer,
        notice_lines=["Model: m version 1"],
        risk_matrix=_matrix(precision=False),
        changes=changes,
        changes_summary=summary,
    )
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames[:3] == [NOTICE_SHEET, RANKED_SHEET, CHANGES_SHEET]
    notice_text = [str(v) for row in _rows(book[NOTICE_SHEET]) for v in row if v is not None]
    assert summary in notice_text
    assert not any("were suspended" in text for text in notice_text)  # no precision: no such lines
    rows = _rows(book[CHANGES_SHEET])
    assert rows[1][:4] == ("'@A1", "104001", "Oak: Academy [North]/South*?",
                           "new red (was green, Low likelihood)")  # words, not new_red
    assert book[CHANGES_SHEET].freeze_panes == "A2"


def test_sheet_titles_are_valid_and_unique():
    taken = {"notice", "ranked list"}
    long = "104001 " + "The Very Long Name Of A Church Of England Academy"
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert sheet_title("Notice", taken) == "Notice (2)"  # case-insensitive clash with the notice sheet
    assert sheet_title("a/b:c*d?e[f]g\\h", taken) == "a b c d e f g h"
    assert sheet_title("'quoted'", taken) == "quoted"
    assert sheet_title("History", taken) != "History"  # a name Excel keeps for itself


def test_precision_heading_does_not_call_the_low_band_right_when_few_were_excluded(tmp_path):
    """The notice sheet headed each band's sentence 'How often each band was right', over 'Of pupils placed
    low in 2018/19, 0.7% ... were suspended or excluded': read as the low band right 0.7% of the time,
    when for the low band the 99.3% not excluded is what bears it out. It says what scores.html says:
    what happened to each band's pupils."""
    matrix = load_risk_matrix().to_dict()
    for band in matrix["likelihood_bands"]:
        band["precision"] = {"text": f"Of pupils placed {band['label']} in 2018/19, 0.7% were suspended."}
    buffer = io.BytesIO()
    write_scores_workbook(_scores(), buffer, notice_lines=["Model: m version 1"], risk_matrix=matrix)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    rows = _rows(book[NOTICE_SHEET])
    first = next(i for i, row in enumerate(rows) if row and row[0] == "low" and row[1] and "0.7%" in row[1])
    heading = next(row[0] for row in reversed(rows[:first]) if row and row[0] and not any(row[1:]))
    assert "right" not in heading.lower()
    assert heading.startswith("How sure each band is: what happened to the pupils each band held")


def test_text_that_looks_like_a_link_or_a_number_stays_text():
    """A writer's conveniences must not reach a pupil's list: XlsxWriter by default stores a URL-like
    string as a hyperlink (and can store a numeric-looking one as a number, losing a URN's leading zero);
    the workbook writes every text cell as the text it is."""
    scores = _scores()
    texts = ["http://example.org/a", "0104001", "1e5", "mailto:x@y.z", "plain"]
    scores["reasons"] = texts
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"])
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    ranked = book[RANKED_SHEET]
    cells = [ranked.cell(row=row, column=6) for row in range(2, 7)]
    assert [cell.value for cell in cells] == texts
    assert all(cell.data_type == "s" and cell.hyperlink is None for cell in cells)
    assert not ranked._hyperlinks


def test_a_school_name_with_an_emoji_at_the_limit_gets_a_sheet_excel_accepts():
    """Excel counts a sheet name's 31 in UTF-16 units: 23 letters and an emoji after a 6-digit URN were
    31 characters but 32 units, and XlsxWriter refused the whole workbook (a 500 for the download)."""
    scores = _scores()
    scores["school_name"] = ["A" * 23 + "\U0001f600"] * len(scores)
    scores["school_urn"] = pd.array(["100000", "100000", "100001", "100001", "100001"], dtype="string")
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"])
    names = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).sheetnames[2:]
    assert len(names) == 2 and all(len(n.encode("utf-16-le")) // 2 <= 31 for n in names)
    assert sheet_title("100000 " + "A" * 23 + "\U0001f600", set()) == "100000 " + "A" * 23


def test_a_long_school_name_is_cut_for_the_page_header_in_one_pass():
    """A school name of thousands of characters (free text, an upload's too) was cut for the printed page
    header a character at a time, each cut re-encoding the rest: minutes per sheet. Excel holds 255
    characters of a header, an "&" written "&&"."""
    from exclusion_risk.models.score_workbook import _utf16_cut

    scores = _scores()
    scores["school_name"] = ["B&B \U0001f600 " * 1000] * len(scores)
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"], scoring="2018/19 autumn")
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book[next(name for name in book.sheetnames if name.startswith("104001"))]
    header = sheet.oddHeader.left.text
    assert header.startswith("Risk of school exclusion: 104001 B&&B") and not header.endswith("&&&")
    assert len(header.encode("utf-16-le")) // 2 <= 255
    assert _utf16_cut("ab\U0001f600c", 3) == "ab" and _utf16_cut("a&b", 3, doubled="&") == "a&"
    assert _utf16_cut("a&b", 2, doubled="&") == "a"


def test_a_failed_write_leaves_no_pupil_rows_behind_and_the_earlier_workbook_in_place(tmp_path, monkeypatch):
    """XlsxWriter's temporary files (every pupil's UPN) are removed only by a finished close(), and the
    file at the path was emptied before the first sheet: a failure left both."""
    import exclusion_risk.models.score_workbook as workbook_module

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"the earlier workbook")
    sheets = []
    real = workbook_module._table_sheet

    def fail_on_the_second(*args, **kwargs):
        sheets.append(args[2])
        if len(sheets) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(workbook_module, "_table_sheet", fail_on_the_second)
    with pytest.raises(OSError, match="disk full"):
        write_scores_workbook(_scores(), path, notice_lines=["Model: m version 1"])
    assert list(scratch.iterdir()) == []  # no temporary file left, nor the partial workbook
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.xlsx", "tmp"]
    assert path.read_bytes() == b"the earlier workbook"


def test_sheets_hold_no_open_file_each_until_the_end(monkeypatch):
    """One temporary file per sheet stayed open until close(): a county's 600 schools, two downloads at
    once, passed a service's usual limit of 1,024 open files."""
    import exclusion_risk.models.score_workbook as workbook_module

    scores = pd.concat([_scores()] * 40, ignore_index=True)
    scores["school_urn"] = pd.array([f"{100000 + i}" for i in range(len(scores))], dtype="string")
    opened = []
    real = workbook_module._table_sheet

    def counted(*args, **kwargs):
        real(*args, **kwargs)
        opened.append(len(os.listdir("/proc/self/fd")))

    monkeypatch.setattr(workbook_module, "_table_sheet", counted)
    write_scores_workbook(scores, io.BytesIO(), notice_lines=["Model: m version 1"])
    assert len(opened) == 201 and opened[-1] - opened[0] <= 2, (opened[0], opened[-1])


def test_a_list_longer_than_a_sheet_says_what_the_ranked_sheet_holds(monkeypatch):
    import exclusion_risk.models.score_workbook as workbook_module

    monkeypatch.setattr(workbook_module, "EXCEL_ROWS", 4)  # a header and three pupils
    scores = _scores()
    scores.loc[0, "reasons"] = "x" * 40_000
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"])
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    ranked = _rows(book[RANKED_SHEET])
    assert [r[0] for r in ranked[1:]] == ["A000000000001", "'" + FORMULA, "A000000000003"]
    notice = [str(v) for row in _rows(book[NOTICE_SHEET]) for v in row if v is not None]
    assert f"'{RANKED_SHEET}' holds the 3 highest-ranked of the 5 pupils scored: an Excel sheet holds no " \
           "more rows. scores.csv holds every pupil." in notice  # fmt: skip
    assert len(ranked[1][5]) == 32_767 and ranked[1][5].endswith("[cut: longer than a cell holds]")

    changes = pd.DataFrame({"upn": [f"A{i}" for i in range(5)], "change": ["new_red"] * 5})
    buffer = io.BytesIO()
    write_scores_workbook(_scores().head(2), buffer, notice_lines=["m"], changes=changes, changes_summary="5")
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert [r[0] for r in _rows(book[CHANGES_SHEET])[1:]] == ["A0", "A1", "A2"]
    notice = [str(v) for row in _rows(book[NOTICE_SHEET]) for v in row if v is not None]
    assert f"'{CHANGES_SHEET}' holds the first 3 of the 5 pupils whose place changed: an Excel sheet holds " \
           "no more rows." in notice  # fmt: skip


def test_the_sheets_temporary_files_are_beside_the_workbook_not_in_the_system_temporary_folder(
    tmp_path, monkeypatch
):
    """Before: in the system temporary folder (a tmpfs is memory: about 130 MB for the demo's list; and a
    killed run left every pupil's UPN in a folder shared with the machine's other users). Now in a private
    folder beside the workbook, on the output's own disk; a download written to memory keeps the system's."""
    import exclusion_risk.models.score_workbook as workbook_module

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "out"
    out.mkdir()
    seen = []
    real = workbook_module._table_sheet

    def looked(*args, **kwargs):
        seen.append((sorted(os.listdir(scratch)), [(p.name, stat.S_IMODE(p.stat().st_mode))
                                                    for p in out.iterdir() if p.is_dir()]))  # fmt: skip
        return real(*args, **kwargs)

    monkeypatch.setattr(workbook_module, "_table_sheet", looked)
    write_scores_workbook(_scores(), out / "scores.xlsx", notice_lines=["Model: m version 1"])
    in_system, beside = seen[-1]
    assert in_system == []
    assert len(beside) == 1 and beside[0][0].startswith(".scores-xlsx-") and beside[0][1] == 0o700
    assert sorted(p.name for p in out.iterdir()) == ["scores.xlsx"]  # and gone once written
    seen.clear()
    write_scores_workbook(_scores(), io.BytesIO(), notice_lines=["Model: m version 1"])
    assert len(seen[-1][0]) == 1  # in memory: the system's temporary folder


def test_a_killed_writers_scratch_folder_is_removed_by_the_next_workbook_written_there(tmp_path):
    """The sheets' rows (every pupil's UPN) wait in a folder beside the workbook while it is written;
    a scoring killed outright (SIGTERM from a scheduler) left it for good (an automation engineer's find).
    Named with the process id, a later workbook written there removes an ended process's; a live one's
    stays."""
    import os

    ended = tmp_path / ".scores-xlsx-999999999-abc"
    alive = tmp_path / f".scores-xlsx-{os.getpid()}-abc"
    for folder in (ended, alive):
        folder.mkdir()
        (folder / "sheet1.xml").write_text("rows")
        os.utime(folder, (0, 0))  # untouched for long: another container's live one is judged by its age too
    write_scores_workbook(_scores(), tmp_path / "scores.xlsx", notice_lines=["Model: m version 1"],
                          risk_matrix=_matrix(precision=True))  # fmt: skip
    assert not ended.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "scores.xlsx"]
