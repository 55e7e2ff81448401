"""The rules of watched lookups: hour windows, different citizens, the hard limit and opening hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from domain.lookup_watch import AlertKind, WatchRules, Window

RULES = WatchRules(alert_above=3, limit=5, opens=time(7, 0), closes=time(18, 0))
# Tuesday 2 December 2025, 10:20:30 in Copenhagen (UTC+1)
TUESDAY_MORNING = datetime(2025, 12, 2, 9, 20, 30, tzinfo=timezone.utc)


def test_a_window_is_the_clock_hour_in_copenhagen():
    window = Window.of(TUESDAY_MORNING)
    assert window.start == datetime(2025, 12, 2, 9, tzinfo=timezone.utc)
    assert window.end == datetime(2025, 12, 2, 10, tzinfo=timezone.utc)
    assert window.seconds_left(TUESDAY_MORNING) == 39 * 60 + 30


def test_retry_after_rounds_up_and_is_never_zero():
    window = Window.of(TUESDAY_MORNING)
    assert window.seconds_left(window.end - timedelta(microseconds=1)) == 1
    assert window.seconds_left(datetime(2025, 12, 2, 9, 59, 58, 500000, tzinfo=timezone.utc)) == 2
    assert window.seconds_left(window.end) == 1  # asked at the very end: try again in a second


def test_the_hour_of_a_summer_time_change_is_a_window_of_one_hour():
    # 26 October 2025: Copenhagen goes from +02:00 to +01:00 at 01:00 UTC; 02:30 local happens twice
    first = Window.of(datetime(2025, 10, 26, 0, 30, tzinfo=timezone.utc))
    second = Window.of(datetime(2025, 10, 26, 1, 30, tzinfo=timezone.utc))
    assert first.start == datetime(2025, 10, 26, 0, tzinfo=timezone.utc)
    assert second.start == datetime(2025, 10, 26, 1, tzinfo=timezone.utc)
    assert first.end - first.start == second.end - second.start == second.start - first.start


def test_below_the_threshold_a_lookup_passes_without_alert():
    verdict = RULES.judge(seen=2, known=False, at=TUESDAY_MORNING)
    assert (verdict.refused, verdict.distinct, verdict.alerts) == (False, 3, ())


def test_one_more_different_citizen_than_the_threshold_raises_an_alert():
    verdict = RULES.judge(seen=3, known=False, at=TUESDAY_MORNING)
    assert (verdict.refused, verdict.distinct, verdict.alerts) == (False, 4, (AlertKind.MANY_CITIZENS,))


def test_looking_the_same_citizen_up_again_counts_once():
    verdict = RULES.judge(seen=3, known=True, at=TUESDAY_MORNING)
    assert (verdict.refused, verdict.distinct, verdict.alerts) == (False, 3, ())


def test_at_the_limit_a_new_citizen_is_refused_and_one_already_looked_up_is_not():
    refused = RULES.judge(seen=5, known=False, at=TUESDAY_MORNING)
    again = RULES.judge(seen=5, known=True, at=TUESDAY_MORNING)
    assert (refused.refused, refused.distinct) == (True, 5)
    assert (again.refused, again.distinct) == (False, 5)
    assert RULES.judge(seen=4, known=False, at=TUESDAY_MORNING).refused is False


@pytest.mark.parametrize(
    "at, outside",
    [
        (datetime(2025, 12, 2, 5, 59, 59, tzinfo=timezone.utc), True),  # 06:59:59 local
        (datetime(2025, 12, 2, 6, 0, tzinfo=timezone.utc), False),  # 07:00 local: open
        (datetime(2025, 12, 2, 16, 59, 59, tzinfo=timezone.utc), False),
        (datetime(2025, 12, 2, 17, 0, tzinfo=timezone.utc), True),  # 18:00 local: closed
        (datetime(2025, 12, 6, 10, 0, tzinfo=timezone.utc), True),  # Saturday
        (datetime(2025, 7, 1, 5, 30, tzinfo=timezone.utc), False),  # 07:30 local in summer time (+02:00)
    ],
)
def test_a_lookup_outside_opening_hours_in_copenhagen_raises_an_alert(at, outside):
    verdict = RULES.judge(seen=0, known=False, at=at)
    assert (AlertKind.OUTSIDE_OPENING_HOURS in verdict.alerts) is outside
    assert verdict.refused is False


def test_rules_that_cannot_hold_are_refused():
    with pytest.raises(ValueError, match="below the hard limit"):
        WatchRules(alert_above=5, limit=5)
    with pytest.raises(ValueError, match="open before they close"):
        WatchRules(opens=time(18), closes=time(7))
    with pytest.raises(ValueError, match="ISO weekdays"):
        WatchRules(open_weekdays=frozenset({0}))
