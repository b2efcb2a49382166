"""How the project writes files: every CSV through one writer, and files about pupils kept private.

Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula, so a surname or UPN written as `=HYPERLINK(...)` in an extract would run on an
officer's machine when they open the output. Every text cell that starts so is written with a leading
apostrophe (OWASP's advice), which spreadsheets show as text; numbers are never touched. A bare
carriage return inside text becomes a line feed: with "\n" line ends the csv module quotes a field
holding "\n" but not one holding a lone "\r", where a spreadsheet would start a new row, and the
text after it (`x\r=cmd|...`) would lead a line unneutralised.

Files that hold identifiers (UPNs, names, dates of birth, raw extract rows) are created readable by
their owner only (0600), in folders only the owner can enter (0700), whatever the umask. No output is
written through a symbolic link standing at its path (SymlinkOutputError): it would overwrite, and make
private, whatever file the link points at. Every output file is written beside its path and renamed
onto it once whole (`_replacing`): a write that fails (a full disk, a folder that cannot be written to:
OutputWriteError, one line) or is stopped leaves what was at the path as it was, where a full disk had
cut scores.csv short and the next step read it as whole.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import io
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
BARE_CR = re.compile(r"\r(?!\n)")


def neutralise(value: Any) -> Any:
    """`value`, with an apostrophe before it when it is text a spreadsheet would run as a formula,
    and any bare carriage return in it a line feed (so that the writer quotes it)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_LEADS):
        value = "'" + value
    return BARE_CR.sub("\n", value) if "\r" in value else value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell neutralised (a copy only of the text columns that need it).

    Only `str` cells change: a number in a mixed (object) column, -1.5 say, is written as it is.
    """
    out = frame
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            continue
        # vectorised on the text form first (rare hits), then only the hits that are text themselves
        text = values.astype("string")
        risky = (text.str.startswith(FORMULA_LEADS) | text.str.contains("\r", regex=False)).fillna(False)
        hits = [i for i in risky.to_numpy(dtype=bool).nonzero()[0] if isinstance(values.iat[i], str)]
        if hits:
            if out is frame:
                out = frame.copy()
            fixed = values.astype(object).copy()
            fixed.iloc[hits] = [neutralise(values.iat[i]) for i in hits]
            out[column] = fixed
    return out


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as folders only the owner can enter; return it.

    A folder that exists already keeps its mode (it may be the user's own, shared on purpose); the
    files written into it are private themselves.
    """
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, PRIVATE_DIR)
    return path


def process_scratch(prefix: str) -> tempfile.TemporaryDirectory:
    """A new temporary folder (owner-only, as mkdtemp makes it) named `prefix` + this process's id,
    after removing this user's folders of the same prefix whose process has ended.

    A process killed outright (the kernel's out-of-memory killer, a service stopped with SIGKILL)
    never runs its clean-up: its folder, holding census names and DOBs (a DuckDB spill, an uploaded
    census), would stay in /tmp. The next process to make one removes it: the name says whose it was.
    """
    remove_ended_scratch(prefix)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


