"""`describe`'s outputs: describe.html (tables and plots), describe.json and the CSV tables.

Every count has been through `models.describe.suppress_all` before it reaches this module; the plots
draw only rates whose counts are shown. matplotlib is imported on first use.
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
from pathlib import Path

import pandas as pd

from exclusion_risk.files import write_csv, write_text
from exclusion_risk.models.describe import OUTCOME_LABELS, OUTCOMES, VARIABLES, value_name, value_names
from exclusion_risk.models.describe_analysis import Description
from exclusion_risk.models.rendering import render

JSON_FILE = "describe.json"
HTML_FILE = "describe.html"
WHAT_THIS_IS = (
    "A descriptive report of who was suspended or permanently excluded, by group, to reproduce the "
    "Walsall study's analysis on this authority's extracts. It shows no pupil's score and no pupil: "
    "differences between groups describe what happened, not why, and are no basis for treating any "
    "child differently."
)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> str:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# Panels' titles and bars' names wrapped to these widths (characters): a 3 x 3 figure's titles at full
# length ran into their neighbours' (FSM's two over three panels)
TITLE_WIDTH, NAME_WIDTH = 36, 30
NAME_FONT_INCHES = 7 * 1.25 / 72  # a line of a bar's name at fontsize 7


def _bar_names(variable: str, values) -> list[str]:
    """Each bar's name in the words of the report's tables (`value_name`; the code where it has none, as a
    year group), wrapped: the codes (K, E, WBRI, FSM 0/1) meant nothing beside them."""
    names = value_names(variable)
    return [textwrap.fill(value_name(names, str(v)) or str(v), NAME_WIDTH) for v in values]


def rates_figure(rates: pd.DataFrame, outcome: str):
    """Bars of each group's rate (groups with shown counts only), one panel per variable; each row of
    panels as tall as its longest list of names needs."""
    plt = _pyplot()
    variables = list(VARIABLES)
    panels = {}
    for variable in variables:
        rows = rates[(rates["outcome"] == outcome) & (rates["variable"] == variable) & rates["rate"].notna()]
        panels[variable] = (rows, _bar_names(variable, rows["value"]))
    lines = [max(sum(n.count("\n") + 1 for n in panels[v][1]) for v in variables[i : i + 3])
             for i in range(0, len(variables), 3)]  # fmt: skip
    heights = [max(2.0, 1.6 * n * NAME_FONT_INCHES) + 1.3 for n in lines]  # bars' names, title, x label
    figure, axes = plt.subplots(len(heights), 3, figsize=(13, sum(heights) + 0.6), layout="constrained",
                                gridspec_kw={"height_ratios": heights})  # fmt: skip
    for ax, variable in zip(axes.ravel(), variables, strict=True):
        rows, names = panels[variable]
        ax.set_title(textwrap.fill(VARIABLES[variable][0], TITLE_WIDTH), fontsize=9)
        if rows.empty:
            ax.text(0.5, 0.5, "every group's counts withheld", ha="center", va="center", fontsize=8,
                    transform=ax.transAxes)  # fmt: skip
            ax.set_axis_off()
            continue
        ax.barh(names, rows["rate"].astype(float).to_numpy() * 100, color="#4a7ab5")
        ax.invert_yaxis()
        ax.set_xlabel("% of pupil-years", fontsize=8)
        ax.tick_params(labelsize=7)
    figure.suptitle(f"Rate of {OUTCOME_LABELS[outcome]} by group (groups with withheld counts not drawn)")
    return figure


def rates_png(rates: pd.DataFrame, outcome: str) -> str:
    return _png(rates_figure(rates, outcome))


def schools_png(schools: pd.DataFrame) -> str:
    """Each school's suspension-or-exclusion rate against its pupils' mean IDACI decile (shown ones)."""
    plt = _pyplot()
    rows = schools[schools["any_rate"].notna() & schools["mean_idaci_decile"].notna()]
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(rows["mean_idaci_decile"].astype(float), rows["any_rate"].astype(float) * 100, s=14)
    ax.set(xlabel="school's mean IDACI decile of pupils' homes (1 = most deprived)",
           ylabel="% of pupil-years suspended or excluded", title="Schools: exclusion rate and deprivation")
    return _png(figure)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return str(value)


def _ratio(row) -> str:
    if pd.isna(row["rate_ratio"]):
        return "-"
    interval = "" if pd.isna(row["ci_low"]) else f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
    return f"{row['rate_ratio']:.2f}{interval}"


def _html(description: Description) -> str:
    doc = description.document
    rates = description.tables["rates.csv"]
    sections = []
    chi2 = {(r["outcome"], r["variable"]): r for r in doc["chi2"]}
    cells = pd.DataFrame(doc["chi2_cells"])
    for variable, (label, _) in VARIABLES.items():
        names = value_names(variable)
        rows = []
        for value in rates.loc[rates["variable"] == variable, "value"].drop_duplicates():
            row = {"value": value, "name": value_name(names, value)}
            for outcome in OUTCOMES:
                r = rates[(rates["variable"] == variable) & (rates["value"] == value)
                          & (rates["outcome"] == outcome)].iloc[0]  # fmt: skip
                row[outcome] = {"pupils": _fmt(r["pupils"]), "excluded": _fmt(r["excluded"]),
                                "rate": "-" if pd.isna(r["rate"]) else f"{r['rate']:.2%}",
                                "ratio": _ratio(r)}  # fmt: skip
            rows.append(row)
        tests = [chi2[(o, variable)] for o in OUTCOMES]
        tables = {o: cells[(cells["outcome"] == o) & (cells["variable"] == variable)].to_dict("records")
                  if len(cells) else [] for o in OUTCOMES}  # fmt: skip
        pooled = {o: [p["value"] for p in doc["chi2_pooled"]
                      if p["outcome"] == o and p["variable"] == variable] for o in OUTCOMES}  # fmt: skip
        of_variable = rates[rates["variable"] == variable]
        references = {o: of_variable.loc[of_variable["outcome"] == o, "reference"].iloc[0] for o in OUTCOMES}
        sections.append({"variable": variable, "label": label, "rows": rows, "tests": tests,
                         "cells": tables, "pooled": pooled, "references": references})  # fmt: skip
    return render(
        "describe.html.j2",
        what=WHAT_THIS_IS,
        notice=doc["notice"],
        years=", ".join(doc["years"]),
        left_out=doc.get("left_out") or [],
        overall=doc["overall"],
        outcomes=OUTCOME_LABELS,
        sections=sections,
        concentration=doc["concentration"],
        study=doc["study_comparison"], study_conclusion=doc.get("study_conclusion"),
        chi2_caveat=doc.get("chi2_caveat"),
        models=doc.get("models"),
        schools=description.tables["schools.csv"].to_dict("records"),
        plots={o: rates_png(rates, o) for o in OUTCOMES},
        schools_plot=schools_png(description.tables["schools.csv"]),
    )


def write_describe(description: Description, out: Path) -> list[Path]:
    """describe.json, describe.html and the CSV tables in `out` (aggregates only: not private)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in description.tables.items():
        written.append(write_csv(table, out / name, private=False))
    json_path = out / JSON_FILE
    write_text(json_path, json.dumps(description.document, indent=1))
    html_path = out / HTML_FILE
    write_text(html_path, _html(description))
    return [html_path, json_path, *written]
