"""Under faults nothing acknowledged is lost and nothing is applied twice: every process killed at
random moments and started again, the broker stopped for 30 s and PostgreSQL restarted, under a
steady load; afterwards every view equals a fresh rebuild, the telephony consumer's table equals
Vaern's snapshot and every answered lookup is in the access log. bench/chaos.py runs it longer."""

from __future__ import annotations

import pytest

from tests.support import chaos, postgres
from tests.support.supervisor import procfile


@pytest.mark.chaos
def test_killed_processes_a_broker_outage_and_a_database_restart_lose_nothing(
    own_cluster, restartable_broker, kafka_topic_prefix, tmp_path
):
    _, database_url = postgres.create_database(own_cluster.url)
    plan = chaos.Plan(seconds=80, kills=24, broker_down=30, workers=3, catch_up=90)
    report = chaos.run(plan, own_cluster, database_url, restartable_broker, kafka_topic_prefix, tmp_path)
    print(report.summary())

    assert sum(report.kills.values()) >= 20 and report.broker_down >= 30 and report.database_restarts == 1
    assert set(report.kills) == set(procfile()) - chaos.SPARED  # the API, each view runner, both relays, the scheduler
    assert report.load["acked"] >= 50 and report.load["lookups_answered"] >= 50, report.summary()
    assert report.behind == {}, report.summary()
    assert report.lost == [] and report.twice == {} and report.strays == [], report.summary()
    assert report.views_differing == {name: [] for name in report.views_differing} != {}, report.summary()
    assert report.consumer_equals_snapshot, report.summary()
    assert report.lookups_unlogged == [], report.summary()
    assert report.stopped == {name: 0 for name in procfile()}, report.summary()  # each still stops cleanly
