"""What `promote` prints beside its choice: the outgoing champion's figures beside the incoming version's.

Each version's stated figures are its own test year's (the registry's `metric.<name>` tags with their
95% intervals, as `train` registered them); its realised figure is the latest `exclusion-risk evaluate`
of a scoring it made (the `last_checked` tag), where there is one. Figures of different test years,
censuses or outcomes are of different pupils or answer different questions: the report says so, rather
than let two rows read as a like-for-like comparison, and says where a like-for-like figure exists (the
outgoing version's realised precision on the year the incoming one was tested on). For `compare`: each
run's heading (test year and census), the champion's line (its stated figures where its train run is not
among those shown) and a note where the runs shown differ in test year or census.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features.labels import TARGET_PHRASES
from exclusion_risk.models import tracking
from exclusion_risk.models.comparison import (
    WITHHELD_DIFFERENCE,
    format_comparison,
    paired_difference,
    signed_interval,
    significant,
)
from exclusion_risk.models.evaluate_compare import parse_interval
from exclusion_risk.models.fingerprint import trained_data

FIGURES = tracking.HEADLINE  # the figures every registered version carries, with their intervals
LEAD = ("champion", "version", "model", "census", "label", "test_year")


def version_row(version, role: str) -> dict:
    """One row of the table: the version's facts and stated test-year figures (NaN where not recorded)."""
    info = tracking.read_model_info(version)
    row = {"champion": role, "version": info["version"], "model": info["model_type"] or "?",
           "census": info["census"], "label": info["label"] or "?",
           "test_year": info["test_year"] or "?"}  # fmt: skip
    for name in FIGURES:
        stated = info["metrics"].get(name)
        interval = parse_interval(stated.get("interval")) if stated else None
        row[name] = stated["estimate"] if stated else np.nan
        row[f"{name}_low"], row[f"{name}_high"] = interval or (np.nan, np.nan)
    return row


def _stated(version, metric: str = "precision_at_5pct") -> tuple[float, float, float] | None:
    """A version's stated test-year figure with its 95% interval, as `version_row` reads it, or None
    where it or its interval is not recorded."""
    row = version_row(version, "")
    figure = (row.get(metric, np.nan), row.get(f"{metric}_low", np.nan), row.get(f"{metric}_high", np.nan))
    return None if any(pd.isna(x) for x in figure) else figure


def realised_words(version, role: str) -> str:
    """The version's latest back-test by `evaluate`, in one line, or that it has none."""
    checked = tracking.last_checked(version.tags)
    if checked is None:
        return f"{role} version {version.version}: not checked by `exclusion-risk evaluate` yet"
    value, low, high = (checked.get(k) for k in ("precision_at_5pct", "ci_low", "ci_high"))
    if value is None:
        figure = "precision at 5% not shown (too few pupils)"
    else:
        figure = f"precision at 5% {value:.3f}"
        if low is not None and high is not None:
            figure += f" [{low:.3f}, {high:.3f}]"
    return (
        f"{role} version {version.version}: realised {figure} on its {checked.get('year', '?')} "
        f"{checked.get('census', '?')} scoring (checked {checked.get('date', '?')}): "
        f"{checked.get('verdict', 'no verdict recorded')}"
    )


def unpaired_difference(incoming: tuple | None, outgoing: tuple | None) -> str:
    """Incoming minus outgoing for two figures of one year's pupils measured apart (two train runs, or a
    stated figure beside a realised one), each (estimate, low, high): their intervals combined as if
    independent. The same pupils make the figures move together, so this interval is wider than a paired
    one would be: a difference beyond it is shown; one within it may still be real, only not shown.
    Where a figure or interval is missing, nothing is said ("")."""
    if incoming is None or outgoing is None or not all(np.isfinite(x) for x in (*incoming, *outgoing)):
        return ""
    (a, a_low, a_high), (b, b_low, b_high) = incoming, outgoing
    half = 1.96 * np.hypot((a_high - a_low) / 3.92, (b_high - b_low) / 3.92)
    d = a - b
    verdict = (f"beyond it: the incoming version's is {'higher' if d > 0 else 'lower'}"
               if significant(d - half, d + half) else "within it: no difference shown")  # fmt: skip
    return (f"; incoming minus outgoing: {signed_interval(d, d - half, d + half)} (the two intervals "
            f"combined as if independent, wider than a paired interval), {verdict}")


