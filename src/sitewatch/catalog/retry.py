"""Writes that two processes may make at the same moment: the loser of a unique-key race
retries, and on its second try finds (and returns) the winner's row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from sitewatch.errors import ConflictError

log = logging.getLogger(__name__)
T = TypeVar("T")
#: tries of a write that lost a race on a unique key
ATTEMPTS = 4


def on_conflict_retry(write: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """Run ``write`` (one whole transaction that reads before it writes) until it does not
    lose a unique-key race; ConflictError (a clean refusal) if it keeps losing."""
    for i in range(attempts):
        try:
            return write()
        except IntegrityError as exc:
            log.info("%s raced another process (try %d of %d): %s", what, i + 1, attempts,
                     type(exc.orig).__name__ if exc.orig is not None else exc)
    raise ConflictError(f"{what} is being written by another process at the same moment: "
                        "try again")
