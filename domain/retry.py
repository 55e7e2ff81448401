"""Trying again after a failure that may pass: the one retry helper of every layer.

A command that lost a race for its aggregate decides again after a short random pause, so that
writers racing for one aggregate spread out (domain/changes.py). The long-running followers (the
view runner, the relay, the telephony consumer) wait out an outage with a doubling pause; told to
stop, a follower's pause ends at once and no further attempt is made. It lives in the domain,
the lowest layer, so that every other layer may use it too.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar, Union

T = TypeVar("T")

Delays = Callable[[int], float]  # the pause after the n-th failure in a row (n counts from 1)
RetryOn = Union[type[Exception], tuple[type[Exception], ...], Callable[[Exception], bool]]


class Stopped(Exception):
    """The stop event was set while a retry waited: the caller stops instead of trying again."""


def doubling(first: float, longest: float) -> Delays:
    """`first` after one failure, twice as long after each further one in a row, never over `longest`."""
    return lambda failures: min(longest, first * 2 ** min(failures - 1, 20))


def jittered(step: float, steps: int) -> Delays:
    """A random pause of up to `step` per failure in a row, counting at most `steps` of them."""
    return lambda failures: random.uniform(0, step * min(failures, steps))


def retry(
    attempt: Callable[[], T],
    retry_on: RetryOn,
    delays: Delays,
    *,
    attempts: int | None = None,
    stopping: threading.Event | None = None,
    before_pause: Callable[[Exception, float, int], None] | None = None,
) -> T:
    """What `attempt()` returns, calling it again after a pause each time it raises an error `retry_on` takes.

    `retry_on` is an exception class, a tuple of them, or a test of the error. Any other error is
    raised at once, and so is the last one once `attempts` calls failed (None: no limit).
    `before_pause(error, delay, failures)` is told of each pause before it starts. With `stopping`
    the pause ends when the event is set, and Stopped is raised instead of a further attempt.
    """
    retryable, failures = _test(retry_on), 0
    while True:
        try:
            return attempt()
        except Exception as error:
            failures += 1
            if not retryable(error) or (attempts is not None and failures >= attempts):
                raise
            delay = delays(failures)
            if before_pause is not None:
                before_pause(error, delay, failures)
            _pause(delay, stopping)


def _test(retry_on: RetryOn) -> Callable[[Exception], bool]:
    if isinstance(retry_on, (type, tuple)):
        kinds = retry_on
        return lambda error: isinstance(error, kinds)
    return retry_on


def _pause(delay: float, stopping: threading.Event | None) -> None:
    if stopping is None:
        time.sleep(delay)
    elif stopping.wait(delay):
        raise Stopped("stopped while waiting to try again")
