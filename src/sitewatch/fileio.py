"""File helpers every layer may use: a crash never leaves a half-written file where a
finished one is expected."""

from __future__ import annotations

import fcntl
import glob
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sitewatch.errors import InputFileError

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    A symbolic link given as ``path`` keeps pointing where it did: its target is written.
    Anything that is not a regular file (a device such as /dev/full, a folder, a pipe) is
    refused rather than replaced by a regular file.

    The temporary file is locked while it is written; temporaries of ``path`` that nobody
    holds (left by a process killed while writing) are removed first.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise InputFileError(f"{path} is {what}: give the path of a file to write")
    _sweep_stale(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot create folder {path.parent}: {exc.strerror}") from exc
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix,
                                   dir=path.parent)
    except OSError as exc:
        raise InputFileError(f"cannot write {path}: {exc.strerror or exc}: give a path in "
                             "a folder you can write to") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    held = _hold(tmp_path)
    try:
        yield tmp_path
        # mkstemp makes 0600 files: give the result the usual permissions (0666 & ~umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        try:
            os.replace(tmp_path, path)
        except OSError as exc:
            raise InputFileError(f"cannot write {path}: {exc.strerror or exc}: give a path "
                                 "you can write to") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        if held is not None:
            held.close()


def _hold(tmp: Path) -> IO[bytes] | None:
    """An advisory lock on a temporary file for as long as it is being written, by which a
    later writer of the same target tells it from one a killed process left."""
    try:
        handle = open(tmp, "rb")  # noqa: SIM115 - held until the file is renamed
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _sweep_stale(path: Path) -> None:
    """Remove the temporaries of ``path`` whose writer is gone (nobody holds their lock)."""
    try:
        found = list(path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(path.suffix)}"))
    except OSError:
        return
    for cand in found:
        try:
            with open(cand, "rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                cand.unlink(missing_ok=True)
        except OSError:  # held by a live writer, or gone already
            continue
