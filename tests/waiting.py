"""Waiting for a condition instead of sleeping for a fixed time.

    wait_until(lambda: server_is_up(), timeout=60, what="the server to answer /healthz")

A test that sleeps a fixed time bets that the machine is fast enough; on a loaded machine
it fails. `wait_until` polls the condition itself, returns as soon as it holds (so a quiet
machine stays fast) and gives up only after a generous deadline, with a message naming what
it waited for.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline (an assertion failure in a test)."""


def wait_until(predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.05, *,
               what: str | None = None, ignore: tuple[type[BaseException], ...] = ()) -> T:
    """Call `predicate` every `interval` seconds until it returns something truthy; return that.

    Raises `WaitTimeout` after `timeout` seconds. Exceptions of the `ignore` types count as
    "not yet" (e.g. `OSError` while a server is starting); the last one is named in the
    message. Any other exception propagates at once, so a predicate can fail fast (a
    process that has exited, say).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except ignore as exc:
            value, last_error = None, exc
        if value:
            return value
        if time.monotonic() >= deadline:
            because = f" (last error: {last_error!r})" if last_error is not None else ""
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for "
                              f"{what or getattr(predicate, '__name__', 'a condition')}{because}")
        time.sleep(interval)
