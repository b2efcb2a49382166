"""Outputs of a linkage run: the contract's files, the settings round trip, the CLI's error handling."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.history import pupil_history, read_links
from exclusion_risk.linkage.outputs import write_outputs
from exclusion_risk.linkage.pipeline import link_extracts
from exclusion_risk.linkage.readers import Extracts
from exclusion_risk.linkage.settings import LinkageSettings

# the read's rejects, which the outputs carry through
READ_REJECTS = pd.DataFrame(
    [{"file": "census.csv", "row": 3, "column": "DOB", "value": "x", "reason": "not a date"}]
)


@pytest.fixture(scope="module")
def run(tmp_path_factory, population, census_rows, exclusions_of, social_care_of):
    pupils = population(1200, seed=21)
    sc = social_care_of(pupils.sample(200, random_state=1))
    # Typos push some children to the probabilistic stage.
    sc.loc[sc.index[::4], "Forename"] = sc.loc[sc.index[::4], "Forename"] + "e"
    ex = exclusions_of(pupils.sample(200, random_state=2), upn_share=0.5)
    extracts = Extracts(census_rows(pupils), ex, sc, READ_REJECTS)
    out = tmp_path_factory.mktemp("link")
    handler = logging.FileHandler(out / "run.log")
    logging.getLogger("exclusion_risk.linkage").addHandler(handler)
    logging.getLogger("exclusion_risk.linkage").setLevel(logging.INFO)
    try:
        result = link_extracts(extracts, LinkageSettings(engine="splink"), progress=False)
    finally:
        logging.getLogger("exclusion_risk.linkage").removeHandler(handler)
        handler.close()
    write_outputs(result, extracts, out)
    return extracts, result, out


def test_contract_files_written(run):
    _, result, out = run
    for name in (
        "links.csv",
        "review.csv",
        "unlinked.csv",
        "rejects.csv",
        "report.json",
        "report.html",
        "settings.json",
    ):
        assert (out / name).exists(), name
    links = pd.read_csv(out / "links.csv", dtype=str)
    assert list(links.columns) == ["source", "record_id", "upn", "method", "score"]
    assert set(links["method"]) <= {"upn", "name_dob", "probabilistic", "clerical"}
    assert "probabilistic" in set(links["method"])
    assert links.duplicated(["source", "record_id"]).sum() == 0
    assert len(pd.read_csv(out / "rejects.csv")) == 1
    report = json.loads((out / "report.json").read_text())
    sc = report["sources"]["social_care"]
    assert sc["records"] == 200
    assert {"sex", "ethnicity", "year_group"} <= set(sc["by_group"])
    assert report["settings"]["engine"] == "splink"


def test_no_names_or_dobs_outside_review(run):
    extracts, _, out = run
    names = set(extracts.social_care["Surname"].str.casefold()) | set(
        extracts.social_care["Forename"].str.casefold()
    )
    dobs = set(extracts.social_care["DOB"].dt.strftime("%Y-%m-%d"))
    for name in ("links.csv", "unlinked.csv", "report.json", "report.html", "run.log"):
        text = (out / name).read_text().casefold()
        assert not any(d in text for d in dobs), name
        words = set(text.replace(",", " ").replace('"', " ").split())
        assert not (words & names), name


def test_settings_file_reproduces_links_exactly(run):
    extracts, result, out = run
    settings = LinkageSettings.load(out / "settings.json")
    assert settings.trained and settings.trained["social_care"]["engine"] == "splink"
    again = link_extracts(extracts, settings, progress=False)
    pd.testing.assert_frame_equal(again.links, result.links)


def test_pupil_history_drops_identifiers_and_adds_upn(run):
    extracts, result, _ = run
    history = pupil_history(extracts, result.links)
    for frame in (history.census, history.exclusions, history.social_care):
        assert not {"Surname", "Forename", "DOB"} & set(frame.columns)
    assert history.social_care["upn"].notna().all()
    assert len(history.social_care) == (result.links["source"] == "social_care").sum()


def test_cli_bad_input_exits_2_without_traceback(link_app, tmp_path):
    runner = CliRunner()
    res = runner.invoke(link_app, ["link", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    bad = tmp_path / "settings.json"
    bad.write_text('{"engine": "spark-on-a-toaster"}')
    res = runner.invoke(
        link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--settings", str(bad)]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_settings_trained_on_other_comparison_levels_are_refused(link_app, run, tmp_path):
    # A settings.json from a version whose DOB comparison had one level fewer cannot reproduce its
    # links: loading it says so (and the CLI exits 2 with that message) instead of failing mid-run.
    _, _, out = run
    data = json.loads((out / "settings.json").read_text())
    data["trained"]["social_care"]["comparisons"]["dob"].pop(2)
    old = tmp_path / "settings.json"
    old.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="dob: 5 levels"):
        LinkageSettings.load(old)
    res = CliRunner().invoke(
        link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--settings", str(old)]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "remove the 'trained' entry" in res.output
    # The recordlinkage engine's layout (m and u lists) is checked the same way.
    rl = LinkageSettings(engine="recordlinkage").model_dump(mode="json")
    rl["trained"] = {"social_care": {"engine": "recordlinkage", "m": {"dob": [0.1, 0.2, 0.3, 0.4]}}}
    with pytest.raises(ValueError, match="dob: 5 levels"):
        LinkageSettings.model_validate(rl)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("source,record_id\nexclusions,1\n", r"missing column\(s\) upn"),
        ("", "not a links file"),
        ('source,record_id,upn\n"unclosed,1,A\n', "not a links file"),
        # what `link` never writes: each named by row and column, never by its value
        ("source,record_id,upn\nexclusions,EX9,A1\nexclusions,EX9,B2\n", r"column 'record_id'.*rows 1, 2"),
        ("source,record_id,upn\nexclusionz,EX9,A1\n", r"row 1.*column 'source'|column 'source'.*row 1"),
        ("source,record_id,upn\nexclusions,EX9,\n", r"column 'upn'.*blank at row 1"),
        (
            "source,record_id,upn,score\nexclusions,EX8,A1,1\nexclusions,EX9,A1,high\n",
            r"column 'score'.*row 2",
        ),
    ],
)
def test_a_malformed_links_file_is_named_without_a_traceback(tmp_path, content, message):
    """Every command reads links.csv through `read_links`: a broken file is one message naming it."""
    from exclusion_risk.cli import app

    links = tmp_path / "links"
    links.mkdir()
    (links / "links.csv").write_text(content)
    data = tmp_path / "extracts"
    data.mkdir()
    result = CliRunner().invoke(app, ["features", "--data", str(data), "--links", str(links)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "links.csv" in result.output  # the links file is read (and refused) before the extracts
    with pytest.raises(ExtractError, match=message) as raised:
        read_links(links)
    assert str(links / "links.csv") in str(raised.value)
    for value in ("EX9", "A1", "B2", "exclusionz", "high"):
        assert value not in str(raised.value) and value not in result.output


def test_links_that_match_nothing_in_the_extracts_are_refused_and_some_are_counted(
    tmp_path, extracts_folder, capsys
):
    """A header-only links.csv, or links naming records and UPNs the extracts lack, were scored as if no
    child had an exclusion or social care, without a word."""
    from exclusion_risk.linkage.history import load_linked
    from exclusion_risk.models.cli_inputs import linked_data
    from exclusion_risk.upn import make_upn

    data = extracts_folder(tmp_path / "extracts")
    pupil, stranger = make_upn(330, 4001, 2010, 0), make_upn(330, 4001, 2010, 99)
    links = tmp_path / "linkage"
    links.mkdir()
    header = "source,record_id,upn,method,score\n"
    for content, said in [
        (header, "no links, while these extracts hold 2 exclusion and social-care records"),
        (header + f"exclusions,EX404,{pupil},upn,1\nexclusions,1,{stranger},upn,1\n", "none of its 2 links"),
    ]:
        (links / "links.csv").write_text(content)
        with pytest.raises(ExtractError, match=said):
            load_linked(data, links)
    some = f"exclusions,1,{pupil},upn,1\nsocial_care,C404,{stranger},upn,1\n"
    (links / "links.csv").write_text(header + some)
    linked = load_linked(data, links)
    assert len(linked.history.exclusions) == 1 and linked.history.social_care.empty
    assert linked.warnings == [
        f"1 of the 1 social_care links in {links / 'links.csv'} name a record the social_care extract does "
        "not hold",
        f"1 of the 1 social_care links in {links / 'links.csv'} name a UPN the census does not hold",
    ]
    linked_data(data, links)  # the commands' reader prints them, one line each, counts only
    err = capsys.readouterr().err
    assert err.count("warning: ") == 2 and "C404" not in err and stranger not in err


def test_links_of_which_most_attach_nothing_are_refused(tmp_path, extracts_folder):
    """Another authority's links.csv, a few of whose links happen to name a record and a pupil here, was
    read with warnings: an analyst's run (3,000 pupils) wrote a full list with 1 pupil red of 126."""
    from exclusion_risk.linkage.history import load_linked
    from exclusion_risk.upn import make_upn

    data = extracts_folder(tmp_path / "extracts")
    pupil, stranger = make_upn(330, 4001, 2010, 0), make_upn(330, 4001, 2010, 99)
    links = tmp_path / "linkage"
    links.mkdir()
    others = "".join(f"exclusions,EX{i},{stranger},upn,1\n" for i in range(2))
    header = "source,record_id,upn,method,score\n"
    (links / "links.csv").write_text(f"{header}exclusions,1,{pupil},upn,1\n{others}")
    with pytest.raises(ExtractError, match="only 1 of its 3 links name both a record of these") as got:
        load_linked(data, links)
    assert stranger not in str(got.value) and "EX0" not in str(got.value)


