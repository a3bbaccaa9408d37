"""Progress of long commands, on stderr, once a step has taken about two seconds (quick
steps, and commands refused at once, show nothing): a Rich bar on a terminal, plain lines
otherwise (CI, a pipe, a log file): one at each tenth of the work and one at the end, so a
log stays short.

The library never prints progress: its functions take an optional ``progress`` callable,
and the commands pass the one :func:`progress` gives them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sitewatch.cli.common import err, markup_safe, shown

#: a step shows a bar once it has run this long (seconds)
DELAY_S = 2.0
#: a plain progress line ("importing: 3/30 name"), which is no error line
PLAIN_LINE = re.compile(r"^[a-z][a-z ]*: \d+(/\d+)?(\s|$)")

#: ``step(done, total, what)``: ``done`` of ``total`` (None: not known yet), ``what`` is
#: being worked on (user text: a file name, a step's name)
Step = Callable[[int, int | None, str], None]


class _Reporter:
    def __init__(self, label: str, tty: bool, delay_s: float) -> None:
        self.label = label
        self.tty = tty
        self.delay_s = delay_s
        self.t0 = time.monotonic()
        self.bar: Any = None
        self.task: Any = None
        self.tenth = -1
        self.total: int | None = None
        self.last: tuple[int, int | None, str] | None = None

    def __call__(self, done: int, total: int | None, what: str = "") -> None:
        self.last = (done, total, what)
        if self.tty:
            self._bar(done, total, what)
        else:
            self._line(done, total, what)

    def _bar(self, done: int, total: int | None, what: str) -> None:
        if self.bar is None:
            if time.monotonic() - self.t0 < self.delay_s:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn(markup_safe(self.label)), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.description}"), console=err.console,
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, total=total, description=markup_safe(what))

    def _line(self, done: int, total: int | None, what: str) -> None:
        if time.monotonic() - self.t0 < self.delay_s:
            return
        if total != self.total:  # a new stage of the work: count its tenths afresh
            self.total, self.tenth = total, -1
        if total:
            tenth = min(10, 10 * done // total)
            if tenth == self.tenth and done != total:
                return
            self.tenth = tenth
            err.print(f"{self.label}: {done}/{total} {shown(what)}".rstrip(), markup=False)
        elif total is None:
            err.print(f"{self.label}: {done} {shown(what)}".rstrip(), markup=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def progress(label: str, *, tty: bool | None = None, delay_s: float | None = None
             ) -> Iterator[Step]:
    """A ``step(done, total, what)`` callable for the library, labelled ``label`` (e.g.
    "importing"). ``tty``: draw a bar (default: when stderr is a terminal); ``delay_s``:
    how long the work runs before it shows (default :data:`DELAY_S`)."""
    rep = _Reporter(label, err.is_terminal if tty is None else tty,
                    DELAY_S if delay_s is None else delay_s)
    try:
        yield rep
    finally:
        rep.close()
