"""Waiting for an event in a test: poll a condition until it holds, within a generous bound.

The bound is there so that a test whose event never comes fails with a clear message instead of hanging; it is
not a measurement, so it is set far above what a busy two-core machine needs (no test asserts how long the
event took)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

BOUND = 60.0  # seconds


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = BOUND,
    interval: float = 0.05,
    process: subprocess.Popen | None = None,
) -> T:
    """Return the first true value of ``condition()``.  Fail, naming ``what`` (the event waited for), when it is
    still false after ``timeout`` seconds, or as soon as ``process`` (the program that should bring the event
    about) has ended without it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"waiting for {what}: the process ended first (exit status {process.returncode})")
        if time.monotonic() >= deadline:
            raise AssertionError(f"waiting for {what}: still not so after {timeout:.0f} s")
        time.sleep(interval)
