"""Rebuilding a view beside the live one: same result as following the log, lookups answered
throughout, one atomic switch, and nothing changed by an interruption or an event it cannot apply."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from domain.contact_file.aggregate import ContactFile
from domain.event_parts import is_a
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.contact_file.restriction_commands import AmendRestriction, LiftRestriction
from domain.contact_file.restriction_terms import RestrictionTerms
from infra.services import Services
from infra.settings import Settings
from projections.front_desk import FrontDeskView
from projections.rebuild import (
    RebuildLost,
    RebuildRefused,
    SwitchFailed,
    rebuild,
    rebuild_schema,
    rebuilds_in_progress,
)
from projections.failures import ProjectionFailed
from projections.runner import ViewRunner
from tests.integration.test_views import cpr
from tests.support.cases import LEADER, OFFICIAL, decide, terms_body
from tests.support.secrets import secret_env, server_settings

ROOT = Path(__file__).resolve().parents[2]

# A rebuild of the front desk in a process of its own that kills itself after its first batch.
KILLED_MIDWAY = (
    "import os, signal, sys; sys.path.insert(0, sys.argv[3])\n"
    "from infra.services import Services\nfrom infra.settings import Settings\n"
    "from projections.rebuild import rebuild\n"
    "s = Services.build(Settings(database_url=sys.argv[1], data_dir=sys.argv[2]))\n"
    "def die(position, head):\n"
    "    if position > 0: os.kill(os.getpid(), signal.SIGKILL)\n"
    "rebuild(s.front_desk, s.events, s.db, batch_size=3, progress=die)\n"
)


def kill_a_rebuild_midway(database_url: str, data_dir: Path) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MIDWAY, database_url, str(data_dir), str(ROOT)],
        env={**os.environ, **secret_env()}, timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL


def table(services: Services, name: str) -> list[tuple]:
    with services.db.transaction(write=False) as cur:
        return sorted(cur.execute(f"SELECT * FROM {name}").fetchall(), key=repr)


def tables(services: Services, view: str) -> dict[str, list[tuple]]:
    return {name: table(services, name) for name in services.views[view].tables}


def history(services: Services, files: int = 6) -> list:
    """Files with numbers, decided restrictions, an amendment and a lift: every event kind the views read."""
    app = services.app
    refs = [app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(n), actor=LEADER)).citizen_ref for n in range(files)]
    for n, ref in enumerate(refs):
        app.register_phone_number(RegisterPhoneNumber(citizen_ref=ref, number=f"+45331733{n:02d}", actor=LEADER))
    amended = decide(app, refs[0])
    shorter = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    terms = RestrictionTerms.model_validate(terms_body(in_person={"rule": "by_appointment"}, valid_until=shorter))
    app.amend_restriction(
        AmendRestriction(
            citizen_ref=refs[0], restriction_id=amended.created_id, terms=terms, reasons="Roligere adfærd",
            official=OFFICIAL, actor=LEADER,
        )
    )
    lifted = decide(app, refs[1], in_person={"rule": "banned"})
    app.lift_restriction(
        LiftRestriction(
            citizen_ref=refs[1], restriction_id=lifted.created_id, reason="Borgeren er flyttet", official=OFFICIAL,
            actor=LEADER,
        )
    )
    decide(app, refs[2], in_person={"rule": "banned"})
    return refs


def headline(services: Services, ref) -> str | None:
    answer = services.front_desk.lookup(services.db, ref, datetime.now(timezone.utc))
    return answer.headline.rule.value if answer.headline else None


def damage(services: Services) -> None:
    """What a view's bug leaves behind: a restriction in force missing from the live table."""
    with services.db.transaction() as cur:
        cur.execute("UPDATE front_desk_restrictions SET rule = 'open' WHERE rule = 'banned'")


def test_a_rebuild_gives_every_view_the_tables_following_the_log_gives(settings):
    services = Services.build(settings)
    history(services)
    expected = {}
    for name, view in services.views.items():
        ViewRunner(view, services.events, services.db, batch_size=1).catch_up()  # `apply`, event by event
        expected[name] = tables(services, name)
    assert expected["front_desk"]["front_desk_restrictions"] and expected["phone_routing"]["phone_routing_numbers"]
    head = services.events.head()
    for name, view in services.views.items():  # in batches: `apply_batch` where a view has one
        done = rebuild(view, services.events, services.db, batch_size=4)
        assert tables(services, name) == expected[name], name
        assert done.position == head and services.runner(name).position == head
    services.close()


