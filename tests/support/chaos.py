"""Vaern under faults: every Procfile process on PostgreSQL and the broker, a steady command load,
kill -9 of the API, the view runners, the relays and the scheduler at random moments (each started
again at once), the broker stopped for a while and the PostgreSQL cluster restarted; then the checks
of tests/support/chaos_checks.py. Used by tests/integration/test_faults.py (bounded, in CI) and by
bench/chaos.py (longer).

The broker keeps topics in memory, so the one that comes back is empty: the relay notices the topic's
new id and publishes every routing state again from the log's beginning, and the consumer reads the
new topic from its start (consumers/relay_topic.py, consumers/telephony_positions.py).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.security import issue_token
from domain.values import Role
from infra.services import Services
from tests.support import chaos_checks as checks
from tests.support import free_port, wait_until
from tests.support.broker import BrokerProcess
from tests.support.chaos_load import Ledger, Load
from tests.support.postgres import ThrowawayCluster
from tests.support.secrets import server_settings, system_env
from tests.support.supervisor import BIN, Supervisor, ready

SECRET = "chaos-token-secret-0123456789abcdefghij"
SPARED = {"telephony"}  # the consumer stands for the telephony system, outside Vaern: not killed


@dataclass(frozen=True)
class Plan:
    seconds: float = 80.0  # of load and faults
    kills: int = 24
    broker_down: float = 30.0
    workers: int = 3
    catch_up: float = 120.0  # longest wait for every follower to reach the head afterwards


@dataclass
class Report:
    kills: Counter = field(default_factory=Counter)
    own_exits: list = field(default_factory=list)
    load: dict[str, int] = field(default_factory=dict)
    unacked: Counter = field(default_factory=Counter)  # the answers unacknowledged commands got
    unacked_applied: int = 0
    lost: list = field(default_factory=list)
    twice: dict = field(default_factory=dict)
    strays: list = field(default_factory=list)
    views_differing: dict[str, list[str]] = field(default_factory=dict)
    consumer_equals_snapshot: bool = False
    lookups_unlogged: list[str] = field(default_factory=list)
    behind: dict[str, Any] = field(default_factory=dict)  # followers not at the head after the wait
    broker_down: float = 0.0
    database_restarts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    stopped: dict[str, int | None] = field(default_factory=dict)  # each process's exit code on SIGTERM at the end

    def summary(self) -> str:
        differing = {v: t for v, t in self.views_differing.items() if t}
        return "\n".join([
            f"kills: {sum(self.kills.values())} {dict(sorted(self.kills.items()))}; exits unasked: {self.own_exits}",
            f"commands: {self.load.get('commands')} sent, {self.load.get('acked')} acknowledged,"
            f" {self.load.get('unacked')} not ({self.unacked_applied} of those recorded once): {dict(self.unacked)}",
            f"lost: {len(self.lost)}; applied twice: {len(self.twice)}; recorded but never sent: {len(self.strays)}",
            f"lookups: {self.load.get('lookups')} sent, {self.load.get('lookups_answered')} answered,"
            f" {len(self.lookups_unlogged)} answered without an access-log entry",
            f"views differing from a rebuild: {differing or 'none'} (of {len(self.views_differing)});"
            f" consumer's table equals the snapshot: {self.consumer_equals_snapshot}",
            f"broker down {self.broker_down:.1f} s; PostgreSQL restarts: {self.database_restarts};"
            f" followers behind the head after the wait: {self.behind or 'none'}",
            f"exit codes on SIGTERM at the end: {self.stopped}",
            "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()),
        ])


def environment(database_url: str, broker: BrokerProcess, topic_prefix: str, work: Path) -> tuple[dict[str, str], dict]:
    """The processes' environment, and where the API and the consumer answer."""
    api, telephony = free_port(), free_port()
    env = system_env(database_url, broker.bootstrap, topic_prefix, SECRET, work / "data")
    env.update({
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "VAERN_PORT": str(api), "VAERN_TELEPHONY_PORT": str(telephony), "VAERN_API_WORKERS": "2",
        # A guard looks up hundreds of citizens an hour here, at any hour: no limit, no alerts.
        "VAERN_WATCH_LOOKUPS_PER_HOUR": "1000000", "VAERN_WATCH_LOOKUP_LIMIT_PER_HOUR": "1000001",
        "VAERN_WATCH_OPENS": "00:00", "VAERN_WATCH_CLOSES": "23:59:59.999999",
        "VAERN_WATCH_OPEN_WEEKDAYS": "[1,2,3,4,5,6,7]",
    })
    return env, {"api": f"http://127.0.0.1:{api}", "telephony": f"http://127.0.0.1:{telephony}"}


