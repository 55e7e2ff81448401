"""A view runner outlives the database's hiccups: a restart, a lost connection mid-batch, SQLite's
write lock held elsewhere. It reports the error while it waits, never blames an event for it, and
goes on with nothing lost or applied twice once the database answers again."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import psycopg
import pytest

from domain.contact_file.commands import OpenContactFile
from infra.services import Services
from projections.front_desk import FrontDeskView
from projections.rebuild import rebuild
from projections.failures import ViewWaiting
from projections.runner import ViewRunner
from tests.integration.test_rebuild import history
from tests.integration.test_views import cpr, rows
from tests.support.cases import LEADER
from tests.support.secrets import server_settings


def pg_services(database_url: str, tmp_path) -> Services:
    settings = server_settings(database_url=database_url, data_dir=tmp_path, read_wait_timeout=10.0)
    return Services.build(settings)


def terminate(database_url: str, where: str) -> list:
    with psycopg.connect(database_url, autocommit=True) as admin:
        return admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = current_database() AND pid <> pg_backend_pid() AND {where}"
        ).fetchall()


def until(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_a_view_goes_on_after_every_database_connection_is_terminated(database_url, tmp_path):
    services = pg_services(database_url, tmp_path)
    runner = ViewRunner(services.front_desk, services.events, services.db, retry_delays=(0.1, 1.0))
    services.runners["front_desk"] = runner
    thread = runner.start()
    services.wait_for("front_desk", services.events.head())
    assert terminate(database_url, "application_name = 'vaern'")  # what a PostgreSQL restart does to the pools
    services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(1), actor=LEADER))
    services.wait_for("front_desk", services.events.head())
    until(lambda: runner.error is None)
    assert thread.is_alive() and rows(services, "front_desk_files") == 1  # the file opened after the restart
    services.close()


class LosesItsConnectionOnce(FrontDeskView):
    """A view whose first transaction loses its connection to the server (a restart, a failover).

    Its batches go through its set-based `apply_batch`."""

    def __init__(self) -> None:
        self.lost = threading.Event()

    def lose_once(self, cur) -> None:
        if not self.lost.is_set():
            self.lost.set()
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    def apply(self, cur, event, position):
        self.lose_once(cur)
        super().apply(cur, event, position)

    def apply_batch(self, cur, batch):
        self.lose_once(cur)
        super().apply_batch(cur, batch)


class LosesItsConnectionOncePipelined(FrontDeskView):
    """The same with `apply` alone: its batches go out pipelined."""

    __init__ = LosesItsConnectionOnce.__init__
    lose_once = LosesItsConnectionOnce.lose_once

    def apply(self, cur, event, position):
        self.lose_once(cur)
        super().apply(cur, event, position)


@pytest.mark.parametrize("view", [LosesItsConnectionOnce, LosesItsConnectionOncePipelined])
def test_a_connection_lost_inside_a_batch_is_waited_out_and_reported_never_blamed_on_an_event(
    database_url, tmp_path, view
):
    services = pg_services(database_url, tmp_path)
    for n in range(5):
        services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(n), actor=LEADER))
    runner = ViewRunner(view(), services.events, services.db, batch_size=100, retry_delays=(2.0, 2.0))
    services.runners["front_desk"] = runner
    thread = runner.start()
    until(lambda: isinstance(runner.error, ViewWaiting))
    waiting = services.status()["views"]["front_desk"]  # reported while it waits
    assert "retrying after a database error" in waiting["error"] and "stopped" not in waiting["error"]
    assert waiting["position"] == 0 and rows(services, "front_desk_files") == 0  # the batch was rolled back whole
    services.wait_for("front_desk", services.events.head())
    until(lambda: runner.error is None)
    assert thread.is_alive() and rows(services, "front_desk_files") == 5  # each event applied once
    services.close()


def test_a_view_on_sqlite_outlives_a_rebuild_holding_the_write_lock_past_the_busy_timeout(tmp_path):
    settings = server_settings(data_dir=tmp_path / "d", read_wait_timeout=5.0)
    live, other = Services.build(settings), Services.build(settings)  # the service, and `vaern projections rebuild`
    history(live, files=3)
    runner = ViewRunner(live.front_desk, live.events, live.db, retry_delays=(0.2, 1.0))
    holding, rebuilt = threading.Event(), []

    def slow(position: int, head: int) -> None:
        if not holding.is_set():
            holding.set()
            time.sleep(11)  # a rebuild of a large log: longer than the 10 s busy timeout

    rebuilding = threading.Thread(
        target=lambda: rebuilt.append(rebuild(other.front_desk, other.events, other.db, progress=slow))
    )
    rebuilding.start()
    assert holding.wait(10)
    thread = runner.start()
    until(lambda: isinstance(runner.error, ViewWaiting))
    assert "database is locked" in str(runner.error)
    rebuilding.join(30)
    assert rebuilt
    until(lambda: runner.error is None)
    ref = live.app.open_contact_file(OpenContactFile(purpose="incident", cpr=cpr(50), actor=LEADER)).citizen_ref
    live.wait_for("front_desk", live.events.head())
    assert thread.is_alive() and live.front_desk.lookup(live.db, ref, now()).in_force == []
    assert rows(live, "front_desk_files") == 4
    other.close()
    live.close()
