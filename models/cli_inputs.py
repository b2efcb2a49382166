"""What the models stage's commands (`train`, `score`, `review`, `describe`) share at the command line:
one way to stop with a message (`fail`, from exclusion_risk.cli_checks: every stage's), and one way to
read `--data` and `--links`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from exclusion_risk.cli_checks import fail
from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.linkage.errors import ExtractError

if TYPE_CHECKING:
    from exclusion_risk.linkage.history import LinkedExtracts, PupilHistory


def check_data_and_links(data: Path, links: Path | None) -> None:
    """`--data` is a folder; `--links`, when given, holds an `exclusion-risk link` output."""
    if not data.is_dir():
        fail(f"--data {data} is not a folder")
    if links is not None and not (links / LINKS_FILE).is_file():
        fail(f"--links {links} has no {LINKS_FILE} (run `exclusion-risk link` first)")


def reading_words(links: Path | None) -> str:
    """The status line's words while `linked_data` runs (`cli_checks.steps`)."""
    return "reading the extracts" + (" and linking them" if links is None else f" and the links in {links}")


def linked_history(data: Path, links: Path | None) -> PupilHistory:
    """The linked pupil history: the extracts plus `--links`/links.csv, or linked now (as `train` does)."""
    return linked_data(data, links).history


def linked_data(data: Path, links: Path | None) -> LinkedExtracts:
    """The extracts, their links and the pupil history (`drift` and `score` count link rates on them)."""
    # imported here: the linkage readers load pandera, which the commands' definitions need not
    from exclusion_risk.linkage.history import load_linked

    check_data_and_links(data, links)
    try:
        linked = load_linked(data, links)
    except (ExtractError, FileNotFoundError, ValueError, KeyError) as exc:
        fail(str(exc))
    for warning in linked.warnings:  # counts only: what links.csv does not match in the extracts
        typer.echo(f"warning: {warning}", err=True)
    return linked
