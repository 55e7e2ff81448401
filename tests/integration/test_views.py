"""View runners on SQLite and real PostgreSQL: resume after restart, one apply per event, loud stops."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from datetime import datetime, timedelta, timezone

from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import Cpr
from domain.values import Actor, Official, Role
from infra.database import open_database
from projections.front_desk import FrontDeskView
from projections.failures import ProjectionFailed
from projections.runner import ViewRunner
from infra.services import Services
from tests.support.cases import decide
from tests.support.secrets import server_settings

ACTOR = Actor(user_id="l1", name="Lone Hansen", role=Role.LEADER)
OFFICIAL = Official(user_id="l1", name="Lone Hansen", title="Afdelingsleder")


def cpr(n: int) -> Cpr:
    return Cpr.parse(f"0101{n % 100:02d}-{1000 + n // 100:04d}")


def restrict(services: Services, ref, rule="banned"):
    return decide(services.app, ref, in_person={"rule": rule})


def open_files(services: Services, start: int, count: int):
    return [services.app.open_contact_file(
        OpenContactFile(purpose="incident", cpr=cpr(n), actor=ACTOR)
    ).citizen_ref for n in range(start, start + count)]


def rows(services: Services, table: str) -> int:
    with services.db.transaction(write=False) as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_view_resumes_after_a_restart_and_applies_each_event_once(settings):
    first = Services.build(settings)
    refs = open_files(first, 0, 5)
    restrict(first, refs[0])
    # 5 files and the decision; the incident, the proposal and the skipped hearing are not even read
    assert first.runner("front_desk").catch_up() == 6
    assert first.runner("front_desk").position == 9
    first.close()

    second = Services.build(settings)
    restrict(second, refs[1])
    open_files(second, 5, 2)
    runner = second.runner("front_desk")
    assert runner.position == 9
    assert runner.catch_up() == 3  # only what came after the restart: a decision and 2 files
    assert rows(second, "front_desk_files") == 7 and rows(second, "front_desk_restrictions") == 2
    assert runner.position == second.events.head()
    second.close()


def test_a_view_that_reads_only_its_topics_still_moves_past_the_events_it_skips(settings):
    services = Services.build(settings)
    refs = open_files(services, 0, 4)
    restrict(services, refs[0])
    restrict(services, refs[2], rule="by_appointment")
    services.app.register_phone_number(
        RegisterPhoneNumber(citizen_ref=refs[3], number="+4533173317", actor=ACTOR)
    )  # not front desk's: the last event
    head = services.events.head()
    # Batches of 2 of the view's own events: a full batch ends at its last event, never at the head,
    # or the view's events between the two would be skipped.
    runner = ViewRunner(FrontDeskView(), services.events, services.db, batch_size=2)
    assert runner.catch_up() == 6
    assert rows(services, "front_desk_files") == 4 and rows(services, "front_desk_restrictions") == 2
    assert runner.position == head  # past the events it never needed, so no lag is shown for them
    assert services.status()["views"]["front_desk"]["lag"] == 0
    restrict(services, refs[1])
    assert runner.catch_up() == 1 and runner.position == services.events.head()
    assert runner.catch_up() == 0
    services.close()


def test_a_running_view_follows_new_events_as_they_are_written(services):
    (ref,) = open_files(services, 0, 1)
    receipt = restrict(services, ref, rule="by_appointment")
    services.wait_for("front_desk", receipt.position)
    answer = services.front_desk.lookup(services.db, ref, datetime.now(timezone.utc))
    assert answer.headline.rule.value == "by_appointment"


def test_two_instances_of_one_view_never_apply_an_event_twice(database_url, tmp_path):
    # PostgreSQL only: on SQLite, BEGIN IMMEDIATE serialises the two instances outright.
    settings = server_settings(database_url=database_url, data_dir=tmp_path)
    services = Services.build(settings)
    other_db = open_database(settings.database_url, settings.sqlite_path)
    rivals = [services.runner("front_desk"), ViewRunner(FrontDeskView(), services.events, other_db, batch_size=3)]
    threads = [threading.Thread(target=r.run, daemon=True) for r in rivals]
    for thread in threads:
        thread.start()
    refs = open_files(services, 0, 40)
    last = restrict(services, refs[0])
    services.wait_for("front_desk", last.position)
    for runner in rivals:
        runner.stop()
    for thread in threads:
        thread.join(timeout=5)
    assert [r.error for r in rivals] == [None, None]
    assert rows(services, "front_desk_files") == 40 and rows(services, "front_desk_restrictions") == 1
    other_db.close()
    services.close()


class BreaksOnRestrictions(FrontDeskView):
    """A view with a bug: it cannot apply a decided restriction."""

    def apply(self, cur, event, position):
        if is_a(event, ContactFile.RestrictionDecided):
            raise ValueError("cannot handle this")
        super().apply(cur, event, position)


def test_an_event_a_view_cannot_apply_stops_it_loudly_at_that_event(settings):
    services = Services.build(settings)
    refs = open_files(services, 0, 3)
    bad = restrict(services, refs[1])
    open_files(services, 3, 1)
    runner = ViewRunner(BreaksOnRestrictions(), services.events, services.db, batch_size=2)
    thread = runner.start()
    thread.join(timeout=10)
    assert isinstance(runner.error, ProjectionFailed)
    assert runner.error.position == bad.position
    assert f"stopped at event {bad.position}" in str(runner.error)
    stopped_at = runner.position
    assert stopped_at < bad.position  # nothing after the failing event was applied or skipped
    services.runners["front_desk"] = runner
    health = services.status()["views"]["front_desk"]
    assert health["error"] and health["lag"] > 0

    fixed = ViewRunner(FrontDeskView(), services.events, services.db)
    assert fixed.catch_up() == 3  # file 3, the decision, file 4: the failing batch was rolled back whole
    assert fixed.position == services.events.head()
    assert rows(services, "front_desk_restrictions") == 1 and rows(services, "front_desk_files") == 4
    services.close()


class BreaksInTheDatabase(FrontDeskView):
    """A view with a bug the database catches: it records a decided restriction's file a second time.

    Its batches go through the set-based `apply_batch` on PostgreSQL (it changes `writes` only)."""

    def writes(self, event, position):
        extra = self.writes(ContactFile.Opened.model_construct(originator_id=event.originator_id), position) \
            if is_a(event, ContactFile.RestrictionDecided) else []
        return super().writes(event, position) + extra


class BreaksInTheDatabasePipelined(FrontDeskView):
    """The same bug in `apply`: its batches go out pipelined on PostgreSQL."""

    def apply(self, cur, event, position):
        super().apply(cur, event, position)
        if is_a(event, ContactFile.RestrictionDecided):
            cur.execute(
                "INSERT INTO front_desk_files (citizen_ref, position) VALUES (%s, %s)",
                (str(event.originator_id), position),
            )


@pytest.mark.parametrize("view", [BreaksInTheDatabase, BreaksInTheDatabasePipelined])
def test_a_database_error_in_a_batch_stops_the_view_at_the_event_that_caused_it(settings, view):
    services = Services.build(settings)
    refs = open_files(services, 0, 3)
    bad = restrict(services, refs[1])
    open_files(services, 3, 2)
    runner = ViewRunner(view(), services.events, services.db, batch_size=100)
    thread = runner.start()
    thread.join(timeout=10)
    assert isinstance(runner.error, ProjectionFailed)
    assert runner.error.position == bad.position  # not the end of the batch the error surfaced in
    assert runner.position == 0 and rows(services, "front_desk_files") == 0  # the whole batch rolled back
    services.close()


def test_status_reports_the_position_and_lag_of_each_view(settings):
    services = Services.build(settings)
    open_files(services, 0, 3)
    before = services.status()
    assert before["event_log"]["head"] == 3 and before["views"]["front_desk"]["lag"] == 3
    services.runner("front_desk").catch_up()
    after = services.status()["views"]
    assert {k: after["front_desk"][k] for k in ("position", "lag", "error")} == {"position": 3, "lag": 0, "error": None}
    assert after["front_desk"]["state"] == "current" and before["views"]["front_desk"]["state"] == "no runner"
    assert after["phone_routing"]["lag"] == 3
    services.close()


def test_a_view_wakes_within_moments_of_a_write_from_another_process(settings, services):
    writer = Services.build(settings)  # another application instance: as from another process
    try:
        (ref,) = open_files(writer, 0, 1)
        receipt = restrict(writer, ref)
        started = time.monotonic()
        services.wait_for("front_desk", receipt.position)
        assert time.monotonic() - started < 2.0
    finally:
        writer.close()


def test_a_stopped_view_reports_its_database_error_without_the_values_it_quotes(database_url, tmp_path, caplog):
    # A unique violation's DETAIL names the key's values: here a citizen's phone number.
    import traceback

    from projections.phone_routing import PhoneRoutingView

    caplog.set_level(logging.DEBUG)
    services = Services.build(server_settings(database_url=database_url, data_dir=tmp_path))
    (ref,) = open_files(services, 0, 1)
    services.app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number="+4533173317", actor=ACTOR))
    with services.db.transaction() as cur:  # a row already there, as a view's bug might leave it
        cur.execute("INSERT INTO phone_routing_numbers VALUES (%s, %s, 0)",
                    (services.phone_routing.number_key("+4533173317"), str(ref)))
    runner = ViewRunner(PhoneRoutingView(services.phone_routing.key), services.events, services.db)
    services.runners["phone_routing"] = runner
    runner.start().join(timeout=10)
    assert isinstance(runner.error, ProjectionFailed) and runner.error.position == services.events.head()
    reported = services.status()["views"]["phone_routing"]["error"]
    assert "UniqueViolation (SQLSTATE 23505)" in reported and "phone_routing_numbers_pkey" in reported
    printed = "".join(traceback.format_exception(runner.error))  # as a terminal would show it
    for text in (reported, printed, caplog.text):
        assert "33173317" not in text and "DETAIL" not in text
    services.close()
