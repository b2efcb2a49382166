"""Which file in an input folder is each extract, and whether a file is text at all.

An extract is `<name>.csv` or `<name>.parquet` (the census may also be a `census/` folder). When neither
is there, a file of that name saved by a spreadsheet under another extension stands in for it:

- `.txt` or `.tsv` (Excel's "Unicode Text" is UTF-16, tab-separated) is delimited text, which the CSV
  reader reads as it is (it takes the delimiter from the header and decodes UTF-16): it is read, and the
  read's notes say which file was read (`stand_in_note`);
- `.xlsx`, `.xlsm`, `.xls` or `.ods`, a workbook, is found too, so that reading it stops with a message
  naming it and saying to save it as CSV, rather than the extract being "not found".

Two such files for one extract (census.txt and census.xlsx) are never chosen between: an `ExtractError`
names both. A file's first bytes tell a workbook, a PDF or an archive renamed `.csv` from text
(`binary_kind`), so that it is refused as what it is, not as a CSV missing every required column.
"""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.linkage.errors import ExtractError

EXTRACT_NAMES = ("census", "exclusions", "social_care")
SUFFIXES = (".csv", ".parquet")
TEXT_SUFFIXES = (".txt", ".tsv")  # delimited text under a spreadsheet's name for it: read as CSV
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # never read: said to be saved as CSV
SAVE_AS_CSV = "save it as CSV (in Excel: File > Save As > CSV UTF-8) and read that file"
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


def refuse_binary(path: Path, name: str) -> None:
    """An `ExtractError` naming the file when it is a workbook, a PDF or an archive, whatever its name
    (a census.csv that is really an .xlsx); a workbook's extension alone is enough."""
    with path.open("rb") as handle:
        head = handle.read(512)
    kind = binary_kind(head)
    if kind is None and path.suffix.lower() in WORKBOOK_SUFFIXES:
        kind = f"a spreadsheet workbook ({path.suffix.lower()})"
    if kind is not None:
        raise ExtractError(name, f"this is {kind} (a binary file, not CSV text): {SAVE_AS_CSV}")


def stand_in_note(extract: str, path: Path) -> str:
    """What the read says of an extract read from a `.txt`/`.tsv` file (find_extracts)."""
    return (
        f"{path.name} read as the {extract} extract (no {extract}.csv or .parquet; read as delimited "
        f"text): rename it {extract}.csv to read it by its contract name"
    )


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
