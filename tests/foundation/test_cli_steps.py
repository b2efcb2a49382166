"""The long commands (score, describe, review, train) name each step as it starts, on a terminal only."""

from __future__ import annotations

from io import StringIO

import typer
from rich.console import Console

from exclusion_risk.cli_checks import steps


def test_the_steps_are_announced_on_a_terminal():
    console = Console(file=StringIO(), force_terminal=True, width=80)
    with steps("reading extracts", console=console) as step:
        step("building features")
        step("scoring 8,123 pupils")
    said = console.file.getvalue()
    for words in ("reading extracts", "building features", "scoring 8,123 pupils"):
        assert words in said, said


def test_nothing_is_said_when_not_a_terminal_or_quiet():
    piped = Console(file=StringIO(), force_terminal=False)
    with steps("reading extracts", console=piped) as step:
        step("building features")
    assert piped.file.getvalue() == ""
    terminal = Console(file=StringIO(), force_terminal=True)
    with steps("reading extracts", console=terminal, quiet=True) as step:
        step("building features")
    assert terminal.file.getvalue() == ""


def test_the_default_console_is_silent_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # even where colour is forced, a pipe gets no status line
    with steps("reading extracts") as step:
        step("building features")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_what_the_command_echoes_meanwhile_is_printed_above_the_line():
    """typer.echo (click) wraps a stream without an encoding, bypassing rich's own redirection: a warning
    said during a step would be written into the status line and left on screen."""
    console = Console(file=StringIO(), force_terminal=True, width=80)
    with steps("reading extracts", console=console):
        typer.echo("warning: 3 rows rejected", err=True)
    said = console.file.getvalue()
    assert "\x1b[2Kwarning: 3 rows rejected" in said, said
