"""What every command shares at the command line: one way to stop with a message, and one check of
each output path, made before any work.

Bad input never ends in a traceback: `fail` says `error: ...` in one line on stderr and exits 2. A
command that writes calls `out_file` (an option naming a file it writes) or `out_folder` (a folder it
writes into) first, so that a folder where a file goes, a file where a folder goes, a file where a
folder of the path should be, or a symbolic link where a file is written is said at once, not after
minutes of linking or scoring (and not after some files are written). The messages name the option and
the path the user gave (never a pupil's value). A long command names each step as it starts (`steps`),
in one transient line on a terminal's stderr. Only typer and rich are used: every stage, linkage first,
can import this module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.file_proxy import FileProxy
from rich.live import Live
from rich.spinner import Spinner


def fail(message: str) -> NoReturn:
    """`error: message` on stderr and exit 2: bad input, never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _kind(path: Path) -> str | None:
    """"folder", "file" (anything else that exists) or None (nothing there, or it cannot be looked at)."""
    try:
        if path.is_dir():
            return "folder"
        return "file" if path.exists() else None
    except OSError:  # no permission to look: the write itself will say so
        return None


def _parents_are_folders(path: Path, option: str) -> None:
    """Stop when the nearest existing folder above `path` is a file (it could never be created)."""
    for parent in path.parents:
        kind = _kind(parent)
        if kind == "file":
            fail(f"{option} {path}: cannot write there ({parent} is a file, not a folder)")
        if kind == "folder":
            return


def out_file(path: Path, option: str, *beside: Path) -> None:
    """Stop (exit 2) unless `path`, given as `option`, can be written as a file: it is not a folder and no
    file stands where a folder of its path should be. `beside`: files the command writes next to it."""
    if _is_link(path):
        fail(f"{option} {path} is a symbolic link {NOT_THROUGH_LINKS}")
    if _kind(path) == "folder":
        fail(f"{option} {path} is a folder, not a file")
    _parents_are_folders(path, option)
    for other in beside:
        if _is_link(other):  # the write would refuse it, but after the files before it were written
            fail(f"{option} {path}: {other}, written beside it, is a symbolic link {NOT_THROUGH_LINKS}")
        if _kind(other) == "folder":
            fail(f"{option} {path}: {other}, written beside it, is a folder, not a file")


NOT_THROUGH_LINKS = "(never written through: it would overwrite what it points at)"


def _is_link(path: Path) -> bool:
    try:
        return path.is_symlink()
    except OSError:  # no permission to look: the write itself will say so
        return False


def out_folder(path: Path, option: str) -> None:
    """Stop (exit 2) unless `path`, given as `option`, can be a folder to write into: it is a folder or
    nothing yet, and no file stands where a folder of its path should be."""
    if _kind(path) == "file":
        fail(f"{option} {path} is a file, not a folder")
    _parents_are_folders(path, option)


Announce = Callable[[str], None]  # step(words): the status line names the step now under way


@contextmanager
def steps(first: str, *, quiet: bool = False, console: Console | None = None) -> Iterator[Announce]:
    """A transient status line on stderr naming the step under way ("reading extracts"), replaced by each
    `step(words)` at once and gone when the block ends, so that minutes of work do not look like a hang.
    Nothing at all when `quiet` or when stderr is not a terminal (a pipe, a file, a test's runner), so
    piped and tested output are unchanged. Lines the command prints meanwhile show above it."""
    if console is None:
        console = Console(stderr=True)
        on_terminal = sys.stderr.isatty() and console.is_terminal  # FORCE_COLOR does not make a pipe one
    else:
        on_terminal = console.is_terminal
    if quiet or not on_terminal:
        yield lambda _words: None
        return
    spinner = Spinner("dots", text=f"{first}...")
    live = Live(spinner, console=console, transient=True, refresh_per_second=10,
                redirect_stdout=False, redirect_stderr=False)  # fmt: skip
    # What the command echoes meanwhile is printed above the line (rich's own redirection is bypassed by
    # click, which wraps a stream without an encoding); stdout only when it shares the terminal: piped,
    # it stays where it was sent, never moved to stderr
    above_stdout = _Above(console, sys.stdout) if sys.stdout.isatty() else None
    proxies = [_Above(console, sys.stderr), *([above_stdout] if above_stdout else [])]
    with live, redirect_stderr(proxies[0]), redirect_stdout(above_stdout) if above_stdout else nullcontext():
        try:
            live.refresh()

            def step(words: str) -> None:
                spinner.update(text=f"{words}...")
                live.refresh()

            yield step
        finally:
            for proxy in proxies:
                proxy.flush()


class _Above(FileProxy):
    """rich's FileProxy (lines printed above the status line) with the stream's encoding and errors, so
    that click's echo (typer.echo) writes through it rather than around it."""

    @property
    def encoding(self) -> str:
        return self.rich_proxied_file.encoding

    @property
    def errors(self) -> str | None:
        return self.rich_proxied_file.errors
