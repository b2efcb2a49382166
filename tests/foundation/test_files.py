"""exclusion_risk.files: formula-leading text neutralised, numbers untouched, private files and folders."""

from __future__ import annotations

import csv
import io
import os
import stat

import pandas as pd
import pytest

from exclusion_risk.files import (
    FORMULA_LEADS,
    csv_text,
    neutralise,
    neutralised,
    open_private,
    private_dir,
    write_csv,
    write_private_text,
)

ATTACKS = ["@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","y")', "+1+2", "-2+3", "\tx", "\rx"]


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize("value", ATTACKS)
def test_neutralise_prefixes_an_apostrophe_to_formula_leading_text(value):
    assert neutralise(value) == "'" + value.replace("\r", "\n")
    assert not neutralise(value).startswith(FORMULA_LEADS)


@pytest.mark.parametrize("value", ["Okafor", "O'Brien", "Smith-Jones", "WS1 1AA", "2018/19", "", -5, -1.5, None])  # noqa: E501
def test_neutralise_leaves_everything_else_alone(value):
    assert neutralise(value) is value


def test_a_bare_carriage_return_inside_text_cannot_start_a_row(tmp_path):
    """csv quotes a field for "\n" but not for a lone "\r" (with "\n" line ends): a spreadsheet would
    start a new row there, led by `=cmd|...`."""
    frame = pd.DataFrame({"surname": ["Smith\r=cmd|' /C calc'!A0", "Jones\r\nBrown"], "n": [1, 2]})
    for text in (csv_text(frame), write_csv(frame, tmp_path / "a.csv", private=True).read_bytes().decode()):
        rows = list(csv.reader(io.StringIO(text, newline="")))  # the csv module ends a row at a bare CR too
        assert rows == [["surname", "n"], ["Smith\n=cmd|' /C calc'!A0", "1"], ["Jones\r\nBrown", "2"]]


def test_neutralised_changes_only_formula_leading_text_cells():
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "Okafor", None],
            "string": pd.array(["@x", pd.NA, "ok"], dtype="string"),
            "mixed": [-1.5, "-2", "y"],  # a number in an object column stays a number
            "ints": [-1, 2, 3],
            "floats": [-0.5, 1.0, float("nan")],
            "category": pd.Categorical(["+a", "b", "+a"]),
        }
    )
    before = frame.copy()
    out = neutralised(frame)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not changed
    assert out["text"].tolist()[:2] == ["'=1+1", "Okafor"] and pd.isna(out["text"].iloc[2])
    assert out["string"].tolist()[0] == "'@x" and out["string"].tolist()[2] == "ok"
    assert out["mixed"].tolist() == [-1.5, "'-2", "y"]
    pd.testing.assert_series_equal(out["ints"], frame["ints"])
    pd.testing.assert_series_equal(out["floats"], frame["floats"])
    assert out["category"].tolist() == ["'+a", "b", "'+a"]
    clean = pd.DataFrame({"a": ["x", "y"], "b": [-1, 2]})
    assert neutralised(clean) is clean  # nothing to do: no copy


def test_csv_text_and_write_csv_leave_no_cell_a_spreadsheet_would_run(tmp_path):
    frame = pd.DataFrame({"upn": ATTACKS, "n": range(len(ATTACKS)), "x": [-1.25] * len(ATTACKS)})
    for text in (csv_text(frame), write_csv(frame, tmp_path / "a.csv", private=False).read_text()):
        rows = list(csv.reader(io.StringIO(text)))
        assert not [r[0] for r in rows if r[0].startswith(FORMULA_LEADS)]
        assert {r[2] for r in rows[1:]} == {"-1.25"}  # numbers are written as they are
        assert [r[0] for r in rows[1:]] == [neutralise(a) for a in ATTACKS]


def test_the_arrow_engine_writes_the_same_bytes_as_the_plain_writer_for_normal_values(tmp_path):
    ints = pd.array([1, None], dtype="Int64")
    frame = pd.DataFrame({"upn": ["A123", "B456"], "p": [0.125, -0.5], "n": ints})
    path = write_csv(frame, tmp_path / "fast.csv", private=True, engine="arrow")
    assert path.read_text() == "upn,p,n\nA123,0.125,1\nB456,-0.5,\n"
    attacked = frame.assign(upn=["=1+1", "A, with a comma"])  # the comma makes pandas take over
    text = write_csv(attacked, tmp_path / "slow.csv", private=True, engine="arrow").read_text()
    assert _cells(text)[3] == "'=1+1" and "A, with a comma" in _cells(text)
    path = write_csv(frame.assign(upn=["@x", "y"]), tmp_path / "f.csv", private=True, engine="arrow")
    assert path.read_text().splitlines()[1] == "'@x,0.125,1"


