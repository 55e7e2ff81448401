"""The expiry scheduler on SQLite and PostgreSQL: at the end of the period, once, whoever runs it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from domain.contact_file.aggregate import ContactFile
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.contact_file.restriction_state import Status
from infra.scheduler import ExpiryScheduler
from infra.services import Services
from tests.support.cases import LEADER, decide


def scheduler(services: Services) -> ExpiryScheduler:
    return ExpiryScheduler(services.app, services.schedule, services.db)


def expiries(services: Services) -> list:
    return [e for _, e in services.events.read(after=0, limit=10_000) if isinstance(e, ContactFile.RestrictionExpired)]


def ending_soon(services: Services):
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    now = datetime.now(timezone.utc)
    receipt = decide(services.app, ref, valid_from=now.isoformat(), valid_until=(now + timedelta(seconds=5)).isoformat())
    services.runner("restriction_schedule").catch_up()
    return ref, receipt.created_id, now + timedelta(seconds=5)


def test_a_restriction_is_not_expired_before_its_end(settings):
    services = Services.build(settings)
    ending_soon(services)
    assert scheduler(services).tick() == 0
    assert expiries(services) == []
    services.close()


def test_two_schedulers_record_an_ended_restriction_expired_exactly_once(settings):
    first, second = Services.build(settings), Services.build(settings)  # as two processes would
    ref, restriction_id, end = ending_soon(first)  # `end` is within a moment of valid_until
    second.runner("restriction_schedule").catch_up()
    for services in (first, second):
        services.app.clock = lambda: end + timedelta(seconds=20)
    schedulers = [scheduler(first), scheduler(second)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda s=s: counts.append(s.tick())) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(counts) == [0, 1]
    (expired,) = expiries(first)
    restriction = first.app.get_contact_file(ref).restrictions[restriction_id]
    assert restriction.status is Status.EXPIRED and expired.effective_at == restriction.terms.valid_until

    first.runner("restriction_schedule").catch_up()
    assert scheduler(first).tick() == 0  # after a restart nothing is left to expire
    assert len(expiries(first)) == 1
    for services in (first, second):
        services.close()


def test_the_expiry_takes_effect_at_valid_until_however_late_it_is_recorded(settings):
    services = Services.build(settings)
    ref, restriction_id, _ = ending_soon(services)
    end = services.app.get_contact_file(ref).restrictions[restriction_id].terms.valid_until
    services.app.clock = lambda: end + timedelta(seconds=50)
    assert scheduler(services).tick() == 1
    (expired,) = expiries(services)
    assert expired.effective_at == end  # recorded later, effective at the end of the period
    services.close()
