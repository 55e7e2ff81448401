"""Metrics as Prometheus scrapes them: counted by route template, status and rule, never by anyone's value."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Role
from infra.cli_metrics import serve_metrics
from infra.metrics import ProcessMetrics
from infra.metrics_scraped import TelephonyCollector
from infra.scheduler import ExpiryScheduler
from infra.services import Services
from tests.integration.conftest import bearer
from tests.integration.test_health_processes import VAERN, environment, until
from tests.integration.test_relay_and_consumer import (  # noqa: F401 - fixtures
    NAMED,
    closing,
    produce,
    read_everything,
    sqlite_consumer,
)
from tests.integration.test_telephony_consumer import restricted_citizen
from tests.support.cases import LEADER, decide, incident_facts
from tests.support.secrets import server_settings

CPR = "211062-5629"
PHONE = "+4520304050"
CASEWORKER = bearer(Role.CASEWORKER, "c-metrics", "Carl Berg")
GUARD = bearer(Role.GUARD, "g-metrics", "Gitte Vagt")
PERSONAL = ("211062", "5629", "20304050", "Carl", "Berg", "Gitte", "c-metrics", "g-metrics")
FILE = "/contact-files/{citizen_ref}"
# Every label a scrape of the API may carry: each takes its values from a fixed set.
LABELS = {"method", "route", "status", "le", "rule", "purpose", "follower", "kind", "role"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def served(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return samples(answer.read().decode())


def scrape(http) -> Samples:
    answer = http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def rose(before: Samples, after: Samples, name: str) -> Counter[tuple[tuple[str, str], ...]]:
    """How much each series of `name` rose between two scrapes (series that did not rise left out)."""
    return Counter({labels: after[(n, labels)] - before.get((n, labels), 0.0) for n, labels in after
                    if n == name and after[(n, labels)] > before.get((n, labels), 0.0)})


def requests(method: str, route: str, status: int) -> tuple[tuple[str, str], ...]:
    return (("method", method), ("route", route), ("status", str(status)))


def walk(http) -> str:
    """A caseworker opens a file, reads it twice, registers a number, then is refused twice; a guard looks the
    citizen up and is refused the file; someone asks for a path no route serves, naming the citizen."""
    ref = http.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    assert [http.get(f"/contact-files/{ref}", headers=CASEWORKER).status_code for _ in "ab"] == [200, 200]
    numbers = f"/contact-files/{ref}/phone-numbers"
    assert http.post(numbers, json={"number": PHONE}, headers={**CASEWORKER, "If-Match": '"1"'}).status_code == 200
    stale = http.post(numbers, json={"number": "+4520304051"}, headers={**CASEWORKER, "If-Match": '"1"'})
    assert stale.status_code == 409
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    ahead = http.post("/incidents", json=incident_facts(ref, occurred_at=future, known_at=future), headers=CASEWORKER)
    assert ahead.status_code == 422 and ahead.json()["title"] == "Refused by a rule", ahead.text
    assert http.post("/front-desk/lookup", json={"cpr": CPR}, headers=GUARD).status_code == 200
    assert http.get(f"/contact-files/{ref}", headers=GUARD).status_code == 403
    assert http.get(f"/no-such-thing/{ref}/{CPR}", headers=GUARD).status_code == 404
    return ref


def test_a_walkthrough_is_counted_by_route_template_status_and_rule_and_names_no_one(client):
    before = scrape(client)
    ref = walk(client)
    after = scrape(client)
    counted = rose(before, after, "vaern_http_requests_total")
    assert counted == {
        requests("POST", "/contact-files", 201): 1, requests("GET", FILE, 200): 2, requests("GET", FILE, 403): 1,
        requests("POST", f"{FILE}/phone-numbers", 200): 1, requests("POST", f"{FILE}/phone-numbers", 409): 1,
        requests("POST", "/incidents", 422): 1, requests("POST", "/front-desk/lookup", 200): 1,
        requests("GET", "(no route)", 404): 1, requests("GET", "/metrics", 200): 1,  # the first scrape
    }
    timed = rose(before, after, "vaern_http_request_duration_seconds_count")
    assert timed == counted
    refused = rose(before, after, "vaern_commands_refused_total")
    assert refused == {(("rule", "VersionConflict"),): 1, (("rule", "Forbidden"),): 1,
                       (("rule", "domain.incident.facts:_check_times"),): 1}, refused
    written = rose(before, after, "vaern_access_log_writes_total")
    # The open (a lookup of the CPR), two reads, the front-desk lookup, the refused read (denied).
    assert written == {(("purpose", "case_handling"),): 3, (("purpose", "entry_check"),): 1,
                       (("purpose", "denied"),): 1}, written
    head = after[("vaern_event_log_head", ())]
    assert head >= 2 and after[("vaern_follower_position", (("follower", "front_desk"), ("kind", "view")))] <= head
    assert {name for _, labels in after for name, _ in labels} == LABELS
    values = [value for _, labels in after for _, value in labels]
    segments = [ref, *ref.split("-"), CPR, PHONE]
    assert not [v for v in values for p in (*PERSONAL, *segments) if p.lower() in v.lower()]
    assert not [v for v in values if re.search(r"\d{6}", v)]  # no CPR, phone or position slips in under another form


def test_a_scheduler_tick_is_counted_with_when_it_last_ran(services):
    scheduler = ExpiryScheduler(services.app, services.schedule, services.db, metrics=services.metrics)
    scheduler._counted_tick()
    scraped = samples(services.metrics.exposition().decode())
    assert scraped[("vaern_scheduler_runs_total", (("outcome", "ok"),))] == 1
    assert abs(scraped[("vaern_scheduler_last_run_timestamp_seconds", ())] - datetime.now().timestamp()) < 60


def test_the_api_workers_counts_are_added_up_from_their_shared_directory(tmp_path):
    """Two worker processes each count a request; whichever a scrape reaches reports both."""
    shared = tmp_path / "multiproc"
    shared.mkdir()
    worker = "from infra.metrics import ProcessMetrics\nProcessMetrics().answered('GET', '/health', 200, 0.01)\n"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)},
                       cwd=Path(__file__).resolve().parents[2], check=True, timeout=60)
    scraped = samples(ProcessMetrics().exposition(str(shared)).decode())
    assert scraped[("vaern_http_requests_total", requests("GET", "/health", 200))] == 2


def test_a_view_runner_started_with_a_metrics_port_serves_its_position(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path)
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(CPR), actor=LEADER)).citizen_ref
    decide(services.app, ref)
    head = services.events.head()
    runner = subprocess.Popen([VAERN, "projection", "front_desk", "--metrics-port", "0"], env=environment(settings),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert runner.stdout is not None
        url = re.search(r"http://\S+/metrics", runner.stdout.readline())
        assert url is not None
        view = (("follower", "front_desk"), ("kind", "view"))
        scraped = until(lambda: (s := served(url.group(0))).get(("vaern_follower_position", view)) == head and s,
                        what="the view's position served at its metrics port")
        assert scraped[("vaern_follower_lag_events", view)] == 0 and scraped[("vaern_event_log_head", ())] == head
        assert scraped[("vaern_follower_behind_seconds", view)] == 0
        assert {labels for name, labels in scraped if name == "vaern_follower_position"} == {view}  # its own only
    finally:
        os.kill(runner.pid, signal.SIGTERM)
        runner.wait(15)
        services.close()


def test_the_telephony_consumer_serves_its_dead_letters_and_messages_by_outcome(
    closing, tmp_path, kafka_bootstrap, kafka_topic_prefix  # noqa: F811
):
    topic = f"{kafka_topic_prefix}.contact-restrictions.v1"
    registered, decided = restricted_citizen("+4520123456", NAMED)
    produce(kafka_bootstrap, topic, [registered, (registered[0], b"\xff not json"), decided])
    consumer = sqlite_consumer(closing, tmp_path, kafka_bootstrap, topic, f"{kafka_topic_prefix}-telephony")
    read_everything(consumer, 3)
    # What `vaern telephony-consumer --metrics-port 0` serves.
    server = serve_metrics(CollectorRegistry(), 0, "127.0.0.1", TelephonyCollector(consumer.status))
    assert server is not None
    try:
        scraped = served(f"http://127.0.0.1:{server.server_port}/metrics")
    finally:
        server.shutdown()
    assert scraped[("vaern_dead_letters_total", ())] == 1
    assert scraped[("vaern_telephony_messages_total", (("outcome", "applied"),))] == 2
    assert not [v for _, labels in scraped for _, v in labels if "20123456" in v]
