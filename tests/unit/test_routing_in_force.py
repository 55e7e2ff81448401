"""The one rule for what phone routing is in force, as the view, the relay, as-of and the consumer use it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.contact_file.routing import routes_calls, routing_in_force, strictest_first, takes_part
from domain.values import PhoneRule

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def terms(row):
    return row


def test_of_several_restrictions_in_force_the_strictest_routes_the_call():
    held = [("time_window", NOW - DAY, NOW + DAY, "a"), ("banned", NOW - DAY, NOW + DAY, "b"),
            ("named_contact_only", NOW - DAY, NOW + DAY, "c")]
    assert [r[3] for r in routing_in_force(held, NOW, terms)] == ["b", "c", "a"]


def test_an_open_phone_rule_and_a_period_not_holding_the_moment_route_nothing():
    held = [("open", NOW - DAY, NOW + DAY, "open"), ("banned", NOW + DAY, NOW + 2 * DAY, "later"),
            ("banned", NOW - 2 * DAY, NOW, "ended at now")]
    assert routing_in_force(held, NOW, terms) == []


def test_equally_strict_ones_go_soonest_to_end_first_then_by_lowest_id():
    held = [("banned", NOW - DAY, NOW + 2 * DAY, "a"), ("banned", NOW - DAY, NOW + DAY, "z"),
            ("banned", NOW - DAY, NOW + DAY, "m")]
    assert [r[3] for r in routing_in_force(held, NOW, terms)] == ["m", "z", "a"]
    assert strictest_first(PhoneRule.BANNED, NOW, "x") < strictest_first("time_window", NOW, "a")


def test_a_restriction_takes_part_in_routing_only_while_decided_and_routing_calls():
    assert takes_part(True, PhoneRule.BANNED) and not takes_part(False, PhoneRule.BANNED)
    assert not takes_part(True, "open") and not routes_calls(PhoneRule.OPEN) and routes_calls("time_window")