def test_a_rebuild_repairs_the_live_view_and_moves_its_position_to_the_head(settings):
    services = Services.build(settings)
    refs = history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    assert headline(services, refs[2]) is None
    seen = []
    done = rebuild(services.front_desk, services.events, services.db, batch_size=3,
                   progress=lambda position, head: seen.append((position, head)))
    assert headline(services, refs[2]) == "banned"
    assert done.position == services.events.head() == services.runner("front_desk").position
    assert done.applied == 6 + 3 + 1 + 1  # of front desk's topics only: files, decisions, an amendment, a lift
    assert seen[0] == (0, done.position) and seen[-1] == (done.position, done.position)
    services.close()


def test_lookups_are_answered_from_the_live_view_until_the_switch_while_it_keeps_following(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path, read_wait_timeout=5.0)
    services = Services.build(settings)
    refs = history(services, files=30)
    live = services.runner("front_desk")
    live.start()
    services.wait_for("front_desk", services.events.head())
    damage(services)
    during: list[str | None] = []
    later: list = []

    def meanwhile(position: int, head: int) -> None:
        if 0 < position and not later:
            during.append(headline(services, refs[2]))  # the live (damaged) table still answers
            later.append(services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(90), actor=LEADER)).citizen_ref)
            later.append(decide(services.app, later[0]))
            services.wait_for("front_desk", later[1].position)  # the live view follows meanwhile
            during.append(headline(services, later[0]))

    done = rebuild(services.front_desk, services.events, services.db, batch_size=5, progress=meanwhile)
    assert during == [None, "guard_present"]
    assert headline(services, refs[2]) == "banned" and headline(services, later[0]) == "guard_present"
    after = decide(services.app, refs[3])  # the live runner goes on from the rebuilt tables
    services.wait_for("front_desk", after.position)
    assert live.error is None and done.position >= later[1].position
    assert headline(services, refs[3]) == "guard_present"
    assert len(table(services, "front_desk_files")) == 31  # no event applied twice (a second insert would fail)
    assert not services.db.read("SELECT 1 FROM pg_namespace WHERE nspname = %s", (rebuild_schema("front_desk"),))
    services.close()


def test_an_interrupted_rebuild_leaves_the_live_view_untouched_and_the_next_one_starts_cleanly(settings):
    services = Services.build(settings)
    refs = history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    before, position = tables(services, "front_desk"), services.runner("front_desk").position

    def interrupt(reached: int, head: int) -> None:
        if reached > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild(services.front_desk, services.events, services.db, batch_size=3, progress=interrupt)
    assert tables(services, "front_desk") == before and services.runner("front_desk").position == position
    assert not services.db.read("SELECT 1 FROM vaern_positions WHERE name LIKE %s", ("rebuild:%",))
    rebuild(services.front_desk, services.events, services.db, batch_size=3)
    assert headline(services, refs[2]) == "banned"
    services.close()


class BreaksOnAmendments(FrontDeskView):
    """A view with a bug: it cannot apply an amended restriction."""

    def apply(self, cur, event, position):
        if is_a(event, ContactFile.RestrictionAmended):  # the whole event or the view's part of it
            raise ValueError("cannot handle this")
        super().apply(cur, event, position)


@pytest.mark.parametrize("batch_size", [2, 1000])  # met while building beside, or in the switch
def test_a_rebuild_that_meets_an_event_it_cannot_apply_fails_loudly_without_switching(settings, batch_size):
    services = Services.build(settings)
    history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    before, position = tables(services, "front_desk"), services.runner("front_desk").position
    amendment = next(p for p, e in services.events.read(0, 1000) if isinstance(e, ContactFile.RestrictionAmended))
    with pytest.raises(ProjectionFailed) as failed:
        rebuild(BreaksOnAmendments(), services.events, services.db, batch_size=batch_size)
    assert failed.value.position == amendment and f"stopped at event {amendment}" in str(failed.value)
    assert tables(services, "front_desk") == before and services.runner("front_desk").position == position
    services.close()


def test_a_second_rebuild_of_a_view_is_refused_while_one_runs(database_url, tmp_path):
    services = Services.build(server_settings(database_url=database_url, data_dir=tmp_path))
    history(services)
    refused = []

    def try_another(position: int, head: int) -> None:
        if not refused:
            with pytest.raises(RebuildRefused) as error:
                rebuild(FrontDeskView(), services.events, services.db)
            refused.append(str(error.value))

    rebuild(services.front_desk, services.events, services.db, batch_size=3, progress=try_another)
    assert refused == ["a rebuild of front_desk is already running"]
    services.close()