def test_a_hand_edited_links_file_attaches_what_its_checks_passed(tmp_path, extracts_folder):
    """' exclusions' and ' 1' passed the checks (which strip) and then attached nothing (the join did
    not): the pupil was scored with no exclusion, unsaid. Links are tidied once, as they are checked."""
    from exclusion_risk.linkage.history import load_linked
    from exclusion_risk.upn import make_upn

    data = extracts_folder(tmp_path / "extracts")
    pupil = make_upn(330, 4001, 2010, 0)
    links = tmp_path / "linkage"
    links.mkdir()
    (links / "links.csv").write_text(
        "source,record_id,upn,method,score\n"
        f" exclusions , 1 ,{pupil.lower()} ,upn,1\nsocial_care,C1,{pupil},upn,1\n"
    )
    linked = load_linked(data, links)
    assert len(linked.history.exclusions) == 1 and linked.warnings == []


def _linked_by_an_earlier_run(tmp_path, extracts_folder):
    """(extracts folder, its first pupil, links folder): links.csv linking the folder's one exclusion and
    one social-care record, and an unlinked.csv listing none, as `link` wrote them."""
    from exclusion_risk.upn import make_upn

    data = extracts_folder(tmp_path / "extracts")
    pupil = make_upn(330, 4001, 2010, 0)
    links = tmp_path / "linkage"
    links.mkdir()
    (links / "links.csv").write_text(
        f"source,record_id,upn,method,score\nexclusions,1,{pupil},upn,1\nsocial_care,C1,{pupil},upn,1\n"
    )
    (links / "unlinked.csv").write_text("source,record_id,band,best_score\n")
    return data, pupil, links


