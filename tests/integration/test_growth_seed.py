"""The growth benchmark's population: seeded through the domain's events by worker processes, in
chunks, stopping on the way at a log size and going on from there, and what the front desk then
answers about it once rebuilt from the log."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from bench.growth_seed import Seeder, population
from domain.identity import Cpr, citizen_ref
from infra.services import Services
from projections.rebuild import rebuild
from tests.support.secrets import server_settings

CITIZENS = 600


def test_a_population_seeded_in_parallel_chunks_is_what_the_rebuilt_front_desk_answers(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path, log_level="WARNING")
    seeder = Seeder(settings, workers=2, chunk=100)
    try:
        seeder.seed(CITIZENS, until_events=300)
        stopped_at = seeder.next
        seeder.seed(CITIZENS)
    finally:
        seeder.close()
    assert 300 <= stopped_at < CITIZENS  # stopped on the way, chunks under way finished

    services = Services.build(settings)
    try:
        topics = Counter(n.topic.rsplit(".", 1)[-1] for n in services.app.recorder.select_notifications(
            start=1, limit=100_000))
        assert services.events.head() == seeder.head == sum(topics.values())
        meetings = seeder.meetings
        assert topics["Opened"] == CITIZENS + len(meetings)  # every citizen's file, once, and each meeting's room day
        assert topics["Booked"] == len(meetings)
        restricted = topics["RestrictionDecided"]
        assert 0.06 * CITIZENS < restricted < 0.2 * CITIZENS
        assert topics["Reported"] == topics["RestrictionProposed"] == restricted

        rebuild(services.views["front_desk"], services.events, services.db, 500)
        people = population(CITIZENS, seeder.rules, meetings)
        assert 0 < len(people.restricted) <= restricted
        assert people.meeting_today == meetings and 0 < len(meetings) < len(people.with_meetings)
        key, now = settings.citizen_key.get_secret_value().encode(), datetime.now(timezone.utc)
        for cpr in people.cprs:
            answer = services.front_desk.lookup(services.db, citizen_ref(Cpr.parse(cpr), key), now)
            rule = answer.headline.rule.value if answer.headline else None
            assert rule == people.restricted.get(cpr), cpr
    finally:
        services.close()
