"""Workspace-relative paths in the catalog: files inside the workspace are stored relative
to its root, so that a copied or moved workspace reads its own files, never the original's.

Paths outside the workspace (a scene file the user imported from elsewhere) stay absolute,
and so do rows written before this rule: both are read back as they are.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathMapper:
    """Turns paths into catalog text and back, against the workspace ``root`` (None: no
    workspace known, paths pass through unchanged)."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = None if root is None else Path(root).expanduser().resolve()

    def to_catalog(self, path: str | Path) -> str:
        """``path`` relative to the root (POSIX separators) when it lies inside, else as
        given."""
        text = str(path)
        if self.root is None or not Path(text).is_absolute():
            return text
        p = Path(text)
        try:
            rel = p.relative_to(self.root)
        except ValueError:
            try:  # the root reached through a symbolic link, or the path through one
                rel = p.resolve().relative_to(self.root)
            except (ValueError, OSError):
                return text
        return PurePosixPath(*rel.parts).as_posix()

    def from_catalog(self, text: str) -> str:
        """The absolute path of a stored path: relative ones are under the root."""
        if self.root is None or not text or Path(text).is_absolute():
            return text
        return str(self.root / Path(PurePosixPath(text)))
