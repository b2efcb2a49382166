"""A fresh linkage run is reproducible: two runs on the same extracts write the same bytes.

Every random element (Splink's u sample and EM sample, the label samples, recordlinkage's samples)
is seeded from the settings, and the trained parameters are rounded so that DuckDB's parallel sums
cannot change a link between runs. Splink's own log lines stay off the console.
"""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.pipeline import run_linkage
from exclusion_risk.linkage.settings import LinkageSettings

# End to end: the whole stage (read, link, write) twice per engine on the 6,000-pupil authority,
# about 35 s of the suite's time on 2 cores.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", ["splink", "recordlinkage"])
def test_two_fresh_runs_write_identical_links(small_authority, tmp_path, capfd, engine):
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        run_linkage(small_authority, out, LinkageSettings(engine=engine), progress=False)
    for name in ("links.csv", "unlinked.csv", "settings.json"):
        first, second = ((o / name).read_bytes() for o in outs)
        assert first == second, f"{engine}: {name} differs between two fresh runs"
    assert len((outs[0] / "links.csv").read_text().splitlines()) > 1000
    err = capfd.readouterr().err
    assert "not observed in dataset" not in err
    assert "max_pairs" not in err