class DeclaresTooFewTables(FrontDeskView):
    tables = ("front_desk_files",)


def test_a_view_whose_declared_tables_differ_from_those_it_creates_is_not_rebuilt(settings):
    services = Services.build(settings)
    history(services)
    services.runner("front_desk").catch_up()
    damage(services)  # what a rebuild would repair, were it to run
    before = tables(services, "front_desk")
    with pytest.raises(RebuildRefused, match="front_desk_restrictions"):
        rebuild(DeclaresTooFewTables(), services.events, services.db)
    assert tables(services, "front_desk") == before
    services.close()


def pg_settings(database_url, tmp_path) -> Settings:
    return server_settings(database_url=database_url, data_dir=tmp_path, read_wait_timeout=5.0)


def kill_lock_connection(database_url: str) -> None:
    """What an idle-session timeout, a NAT or a failover does to the rebuild's idle lock connection."""
    holder = (
        "FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with psycopg.connect(database_url, autocommit=True) as admin:
        assert admin.execute(f"SELECT pg_terminate_backend(pid) {holder}").fetchall()
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT 1 {holder}").fetchall():  # the session ends a moment later
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_a_rebuild_that_lost_its_lock_to_another_stops_without_switching_and_the_other_completes(
    database_url, tmp_path
):
    services = Services.build(pg_settings(database_url, tmp_path))
    history(services, files=20)
    services.runner("front_desk").catch_up()
    expected = tables(services, "front_desk")
    second_inside, release_second, second = threading.Event(), threading.Event(), []

    def second_progress(position: int, head: int) -> None:
        if position > 0 and not second_inside.is_set():  # its first batch is in its tables
            second_inside.set()
            release_second.wait(30)

    def run_second() -> None:
        second.append(rebuild(FrontDeskView(), services.events, services.db, batch_size=5, progress=second_progress))

    other = threading.Thread(target=run_second)

    def first_progress(position: int, head: int) -> None:
        if head - position <= 5 and not other.is_alive() and not second:  # about to switch
            kill_lock_connection(database_url)
            other.start()
            assert second_inside.wait(30)

    with pytest.raises(RebuildLost, match="taken over by another"):
        rebuild(services.front_desk, services.events, services.db, batch_size=5, progress=first_progress)
    assert services.db.read("SELECT 1 FROM pg_namespace WHERE nspname = %s", (rebuild_schema("front_desk"),))
    release_second.set()
    other.join(30)
    assert second and second[0].position == services.events.head() == services.runner("front_desk").position
    assert tables(services, "front_desk") == expected  # every event, none from the first over the second's
    services.close()


def test_a_rebuild_that_lost_its_lock_stops_at_its_next_transaction(database_url, tmp_path):
    services = Services.build(pg_settings(database_url, tmp_path))
    history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    before, position = tables(services, "front_desk"), services.runner("front_desk").position

    def lose_lock(reached: int, head: int) -> None:
        if reached > 0 and not lost:
            lost.append(kill_lock_connection(database_url))

    lost: list = []

    with pytest.raises(RebuildLost, match="lost its lock"):
        rebuild(services.front_desk, services.events, services.db, batch_size=3, progress=lose_lock)
    assert tables(services, "front_desk") == before and services.runner("front_desk").position == position
    assert not services.db.read("SELECT 1 FROM vaern_positions WHERE name LIKE %s", ("rebuild:%",))
    services.close()


def test_a_rebuild_whose_schema_is_gone_never_writes_to_the_live_tables(database_url, tmp_path):
    services = Services.build(pg_settings(database_url, tmp_path))
    history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    before = tables(services, "front_desk")

    def drop_schema(reached: int, head: int) -> None:
        if reached > 0:
            with services.db.transaction() as cur:
                cur.execute(f"DROP SCHEMA {rebuild_schema('front_desk')} CASCADE")

    with pytest.raises(RebuildLost):
        rebuild(services.front_desk, services.events, services.db, batch_size=3, progress=drop_schema)
    assert tables(services, "front_desk") == before
    services.close()


def lookup_seconds(services: Services, ref) -> float:
    started = time.monotonic()
    assert headline(services, ref) == "banned"
    return time.monotonic() - started


def lookups_while(services: Services, ref, running: threading.Thread, seconds: float = 20.0) -> list[float]:
    """How long each lookup took, one after another, while `running` runs (up to `seconds`)."""
    waits, deadline = [], time.monotonic() + seconds
    while running.is_alive() and time.monotonic() < deadline:
        started = time.monotonic()
        headline(services, ref)
        waits.append(time.monotonic() - started)
    return waits


def test_the_switch_gives_up_behind_a_long_reader_without_holding_up_lookups(database_url, tmp_path):
    services = Services.build(pg_settings(database_url, tmp_path))
    refs = history(services, files=3)
    services.runner("front_desk").catch_up()
    before, position = tables(services, "front_desk"), services.runner("front_desk").position
    failed: list[str] = []

    def switch() -> None:
        with pytest.raises(SwitchFailed) as error:
            rebuild(services.front_desk, services.events, services.db, lock_timeout=1.0, switch_attempts=2)
        failed.append(str(error.value))

    with psycopg.connect(database_url) as reader:  # a report, pg_dump: a lock on the table till it ends
        reader.execute("SELECT count(*) FROM front_desk_restrictions")
        ends = threading.Timer(10, reader.rollback)  # long after the switch has given up
        ends.start()
        rebuilding = threading.Thread(target=switch)
        rebuilding.start()
        waits = lookups_while(services, refs[2], rebuilding)  # some queue behind the switch's lock
        ends.cancel()
    rebuilding.join(30)
    assert headline(services, refs[2]) == "banned"
    assert failed and "the live view is unchanged" in failed[0]
    assert max(waits) < 1.6  # a lookup waits for the lock_timeout at most, never for the reader
    assert tables(services, "front_desk") == before and services.runner("front_desk").position == position
    assert not services.db.read("SELECT 1 FROM pg_namespace WHERE nspname = %s", (rebuild_schema("front_desk"),))
    services.close()


def test_the_switch_tries_again_once_a_long_reader_is_done_and_lookups_never_wait_for_the_reader(
    database_url, tmp_path
):
    services = Services.build(pg_settings(database_url, tmp_path))
    refs = history(services, files=3)
    services.runner("front_desk").catch_up()
    damage(services)
    done: list = []
    rebuilding = threading.Thread(target=lambda: done.append(
        rebuild(services.front_desk, services.events, services.db, lock_timeout=1.0, switch_attempts=4)
    ))
    with psycopg.connect(database_url) as reader:
        reader.execute("SELECT count(*) FROM front_desk_restrictions")
        threading.Timer(2.5, reader.rollback).start()  # the reader ends during a later attempt
        rebuilding.start()
        waits = lookups_while(services, refs[2], rebuilding)
    rebuilding.join(30)
    assert done and done[0].position == services.events.head() == services.runner("front_desk").position
    assert headline(services, refs[2]) == "banned"
    assert max(waits) < 1.6  # each lookup waited for one attempt's lock_timeout at most
    services.close()


def test_a_rebuild_killed_midway_is_shown_abandoned_and_the_next_one_removes_what_it_left(database_url, tmp_path):
    services = Services.build(pg_settings(database_url, tmp_path))
    refs = history(services)
    services.runner("front_desk").catch_up()
    damage(services)
    kill_a_rebuild_midway(database_url, tmp_path)
    assert [(r.name, r.running) for r in rebuilds_in_progress(services.db)] == [("rebuild:front_desk", False)]
    seen = []
    rebuild(services.front_desk, services.events, services.db, batch_size=3,
            progress=lambda reached, head: seen.append(rebuilds_in_progress(services.db)))
    assert [(r.name, r.running) for r in seen[0]] == [("rebuild:front_desk", True)]
    assert headline(services, refs[2]) == "banned"
    assert not rebuilds_in_progress(services.db)
    assert not services.db.read("SELECT 1 FROM pg_namespace WHERE nspname = %s", (rebuild_schema("front_desk"),))
    services.close()


def test_an_interruption_after_the_switch_committed_leaves_the_rebuilt_view_live_and_reports_it(database_url, tmp_path):
    # PostgreSQL: on SQLite the whole rebuild, its last progress report included, is one transaction.
    services = Services.build(pg_settings(database_url, tmp_path))
    refs = history(services)
    head = services.events.head()

    def interrupt_after_switch(reached: int, head: int) -> None:
        if services.runner("front_desk").position == head:  # the live view was at 0: it has switched
            raise KeyboardInterrupt

    done = rebuild(services.front_desk, services.events, services.db, batch_size=3, progress=interrupt_after_switch)
    assert done.position == head == services.runner("front_desk").position
    assert headline(services, refs[2]) == "banned"
    assert not services.db.read("SELECT 1 FROM vaern_positions WHERE name LIKE %s", ("rebuild:%",))
    services.close()
