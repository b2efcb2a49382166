"""Where a store's model files are, said when they are not there (`tracking.StoreUnavailable`'s words).

A store (SQLite) records the absolute folder of each experiment's files. Copied or moved without that
folder, it still lists its runs and versions, but every file read fails: loading a model ended in an
MLflow traceback, and a text artifact read as absent ("logged by an earlier release"), so `compare`
dropped its model-against-model rows and advised training again, and `evaluate` logged into a
re-created folder at the old place. `tracking` gives these the location the store records for a run's
experiment (`artifact_location`, "" for none) and the store's URI; they say what is wrong, or None.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


def recorded_folder(location: str) -> Path | None:
    """The local folder of an experiment's `location`; None for files kept remotely (or none)."""
    return Path(unquote(urlparse(location).path)) if location.startswith("file:") else None


def moved_store(location: str, store: str) -> str | None:
    """What to say when the folder `store` records the files under does not exist (a moved store, a
    removed folder); None while it does, or where the files are kept remotely."""
    folder = recorded_folder(location)
    if folder is None or folder.exists():
        return None
    return (
        f"the MLflow store {store} records its model files under {folder}, which does not exist (was the "
        "store moved? a store is tied to the place it was made: see README, MLflow): point "
        "MLFLOW_TRACKING_URI at the store beside that folder, or train and promote again in this store"
    )


def missing_files(exc: Exception, model: str, location: str, store: str) -> str | None:
    """What to say when `model` (named as the message names it) failed to load because its files are not
    where `store` records them; None for any other failure to load."""
    moved = moved_store(location, store)
    if moved is not None:
        return moved
    folder = recorded_folder(location)
    if folder is not None and (isinstance(exc, FileNotFoundError) or "No such artifact" in str(exc)):
        return (
            f"the model files of {model} are missing from {folder}, where the MLflow store {store} records "
            "them: train and promote again in this store"
        )
    return None


def absent_store(uri: str) -> str:
    """What to say when the default store (./mlruns) is not there for a command that only reads it: made
    afresh, it would hold no model, and the versions trained into it would clash with recorded runs'."""
    return (
        f"the MLflow store {uri} does not exist (was the store moved? a store is tied to the place it was "
        "made: see README, MLflow): set MLFLOW_TRACKING_URI to the store, or run the command where it is; "
        "only `exclusion-risk train` starts a new store"
    )


def local_store(uri: str) -> Path | None:
    """The folder of a local store (a SQLite database's folder, a file store); None for a server."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///") :]).parent
    if uri.startswith("file:"):
        return Path(urlparse(uri).path)
    if "://" not in uri:
        return Path(uri)
    return None


def artifact_location(uri: str) -> str | None:
    """`<dir>/artifacts` beside a SQLite database or inside a file store; None for a server."""
    store = local_store(uri)
    return None if store is None else (store / "artifacts").resolve().as_uri()


# The SQLite file each store URI was last opened at (device, inode): MLflow keeps one engine per URI
# for the life of the process, its pooled connections on the file they first opened.
_opened: dict[str, tuple[int, int]] = {}


def store_replaced(uri: str) -> bool | str:
    """Before a long-running process (the service) reads the store again: True where the SQLite file at
    `uri` is not the one its connections opened (replaced by a rename: rsync, a deploy's `mv`), so they
    must be closed (`tracking.release_store_connections`) for the next read to open the file now there;
    what to say where no file is there (a moved store: MLflow would make an empty one); else False. A
    load tester's find: `/admin/reload` read the replaced, deleted file through its open connections and
    answered 200 with the old champion."""
    if not uri.startswith("sqlite:///"):
        return False
    path = Path(uri[len("sqlite:///") :])
    try:
        status = path.stat()
    except OSError:
        return f"the MLflow store {path} is not there (moved or removed?)"
    now = (status.st_dev, status.st_ino)
    replaced = _opened.setdefault(uri, now) != now
    _opened[uri] = now
    return replaced
