"""A wrong output path stops every command at once (exit 2, one `error:` line naming the option and the
path, no traceback), before any work: a folder where a file is written, a file where a folder is made,
or a file where a folder of the path should be (exclusion_risk.cli_checks: out_file, out_folder).

The other inputs are missing on purpose: `--data` is a folder that does not exist, there is no model
and no recorded run. The message asserted is the output path's, so each command is shown to check its
output path before it looks at any of them: it would have read, linked, trained or scored first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app

runner = CliRunner()
YEAR = ["--year", "2018/19"]


@pytest.fixture
def paths(tmp_path, monkeypatch) -> dict[str, Path]:
    """An ordinary file, folders named like files, and a missing data folder; MLflow's store in tmp_path
    (no command gets that far, but nothing must reach the repo's mlruns/ if one did)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns.db'}")
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    for folder in ("dir.csv", "dir.parquet", "rvdir.html", "beside/scores.xlsx", "beside/fairness.json"):
        (tmp_path / folder).mkdir(parents=True)
    return {"afile": afile, "tmp": tmp_path, "nowhere": tmp_path / "nowhere"}


def _refused(args: list[str]) -> str:
    """The one line a refused command printed (exit 2, no exception but the exit, no traceback)."""
    result = runner.invoke(app, args, terminal_width=200)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def _is_a_file(option: str, path: Path) -> str:
    return f"error: {option} {path} is a file, not a folder"


def _is_a_folder(option: str, path: Path) -> str:
    return f"error: {option} {path} is a folder, not a file"


def _under_a_file(option: str, path: Path, file: Path) -> str:
    return f"error: {option} {path}: cannot write there ({file} is a file, not a folder)"


def _beside_is_a_folder(option: str, path: Path, beside: Path) -> str:
    return f"error: {option} {path}: {beside}, written beside it, is a folder, not a file"


# --- a file where a folder is made --------------------------------------------------------------


def test_check_out_that_is_a_file(paths):
    line = _refused(["check", "--data", str(paths["nowhere"]), "--out", str(paths["afile"])])
    assert line == _is_a_file("--out", paths["afile"])


def test_check_default_out_that_is_a_file(paths):
    """Without --out, rejects.csv goes to a `check` folder beside DATA: a file there is refused the same
    way."""
    data = paths["tmp"] / "la"
    data.mkdir()
    (paths["tmp"] / "check").write_text("")
    assert _refused(["check", "--data", str(data)]) == _is_a_file("--out", paths["tmp"].resolve() / "check")


def test_link_out_that_is_a_file(paths):
    line = _refused(["link", "--data", str(paths["nowhere"]), "--out", str(paths["afile"]), "--no-progress"])
    assert line == _is_a_file("--out", paths["afile"])


def test_describe_out_that_is_a_file(paths):
    line = _refused(["describe", "--data", str(paths["nowhere"]), "--out", str(paths["afile"])])
    assert line == _is_a_file("--out", paths["afile"])


def test_drift_out_that_is_a_file(paths):
    args = ["drift", "--data", str(paths["nowhere"]), *YEAR, "--reference-year", "2017/18"]
    assert _refused([*args, "--out", str(paths["afile"])]) == _is_a_file("--out", paths["afile"])


def test_drift_out_is_checked_before_the_champion_is_asked_for_its_years(paths):
    """No --reference-year: the champion (absent here) would be looked up; the --out is said first."""
    args = ["drift", "--data", str(paths["nowhere"]), *YEAR, "--out", str(paths["afile"])]
    assert _refused(args) == _is_a_file("--out", paths["afile"])


def test_evaluate_out_that_is_a_file(paths):
    args = ["evaluate", "--data", str(paths["nowhere"]), "--scores", str(paths["nowhere"] / "scores.csv")]
    assert _refused([*args, "--out", str(paths["afile"])]) == _is_a_file("--out", paths["afile"])


def test_score_runs_that_is_a_file(paths):
    out = paths["tmp"] / "scores" / "scores.csv"
    args = ["score", "--data", str(paths["nowhere"]), *YEAR, "--out", str(out), "--runs", str(paths["afile"])]
    assert _refused(args) == _is_a_file("--runs", paths["afile"])


def test_runs_export_out_that_is_a_file(paths):
    args = ["runs", "export", "abcd", "--database", str(paths["nowhere"] / "service.db")]
    assert _refused([*args, "--out", str(paths["afile"])]) == _is_a_file("--out", paths["afile"])


# --- a folder where a file is written -----------------------------------------------------------


def test_score_out_that_is_a_folder(paths):
    out = paths["tmp"] / "dir.csv"
    line = _refused(["score", "--data", str(paths["nowhere"]), *YEAR, "--out", str(out)])
    assert line == _is_a_folder("--out", out)