def _same_year_realised(outgoing, incoming) -> str | None:
    """The outgoing version's realised precision on the incoming version's test year, where `evaluate`
    checked a scoring of that year and census out of sample: the one like-for-like figure of the two."""
    found = _realised(outgoing)
    test_year = incoming.tags.get("test_year")
    if found is None or found[0].get("precision_at_5pct") is None:
        return None
    checked, realised = found
    if checked.get("year") != test_year or checked.get("census") != tracking.census_of(incoming.tags):
        return None
    return (
        f"the outgoing version's realised precision at 5% on {test_year} "
        f"({checked['precision_at_5pct']:.3f}, "
        f"`evaluate`) is of the year the incoming version was tested on: the nearest like-for-like figure "
        f"beside the incoming version's stated precision_at_5pct"
    ) + unpaired_difference(_stated(incoming), realised)


def _realised(version) -> tuple[dict, tuple[float, float, float] | None] | None:
    """A version's latest out-of-sample `evaluate` check and its precision at 5% (estimate, low, high)."""
    checked = tracking.last_checked(version.tags)
    if checked is None or not checked.get("out_of_sample"):
        return None
    figure = tuple(checked.get(k) for k in ("precision_at_5pct", "ci_low", "ci_high"))
    return checked, (figure if None not in figure else None)


def both_realised(outgoing, incoming) -> str | None:
    """Where `evaluate` checked a scoring of each version on the same year and census (out of sample): the
    one comparison of the two on the same pupils' outcomes, with its difference and verdict."""
    old, new = _realised(outgoing), _realised(incoming)
    if old is None or new is None or old[1] is None or new[1] is None:
        return None
    if (old[0].get("year"), old[0].get("census")) != (new[0].get("year"), new[0].get("census")):
        return None
    return (f"both versions' scorings of the {new[0].get('year')} {new[0].get('census')} census were checked "
            "by `evaluate`: realised precision at 5%, the like-for-like figures"
            + unpaired_difference(new[1], old[1]))  # fmt: skip


def older_test_year(outgoing, incoming) -> str | None:
    """A warning where the incoming version was tested on an earlier year than the outgoing champion: it
    was trained on older data (last year's links? years named in the config?), so a newer champion is
    replaced by an older model, which a tester's `promote --best` did without a word."""
    if outgoing is None or str(outgoing.version) == str(incoming.version):
        return None
    old, new = outgoing.tags.get("test_year"), incoming.tags.get("test_year")
    if not old or not new or calendar.start_year(new) >= calendar.start_year(old):
        return None
    return (f"version {incoming.version} was tested on {new}, an earlier year than the outgoing champion "
            f"(version {outgoing.version}, tested on {old}): it was trained on older data (links written "
            "before the latest year's exclusions? years named in the config?). Train on the latest data, or "
            f"promote version {outgoing.version} back if this was not meant")  # fmt: skip


