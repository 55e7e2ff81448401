"""Every metric a Vaern process exposes in the Prometheus format, defined here and nowhere else.

A label takes its values from a fixed set only: a route template (`/contact-files/{citizen_ref}`,
never the path as sent; `(no route)` when none matched), a status code, an HTTP method Vaern serves,
a view or relay name, a role, an access-log purpose, the rule that refused a command (where it is
written in the code, never its field or reason: either may echo what the caller sent). Never a user,
a citizen reference, a CPR or phone number, or a name.

Each process counts its own (`ProcessMetrics`, one registry per set of services, so two in one
process, as in the tests, do not mix). The API's workers (`vaern api --workers N`) write their counts
to a directory shared by them (prometheus-client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`,
created and removed by `vaern api`), and whichever worker answers `GET /metrics` adds them all up.
What is read at scrape time (the followers' positions from the database: infra/metrics_scraped.py)
is the same in every worker, and is collected by the one answering.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from domain.errors import RuleViolation
from domain.lookup_watch import AlertKind
from domain.values import Role

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: from a cached lookup (a few ms) to the wait limit of a read behind its view (several s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OWN_PACKAGES = frozenset({"domain", "api", "infra", "projections", "consumers"})
SERVED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ProcessMetrics:
    """The metrics one process (or one set of services in it) counts, in its own registry."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        http = ["method", "route", "status"]
        self.requests = Counter("vaern_http_requests", "HTTP requests answered, by route template and status", http,
                                registry=r)
        self.latency = Histogram("vaern_http_request_duration_seconds", "time to answer an HTTP request, by route"
                                 " template and status", http, buckets=LATENCY_BUCKETS, registry=r)
        self.refused = Counter("vaern_commands_refused", "requests refused by a rule (where in the code it is"
                               " written), a version conflict, the role table or the lookup limit", ["rule"], registry=r)
        self.access_writes = Counter("vaern_access_log_writes", "access-log entries written, by purpose", ["purpose"],
                                     registry=r)
        self.scheduler_runs = Counter("vaern_scheduler_runs", "scheduler ticks, by outcome (ok, failed)", ["outcome"],
                                      registry=r)
        self.scheduler_last_run = Gauge("vaern_scheduler_last_run_timestamp_seconds", "when the scheduler last"
                                        " finished a tick without error (Unix time)", registry=r, multiprocess_mode="max")
        self.expiries = Counter("vaern_scheduler_expiries", "restriction expiries the scheduler recorded", registry=r)
        self._lookup_counters(r)
        self._scraped: list[Collector] = []

    def _lookup_counters(self, r: CollectorRegistry) -> None:
        self.lookups = Counter("vaern_front_desk_lookups", "front-desk lookups asked, by role", ["role"], registry=r)
        self.throttled = Counter("vaern_front_desk_lookups_throttled", "front-desk lookups refused for the hourly"
                                 " limit (429), by role", ["role"], registry=r)
        self.alerts = Counter("vaern_lookup_alerts", "lookup alerts raised by this process, by kind", ["kind"], registry=r)
        for role in Role:  # every series present from the start, so a rate over them has a beginning
            self.lookups.labels(role.value), self.throttled.labels(role.value)
        for kind in AlertKind:
            self.alerts.labels(kind.value)

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """One HTTP answer; `route` must be a route template (api/request_ids.py `route_of`)."""
        labels = (method if method in SERVED_METHODS else "other", route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def ticked(self, expiries: int | None) -> None:
        """One scheduler tick: the expiries it recorded, or None when it failed."""
        if expiries is None:
            self.scheduler_runs.labels("failed").inc()
            return
        self.scheduler_runs.labels("ok").inc()
        self.expiries.inc(expiries)
        self.scheduler_last_run.set(time.time())

    def add(self, collector: Collector) -> None:
        """Adds a collector read at scrape time (infra/metrics_scraped.py). The first of a kind stands: under
        `vaern serve` the views' runners and the API share one set of services, and the API shows them all."""
        if not any(type(c) is type(collector) for c in self._scraped):
            self.registry.register(collector)
            self._scraped.append(collector)

    def exposition(self, directory: str | None = None) -> bytes:
        """The text `GET /metrics` answers: this process's counts, or, in multiprocess mode (the workers'
        `directory`, by default `PROMETHEUS_MULTIPROC_DIR`), every worker's."""
        directory = directory or os.environ.get(MULTIPROC_ENV)
        if not directory:
            return generate_latest(self.registry)
        gathered = CollectorRegistry()
        MultiProcessCollector(gathered, path=directory)
        for collector in self._scraped:
            gathered.register(collector)
        return generate_latest(gathered)


@contextmanager
def shared_by_workers() -> Iterator[str]:
    """A fresh directory for the API workers' counts, named in the environment they inherit; removed after.

    Fresh each start: counts a stopped server left behind would be added to the new one's.
    """
    directory = tempfile.mkdtemp(prefix="vaern-metrics-")
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def refusal_rule(error: BaseException) -> str:
    """The label of a refusal: where the rule a `RuleViolation` enforces is written (`module:function`, the
    innermost frame of Vaern's own code), else the error's type (`VersionConflict`, `Forbidden`, ...)."""
    if not isinstance(error, RuleViolation):
        return type(error).__name__
    while isinstance(error.__context__, RuleViolation) and error.__suppress_context__:
        error = error.__context__  # re-raised under a prefix (domain/errors.py `within`): the first raise says where
    site, frame = "RuleViolation", error.__traceback__
    while frame is not None:
        module = frame.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in OWN_PACKAGES and module != "domain.errors":
            site = f"{module}:{frame.tb_frame.f_code.co_qualname}"
        frame = frame.tb_next
    return site


def serve(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> WSGIServer:
    """Serves `registry` on http://host:port/metrics from a background thread (port 0: any free one)."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host, registry=registry)
    return server
