"""`evaluate`'s outputs: evaluation.json (the numbers) and evaluation.html (them in words, with a plot).

evaluation.html has the decision-support notice, the headline sentence and a calibration plot. Every
count has been through `models.evaluate`'s suppression before it gets here; the plot draws only groups
whose counts are shown. matplotlib is imported on first use.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from exclusion_risk.files import write_text
from exclusion_risk.models.band_precision import OUTCOMES, share_with_interval
from exclusion_risk.models.evaluate import percent
from exclusion_risk.models.rendering import render

JSON_FILE = "evaluation.json"
HTML_FILE = "evaluation.html"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def calibration_png(rows: list[dict[str, Any]]) -> str:
    """Observed rate (95% interval) against mean predicted probability per tenth of pupils, base64 PNG."""
    plt = _pyplot()
    shown = [r for r in rows if r["observed"] is not None]
    figure, ax = plt.subplots(figsize=(5.5, 4.2), dpi=90)
    top = max([0.05] + [r["mean_predicted"] for r in rows] + [r["ci_high"] for r in shown])
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="observed = predicted")
    if shown:
        predicted = [r["mean_predicted"] for r in shown]
        observed = [r["observed"] for r in shown]
        errors = [
            [o - r["ci_low"] for o, r in zip(observed, shown, strict=True)],
            [r["ci_high"] - o for o, r in zip(observed, shown, strict=True)],
        ]
        ax.errorbar(predicted, observed, yerr=errors, fmt="o", ms=4, capsize=3, label="tenths of pupils")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed rate (95% interval)",
        title="Calibration: predicted against what happened",
    )
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: Any) -> str:
    """A count as published (3,126; "<10", "x") or a share by the project's one rule
    (`band_precision.percent`: 0.8%, 32%); "-" when not shown."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return percent(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _share(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A share with its 95% interval, one rule for the three figures (`band_precision.share_with_interval`):
    0.8% [0.7%–0.8%]; "-" when not shown."""
    return "-" if value is None else share_with_interval(value, low, high)


def evaluation_html(document: dict[str, Any]) -> str:
    outcome = OUTCOMES.get(document["label"], OUTCOMES["any"])
    return render(
        "evaluate.html.j2",
        doc=document,
        outcome=outcome,
        fmt=_fmt,
        share=_share,
        plot=calibration_png(document["calibration"]),
    )


def write_evaluation(document: dict[str, Any], out: Path) -> list[Path]:
    """evaluation.json and evaluation.html in `out` (aggregates only, counts suppressed: not private)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / HTML_FILE
    json_path = write_evaluation_json(document, out)
    write_text(html_path, evaluation_html(document))
    return [json_path, html_path]


def write_evaluation_json(document: dict[str, Any], out: Path) -> Path:
    """evaluation.json alone (again, once the MLflow run id is known)."""
    path = Path(out) / JSON_FILE
    write_text(path, json.dumps(document, indent=1))
    return path