def remove_ended_scratch(prefix: str, folder: Path | None = None, idle_s: float = 0) -> None:
    """Remove this user's temporary folders (in `folder`, else the temporary directory) named `prefix` +
    the id of a process that has ended; and, where `idle_s`, untouched that long (a folder other
    containers share: their process ids are not this one's to judge)."""
    for stale in Path(folder or tempfile.gettempdir()).glob(f"{glob.escape(prefix)}*-*"):
        pid = stale.name[len(prefix) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or stale.stat().st_uid != os.getuid() or _alive(int(pid)):
                continue
            if idle_s and time.time() - stale.stat().st_mtime < idle_s:
                continue
            shutil.rmtree(stale)
        except OSError:
            continue  # gone already, or not ours to remove


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class SymlinkOutputError(OSError):
    """An output file's path is a symbolic link: writing would overwrite (and chmod) what it points at."""

    def __init__(self, path: Path):
        super().__init__(
            f"{path} is a symbolic link: refusing to write through it (remove it, or write elsewhere)"
        )


def _open_no_follow(path: Path, mode: int) -> int:
    """os.open for writing that never follows a symbolic link at `path` (SymlinkOutputError instead)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
    except OSError:
        if os.path.islink(path):
            raise SymlinkOutputError(path) from None
        raise


class OutputWriteError(OSError):
    """An output that cannot be written (a folder not writable, a full disk): one line naming the file
    and the operating system's reason (the command line's `error:`, exit 2); the file is as it was."""

    def __init__(self, path: Path, exc: OSError):
        super().__init__(f"cannot write {path}: {exc.strerror or type(exc).__name__}")
        self.errno, self.strerror, self.filename = exc.errno, exc.strerror, str(path)  # as OSError's

    def __str__(self) -> str:
        return str(self.args[0])  # the line above, not OSError's "[Errno 28] ...: 'path'"


def place_problem(exc: BaseException) -> str | None:
    """An operating system's refusal of a path (a folder not writable, a full disk, a file where a folder
    should be) in one line naming the path, else None: the command line says it so, not as a traceback."""
    if isinstance(exc, OutputWriteError | SymlinkOutputError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _WRITE_FAILURES and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return None


# What writing can meet that is the place's, not the program's: said in one line, not a traceback
_WRITE_FAILURES = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO,
                   errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST}  # fmt: skip
_PARTIAL = ".partial"
STALE_PARTIAL_S = 60  # a partial untouched this long whose writer holds no lock on it: a killed run's


def _partial_stem(path: Path) -> str:
    return f".{path.name[:100]}."  # a long name stays a legal one with the suffix


def _remove_ended_partials(path: Path) -> None:
    """The partial files of `path` no writer holds (killed before it could remove its own). A writer
    holds a lock on its partial (flock, which another container or host sharing the folder sees too, where
    a process id may not be its) until it is renamed; one old and unlocked is removed."""
    for stale in path.parent.glob(f"{glob.escape(_partial_stem(path))}*-*{_PARTIAL}"):
        try:
            if time.time() - stale.lstat().st_mtime < STALE_PARTIAL_S:
                continue
            descriptor = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            stale.unlink()
        except OSError:  # held: its writer is alive (or it went meanwhile)
            continue
        finally:
            os.close(descriptor)


def _mode_of(path: Path) -> int | None:
    """The permission bits of the file at `path`; None where there is none (or not a plain file). A public
    output narrowed by hand (0640 until a report is cleared for release) was widened to 0666 less the
    umask by the next run's replacement: an automation tester's find."""
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) else None


@contextmanager
def _replacing(path: Path, private: bool, mode: str, **kwargs: Any) -> Iterator[IO]:
    """A new file beside `path` (named with this process's id, so two writers never share one), renamed
    onto `path` once written whole; on failure or interruption it is removed and `path` left as it was."""
    path = Path(path)
    if os.path.islink(path):
        raise SymlinkOutputError(path)
    partial = path.with_name(f"{_partial_stem(path)}{os.getpid()}-{secrets.token_hex(4)}{_PARTIAL}")
    kept = None if private else _mode_of(path)  # a public file replaced keeps the mode its owner gave it
    try:
        private_dir(path.parent) if private else path.parent.mkdir(parents=True, exist_ok=True)
        _remove_ended_partials(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(partial, flags, PRIVATE_FILE if private else 0o666)
    except OSError as exc:
        if exc.errno in _WRITE_FAILURES:
            raise OutputWriteError(path, exc) from None
        raise
    lock = os.dup(descriptor)  # held past the handle's close, until the rename
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if private or kept is not None:
            os.fchmod(descriptor, PRIVATE_FILE if private else kept)
        with os.fdopen(descriptor, mode, **kwargs) as handle:
            yield handle
        try:
            os.replace(partial, path)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            shutil.copyfile(partial, path)  # a file mounted on its own (a container's): written in place
            partial.unlink()
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        said = isinstance(exc, OutputWriteError)
        if isinstance(exc, OSError) and exc.errno in _WRITE_FAILURES and not said:
            raise OutputWriteError(path, exc) from None
        raise
    finally:
        os.close(lock)


def open_private(path: Path, mode: str = "w", **kwargs: Any):
    """Open `path` for writing as a file only the owner can read (0600), created so from the start, in a
    folder only the owner can enter where it makes one: a context manager, the file in place once whole."""
    return _replacing(path, True, mode, **kwargs)


def write_private_text(path: Path, text: str) -> None:
    """`text` to `path`, readable by the owner only."""
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _write_pandas(frame: pd.DataFrame, handle: IO[str], **to_csv: Any) -> None:
    """`frame` as CSV (no index, "\\n" line ends), formula-leading cells neutralised."""
    neutralised(frame).to_csv(handle, index=False, lineterminator="\n", **to_csv)


def csv_text(frame: pd.DataFrame, **to_csv: Any) -> str:
    """`frame` as CSV text (no index, "\\n" line ends), formula-leading cells neutralised."""
    buffer = io.StringIO()
    _write_pandas(frame, buffer, **to_csv)
    return buffer.getvalue()


def _arrow_has_formula_leads(table: pa.Table) -> bool:
    """Whether any text cell of `table` starts with a formula lead (checked in Arrow, no pandas copy)."""
    leads = pa.array(FORMULA_LEADS)
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        if pc.any(pc.is_in(pc.utf8_slice_codeunits(column, 0, 1), value_set=leads)).as_py():
            return True
    return False


def _write_arrow(frame: pd.DataFrame, handle: IO[bytes]) -> None:
    """`frame` unquoted by Arrow (raises pa.ArrowInvalid when a value holds a comma, quote or newline).

    The header is the project's own column names, written as they are (never data)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if _arrow_has_formula_leads(table):  # rare: only then pay for pandas' per-cell neutralising
        table = pa.Table.from_pandas(neutralised(frame), preserve_index=False)
    handle.write((",".join(map(str, frame.columns)) + "\n").encode("utf-8"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    pacsv.write_csv(table, handle, write_options=options)


def open_public(path: Path, mode: str = "w", **kwargs: Any) -> IO:
    """Open `path` for writing as open() does (0666 less the umask), never through a symbolic link: in
    place, for a log written as the run goes (`run.log`); other outputs are written whole (`_replacing`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.fdopen(_open_no_follow(path, 0o666), mode, **kwargs)


def write_text(path: Path, text: str) -> None:
    """`text` to `path` in UTF-8 (a report of counts: not private), never through a symbolic link."""
    with _replacing(path, False, "w", encoding="utf-8") as handle:
        handle.write(text)


def _opened(path: Path, private: bool, mode: str, **kwargs: Any):
    return _replacing(path, private, mode, **kwargs)


def write_csv(
    frame: pd.DataFrame,
    path: Path,
    *,
    private: bool,
    preamble: str = "",
    engine: str = "pandas",
    **to_csv: Any,
) -> Path:
    """The one CSV writer: `frame` to `path`, neutralised; `private` files (identifiers) 0600 in 0700.

    `preamble`: the project's own lines written before the header as they are (e.g. a `# notice`
    line; never data). `engine="arrow"`: Arrow's unquoted writer, about 10x faster than pandas on a
    whole census, floats in their shortest exact form; pandas takes over (quoting) when a value
    holds a comma, quote or line break. It takes no `to_csv` options.
    """
    path = Path(path)
    if engine == "arrow":
        if to_csv or preamble:
            raise ValueError("engine='arrow' takes no preamble or to_csv options")
        try:
            with _opened(path, private, "wb") as handle:
                _write_arrow(frame, handle)
            return path
        except pa.ArrowInvalid:  # a value needs quoting: written again, from the start, by pandas
            pass
    elif engine != "pandas":
        raise ValueError(f"engine must be 'pandas' or 'arrow', not {engine!r}")
    with _opened(path, private, "w", encoding="utf-8", newline="") as handle:
        handle.write(preamble)
        _write_pandas(frame, handle, **to_csv)
    return path