def comparability(outgoing, incoming, differences: pd.DataFrame | None = None) -> list[str]:
    """Plain notes on whether the two rows can be read against each other, and why not; `differences`:
    the incoming version's train run's paired differences (`comparison.differences_of`), for two
    versions of one run."""
    later = incoming.tags.get("later_complete_years")
    left_out = [] if not later else [
        f"version {incoming.version} was trained on named years and left out {later}, with complete "
        "outcomes (`train` warned): a later test year was available"
    ]
    warned = incoming.tags.get("data_warnings")
    left_out += [] if not warned else [
        f"`train` gave {warned} warning(s) on version {incoming.version}'s extracts and links (its console "
        "said which: links that do not match the extracts, records added since the link run, copied census "
        "files): its figures may rest on an incomplete history"
    ]
    if outgoing is None:
        return ["there was no champion before: nothing to compare with", *left_out]
    if str(outgoing.version) == str(incoming.version):
        return [f"version {incoming.version} was already the champion: nothing changes", *left_out]
    o, i = outgoing.tags, incoming.tags
    notes = []
    if (o.get("label") or "any") != (i.get("label") or "any"):
        notes.append(
            f"not comparable: the outgoing version predicts {TARGET_PHRASES.get(o.get('label'), '?')}, "
            f"the incoming {TARGET_PHRASES.get(i.get('label'), '?')}"
        )
    if tracking.census_of(o) != tracking.census_of(i):
        notes.append(
            f"trained at different censuses ({tracking.census_of(o)}, {tracking.census_of(i)}): features "
            "as known on different days, so their figures answer different questions"
        )
    notes += [note] if (note := _data_note(o, i)) else []
    old_year, new_year = o.get("test_year", "?"), i.get("test_year", "?")
    if old_year != new_year:
        notes.append(
            f"tested on different years (outgoing {old_year}, incoming {new_year}): each figure is of its "
            "own year's pupils, not directly comparable (a gap may be the year's, not the model's)"
        )
        like_for_like = _same_year_realised(outgoing, incoming)
        if like_for_like:
            notes.append(like_for_like)
    elif o.get("train_id") and o.get("train_id") == i.get("train_id"):
        notes.append(f"both from train run {i['train_id'][:8]}: tested on the same {new_year} pupils"
                     + _paired(differences, i.get("model_type"), o.get("model_type")))  # fmt: skip
    else:
        notes.append(
            f"both tested on {new_year}, by different train runs: no paired interval between them"
            + (unpaired_difference(_stated(incoming), _stated(outgoing))
               or ", so read each figure with its own interval")  # fmt: skip
        )
    realised = both_realised(outgoing, incoming)
    return notes + ([realised] if realised else []) + left_out


def _data_note(o: dict, i: dict) -> str | None:
    """Where the outgoing and incoming versions' figures are of different records. A tester's outgoing
    champion came from another authority's extracts ("both tested on 2018/19" read as the same pupils).
    The files each train run read tell extracts apart (`fingerprint.trained_extracts`); their `data_hash`
    differs with the features alone, so a version with protected characteristics and one without on the
    same extracts read "different data". On the same extracts, the test year's pupils and outcomes as
    each run counted them (other links or census) say whether the records are the same."""
    # each train run's fingerprint read once (an MLflow artifact download each)
    (old_files, old_years), (new_files, new_years) = (trained_data(run.get("train_id")) for run in (o, i))
    if old_files and new_files:
        if old_files != new_files:
            what = f"other extracts: their train runs read other files, {old_files} and {new_files}"
        else:
            year = i.get("test_year")
            then, now = old_years.get(year), new_years.get(year)
            if not (then and now and then != now):
                return None
            what = (f"the same extracts, but {year}'s pupils or outcomes as each counted them differ: "
                    "other links or census")  # fmt: skip
    elif o.get("data_hash") and i.get("data_hash") and o["data_hash"] != i["data_hash"]:
        # runs logged before the fingerprint kept its files: the whole fingerprint is all there is
        what = (f"data fingerprints {o['data_hash']} and {i['data_hash']}: other extracts, links or "
                "feature table")  # fmt: skip
    else:
        return None
    return (f"trained and tested on different data ({what}): their figures are of different records, so a "
            "gap may be the data's, not the model's")  # fmt: skip


def _paired(differences: pd.DataFrame | None, incoming: str | None, outgoing: str | None) -> str:
    """The paired difference on precision at 5%, incoming minus outgoing, where the run logged it."""
    metric = "precision_at_5pct"
    found = None
    if differences is not None and len(differences) and incoming and outgoing:
        found = paired_difference(differences, incoming, outgoing, metric)
    if found is None:
        return "; no paired difference between them was logged"
    d, low, high = found
    if pd.isna(d):  # a withheld metric (metrics.withhold_small_selections)
        return f"; paired difference in {metric}: {WITHHELD_DIFFERENCE}"
    said = "beyond the interval" if significant(low, high) else "within the interval (not significant)"
    shown = signed_interval(d, low, high)
    return f"; paired difference in {metric}, incoming minus outgoing: {shown}, {said}"


