"""Fault and timing hooks for the crash and concurrency tests; inert unless set.

- ``SITEWATCH_TEST_KILL_AFTER=<step>``: the process kills itself with SIGKILL on reaching
  ``step``, as a power cut would (the same variable as :mod:`sitewatch.monitor.faults`).
- ``SITEWATCH_TEST_BARRIER=<step>:<n>:<folder>``: on reaching ``step`` the process leaves a
  file in ``folder`` and waits (at most :data:`BARRIER_WAIT_S`) until ``n`` processes have,
  so that ``n`` processes pass ``step`` together and their next writes really race.

Steps: ``import.checked`` (a scene file is validated and hashed, not yet stored),
``import.stored``, ``analyze.chipped`` (chips cut, the detector not yet run),
``analyze.computed`` (a run computed, not yet stored), ``analyze.stored``,
``timeline.computed`` (series read, break rasters not yet written), ``timeline.written``
(rasters written, the timeline not yet stored).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["BARRIER_WAIT_S", "checkpoint"]

#: the longest a process waits at a barrier for the others
BARRIER_WAIT_S = 60.0


def checkpoint(step: str) -> None:
    """Kill or hold the process at ``step`` when a test asks for it; else nothing."""
    if os.environ.get("SITEWATCH_TEST_KILL_AFTER") == step:
        os.kill(os.getpid(), signal.SIGKILL)
    barrier = os.environ.get("SITEWATCH_TEST_BARRIER")
    if barrier:
        name, _, rest = barrier.partition(":")
        count, _, folder = rest.partition(":")
        if name == step and count.isdigit() and folder:
            _wait(Path(folder), int(count))


def _wait(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}").touch()
    deadline = time.monotonic() + BARRIER_WAIT_S
    while sum(1 for _ in folder.iterdir()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