def test_score_out_whose_workbook_beside_it_is_a_folder(paths):
    out = paths["tmp"] / "beside" / "scores.csv"
    line = _refused(["score", "--data", str(paths["nowhere"]), *YEAR, "--out", str(out)])
    assert line == _beside_is_a_folder("--out", out, out.with_suffix(".xlsx"))


def test_score_out_whose_page_beside_it_is_a_symbolic_link(paths):
    """The write refused the link, but only after scores.csv (every pupil) was written beside a stale
    scores.html and scores.xlsx, and no run recorded: a reviewer's find. Now said before any work."""
    out = paths["tmp"] / "linked" / "scores.csv"
    out.parent.mkdir()
    (out.parent / "scores.html").symlink_to(paths["afile"])
    line = _refused(["score", "--data", str(paths["nowhere"]), *YEAR, "--out", str(out)])
    assert line == (f"error: --out {out}: {out.with_suffix('.html')}, written beside it, is a symbolic "
                    "link (never written through: it would overwrite what it points at)")  # fmt: skip
    dangling = paths["tmp"] / "dangling.csv"
    dangling.symlink_to(paths["tmp"] / "no-such-file")
    line = _refused(["score", "--data", str(paths["nowhere"]), *YEAR, "--out", str(dangling)])
    assert line == (f"error: --out {dangling} is a symbolic link (never written through: it would "
                    "overwrite what it points at)")  # fmt: skip
    assert not out.exists()


def test_features_out_that_is_a_folder(paths):
    base = ["features", "--data", str(paths["nowhere"]), "--links", str(paths["nowhere"])]
    for name in ("dir.csv", "dir.parquet"):
        out = paths["tmp"] / name
        assert _refused([*base, "--out", str(out)]) == _is_a_folder("--out", out)


def test_review_out_that_is_a_folder(paths):
    out = paths["tmp"] / "rvdir.html"
    line = _refused(["review", "champion", "--data", str(paths["nowhere"]), "--out", str(out)])
    assert line == _is_a_folder("--out", out)


def test_review_out_without_html_is_refused(paths):
    """`--out work/rv` wrote an HTML file named rv, and fairness.json into work/."""
    out = paths["tmp"] / "rv"
    line = _refused(["review", "champion", "--data", str(paths["nowhere"]), "--out", str(out)])
    assert line == f"error: --out must end in .html: {out}"


def test_review_out_whose_fairness_json_beside_it_is_a_folder(paths):
    out = paths["tmp"] / "beside" / "fairness.html"
    line = _refused(["review", "champion", "--data", str(paths["nowhere"]), "--out", str(out)])
    assert line == _beside_is_a_folder("--out", out, out.parent / "fairness.json")


# --- a file where a folder of the path should be ------------------------------------------------


def _under_a_file_cases(afile: Path, nowhere: Path) -> dict[str, tuple[str, Path, list[str]]]:
    """Each output option given a path under a file: (option, the path, the command line)."""
    data = ["--data", str(nowhere)]
    under = afile / "sub"
    return {
        "check": ("--out", under, ["check", *data, "--out", str(under)]),
        "link": ("--out", under, ["link", *data, "--out", str(under), "--no-progress"]),
        "features": ("--out", under / "t.csv", ["features", *data, "--links", str(nowhere), "--out",
                                                 str(under / "t.csv")]),
        "describe": ("--out", under, ["describe", *data, "--out", str(under)]),
        "drift": ("--out", under, ["drift", *data, *YEAR, "--reference-year", "2017/18",
                                   "--out", str(under)]),
        "evaluate": ("--out", under, ["evaluate", *data, "--scores", str(nowhere), "--out", str(under)]),
        "score --out": ("--out", under / "s.csv", ["score", *data, *YEAR, "--out", str(under / "s.csv")]),
        "score --runs": ("--runs", under, ["score", *data, *YEAR, "--out", str(nowhere / "s.csv"),
                                           "--runs", str(under)]),
        "review": ("--out", under / "r.html", ["review", "champion", *data, "--out", str(under / "r.html")]),
        "runs export": ("--out", under, ["runs", "export", "abcd", "--database", str(nowhere / "db"),
                                         "--out", str(under)]),
    }  # fmt: skip


UNDER_A_FILE = list(_under_a_file_cases(Path("f"), Path("n")))


@pytest.mark.parametrize("command", UNDER_A_FILE)
def test_an_output_path_under_a_file_is_refused(paths, command):
    option, given, args = _under_a_file_cases(paths["afile"], paths["nowhere"])[command]
    assert _refused(args) == _under_a_file(option, given, paths["afile"])
