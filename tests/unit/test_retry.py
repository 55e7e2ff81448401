"""The one retry helper: which errors it retries, how long it pauses, and that a stop ends a pause at once."""

from __future__ import annotations

import threading
import time

import pytest

from domain.retry import Stopped, doubling, jittered, retry


class Outage(Exception):
    pass


def failing(times: int, error: Exception, then: str = "done"):
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return then

    return attempt, calls


def test_the_pause_doubles_from_the_first_up_to_the_longest():
    assert [doubling(0.5, 30.0)(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert doubling(0.5, 30.0)(10_000) == 30.0  # no overflow however long an outage lasts


def test_a_jittered_pause_grows_with_each_collision_up_to_its_last_step():
    for failures in (1, 5, 10, 30):
        pauses = [jittered(0.002, 10)(failures) for _ in range(200)]
        assert all(0 <= p <= 0.002 * min(failures, 10) for p in pauses)
    assert len({jittered(0.002, 10)(3) for _ in range(20)}) > 1  # random: racing writers spread out


def test_an_error_it_retries_is_tried_again_after_each_pause_until_the_attempt_succeeds():
    attempt, calls = failing(3, Outage())
    told: list[tuple[float, int]] = []
    result = retry(attempt, Outage, doubling(0.001, 0.004), before_pause=lambda e, d, n: told.append((d, n)))
    assert result == "done" and len(calls) == 4
    assert told == [(0.001, 1), (0.002, 2), (0.004, 3)]


def test_another_error_is_raised_at_once():
    attempt, calls = failing(1, KeyError("x"))
    with pytest.raises(KeyError):
        retry(attempt, Outage, doubling(0.001, 0.001))
    assert len(calls) == 1


def test_a_test_of_the_error_may_choose_what_is_retried():
    attempt, calls = failing(2, Outage("busy"))
    assert retry(attempt, lambda error: "busy" in str(error), doubling(0.001, 0.001)) == "done"
    assert len(calls) == 3


def test_after_the_last_attempt_its_error_is_raised():
    attempt, calls = failing(10, Outage())
    with pytest.raises(Outage):
        retry(attempt, (Outage, KeyError), doubling(0.001, 0.001), attempts=3)
    assert len(calls) == 3


def test_a_stop_ends_the_pause_at_once_and_no_attempt_follows():
    attempt, calls = failing(100, Outage())
    stopping = threading.Event()
    threading.Timer(0.1, stopping.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        retry(attempt, Outage, doubling(30.0, 30.0), stopping=stopping)
    assert time.monotonic() - started < 5  # not the 30 s pause
    assert len(calls) == 1