def test_write_csv_preamble_comes_first_as_it_is(tmp_path):
    path = write_csv(pd.DataFrame({"p": [0.1234567]}), tmp_path / "s.csv", private=True,
                     preamble="# notice\n", float_format="%.6f")  # fmt: skip
    assert path.read_text() == "# notice\np\n0.123457\n"


@pytest.mark.usefixtures("umask_022")
def test_private_files_are_0600_in_0700_folders_under_umask_022(tmp_path):
    frame = pd.DataFrame({"upn": ["A1"]})
    made = write_csv(frame, tmp_path / "new" / "deeper" / "links.csv", private=True)
    assert _mode(made) == 0o600
    assert _mode(tmp_path / "new") == 0o700 and _mode(tmp_path / "new" / "deeper") == 0o700
    assert _mode(write_csv(frame, tmp_path / "arrow" / "a.csv", private=True, engine="arrow")) == 0o600
    write_private_text(tmp_path / "t" / "notes.txt", "x")
    assert _mode(tmp_path / "t" / "notes.txt") == 0o600 and _mode(tmp_path / "t") == 0o700
    with open_private(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"x")
    assert _mode(tmp_path / "b.bin") == 0o600
    public = write_csv(frame, tmp_path / "public" / "report.csv", private=False)
    assert _mode(public) == 0o644


@pytest.mark.usefixtures("umask_022")
def test_an_existing_world_readable_file_becomes_private_and_an_existing_folder_keeps_its_mode(
    tmp_path
):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    old = shared / "review.csv"
    old.write_text("old\n")
    os.chmod(old, 0o644)
    write_csv(pd.DataFrame({"a": ["x"]}), old, private=True)
    assert _mode(old) == 0o600 and old.read_text() == "a\nx\n"
    assert _mode(shared) == 0o755
    assert private_dir(shared) == shared and _mode(shared) == 0o755


@pytest.mark.parametrize("private", [True, False])
def test_an_output_path_that_is_a_symbolic_link_is_refused_not_written_through(tmp_path, private):
    """`ln -s victim out/rejects.csv` then `check --out out` overwrote the victim and made it 0600."""
    from exclusion_risk.files import SymlinkOutputError, write_csv

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    victim.chmod(0o644)
    out = tmp_path / "out"
    out.mkdir()
    (out / "rejects.csv").symlink_to(victim)
    for engine in ("pandas", "arrow"):
        with pytest.raises(SymlinkOutputError, match="rejects.csv is a symbolic link"):
            write_csv(pd.DataFrame({"a": [1]}), out / "rejects.csv", private=private, engine=engine)
    assert victim.read_text() == "keep me\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644


def test_check_says_a_symbolic_link_output_in_one_line(tmp_path, capsys):
    from exclusion_risk.cli import app

    data = tmp_path / "extracts"
    data.mkdir()
    (data / "census.csv").write_text("UPN\nA\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "rejects.csv").symlink_to(victim)
    with pytest.raises(SystemExit) as stopped:
        app(["check", "--data", str(data), "--out", str(out)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: ") and "rejects.csv is a symbolic link" in err
    assert victim.read_text() == "keep me\n"


def test_reports_and_the_link_run_log_are_not_written_through_a_symbolic_link(tmp_path):
    """The counts-only outputs (report.json, HTML pages, settings.json, run.log) are refused too."""
    from exclusion_risk.files import SymlinkOutputError, write_text
    from exclusion_risk.linkage.link_cli import _configure_run_log

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.json", "run.log"):
        (out / name).symlink_to(victim)
    with pytest.raises(SymlinkOutputError, match="report.json is a symbolic link"):
        write_text(out / "report.json", "{}")
    with pytest.raises(SymlinkOutputError, match="run.log is a symbolic link"):
        _configure_run_log(out)
    assert victim.read_text() == "keep me\n"
    write_text(out / "plain.json", "{}")
    assert (out / "plain.json").read_text() == "{}"