def promotion_report(outgoing, incoming, differences: pd.DataFrame | None = None) -> str:
    """The outgoing champion (None: there was none) beside the incoming version: stated figures,
    realised figures and what can be compared (`differences`: as `comparability` takes them)."""
    pair = [(outgoing, "outgoing"), (incoming, "incoming")]
    heading = "outgoing and incoming champion"
    if outgoing is None or str(outgoing.version) == str(incoming.version):
        pair, heading = [(incoming, "incoming")], "incoming champion"
    table = pd.DataFrame([version_row(version, role) for version, role in pair])
    lines = [
        f"{heading}, stated figures (each version's own test year, 95% intervals):",
        format_comparison(table, FIGURES, LEAD).rstrip("\n"),
        "realised figures (the latest `exclusion-risk evaluate` of a scoring each made):",
        *(f"  {realised_words(version, role)}" for version, role in pair),
        *(f"note: {note}" for note in comparability(outgoing, incoming, differences)),
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# `compare`: which run each table is, where the champion is, and what reads across runs
# ---------------------------------------------------------------------------------------------


def run_heading(parent) -> str:
    """The line over a train run's table: its id, test year and reference census."""
    tags = parent.data.tags
    return (f"train run {parent.info.run_id[:8]} - test year {tags.get('test_year', '?')}, "
            f"{tracking.census_of(tags)} census (* = champion):")  # fmt: skip


def champion_words(champion, parents: list, experiment: str) -> str:
    """Which version is champion and from which train run; where that run is not among `parents` (the
    runs shown), its stated figures too, and how many runs `compare` needs to show it."""
    if champion is None:
        return "champion: none yet (`exclusion-risk promote` sets one)"
    tags = champion.tags
    train_id = tags.get("train_id", "")
    line = (f"champion: version {champion.version} ({tags.get('model_type', '?')}, "
            f"{tracking.census_of(tags)} census, test year {tags.get('test_year', '?')}) "
            f"from train run {train_id[:8] or '?'}")  # fmt: skip
    if train_id in {p.info.run_id for p in parents}:
        return line + " (marked * above)"
    ids = [p.info.run_id for p in tracking.train_runs(experiment, 1000)]
    where = (f"`compare --runs {ids.index(train_id) + 1}` shows it beside them" if train_id in ids
             else f"its train run is not in experiment '{experiment}'")  # fmt: skip
    table = pd.DataFrame([version_row(champion, "champion")])
    return f"{line}, not among the runs shown ({where}):\n" + format_comparison(table, FIGURES, LEAD).rstrip()


def across_runs_note(table: pd.DataFrame, extracts: list[str | None] = ()) -> str | None:
    """Where the runs shown differ in test year, census or extracts (`extracts`: each train run's
    `fingerprint.trained_extracts`, None where it kept none: two authorities' runs in one store read side
    by side as if of one): their figures are not like for like. Other features on the same extracts are
    not other pupils."""
    if table.empty or table["train_id"].nunique() < 2:
        return None
    years, censuses = sorted(set(table["test_year"])), sorted(set(table["census"]))
    files = sorted(set(extracts) - {None, ""})
    if len(years) < 2 and len(censuses) < 2 and len(files) < 2:
        return None
    what = [f"years ({', '.join(years)})"] if len(years) > 1 else []
    what += [f"censuses ({', '.join(censuses)})"] if len(censuses) > 1 else []
    what += [f"extracts (their train runs read other files: {', '.join(files)})"] if len(files) > 1 else []
    return (f"note: the runs shown were tested on different {' and '.join(what)}: figures across runs "
            "are of different pupils, not directly comparable; paired differences exist within a run "
            "only")  # fmt: skip
