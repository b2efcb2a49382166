"""A postcode or IDACI lookup named by EXCLUSION_RISK_POSTCODES / EXCLUSION_RISK_IDACI that cannot be
used is one line naming the variable, the file and what is wrong, exit 2: a path that was not there ended
`features`, `score` and `synth` in a FileNotFoundError traceback, a file without the columns in KeyError
'Postcode' (a docs reviewer's find: the README tells an authority outside the West Midlands to set it)."""

from __future__ import annotations

import pytest

from exclusion_risk import reference
from exclusion_risk.cli import app


@pytest.fixture(autouse=True)  # noqa: V103 (vulture cannot see an autouse fixture used)
def _fresh_lookups():
    reference.postcode_lookup.cache_clear()
    reference.idaci_lookup.cache_clear()
    yield
    reference.postcode_lookup.cache_clear()
    reference.idaci_lookup.cache_clear()


@pytest.mark.parametrize(
    ("variable", "text", "said"),
    [
        ("EXCLUSION_RISK_POSTCODES", None, "which is not a file"),
        ("EXCLUSION_RISK_POSTCODES", "pc,lsoa\nWS1 1AA,E01010368\n",
         "which lacks the column Postcode and LSOA11CD (a postcode lookup's columns: Postcode, LSOA11CD)"),
        ("EXCLUSION_RISK_POSTCODES", "Postcode,LSOA11CD\n\"WS1 1AA,E0\n",
         "which cannot be read as a CSV file"),
        ("EXCLUSION_RISK_IDACI", "LSOA,IDACI\nE01010368,3\n",
         "which has 2 columns: an IDACI lookup has three"),
        # the right shape, but what features cannot use: a traceback, or a service answering 500 (a reviewer)
        ("EXCLUSION_RISK_IDACI", "LSOA,IMD,IDACI\nE01010368,3,high\nE01010369,4,5\n",
         "whose deciles are not whole numbers 1 to 10 on 1 row(s)"),
        ("EXCLUSION_RISK_IDACI", "LSOA,IMD,IDACI\nE01010368,3,4\nE01010368,3,4\n",
         "which gives 1 LSOA code(s) more than once"),
    ],
)
def test_a_lookup_that_cannot_be_used_is_named_in_one_line(monkeypatch, capsys, tmp_path, variable, text,
                                                           said):
    path = tmp_path / "lookup.csv"
    if text is not None:
        path.write_text(text)
    monkeypatch.setenv(variable, str(path))
    with pytest.raises(SystemExit) as exit_:  # the app as the console script runs it (not CliRunner)
        app(["synth", "--out", str(tmp_path / "extracts"), "--pupils", "300"])
    assert exit_.value.code == 2
    said_out = capsys.readouterr()
    assert said_out.err.startswith(f"error: {variable} names {path}, {said}")
    assert said_out.err.count("\n") == 1 and "Traceback" not in said_out.err + said_out.out
    assert "WS1" not in said_out.err and "E0101036" not in said_out.err and "high" not in said_out.err


def test_the_shipped_lookups_read_as_before():
    assert {"Postcode", "LSOA11CD", "Latitude", "Longitude"} <= set(reference.postcode_lookup().columns)
    assert list(reference.idaci_lookup().columns) == ["LSOA11CD", "imd_decile", "idaci_decile"]
    assert reference.lookups_refusal() is None


def test_a_blank_decile_is_no_decile_as_before(tmp_path):
    """An area the file gives no decile for (or a spreadsheet's trailing blank row) is read as none, not
    refused (the second reviewer's find: a file that worked before the content checks)."""
    path = tmp_path / "idaci.csv"
    path.write_text("LSOA,IMD,IDACI\nE01010368,3,4\nE01010369,,\n,,\n")
    lookup = reference.idaci_lookup(str(path))
    assert lookup["idaci_decile"].tolist()[0] == 4
    assert lookup["idaci_decile"].isna().tolist() == [False, True, True]
