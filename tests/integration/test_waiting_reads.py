"""Reads waiting for a view position, on SQLite and on PostgreSQL: they hold no worker thread while they wait."""

from __future__ import annotations

import threading
import time

from domain.values import Role
from tests.integration.conftest import bearer
from tests.support import wait_until

CPR = "211062-5629"
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
WAITING = 60  # more than the worker threads FastAPI runs sync routes on (40)
WAIT = 8.0  # long enough for 60 threads to start waiting on a loaded 2-core machine (half of it)


def test_many_reads_waiting_for_a_position_do_not_hold_up_a_lookup_that_needs_no_wait(client, services):
    services.settings.read_wait_timeout = WAIT
    # The stopped view must not count as stale (5 s by default) before the lookup is measured: that is a
    # refusal of its own, not the waiting this test is about.
    services.settings.view_max_staleness_seconds = 10 * WAIT
    services.runner("front_desk").stop()  # the view stays behind the write below, so every wait runs its course
    position = client.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["position"]
    answers: list[int] = []

    def waiting_read() -> None:
        response = client.post("/front-desk/lookup", json={"cpr": CPR}, params={"min_position": position}, headers=GUARD)
        answers.append(response.status_code)

    readers = [threading.Thread(target=waiting_read) for _ in range(WAITING)]
    started = time.monotonic()
    for reader in readers:
        reader.start()
    wait_until(lambda: _waiting(client) >= WAITING, timeout=WAIT / 2, message="the reads did not all start waiting")

    before = time.monotonic()
    response = client.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD)
    took = time.monotonic() - before
    still_waiting = time.monotonic() - started < WAIT
    for reader in readers:
        reader.join()

    assert response.status_code == 200, response.text
    assert still_waiting  # the lookup was measured while every wait was outstanding
    # A lookup behind the waits would take the rest of their wait; one beside them takes milliseconds.
    assert took < WAIT / 4, f"a lookup took {took:.2f} s while {WAITING} reads waited"
    assert answers == [503] * WAITING


def _waiting(client) -> int:
    waits = getattr(client.app.state, "waits", None)  # made on the first waiting read
    return waits.waiting if waits else 0
