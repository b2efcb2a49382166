"""Which file in an input folder is each extract, and whether a file is text at all.

An extract is `<name>.csv` or `<name>.parquet` (the census may also be a `census/` folder). When neither
is there, a file of that name saved by a spreadsheet under another extension stands in for it:

- `.txt` or `.tsv` (Excel's "Unicode Text" is UTF-16, tab-separated) is delimited text, which the CSV
  reader reads as it is (it takes the delimiter from the header and decodes UTF-16): it is read, and the
  read's notes say which file was read (`stand_in_note`);
- `.xlsx`, `.xlsm`, `.xls` or `.ods`, a workbook, is found too, so that reading it stops with a message
  naming it and saying to save it as CSV, rather than the extract being "not found".

A census/ folder (or attendance/) is read as its .csv and .parquet files; where it has none, its
.txt/.tsv files are read and named in the same way (`folder_files`), and its other text files,
workbooks, sub-folders, Excel's owner files (`~$...`, there while a file is open in Excel) and a Mac's
`._...` files are named as not read. Two such files for one extract (census.txt and census.xlsx) are never
chosen between: an `ExtractError` names both. A file's first bytes tell a workbook, a PDF or an archive
renamed `.csv` from text (`binary_kind`), and an HTML table so named (`is_html`: a web MIS's "Export to
Excel") or an XML spreadsheet (`markup_kind`), so that it is refused as what it is, not as a CSV missing
every required column.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from exclusion_risk.linkage.errors import ExtractError

EXTRACT_NAMES = ("census", "exclusions", "social_care")
SUFFIXES = (".csv", ".parquet")
TEXT_SUFFIXES = (".txt", ".tsv")  # delimited text under a spreadsheet's name for it: read as CSV
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # never read: said to be saved as CSV
SAVE_AS_CSV = "save it as CSV (in Excel: File > Save As > CSV UTF-8) and read that file"
# Files in a census/ folder that are never extracts, and what they are
_NOT_EXTRACTS_SAID = {
    "~$": "Excel's owner file, left beside a file while it is open in Excel",
    "._": "a Mac's metadata file, left when the folder was copied from a Mac",
}
_NOT_EXTRACTS = tuple(_NOT_EXTRACTS_SAID)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def binary_kind(head: bytes) -> str | None:
    """What a file starting with `head` is when it is a known binary format rather than text, else None.
    (An ODS file's first entry is its uncompressed `mimetype`, 30 bytes in.)"""
    if head.startswith(b"PK\x03\x04"):
        if _ODS in head[:120]:
            return "an OpenDocument spreadsheet (.ods)"
        return "an Excel workbook (.xlsx) or other zip archive"
    if head.startswith(_OLE):
        return "an Excel 97-2003 workbook (.xls) or other Office file"
    if head.startswith(b"%PDF-"):
        return "a PDF"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    return None


# C0 control bytes no text export holds (NUL aside: UTF-16 text is half NULs; tab, line ends, the
# Ctrl-Z end-of-file mark apart): random bytes hold about 9% of them, a CSV header none (Parquet, binary
# by design, starts PAR1)
_CONTROL_BYTES = bytes([*range(1, 9), 11, 12, *range(14, 26), *range(27, 32)])


def _controls(head: bytes) -> int:
    return len(head) - len(head.translate(None, _CONTROL_BYTES))


def _not_text(head: bytes) -> bool:
    """Whether a file starting with `head` is no delimited text: its first line holds control bytes, or
    the head does (1% or more) and the first line no delimiter. A file whose header line is text and
    whose rows hold noise is read row by row (each such row rejected), not refused whole."""
    if head.startswith(b"PAR1"):
        return False
    first = head.split(b"\n", 1)[0].split(b"\r", 1)[0]
    if _controls(first) >= 3:
        return True
    return _controls(head) >= max(3, len(head) // 100) and not any(d in first for d in b",\t;|")


_HTML_STARTS = ("<html", "<!doctype html", "<table")
SAVE_HTML_AS_CSV = "open it in Excel and save it as CSV (File > Save As > CSV UTF-8), and read that file"
_EXCEL_XML = ("urn:schemas-microsoft-com:office:spreadsheet", "progid=\"excel.sheet\"")


def _first_text(head: bytes) -> str:
    """`head` as text from its first non-blank character, after any byte-order mark, in lower case."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("latin-1")
    return text.lstrip("\ufeff\xef\xbb\xbf \t\r\n").lower()


def is_html(head: bytes) -> bool:
    """Whether a file starting with `head` is an HTML page or table (a web MIS's "Export to Excel"
    button saves one under a .csv or .xls name): its first non-blank text, after any byte-order mark,
    starts with `<html`, `<!doctype html` or `<table`, in any case."""
    return _first_text(head).startswith(_HTML_STARTS)


def markup_kind(head: bytes) -> str | None:
    """What a file starting with `head` is when it is markup rather than delimited text, else None: an
    HTML page or table, an Excel "XML Spreadsheet 2003" (older MIS reports save one as .xls or .xml, and
    it is renamed .csv), or other XML. Read as CSV, each was a file missing every required column,
    with advice about a title line."""
    if is_html(head):
        return "an HTML page or table"
    text = _first_text(head)
    if not text.startswith("<?xml"):
        return None
    if any(mark in text for mark in _EXCEL_XML):
        return "an Excel XML Spreadsheet 2003 file"
    return "an XML file"


def refuse_binary(path: Path, name: str) -> None:
    """An `ExtractError` naming the file when it is a workbook, a PDF, an archive or markup (an HTML page
    or table, an XML spreadsheet), whatever its name (a census.csv that is really an .xlsx); a workbook's
    extension alone is enough."""
    with path.open("rb") as handle:
        head = handle.read(2048)  # an XML spreadsheet's namespace can follow a long prolog
    markup = markup_kind(head)
    if markup is not None:  # read as CSV: "a header row but no data rows", or a title line's advice
        raise ExtractError(name, f"this is {markup}, not CSV: {SAVE_HTML_AS_CSV}")
    kind = binary_kind(head)
    if kind is None and path.suffix.lower() in WORKBOOK_SUFFIXES:
        kind = f"a spreadsheet workbook ({path.suffix.lower()})"
    if kind is not None:
        raise ExtractError(name, f"this is {kind} (a binary file, not CSV text): {SAVE_AS_CSV}")
    if _not_text(head):  # read as CSV: a header "missing every required column", with a title's advice
        raise ExtractError(name, "this is not CSV text: it holds control bytes no text export holds (a file "
                                 "of another kind, or a damaged one); export the extract again as CSV")


def stand_in_note(extract: str, path: Path) -> str:
    """What the read says of an extract read from a `.txt`/`.tsv` file (find_extracts)."""
    return (
        f"{path.name} read as the {extract} extract (no {extract}.csv or .parquet; read as delimited "
        f"text): rename it {extract}.csv to read it by its contract name"
    )


class FolderFiles(NamedTuple):
    """The files of a census/ (or attendance/) folder that are read, and what the read says of them."""

    files: list[Path]
    stand_in: str | None  # where they are .txt/.tsv files (the folder holds no .csv or .parquet): said
    notes: list[str]  # the folder's .txt/.tsv and workbook files that are not read, named


def folder_files(folder: Path, name: str, extract: str) -> FolderFiles:
    """The `.csv` and `.parquet` files of `folder` (named `name` in messages); where it has none, its
    `.txt`/`.tsv` files, read as delimited text and named as a single census.txt is (`stand_in_note`).
    Text files beside .csv or .parquet ones, workbooks, sub-folders, Excel's owner files and a Mac's ._
    files are not read, and named in a note; a folder with
    nothing to read is an `ExtractError` naming its workbooks, if any, with what to do."""
    # a link to a file that is not there is read too, so that the reader names it (left out, it was not)
    entries = sorted(folder.iterdir())
    files = [p for p in entries if p.is_file() or (p.is_symlink() and not p.exists())]
    # Excel's owner file of a census open on a shared drive and a Mac's ._ metadata are never extracts:
    # read, they stopped the read of a folder the officer had got right
    litter = [p for p in files if p.name.startswith(_NOT_EXTRACTS)]
    files = [p for p in files if p not in litter]
    kinds = {kind: [p for p in files if p.suffix.lower() in kind] for kind in (SUFFIXES, TEXT_SUFFIXES)}
    workbooks = [p for p in files if p.suffix.lower() in WORKBOOK_SUFFIXES]
    read, text, notes, stand_in = kinds[SUFFIXES], kinds[TEXT_SUFFIXES], [], None
    if not read and text:
        read, stand_in = text, (
            f"{name}: {_listed(text)} read as the {extract} files (the folder has no .csv or .parquet "
            "file; read as delimited text): rename them .csv to read them by their contract name"
        )
    elif text:
        notes.append(f"{name}: {_listed(text)} not read (only its .csv and .parquet files are): rename a "
                     "file .csv to read it")
    if workbooks and read:
        notes.append(f"{name}: {_listed(workbooks)} not read (a workbook): {SAVE_AS_CSV}")
    for prefix, what in _NOT_EXTRACTS_SAID.items():
        if found := [p for p in litter if p.name.startswith(prefix)]:
            notes.append(f"{name}: {_listed(found)} not read ({what})")
    if folders := [p for p in entries if p.is_dir()]:
        notes.append(f"{name}: the folder(s) {_listed(folders)} not read (only the files directly in "
                     f"{name} are): move their files up into {name} to read them")
    if not read:
        books = f", only workbooks ({_listed(workbooks)}): {SAVE_AS_CSV}" if workbooks else ""
        raise ExtractError(name, f"the folder holds no .csv or .parquet files{books}")
    return FolderFiles(read, stand_in, notes)


def _listed(files: list[Path]) -> str:
    return ", ".join(p.name for p in files)


def _stand_ins(entries: dict[str, Path], extract: str) -> list[Path]:
    names = [extract + s for s in (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES)]
    return [entries[n] for n in names if n in entries and entries[n].is_file()]


def find_extracts(folder: str | Path) -> dict[str, Path | None]:
    """Where each extract is in `folder` (None when absent); plus `attendance` (a folder or None)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExtractError(str(folder), "not a folder")
    entries = {p.name.lower(): p for p in folder.iterdir()}
    found: dict[str, Path | None] = {}
    for extract in EXTRACT_NAMES:
        candidates = [entries.get(extract + s) for s in SUFFIXES]
        if extract == "census" and extract in entries and entries[extract].is_dir():
            candidates.append(entries[extract])
        present = [c for c in candidates if c is not None]
        if len(present) > 1:
            raise ExtractError(
                str(folder),
                f"more than one {extract} extract ({', '.join(p.name for p in present)}); keep one",
            )
        if not present:
            present = _stand_ins(entries, extract)
            if len(present) > 1:
                raise ExtractError(
                    str(folder),
                    f"no {extract}.csv, and more than one file that may be the {extract} extract "
                    f"({', '.join(p.name for p in present)}): save the one to read as {extract}.csv",
                )
        found[extract] = present[0] if present else None
    attendance = entries.get("attendance")
    found["attendance"] = attendance if attendance is not None and attendance.is_dir() else None
    return found
