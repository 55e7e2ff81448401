"""End to end: a restriction decided over HTTP reaches the front desk, and the telephone via Kafka.

Real processes: `vaern serve` on PostgreSQL with the relay on, and `vaern telephony-consumer`,
talking to a real Kafka-protocol broker.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from api.security import issue_token
from consumers.telephony import TelephonyConsumer
from domain.values import PhoneRule, Role
from infra.database import SqliteDatabase
from tests.support import free_port, tail, wait_until
from tests.support.cases import decide_over_http
from tests.support.secrets import system_env

SECRET = "e2e-token-secret-0123456789abcdefghij"
VAERN = str(Path(sys.executable).with_name("vaern"))


class Process:
    """A `vaern` subprocess whose output goes to a log file, shown when a test fails."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = subprocess.Popen(
            [VAERN, *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return tail(self.log, 80)

    def stop(self) -> None:
        self.handle.terminate()
        try:
            self.handle.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.handle.kill()
            self.handle.wait()


@pytest.fixture
def system(database_url, kafka_bootstrap, kafka_topic_prefix, tmp_path) -> Iterator[dict]:
    port = free_port()
    env = system_env(database_url, kafka_bootstrap, kafka_topic_prefix, SECRET, tmp_path / "data")
    env["VAERN_PORT"] = str(port)
    service = Process(["serve"], env, tmp_path / "serve.log")
    consumer = Process(["telephony-consumer"], env, tmp_path / "consumer.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), timeout=30, message=service.output)
        assert f"Vaern is serving at {url}" in service.output()
        yield {"url": url, "service": service, "consumer": consumer, "telephony_db": tmp_path / "data" / "telephony.sqlite"}
    finally:
        consumer.stop()
        service.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def auth(role: Role, user: str, name: str, title: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, name, title)}"}


def test_a_restriction_decided_over_http_reaches_the_front_desk_and_the_telephony_consumer(system):
    http = httpx.Client(base_url=system["url"], timeout=10)
    caseworker = auth(Role.CASEWORKER, "c1", "Carl Berg")
    leader = auth(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
    guard = auth(Role.GUARD, "g1", "Gitte Vagt")

    ref = http.post("/contact-files", json={"cpr": "211062-5629", "purpose": "incident"}, headers=caseworker).json()["citizen_ref"]
    assert http.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20 30 40 50"}, headers=caseworker).is_success
    decided = decide_over_http(
        http, ref, leader, caseworker,
        in_person={"rule": "guard_present", "instructions": "Vagt til stede"},
        phone={"rule": "named_contact_only", "contact": "Team Nord"},
    )

    def front_desk(position: int) -> dict:
        answer = http.post(
            "/front-desk/lookup", params={"min_position": position}, json={"cpr": "211062-5629"}, headers=guard
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["in_person"]

    assert front_desk(decided["position"])["rule"] == "guard_present"

    # The consumer runs in its own process; read its table the way its lookup function does.
    telephony = TelephonyConsumer(SqliteDatabase(system["telephony_db"]), "unused:9092", "unused", "unused")

    def routing() -> PhoneRule:
        return telephony.lookup("+4520304050", datetime.now(timezone.utc)).rule

    wait_until(lambda: routing() is PhoneRule.NAMED_CONTACT_ONLY, timeout=30, message=system["consumer"].output)
    assert telephony.lookup("+4520304050", datetime.now(timezone.utc)).contact == "Team Nord"

    restriction_id = decided["restriction_id"]
    lifted = http.post(
        f"/contact-files/{ref}/restrictions/{restriction_id}/lift", json={"reason": "Adfærden er ophørt"}, headers=leader
    )
    assert lifted.status_code == 200, lifted.text
    assert front_desk(lifted.json()["position"])["rule"] == "open"
    wait_until(lambda: routing() is PhoneRule.OPEN, timeout=30, message=system["consumer"].output)

    health = http.get("/health").json()
    assert health["relay"]["lag"] == 0 and health["relay"]["error"] is None
    logs = system["service"].output() + system["consumer"].output()
    for personal in ("2110625629", "211062-5629", "+4520304050", "20304050", "Lone Hansen"):
        assert personal not in logs
