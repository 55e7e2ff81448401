"""The metrics' labels and what is read at scrape time, with no services: fixed values, never what was sent."""

from __future__ import annotations

import math
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from domain.errors import RuleViolation, VersionConflict, within
from domain.identity import Cpr
from infra.metrics import MULTIPROC_ENV, ProcessMetrics, refusal_rule, shared_by_workers
from infra.metrics_scraped import FollowersCollector, TelephonyCollector, every, none, only


def scraped(*collectors) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def refuse_with_a_made_up_field() -> None:
    raise RuleViolation("corrections.0101901234 Gitte Hansen", "has no such field")


def refuse_under_a_prefix() -> None:
    with within("terms"):
        refuse_with_a_made_up_field()


def refused(action) -> BaseException:
    try:
        action()
    except Exception as error:
        return error
    raise AssertionError("not refused")


def test_a_rule_is_labelled_by_where_it_is_written_never_by_its_field_or_reason():
    assert refusal_rule(refused(refuse_with_a_made_up_field)) == "RuleViolation"  # written outside Vaern's code
    assert refusal_rule(refused(refuse_under_a_prefix)) == "RuleViolation"
    assert refusal_rule(refused(lambda: Cpr.parse("0101901234 Gitte"))) == "domain.identity:Cpr.parse"
    assert refusal_rule(refused(parse_under_a_prefix)) == "domain.identity:Cpr.parse"  # not `within`, not the prefix
    assert refusal_rule(VersionConflict(1, 2)) == "VersionConflict"


def parse_under_a_prefix() -> None:
    with within("perpetrator"):
        Cpr.parse("3213")


def test_a_method_vaern_does_not_serve_is_counted_as_other():
    metrics = ProcessMetrics()
    metrics.answered("BREW", "(no route)", 405, 0.001)
    assert metrics.requests.labels("other", "(no route)", "405")._value.get() == 1


def status() -> dict:
    """The service bag's report, its statistics view last current 90 s before the call (not before the import:
    the suite may collect this module half an hour before it runs the test)."""
    return {
        "event_log": {"head": 12},
        "views": {
            "front_desk": {"position": 12, "lag": 0, "state": "current", "current_at": None},
            "statistics": {"position": 4, "lag": 8, "state": "stopped",
                           "current_at": datetime.now(timezone.utc) - timedelta(seconds=90)},
            "phone_routing": {"position": 0, "lag": 12, "state": "no runner", "current_at": None},
        },
        "relays": {"relay:vaern.restrictions": {"position": 10, "lag": 2, "state": "current", "current_at": None}},
    }


def test_the_followers_chosen_are_reported_with_position_lag_and_seconds_behind():
    got = scraped(FollowersCollector(status, every, none))
    view = lambda name: (("follower", name), ("kind", "view"))  # noqa: E731
    assert got[("vaern_event_log_head", ())] == 12 and got[("vaern_database_reachable", ())] == 1
    assert got[("vaern_follower_position", view("statistics"))] == 4
    assert got[("vaern_follower_lag_events", view("statistics"))] == 8
    assert 89 <= got[("vaern_follower_behind_seconds", view("statistics"))] < 120
    assert got[("vaern_follower_stopped", view("statistics"))] == 1
    assert got[("vaern_follower_behind_seconds", view("front_desk"))] == 0
    assert math.isnan(got[("vaern_follower_behind_seconds", view("phone_routing"))])  # never current
    assert not [key for key in got if ("kind", "relay") in key[1]]


def test_a_relay_process_reports_its_relay_alone():
    got = scraped(FollowersCollector(status, none, only("relay:vaern.restrictions")))
    positions = {labels: value for (name, labels), value in got.items() if name == "vaern_follower_position"}
    assert positions == {(("follower", "relay:vaern.restrictions"), ("kind", "relay")): 10}


def test_an_unreachable_database_is_reported_not_raised():
    def unreachable() -> dict:
        raise sqlite3.OperationalError("unable to open database file")

    assert scraped(FollowersCollector(unreachable, every, every)) == {("vaern_database_reachable", ()): 0}


def test_the_telephony_consumer_reports_its_messages_dead_letters_and_lag():
    status = {"applied": 5, "stale": 1, "erased": 2, "dead_lettered": 3, "reconnected": 4, "lag": None}
    got = scraped(TelephonyCollector(lambda: status))
    assert got[("vaern_telephony_messages_total", (("outcome", "applied"),))] == 5
    assert got[("vaern_telephony_messages_total", (("outcome", "erased"),))] == 2
    assert got[("vaern_dead_letters_total", ())] == 3
    assert got[("vaern_telephony_reconnects_total", ())] == 4
    assert math.isnan(got[("vaern_telephony_lag_messages", ())])


def test_the_api_workers_share_a_fresh_directory_removed_when_they_stop():
    before = os.environ.get(MULTIPROC_ENV)
    with shared_by_workers() as directory:
        assert os.environ[MULTIPROC_ENV] == directory and os.listdir(directory) == []
        Path(directory, "counter_1.db").write_bytes(b"")  # what a worker leaves
    assert not Path(directory).exists() and os.environ.get(MULTIPROC_ENV) == before
