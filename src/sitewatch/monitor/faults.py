"""Fault injection for the crash tests: ``SITEWATCH_TEST_KILL_AFTER=<step>`` makes the
process kill itself with SIGKILL right after that step, as a power cut would.

Steps: ``fetched`` (a new scene is in the catalog, not yet analysed), ``committed`` (the
runs and outbox rows of a scene are committed), ``sent`` (an alert was delivered, not yet
marked delivered).
"""

from __future__ import annotations

import os
import signal

STEPS = ("fetched", "committed", "sent")


def checkpoint(step: str) -> None:
    if os.environ.get("SITEWATCH_TEST_KILL_AFTER") == step:
        os.kill(os.getpid(), signal.SIGKILL)
