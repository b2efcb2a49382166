"""The need axis read with blanks: which pupils' need level a blank FSM or SEN provision may understate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.features.need import need_understated_by_blanks


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
