"""Issue #11, findings 3 and 5 for the generator: its extracts look exactly like an authority's, so
they are private (0600 in 0700 folders) and written by the one CSV writer (normal values byte for byte
as before, a formula-leading one neutralised)."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from exclusion_risk.synth.truth import write_truth_links
from exclusion_risk.synth.write import write_all


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.usefixtures("umask_022")
def test_synthetic_extracts_and_truth_are_private_and_neutralised(tmp_path):
    census = pd.DataFrame({"UPN": ["A123", "=1+2"], "Surname": ["Smith-Jones", "O'Brien"],
                           "Sessions": pd.array([3, None], dtype="Int64"), "p": [0.1, -0.25]})  # fmt: skip
    links = pd.DataFrame({"RecordID": ["X1"], "upn": ["A123"]})
    out = tmp_path / "new" / "authority"
    write_all(out, None, {"census": census}, {"exclusion_links": links,
              "social_care_links": links.rename(columns={"RecordID": "LAchildID"})}, {})  # fmt: skip
    linked = write_truth_links(out, tmp_path / "linked")
    expected = "UPN,Surname,Sessions,p\nA123,Smith-Jones,3,0.1\n'=1+2,O'Brien,,-0.25\n"
    assert (out / "census.csv").read_text() == expected
    for path in (out / "census.csv", out / "truth" / "exclusion_links.csv", linked):
        assert _mode(path) == 0o600, path
    assert _mode(out) == 0o700 and _mode(out / "truth") == 0o700 and _mode(tmp_path / "linked") == 0o700
    expected = "source,record_id,upn,method,score\n" + "".join(
        f"{source},X1,A123,truth,1.0\n" for source in ("exclusions", "social_care")
    )
    assert linked.read_text() == expected