def test_records_added_since_the_link_run_are_said(
    tmp_path, extracts_folder, exclusion_row, csv_text, capsys
):
    """Last year's links with this year's extracts: the new exclusions were read as linked to no pupil and
    `train` and `drift` took their year for one not yet complete, without a word. A record that links.csv
    and the unlinked.csv beside it both leave out is new since that run, and is counted (never named)."""
    from exclusion_risk.linkage.history import load_linked
    from exclusion_risk.models.cli_inputs import linked_data

    data, pupil, links = _linked_by_an_earlier_run(tmp_path, extracts_folder)
    assert load_linked(data, links).warnings == []
    rows = [exclusion_row(pupil), exclusion_row(pupil, StartDate="2019-05-14")]
    (data / "exclusions.csv").write_text(csv_text(rows))
    linked = load_linked(data, links)
    assert linked.warnings == [
        f"1 of the 2 exclusions records of these extracts are in neither {links / 'links.csv'} nor the "
        "unlinked.csv beside it: they were not in the extracts that `exclusion-risk link` run read (the "
        "newest starts on 14 May 2019), are read as linked to no pupil, and a year they complete is read as "
        "not yet complete; run `exclusion-risk link` on these extracts"
    ]
    (links / "unlinked.csv").write_text("source,record_id,band,best_score\nexclusions,2,reject,0.1\n")
    assert load_linked(data, links).warnings == []  # listed as not linked by that run: nothing new
    (links / "unlinked.csv").unlink()
    assert load_linked(data, links).warnings == []  # no unlinked.csv: new and unlinked cannot be told apart
    (links / "unlinked.csv").write_bytes(b"\x00\xff garbage")
    assert "is not one written by `exclusion-risk link`" in load_linked(data, links).warnings[0]
    (links / "unlinked.csv").write_text("source,record_id,band,best_score\n")
    linked_data(data, links)  # the commands' reader prints it
    err = capsys.readouterr().err
    assert "warning: 1 of the 2 exclusions records" in err and pupil not in err


def test_train_s_read_gives_its_warnings_to_warn_even_when_quiet(tmp_path, extracts_folder, exclusion_row,
                                                                csv_text):
    """`train --quiet` silenced the warning that the links miss records added since the link run (its
    warnings went through the progress log), and the run went on to test on an older year unsaid."""
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import TrainingError, load_training_data

    data, pupil, links = _linked_by_an_earlier_run(tmp_path, extracts_folder)
    rows = [exclusion_row(pupil), exclusion_row(pupil, StartDate="2017-05-02")]
    (data / "exclusions.csv").write_text(csv_text(rows))
    progress, warned = [], []
    with pytest.raises(TrainingError):  # three census rows of one year: too few years, after the read
        load_training_data(data, load_config(), links, log=progress.append, warn=warned.append)
    assert len(warned) == 1 and warned[0].startswith("warning: 1 of the 2 exclusions records")
    assert not any(line.startswith("warning") for line in progress)
