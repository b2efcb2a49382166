"""What goes beside a downloaded scoring: the answer's format an Accept header prefers, and the headers
that carry the notice, the warnings and the run beside a CSV or workbook (which has no JSON envelope)."""

from __future__ import annotations

import unicodedata

NOTICE_HEADER = "X-Decision-Support-Notice"
# A census scoring's `warnings` (what the features lack), `drift_warnings` and `fairness_findings` beside a
# CSV, which has no envelope (the workbook has them on its notice sheet)
WARNINGS_HEADER = "X-Census-Warnings"
DRIFT_HEADER = "X-Drift-Warnings"
FAIRNESS_HEADER = "X-Fairness-Findings"
RUN_HEADER = "X-Run-Id"  # beside a CSV or workbook: the run it is (the JSON's `run.id`)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The same headers as the OpenAPI document declares them on a scoring's 200 (a generated client reads them)
DOWNLOAD_HEADERS = {name: {"description": words, "schema": {"type": "string"}} for name, words in (
    (NOTICE_HEADER, "That the scores support a professional's judgement, beside a CSV or workbook."),
    (RUN_HEADER, "The recorded run's id, beside a CSV or workbook (none with record=false)."),
    (WARNINGS_HEADER, "What the census scoring's features lack, beside a CSV, where there is any."),
    (DRIFT_HEADER, "The drift warnings, beside a CSV, where there are any."),
    (FAIRNESS_HEADER, "The model's fairness findings, beside a CSV, where there are any."))}  # fmt: skip


_OFFERED = {"application/json": "json", "text/csv": "csv", XLSX_TYPE: "xlsx"}  # JSON first: a tie's


def accepted_format(accept: str) -> str:
    """The answer's format an Accept header prefers by its q-values (RFC 9110): of JSON, CSV and the
    workbook, the one named with the highest q, JSON on a tie or where none is named (`*/*`, no header,
    another type). An integrator's `text/csv;q=0.5, application/json` got CSV; the workbook's type, JSON."""
    named: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for name, _, value in (p.partition("=") for p in params):
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.lower() in _OFFERED:
            named[_OFFERED[media.lower()]] = quality
    ranked = [f for f in _OFFERED.values() if named.get(f, 0) > 0]
    return max(ranked, key=lambda f: named[f]) if ranked else "json"  # max keeps the first of a tie


def lines_header(lines: list[str]) -> str:
    """Sentences as one header value (" | " between them; empty for none), ASCII only: a header is
    latin-1 at most and a sentence's non-ASCII must not fail the response. The review's "×", dashes and
    curly quotes read as their ASCII twins and an accent is dropped ("sex x ethnic group", not "sex ?
    ethnic group"); anything else still non-ASCII reads "?"."""
    text = " | ".join(" ".join(line.split()) for line in lines)  # no line breaks in a header
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_TWINS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode("ascii")


_ASCII_TWINS = str.maketrans({"×": "x", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
                              "…": "..."})  # fmt: skip
