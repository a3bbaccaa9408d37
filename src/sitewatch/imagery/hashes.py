"""File digests computed once per file: the sha256 of a file is kept, keyed by its resolved
path, size and modification time (ns), in ``$XDG_CACHE_HOME/sitewatch/sha256.sqlite``, so
importing one large shared scene for many sites hashes it once.

A changed file (other size or mtime) is hashed again; a cache that cannot be opened or
written is skipped, never trusted blindly and never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sitewatch" / "sha256.sqlite"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _connect() -> sqlite3.Connection | None:
    try:
        where = cache_path()
        where.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(where, timeout=10, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER "
                     "NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL)")
        return conn
    except (OSError, sqlite3.Error) as exc:
        log.info("sha256 cache unavailable (%s): hashing without it", exc)
        return None


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 (hex) of a file's bytes, from the cache when the file is unchanged."""
    real = Path(path).resolve()
    st = real.stat()
    key = (str(real), st.st_size, st.st_mtime_ns)
    conn = _connect()
    if conn is None:
        return _digest(real)
    try:
        row = conn.execute("SELECT sha256 FROM digests WHERE path = ? AND size = ? AND "
                           "mtime_ns = ?", key).fetchone()
        if row is not None:
            return str(row[0])
        digest = _digest(real)
        after = real.stat()
        if (after.st_size, after.st_mtime_ns) == key[1:]:  # not written to while hashing
            conn.execute("INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)", (*key, digest))
        return digest
    except sqlite3.Error as exc:
        log.info("sha256 cache unusable (%s): hashing without it", exc)
        return _digest(real)
    finally:
        conn.close()
