"""Small extract files for the reader and `check` tests: contract or MIS headers, rows as dicts."""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.upn import make_upn

UPN_A = make_upn(330, 4001, 2010, 1)
UPN_B = make_upn(330, 4001, 2010, 2)
UPN_C = make_upn(330, 4001, 2010, 3)
BAD_CHECK_LETTER = ("B" if UPN_C[0] != "B" else "C") + UPN_C[1:]

# An LA's MIS export header, as the contract quotes it (plus the collection columns).
MIS_HEADER = [
    "Estab", "UPN", "Surname", "Forename", "Middlenames", "PreferredSurname", "FormerSurname", "Gender",
    "DoB", "EnrolStatus", "EntryDate", "NCyearActual", "Ethnicity", "Language", "SENprovision", "SENNeed1",
    "SENNeed2", "Postcode", "FSME on Census Day", "AcademicYear", "CensusTerm",
]  # fmt: skip


def census_row(upn: str = UPN_A, **overrides: str) -> dict[str, str]:
    row = {
        "Estab": "3304001", "UPN": upn, "Surname": "Okafor", "Forename": "Chidi", "Middlenames": "",
        "PreferredSurname": "", "FormerSurname": "", "Gender": "M", "DoB": "2008-03-01", "EnrolStatus": "C",
        "EntryDate": "2012-09-01", "NCyearActual": "4", "Ethnicity": "BAFR", "Language": "ENG",
        "SENprovision": "N", "SENNeed1": "", "SENNeed2": "", "Postcode": "WS1 1AA", "FSME on Census Day": "0",
        "AcademicYear": "2016/17", "CensusTerm": "AUT",
    }  # fmt: skip
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header or list(rows[0])
    lines = [",".join(header)] + [",".join(row.get(c, "") for c in header) for row in rows]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


EXCLUSIONS_HEADER = [
    "UPN", "Surname", "Forename", "DOB", "Sex", "SchoolURN", "Category", "StartDate", "Sessions", "Reason",
]  # fmt: skip


def exclusion_row(upn: str = UPN_A, **overrides: str) -> dict[str, str]:
    row = {
        "UPN": upn, "Surname": "Okafor", "Forename": "Chidi", "DOB": "01/03/2008", "Sex": "M",
        "SchoolURN": "3304001", "Category": "SUSP", "StartDate": "2017-01-10", "Sessions": "2",
        "Reason": "PD",
    }  # fmt: skip
    row.update(overrides)
    return row


def social_care_row(child: str = "C1", **overrides: str) -> dict[str, str]:
    row = {
        "LAchildID": child, "UPN": "", "Surname": "Okafor", "Forename": "Chidi", "DOB": "2008-03-01",
        "Sex": "1", "Ethnicity": "BAFR", "Postcode": "ws11aa", "Status": "CIN", "StartDate": "2015-06-01",
        "EndDate": "", "PrimaryNeed": "N1", "Factors": "3A;4A",
    }  # fmt: skip
    row.update(overrides)
    return row


def authority(folder: Path, census_rows: int = 3) -> Path:
    """A small, clean input folder with all three extracts (MIS census headers)."""
    upns = [make_upn(330, 4001, 2010, i) for i in range(census_rows)]
    write(folder / "census.csv", csv_text([census_row(u) for u in upns], MIS_HEADER))
    write(folder / "exclusions.csv", csv_text([exclusion_row(upns[0])], EXCLUSIONS_HEADER))
    write(folder / "social_care.csv", csv_text([social_care_row()]))
    return folder
