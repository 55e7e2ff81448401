"""The Procfile runs production: honcho starts every process on PostgreSQL and the broker, a case walks
from the API to the front desk and the telephone, and each process stops cleanly when honcho is stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from api.security import issue_token
from domain.values import Role
from tests.support import free_port, postgres, tail, wait_until
from tests.support.cases import decide_over_http
from tests.support.secrets import system_env
from tests.support.supervisor import BIN, ROOT, procfile, ready

SECRET = "procfile-token-secret-0123456789abcdefgh"
STOPPED = re.compile(r"system\s+\| (\w+)\.1 stopped \(rc=(-?\d+)\)")


class Honcho:
    """`honcho start` on the Procfile, its output (every process's, prefixed) in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        command = [str(BIN / "honcho"), "start", "--no-colour", "--procfile", str(ROOT / "Procfile"),
                   "--env", "/dev/null"]  # no .env file: the environment given is the whole of it
        self.handle = subprocess.Popen(command, env=env, cwd=log.parent, stdout=log.open("w"),
                                       stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return tail(self.log, 120)

    def stop(self) -> dict[str, int]:
        """Stops honcho as init would (SIGTERM) and returns each process's exit code."""
        self.handle.send_signal(signal.SIGTERM)
        self.handle.wait(timeout=60)
        return {name: int(code) for name, code in STOPPED.findall(self.log.read_text())}

    def kill(self) -> None:
        if self.handle.poll() is None:
            os.killpg(self.handle.pid, signal.SIGKILL)
            self.handle.wait()


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database on a cluster of the test's own: a dozen processes hold more connections than a shared
    server has to spare (see `connections` below)."""
    cluster = postgres.ThrowawayCluster()
    try:
        with postgres.temporary_database(cluster.start()) as url:
            yield url
    finally:
        cluster.stop()


def connections(database_url: str) -> int:
    """How many sessions Vaern's processes hold on the database now."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND pid <> pg_backend_pid()").fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def production(own_database, kafka_bootstrap, kafka_topic_prefix, tmp_path) -> Iterator[dict]:
    database_url = own_database
    api, telephony = free_port(), free_port()
    env = system_env(database_url, kafka_bootstrap, kafka_topic_prefix, SECRET, tmp_path / "data")
    env.update({
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "VAERN_PORT": str(api),
        "VAERN_TELEPHONY_PORT": str(telephony),
        "VAERN_API_WORKERS": "2",  # two cores: several workers, but few
    })
    honcho = Honcho(env, tmp_path / "honcho.log")
    try:
        yield {"database": database_url, "api": f"http://127.0.0.1:{api}",
               "telephony": f"http://127.0.0.1:{telephony}", "honcho": honcho}
    finally:
        honcho.kill()


def auth(role: Role, user: str, name: str, title: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, name, title)}"}


def test_the_procfile_carries_a_case_to_the_front_desk_and_the_telephone_and_stops_cleanly(production):
    honcho = production["honcho"]
    wait_until(lambda: ready(production["api"], production["telephony"]), timeout=60, interval=0.5,
               message=honcho.output)
    assert "in 2 worker processes" in honcho.output()
    print(f"sessions on PostgreSQL with every process ready: {connections(production['database'])}")
    http = httpx.Client(base_url=production["api"], timeout=10)
    caseworker, guard = auth(Role.CASEWORKER, "c1", "Carl Berg"), auth(Role.GUARD, "g1", "Gitte Vagt")
    leader = auth(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")

    ref = http.post("/contact-files", json={"cpr": "211062-5629", "purpose": "restriction"}, headers=caseworker).json()["citizen_ref"]
    phone = http.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20 30 40 50"}, headers=caseworker)
    assert phone.is_success, phone.text
    decided = decide_over_http(http, ref, leader, caseworker,
                               in_person={"rule": "guard_present", "instructions": "Vagt til stede"},
                               phone={"rule": "named_contact_only", "contact": "Team Nord"})
    seen = http.post("/front-desk/lookup", params={"min_position": decided["position"]}, json={"cpr": "211062-5629"},
                     headers=guard)
    assert seen.status_code == 200, seen.text
    assert seen.json()["in_person"]["rule"] == "guard_present"

    def routing() -> dict:
        return httpx.post(f"{production['telephony']}/routing/lookup", json={"number": "+4520304050"}, timeout=5).json()

    wait_until(lambda: routing()["rule"] == "named_contact_only", timeout=30, interval=0.2, message=honcho.output)
    assert routing()["contact"] == "Team Nord"
    relays = http.get("/health").json()["relays"]
    assert relays and max(r["position"] for r in relays.values()) >= decided["position"]
    leaders = re.findall(r"(relay\w*)\.1\s+\|.*this process now publishes", honcho.log.read_text())
    assert len(leaders) == 1, honcho.output()  # the other relay stands by

    assert honcho.handle.poll() is None and not STOPPED.search(honcho.output()), honcho.output()
    exits = honcho.stop()
    assert exits == {name: 0 for name in procfile()}, honcho.output()
    for personal in ("2110625629", "211062-5629", "+4520304050", "Lone Hansen"):
        assert personal not in honcho.log.read_text()