class Faults:
    """The fault timeline: kills spread over the run, one broker outage, one database restart.

    Every action runs on the calling thread: the broker dies with the thread that started it
    (PR_SET_PDEATHSIG, tests/support/broker.py), so it must be started from one that outlives it."""

    def __init__(self, plan: Plan, supervisor: Supervisor, broker: BrokerProcess, cluster: ThrowawayCluster) -> None:
        self.plan, self.supervisor, self.broker, self.cluster = plan, supervisor, broker, cluster
        self.targets = sorted(set(supervisor.processes) - SPARED)
        self.broker_down = 0.0
        self.database_restarts = 0
        self._stopped_at = 0.0

    def timeline(self) -> list[tuple[float, Callable[[], None]]]:
        """(seconds into the run, action), in order."""
        step, seconds = self.plan.seconds / (self.plan.kills + 1), self.plan.seconds
        victims = [name for _ in range(self.plan.kills // len(self.targets) + 1)
                   for name in random.sample(self.targets, len(self.targets))]  # each in turn, in a random order
        kills = [(step * (n + random.uniform(-0.4, 0.4)), self._killing(victims[n - 1]))
                 for n in range(1, self.plan.kills + 1)]
        outage = [(0.2 * seconds, self._stop_broker), (0.2 * seconds + self.plan.broker_down, self._start_broker)]
        return sorted([*kills, *outage, (0.7 * seconds, self._restart_database)], key=lambda timed: timed[0])

    def run(self) -> None:
        started = time.monotonic()
        for at, action in self.timeline():
            _sleep_until(started + at)
            action()
        _sleep_until(started + self.plan.seconds)

    def _killing(self, name: str) -> Callable[[], None]:
        return lambda: self.supervisor.kill(name)

    def _stop_broker(self) -> None:
        self._stopped_at = time.monotonic()
        self.broker.stop()

    def _start_broker(self) -> None:
        self.broker.start()  # same port, empty storage
        self.broker_down = time.monotonic() - self._stopped_at

    def _restart_database(self) -> None:
        self.cluster.restart()
        self.database_restarts += 1


def run(plan: Plan, cluster: ThrowawayCluster, database_url: str, broker: BrokerProcess, topic_prefix: str,
        work: Path) -> Report:
    """Starts every process, runs load and faults by `plan`, lets everything catch up, checks; the report."""
    report, clock = Report(), time.monotonic()
    env, where = environment(database_url, broker, topic_prefix, work)
    supervisor = Supervisor(env, work / "logs")
    supervisor.start()
    try:
        wait_until(lambda: ready(where["api"], where["telephony"]), timeout=90, interval=0.5, message=supervisor.output)
        report.seconds["start"] = time.monotonic() - clock
        ledger = _under_faults(plan, supervisor, broker, cluster, where["api"], report)
        report.seconds["faults"] = time.monotonic() - clock - report.seconds["start"]
        settings = server_settings(data_dir=work / "checker", database_url=database_url, token_secret=SECRET,
                                   topic_prefix=topic_prefix)
        services = Services.build(settings)
        try:
            _settle(plan, services, settings.restrictions_topic, where, work / "data", report)
            report.seconds["settle"] = time.monotonic() - clock - sum(report.seconds.values())
            report.stopped = supervisor.stop()
            _check(services, ledger, report)
        finally:
            services.close()
    finally:
        supervisor.stop()
        report.kills, report.own_exits = supervisor.kills, supervisor.own_exits
    report.seconds["total"] = time.monotonic() - clock
    return report


def _under_faults(plan: Plan, supervisor: Supervisor, broker: BrokerProcess, cluster: ThrowawayCluster, api: str,
                  report: Report) -> Ledger:
    load = Load(api, SECRET, workers=plan.workers)
    load.start()
    faults = Faults(plan, supervisor, broker, cluster)
    try:
        faults.run()
    finally:
        ledger = load.stop()
    report.broker_down, report.database_restarts = faults.broker_down, faults.database_restarts
    report.load, report.unacked = ledger.counts(), ledger.unacked_answers()
    return ledger


def _settle(plan: Plan, services: Services, topic: str, where: dict, data_dir: Path, report: Report) -> None:
    """Waits for the views and the relay to reach the head, then for the consumer to hold the snapshot."""
    relay = f"relay:{topic}"
    try:
        wait_until(lambda: not checks.behind(services, relay), timeout=plan.catch_up, interval=1.0)
    except AssertionError:
        pass
    report.behind = checks.behind(services, relay)
    telephony = {"Authorization": f"Bearer {issue_token(SECRET, Role.TELEPHONY, 'tel', 'Telefoni')}"}
    report.consumer_equals_snapshot = checks.consumer_equals_snapshot(where["api"], telephony, data_dir, plan.catch_up)


def _check(services: Services, ledger: Ledger, report: Report) -> None:
    found: dict[str, Any] = checks.commands_in_log(services, ledger)
    report.lost, report.twice, report.strays = found["lost"], found["twice"], found["strays"]
    report.unacked_applied = found["unacked_applied"]
    report.lookups_unlogged = checks.lookups_unlogged(services, ledger)
    report.views_differing = checks.views_against_rebuild(services)


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))
