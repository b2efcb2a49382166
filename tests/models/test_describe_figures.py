"""describe's rate figures (one per outcome, nine panels). A reviewer's find on the permanent-exclusion
figure: the panels' titles ran into each other (FSM's two long titles over three panels), and the bars were
labelled with codes (K and E, WBRI, FSM 0 and 1) where the report's tables say them in words."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.models import describe_report
from exclusion_risk.models.describe import VARIABLES, value_name, value_names

# A small rates table as describe.json's `rates` rows give it (rate None: a count withheld, not drawn)
RATES = {
    "sex": {"F": 0.006, "M": 0.015, "unknown": None},
    "fsm": {"0": 0.008, "1": 0.03},
    "fsm_ever6": {"never": 0.006, "earlier": 0.012, "now": 0.03},
    "sen_provision": {"N": 0.007, "K": 0.03, "E": 0.05},
    "sen_type": {"none": 0.007, "SEMH": 0.06, "ASD+MSI": 0.02, "unknown": None},
    "ethnicity": {"WBRI": 0.013, "WOTH": 0.01, "MWBC": 0.02, "BCRB": 0.015, "NOBT": 0.0},
    "ethnicity_group": {"White British": None, "White other": None},  # every group withheld
    "social_care": {"none": 0.008, "former": 0.02, "CIN": 0.03, "CPP": 0.04, "CLA": 0.05},
    "nc_year": {"R": 0.0, "7": 0.01, "8": 0.02},
}


def _rates() -> pd.DataFrame:
    return pd.DataFrame([{"outcome": outcome, "variable": variable, "value": value, "rate": rate}
                         for outcome in ("any", "permanent")
                         for variable, values in RATES.items()
                         for value, rate in values.items()])  # fmt: skip


@pytest.fixture
def figure(monkeypatch):
    """The permanent-exclusion figure as `rates_png` draws it, drawn on its canvas (not closed)."""
    drawn = []
    monkeypatch.setattr(describe_report, "_png", lambda fig: drawn.append(fig) or "")
    describe_report.rates_png(_rates(), "permanent")
    (fig,) = drawn
    fig.canvas.draw()
    yield fig
    describe_report._pyplot().close(fig)


def _words(text: str) -> str:
    return " ".join(text.split())  # a label wrapped over lines reads as one


def _panels(fig) -> dict[str, object]:
    """Each variable's panel, found by its title."""
    titles = {_words(label): variable for variable, (label, _) in VARIABLES.items()}
    return {titles[_words(ax.get_title())]: ax for ax in fig.axes if _words(ax.get_title()) in titles}


def _names(ax) -> list[str]:
    """The bars' names a reader sees (none on a panel drawn without axes)."""
    return [_words(t.get_text()) for t in ax.get_yticklabels()] if ax.axison else []


def test_the_bars_are_labelled_in_the_words_the_report_uses_not_codes(figure):
    panels = _panels(figure)
    assert set(panels) == set(VARIABLES)
    for variable, values in RATES.items():
        shown = [value for value, rate in values.items() if rate is not None]
        names = value_names(variable)
        expected = [_words(value_name(names, value) or value) for value in shown]
        assert _names(panels[variable]) == expected, variable
    labels = {name for ax in figure.axes for name in _names(ax)}
    assert not labels & {"K", "E", "N", "WBRI", "WOTH", "0", "1", "CIN", "CLA", "former", "now", "SEMH"}
    assert _names(panels["sen_provision"]) == [
        "no special educational needs recorded", "receives SEN support",
        "has an education, health and care (EHC) plan"]  # fmt: skip
    assert _names(panels["fsm"]) == ["not eligible", "eligible"]
    assert "White British" in _names(panels["ethnicity"])


def test_no_two_panels_titles_overlap_and_a_withheld_panel_says_so_inside_itself(figure):
    renderer = figure.canvas.get_renderer()
    boxes = [(ax.get_title(), ax.title.get_window_extent(renderer)) for ax in figure.axes if ax.get_title()]
    boxes.append((figure._suptitle.get_text(), figure._suptitle.get_window_extent(renderer)))
    assert len(boxes) == len(VARIABLES) + 1
    for i, (title, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1 :]:
            assert not box.overlaps(other_box), (title, other)
    withheld = _panels(figure)["ethnicity_group"]
    (note,) = withheld.texts
    centre = note.get_window_extent(renderer).get_points().mean(axis=0)
    assert withheld.get_window_extent(renderer).contains(*centre)  # it was drawn at the figure's corner
