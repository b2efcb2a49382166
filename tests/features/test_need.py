"""The need axis read with blanks: which pupils' need level a blank FSM or SEN provision may understate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.features.need import blanks_understating, need_understated_by_blanks


def test_a_need_level_resting_on_a_blank_is_marked():
    """A blank FSM or SEN provision reads as none: level 0 with either blank, or level 1 with SEN
    provision blank, may be understated (a school's blank FSM column lowered its pupils' ratings)."""
    table = pd.DataFrame({
        "fsm": [np.nan, 0.0, 1.0, np.nan, 0.0],
        "sen_provision": ["N", None, None, "E", "N"],
        "cpp_open": [0.0, 0.0, 0.0, 0.0, 0.0],
    })  # fmt: skip
    # level 0 FSM blank; level 0 SEN blank; level 1 (FSM) SEN blank; level 2 (EHC); level 0 all known
    assert need_understated_by_blanks(table).tolist() == [True, True, True, False, False]


def test_the_warning_names_only_the_blank_it_rests_on():
    """A census upload refuses a blank SEN provision: its warning said a blank FSM "or SEN provision" was
    read as none, and a SENCO who then left SEN provision blank had the row refused."""
    from exclusion_risk.models.score_notes import blank_need_lines

    fsm_only = pd.DataFrame({"fsm": [np.nan, 0.0], "sen_provision": ["N", "N"], "cpp_open": [0.0, 0.0]})
    assert blanks_understating(fsm_only) == ("fsm",)
    (said,) = blank_need_lines(fsm_only)
    assert "may rest on a blank free-school-meals value" in said and "SEN" not in said
    assert "where such a pupil is eligible, " in said and "Check that column" in said
    both = pd.DataFrame({"fsm": [np.nan, 1.0], "sen_provision": ["N", None], "cpp_open": [0.0, 0.0]})
    assert blanks_understating(both) == ("fsm", "sen_provision")
    assert "blank free-school-meals or SEN provision value" in blank_need_lines(both)[0]
    assert blanks_understating(fsm_only.assign(fsm=0.0)) == ()
