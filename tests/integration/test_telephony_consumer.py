"""The reference consumer: dead letters that never stop a partition, lookups over HTTP, visible lag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import httpx
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from consumers.telephony_http import create_app
from consumers.topics import dead_letter_topic
from domain.contact_file.aggregate import ContactFile
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    ACTOR,
    BANNED,
    NAMED,
    now,
    closing,
    decide_on,
    history,
    produce,
    read_everything,
    sqlite_consumer,
)
from tests.support import free_port, tail, wait_until

VAERN = str(Path(sys.executable).with_name("vaern"))


def restricted_citizen(number: str, phone: dict) -> list[tuple[bytes, bytes]]:
    file = ContactFile.open(uuid4(), ACTOR, now())
    return history(
        file,
        lambda f: f.register_phone_number(number, ACTOR, now()),
        lambda f: decide_on(f, phone),
    )


def dead_letters(bootstrap: str, topic: str, count: int) -> list:
    reader = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        partitions = wait_until(lambda: reader.partitions_for_topic(topic), 10, message=f"no topic {topic}")
        reader.assign([TopicPartition(topic, p) for p in partitions])
        records: list = []
        wait_until(lambda: records.extend(r for rs in reader.poll(200).values() for r in rs) or len(records) >= count,
                   10, message=lambda: f"{len(records)} of {count} dead letters")
        return sorted(records, key=lambda r: int(dict(r.headers)["vaern-dlq-offset"]))
    finally:
        reader.close()


def test_a_message_it_cannot_parse_is_parked_with_the_reason_and_its_partition_reads_on(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    registered, decided = restricted_citizen("+4520123456", NAMED)
    key = registered[0]
    broken = [(key, b"\xff not json"), (key, b'{"type": "dk.kk.vaern.restriction.decided.v9"}')]
    produce(kafka_bootstrap, topic, [registered, *broken, decided])  # one key: one partition, in this order
    group = f"{kafka_topic_prefix}-telephony"
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, group)
    read_everything(consumer, 4)
    assert (consumer.applied, consumer.dead_lettered) == (2, 2)
    assert consumer.lookup("+4520123456").rule.value == "named_contact_only"  # the later message got through

    parked = dead_letters(kafka_bootstrap, dead_letter_topic(topic), 2)
    assert [(r.key, r.value) for r in parked] == broken
    headers = [dict(r.headers) for r in parked]
    assert [h["vaern-dlq-offset"] for h in headers] == [b"1", b"2"]
    assert {h["vaern-dlq-topic"] for h in headers} == {topic.encode()}
    assert {h["vaern-dlq-group"] for h in headers} == {group.encode()}
    assert headers[0]["vaern-dlq-reason"] == b"the value is not UTF-8 JSON"
    assert b"decided.v9" in headers[1]["vaern-dlq-reason"]
    [partition] = {h["vaern-dlq-partition"] for h in headers}
    assert consumer.table.offsets(topic)[int(partition)].next_offset == 4  # committed past them


def test_lookups_over_http_take_the_number_in_the_body_and_health_shows_the_lag(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    messages = restricted_citizen("+4520123456", BANNED)
    produce(kafka_bootstrap, topic, messages)
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-telephony",
                               max_poll_records=1)
    http = TestClient(create_app(consumer))
    assert http.get("/health").json()["lag"] is None  # not assigned yet: unknown, not zero

    wait_until(lambda: consumer.poll_once(500) == 1, 10)  # the first of the citizen's two messages
    behind = http.get("/health").json()
    assert behind["status"] == "ok" and behind["assigned"]
    assert [p["lag"] for p in behind["partitions"].values() if p["highwater"]] == [1]
    read_everything(consumer, 2)
    wait_until(lambda: consumer.poll_once() == 0 and http.get("/health").json()["lag"] == 0, 10)

    def route(body: dict) -> dict:
        answer = http.post("/routing/lookup", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert route({"number": "20 12 34 56"})["rule"] == "banned"
    for withheld_or_unknown in (None, "", "anonymous", "+4587654321"):
        assert route({"number": withheld_or_unknown})["rule"] == "open"
    assert route({"number": "+4520123456", "at": "2000-01-01T00:00:00Z"})["rule"] == "open"  # not yet in force
    assert "citizen_ref" not in route({"number": "+4520123456"})
    assert http.get("/routing", params={"number": "+4520123456"}).status_code in (404, 405)
    assert http.post("/routing/lookup", json={"number": "+4520123456", "cpr": "x"}).status_code == 422


def test_the_command_loads_a_snapshot_and_serves_lookups_and_health_over_http(
    tmp_path, kafka_bootstrap, kafka_topic_prefix
):
    _, decided = restricted_citizen("+4520123456", BANNED)
    state = json.loads(decided[1])["data"]
    (tmp_path / "snapshot.json").write_text(json.dumps({"position": state["position"], "states": [state]}))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")},
        "VAERN_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VAERN_TOPIC_PREFIX": kafka_topic_prefix,
        "VAERN_TELEPHONY_GROUP_ID": f"{kafka_topic_prefix}-telephony",
        "VAERN_DATA_DIR": str(tmp_path / "data"),
    }
    args = ["telephony-consumer", "--port", str(port), "--snapshot", str(tmp_path / "snapshot.json")]
    log = tmp_path / "consumer.log"
    process = subprocess.Popen([VAERN, *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(f"{url}/health"), 20, message=lambda: tail(log))
        answer = httpx.post(f"{url}/routing/lookup", json={"number": "+45 20 12 34 56"}, timeout=5)
        assert answer.status_code == 200 and answer.json()["rule"] == "banned"  # from the snapshot, before any topic
        assert httpx.post(f"{url}/routing/lookup", json={"number": None}, timeout=5).json()["rule"] == "open"
    finally:
        process.terminate()
        process.wait(15)
    assert "20123456" not in log.read_text()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
