"""Benchmark: front-desk lookups over HTTP, Vaern on PostgreSQL against a one-SELECT baseline.

    .venv/bin/python bench/front_desk.py            # full size: 10,000 citizens, 1,000 restricted
    .venv/bin/python bench/front_desk.py --quick    # smoke run: 1,000 citizens, 3 s phases

In a fresh throwaway PostgreSQL database (dropped at the end) it seeds citizens through Vaern's
own commands, brings the views up to date, starts `vaern api` and the baseline app (bench/
baseline_app.py) as uvicorn subprocesses with one worker each, and loads both with the same
client (bench/loadgen.py): a closed loop for maximum throughput and an open loop at a fixed rate
for latency. It prints one table. The exit code is 0 whether or not the targets hold; it is
non-zero only when the benchmark itself failed (setup error, wrong answers, interrupted).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `bench` importable

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import make_conninfo  # noqa: E402

from bench import loadgen  # noqa: E402

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
PATH = "/front-desk/lookup"
THROUGHPUT_TARGET = 0.70  # Vaern's max throughput as a share of the baseline's
P99_TARGET_MS = 20.0  # Vaern's p99 at the fixed rate

# The lookup mix: on file and restricted / on file, no restriction / never on file.
MIX = {"restricted": 0.2, "unrestricted": 0.7, "unknown": 0.1}
RULES = ("guard_present", "guard_present", "by_appointment", "by_appointment", "banned")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The benchmark could not run or measured something wrong; the exit code is non-zero."""


# --------------------------------------------------------------------------------------------
# Citizens
# --------------------------------------------------------------------------------------------

_FIRST_BIRTHDAY = date(1925, 1, 1)
_BIRTHDAYS = 20000  # days from _FIRST_BIRTHDAY: up to 1979, all in the 1900s


def cpr_number(index: int) -> str:
    """The index-th benchmark CPR number, DDMMYY-SSSS with a real birth date, unique per index.

    Birth dates step 7 days (coprime with the range, so distinct for 20,000 indices); the serial's
    first digit is 1-3, which places the year in the 1900s.
    """
    if not 0 <= index < _BIRTHDAYS:
        raise ValueError(f"only {_BIRTHDAYS} distinct benchmark CPR numbers")
    born = _FIRST_BIRTHDAY + timedelta(days=(index * 7) % _BIRTHDAYS)
    serial = 1000 + (index * 37) % 3000
    return f"{born:%d%m%y}-{serial:04d}"


@dataclass(frozen=True)
class Population:
    cprs: list[str]  # on file
    restricted: dict[str, str]  # cpr -> in-person rule
    unknown: list[str]  # never on file

    @classmethod
    def make(cls, citizens: int, restricted: int, unknown: int = 1000, seed: int = 2024) -> Population:
        if restricted > citizens:
            raise BenchError("more restricted citizens than citizens")
        if citizens + unknown > _BIRTHDAYS:
            raise BenchError(f"at most {_BIRTHDAYS - unknown} citizens")
        cprs = [cpr_number(i) for i in range(citizens)]
        chosen = random.Random(seed).sample(range(citizens), restricted)
        rules = {cprs[i]: RULES[n % len(RULES)] for n, i in enumerate(chosen)}
        return cls(cprs=cprs, restricted=rules, unknown=[cpr_number(citizens + j) for j in range(unknown)])

    def lookup_sequence(self, length: int = 20000, seed: int = 7) -> list[tuple[str, str]]:
        """A deterministic shuffled mix of (kind, cpr) lookups, the same for every system."""
        rng = random.Random(seed)
        restricted = list(self.restricted)
        unrestricted = [c for c in self.cprs if c not in self.restricted] or self.cprs
        pools = {"restricted": restricted, "unrestricted": unrestricted, "unknown": self.unknown}
        kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=length)
        return [(kind, rng.choice(pools[kind])) for kind in kinds]


# --------------------------------------------------------------------------------------------
# The throwaway database
# --------------------------------------------------------------------------------------------


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


class ThrowawayDatabase:
    """A fresh database with a unique name on the given server; `drop` removes it (idempotent)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"vaern_bench_{uuid.uuid4().hex[:12]}"
        self.url = with_dbname(server_url, self.name)
        self.created = False

    def server_version(self) -> str:
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"

    def create(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        self.created = False


# --------------------------------------------------------------------------------------------
# Seeding through Vaern's commands
# --------------------------------------------------------------------------------------------


def seed(settings: Any, population: Population, threads: int, stop: threading.Event) -> dict[str, float]:
    """Opens every citizen's contact file and decides the restrictions, through the application."""
    from domain.identity import Cpr
    from domain.incident_values import IncidentFacts
    from domain.restriction_rules import HearingException
    from domain.restrictions import Grounds, RestrictionTerms
    from domain.values import Actor, Channel, InPersonRule, Official, Role
    from domain.values import InPersonTerms as InPersonTermsValue
    from infra.eventstore import build_application
    from infra.services import Services

    caseworker = Actor(user_id="bench-caseworker", name="Bench Sagsbehandler", role=Role.CASEWORKER)
    leader = Actor(user_id="bench-leader", name="Bench Leder", role=Role.LEADER)
    official = Official(user_id="bench-leader", name="Bench Leder", title="Afdelingsleder")
    now = datetime.now(timezone.utc)

    def terms(rule: str) -> RestrictionTerms:
        return RestrictionTerms(
            in_person=InPersonTermsValue(rule=InPersonRule(rule), instructions="Vagt til stede; ring til teamleder"),
            open_channel=Channel.WRITTEN,
            contact_point="Team Nord, 33 17 33 17",
            valid_from=now,  # a decision never reaches back: in force from the seeding on
            valid_until=now + timedelta(days=300),
            reasons="Benchmark: gentagne trusler mod sagsbehandler",
        )

    def decide(ref: Any, restriction_terms: RestrictionTerms) -> None:
        # As in the office: an incident, a proposal on it, the hearing skipped for urgency, the decision.
        facts = IncidentFacts.model_validate({
            "kinds": ["threat"], "threat": {"targets": ["employee"]}, "channel": "meeting",
            "occurred_at": now - timedelta(days=3), "known_at": now - timedelta(days=3), "centre": "JKI",
            "affected": [{"user_id": "bench-caseworker-7", "name": "Bench Medarbejder"}],
            "perpetrator": {"kind": "citizen", "citizen_ref": ref}, "outside_working_hours": False,
            "description": "Benchmark: trusler under et møde",
        })
        incident_id = app.report_incident(facts, caseworker).incident_id
        grounds = Grounds(incident_ids=(incident_id,), milder_measures=("Mundtlig advarsel",))
        proposed = app.propose_restriction(ref, restriction_terms, grounds, official, leader)
        app.skip_hearing(ref, proposed.created_id, HearingException.URGENCY, "Benchmark", leader)
        app.decide_restriction(ref, proposed.created_id, official, leader)

    timings: dict[str, float] = {}
    app = build_application(settings)
    try:
        done = [0]
        lock = threading.Lock()
        started = time.perf_counter()

        def one(cpr_text: str) -> None:
            if stop.is_set():
                return
            receipt = app.open_contact_file(Cpr.parse(cpr_text), caseworker)
            if receipt.position is None:
                raise BenchError("a benchmark contact file was already open: the database is not fresh")
            rule = population.restricted.get(cpr_text)
            if rule is not None:
                decide(receipt.citizen_ref, terms(rule))
            with lock:
                done[0] += 1
                if done[0] % 2000 == 0:
                    log(f"  {done[0]:,} / {len(population.cprs):,} citizens seeded")

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="seed") as pool:
            try:
                for future in [pool.submit(one, cpr) for cpr in population.cprs]:
                    future.result()
            except BaseException:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        timings["seed"] = time.perf_counter() - started
    finally:
        app.close()

    started = time.perf_counter()
    services = Services.build(settings)
    try:
        for view in ("front_desk", "phone_routing"):
            services.runner(view).catch_up()
        head = services.events.head()
        positions = {view: services.runner(view).position for view in ("front_desk", "phone_routing")}
    finally:
        services.close()
    timings["catch_up"] = time.perf_counter() - started
    if any(position != head for position in positions.values()):
        raise BenchError(f"views not caught up: head {head}, positions {positions}")
    return timings


def check_view_tables(url: str, population: Population) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        files = conn.execute("SELECT count(*) FROM front_desk_files").fetchone()
        restrictions = conn.execute("SELECT count(*) FROM front_desk_restrictions").fetchone()
    counts = (files[0] if files else -1, restrictions[0] if restrictions else -1)
    if counts != (len(population.cprs), len(population.restricted)):
        expected = (len(population.cprs), len(population.restricted))
        raise BenchError(f"the front-desk view holds (files, restrictions) {counts}, expected {expected}")


# --------------------------------------------------------------------------------------------
# Servers under test
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def base_environment() -> dict[str, str]:
    """This process's environment without VAERN_* settings (each server gets exactly ours)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VAERN_", "BENCH_BASELINE_"))}


class Server:
    """A server subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.name, self.command, self.env, self.port = name, command, env, port
        self.log_path = workdir / f"{name}.log"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, not it; we stop it ourselves
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            conn.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)  # the group is the server and anything it started
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def vaern_command() -> list[str]:
    script = Path(sys.executable).parent / "vaern"
    if script.exists():
        return [str(script), "api"]
    found = shutil.which("vaern")
    if found:
        return [found, "api"]
    return [sys.executable, "-c", "from infra.cli import main; main()", "api"]


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Measured:
    closed: loadgen.Result
    open: loadgen.Result
    client_cpu: float  # share of one core the load generator used at max load


def sanity_check(servers: dict[str, Server], population: Population, headers: dict[str, str]) -> None:
    """Both systems give the expected answer for a sample of each kind of citizen."""
    sample = (
        [(c, population.restricted[c]) for c in list(population.restricted)[:10]]
        + [(c, "open") for c in population.cprs if c not in population.restricted][:10]
        + [(c, "open") for c in population.unknown[:10]]
    )
    for name, server in servers.items():
        for cpr_text, rule in sample:
            status, answer = server.post(PATH, {"cpr": cpr_text}, headers)
            if status != 200:
                raise BenchError(f"{name}: lookup answered {status}: {answer}")
            got = answer.get("in_person", {}).get("rule")
            if got != rule or "on_file" in answer:
                raise BenchError(f"{name}: expected the rule {rule} (and no on_file), got {answer}")


def measure(
    servers: dict[str, Server], payloads: list[bytes], args: argparse.Namespace, stop: threading.Event
) -> dict[str, Measured]:
    """Max load for every system, then the fixed rate for every system; in `args.rounds` rounds
    that alternate which system goes first, so background noise falls on both alike."""
    closed = {name: loadgen.Result(duration=0.0) for name in servers}
    opened = {name: loadgen.Result(duration=0.0) for name in servers}
    cpu_time = dict.fromkeys(servers, 0.0)
    wall_time = dict.fromkeys(servers, 0.0)

    def order(round_number: int) -> list[tuple[str, Server]]:
        items = list(servers.items())
        return items if round_number % 2 == 0 else items[::-1]

    of_rounds = lambda r: f" (round {r + 1} of {args.rounds})" if args.rounds > 1 else ""  # noqa: E731
    for r in range(args.rounds):
        for name, server in order(r):
            log(
                f"{name}: max load, {args.connections} connections, "
                f"{args.warmup:g} s warm-up + {args.duration:g} s measured{of_rounds(r)}"
            )
            cpu, wall = time.process_time(), time.perf_counter()
            result = loadgen.closed_loop(
                HOST, server.port, payloads, args.connections, args.warmup, args.duration, stop
            )
            cpu_time[name] += time.process_time() - cpu
            wall_time[name] += time.perf_counter() - wall
            closed[name].absorb(result)
            log(f"  {result.throughput:,.0f} req/s, {result.errors} errors")
    for r in range(args.rounds):
        for name, server in order(r):
            log(
                f"{name}: fixed rate {args.rate:g} req/s, "
                f"{args.warmup:g} s warm-up + {args.rate_duration:g} s measured{of_rounds(r)}"
            )
            result = loadgen.open_loop(
                HOST, server.port, payloads, args.rate, args.warmup, args.rate_duration, args.open_workers, stop
            )
            opened[name].absorb(result)
            p50, p99 = result.quantile_ms(0.5), result.quantile_ms(0.99)
            log(f"  p50 {p50:.1f} ms, p99 {p99:.1f} ms, {result.errors} errors")
    return {name: Measured(closed[name], opened[name], cpu_time[name] / wall_time[name]) for name in servers}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def report(
    results: dict[str, Measured], args: argparse.Namespace, environment: dict[str, str], timings: dict[str, float]
) -> tuple[str, dict[str, Any]]:
    rows = []
    for name, m in results.items():
        rows.append(
            [
                name,
                f"{m.closed.throughput:,.0f}",
                _ms(m.closed.quantile_ms(0.50)),
                _ms(m.closed.quantile_ms(0.99)),
                f"{m.closed.errors}",
                _ms(m.open.quantile_ms(0.50)),
                _ms(m.open.quantile_ms(0.99)),
                f"{m.open.errors}",
                f"{m.open.completed}/{m.open.scheduled}",
            ]
        )
    head1 = ["", f"max load ({args.connections} connections, {args.duration * args.rounds:g} s)", "", "", "",
             f"at {args.rate:g} req/s ({args.rate_duration * args.rounds:g} s)", "", "", ""]
    head2 = ["system", "req/s", "p50 ms", "p99 ms", "errors", "p50 ms", "p99 ms", "errors", "ok/sent"]
    widths = [max(len(r[i]) for r in [head2, *rows]) for i in range(len(head2))]
    widths[0] = max(widths[0], 8)
    for first, last in ((1, 4), (5, 8)):  # widen a group's first column to fit the group's heading
        span = sum(widths[first : last + 1]) + 2 * (last - first)
        widths[first] += max(0, len(head1[first]) - span)

    def line(cells: list[str]) -> str:
        out = cells[0].ljust(widths[0])
        for i in range(1, len(cells)):
            sep = "  |  " if i == 5 else "  "
            out += sep + cells[i].rjust(widths[i])
        return out

    group1 = sum(widths[1:5]) + 2 * 3
    table = [
        " " * widths[0] + "  " + head1[1].ljust(group1) + "  |  " + head1[5],
        line(head2),
        "-" * len(line(head2)),
        *[line(r) for r in rows],
    ]

    vaern, baseline = results["Vaern"], results["baseline"]
    ratio = vaern.closed.throughput / baseline.closed.throughput if baseline.closed.throughput else float("nan")
    p99 = vaern.open.quantile_ms(0.99)
    throughput_ok = ratio >= THROUGHPUT_TARGET
    latency_ok = p99 < P99_TARGET_MS and vaern.open.errors == 0 and vaern.open.completed == vaern.open.scheduled
    late = {name: m.open.late_sends for name, m in results.items()}

    text = [
        "Front-desk lookup benchmark: POST /front-desk/lookup over HTTP, Vaern vs one-SELECT baseline",
        "",
        f"environment : {environment['cpus']} CPUs, PostgreSQL {environment['postgres']}, "
        f"Python {environment['python']}, uvicorn {environment['uvicorn']} ({environment['http']}, 1 worker each)",
        f"load average: {environment.get('load_average', '?')} (1/5/15 min) just before measuring; "
        "anything else running competes for the same CPUs",
        f"data        : {args.citizens:,} citizens on file, {args.restricted:,} restricted; "
        f"lookups {int(MIX['restricted'] * 100)}% restricted / {int(MIX['unrestricted'] * 100)}% unrestricted / "
        f"{int(MIX['unknown'] * 100)}% unknown",
        f"seeding     : {timings['seed']:.1f} s through Vaern's commands "
        f"({(args.citizens + args.restricted) / timings['seed']:,.0f} commands/s, {args.seed_threads} threads); "
        f"views caught up in {timings['catch_up']:.1f} s",
        "",
        *table,
        "",
        f"Vaern / baseline throughput : {ratio:.0%}  (target >= {THROUGHPUT_TARGET:.0%}): "
        + ("MET" if throughput_ok else "NOT MET"),
        f"Vaern p99 at {args.rate:g} req/s     : {_ms(p99)} ms  (target < {P99_TARGET_MS:g} ms, no errors): "
        + ("MET" if latency_ok else "NOT MET"),
        "open-loop sends > 1 ms late : " + ", ".join(f"{k} {v}" for k, v in late.items())
        + "  (latency counts from the scheduled send time, so lateness counts against the server)",
        "client CPU at max load      : " + ", ".join(f"{k} {m.client_cpu:.0%}" for k, m in results.items())
        + " of one core (the same client for both; it competes with the server for the CPUs)",
    ]
    for name, m in results.items():
        for phase, result in (("max load", m.closed), ("fixed rate", m.open)):
            if result.error_samples:
                text.append(f"{name} errors at {phase}, e.g.: " + "; ".join(result.error_samples[:3]))
    data = {
        "environment": environment,
        "parameters": {k: v for k, v in vars(args).items() if k not in ("database_url", "json")},
        "timings_s": timings,
        "results": {
            name: {
                "max_load": {
                    "throughput_rps": m.closed.throughput,
                    "p50_ms": m.closed.quantile_ms(0.5),
                    "p99_ms": m.closed.quantile_ms(0.99),
                    "errors": m.closed.errors,
                    "requests": len(m.closed.latencies),
                    "client_cpu_share": m.client_cpu,
                },
                "fixed_rate": {
                    "rate_rps": args.rate,
                    "p50_ms": m.open.quantile_ms(0.5),
                    "p90_ms": m.open.quantile_ms(0.90),
                    "p95_ms": m.open.quantile_ms(0.95),
                    "p99_ms": m.open.quantile_ms(0.99),
                    "max_ms": m.open.quantile_ms(1.0),
                    "errors": m.open.errors,
                    "scheduled": m.open.scheduled,
                    "completed": m.open.completed,
                    "late_sends": m.open.late_sends,
                },
            }
            for name, m in results.items()
        },
        "throughput_ratio": ratio,
        "targets": {"throughput_ratio": throughput_ok, "p99_at_rate": latency_ok},
    }
    return "\n".join(text), data


def describe_environment(postgres_version: str) -> dict[str, str]:
    import uvicorn

    http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return {
        "cpus": str(os.cpu_count()),
        "postgres": postgres_version,
        "python": platform.python_version(),
        "uvicorn": uvicorn.__version__,
        "http": f"{http_impl}, {loop}",
        "machine": platform.platform(),
    }


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Front-desk lookups over HTTP: Vaern (vaern api) vs a one-SELECT FastAPI baseline, "
        "on a throwaway PostgreSQL database. Prints a table; exits 0 whether or not the targets hold.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("VAERN_BENCH_DATABASE_URL") or DEFAULT_SERVER_URL,
        help="a PostgreSQL server where the role may CREATE DATABASE (env VAERN_BENCH_DATABASE_URL); "
        "a fresh database is created on it and dropped at the end",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 citizens (100 restricted), 3 s phases")
    parser.add_argument("--citizens", type=int, default=None, help="citizens on file [10,000; quick 1,000]")
    parser.add_argument("--restricted", type=int, default=None, help="of them restricted [1,000; quick 100]")
    parser.add_argument("--connections", type=int, default=12, help="keep-alive connections at max load")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up before each phase, s [2; quick 1]")
    parser.add_argument("--duration", type=float, default=None, help="measured time at max load, s [10; quick 3]")
    parser.add_argument("--rate", type=float, default=200.0, help="fixed request rate for the latency phase, req/s")
    parser.add_argument(
        "--rate-duration", type=float, default=None, help="measured time at the fixed rate, s [15; quick 3]"
    )
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="repeat each phase this many times, alternating which system goes first, and pool the results "
        "(durations are per round); more rounds even out background noise on a shared machine",
    )
    parser.add_argument("--open-workers", type=int, default=16, help="connections serving the fixed-rate schedule")
    parser.add_argument("--seed-threads", type=int, default=4, help="threads issuing the seeding commands")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    defaults = {
        "citizens": (10_000, 1_000),
        "restricted": (1_000, 100),
        "warmup": (2.0, 1.0),
        "duration": (10.0, 3.0),
        "rate_duration": (15.0, 3.0),
    }
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.citizens < 10 or args.restricted < 1 or args.connections < 1 or args.open_workers < 1 or args.rate <= 0:
        parser.error("need at least 10 citizens, 1 restricted, 1 connection, 1 open-loop worker and a positive rate")
    if min(args.duration, args.rate_duration) <= 0 or args.warmup < 0:
        parser.error("durations must be positive")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    from api.security import issue_token
    from domain.values import Role
    from infra.settings import Settings

    stop = threading.Event()
    database = ThrowawayDatabase(args.database_url)
    servers: dict[str, Server] = {}
    workdir = Path(tempfile.mkdtemp(prefix="vaern-bench-"))
    started = time.perf_counter()
    try:
        postgres_version = database.server_version()
        environment = describe_environment(postgres_version)
        database.create()
        log(f"created database {database.name} (PostgreSQL {postgres_version})")

        citizen_key = secrets.token_urlsafe(32)
        token_secret = secrets.token_urlsafe(32)
        settings = Settings(
            database_url=database.url, citizen_key=citizen_key, token_secret=token_secret, data_dir=workdir / "data"
        )
        population = Population.make(args.citizens, args.restricted)
        log(f"seeding {args.citizens:,} citizens ({args.restricted:,} restricted) through Vaern's commands")
        timings = seed(settings, population, args.seed_threads, stop)
        check_view_tables(database.url, population)
        log(f"seeded in {timings['seed']:.1f} s; views caught up in {timings['catch_up']:.1f} s")

        env = base_environment()
        vaern_port, baseline_port = free_port(), free_port()
        servers["Vaern"] = Server(
            "Vaern",
            vaern_command(),
            {
                **env,
                "VAERN_DATABASE_URL": database.url,
                "VAERN_TOKEN_SECRET": token_secret,
                "VAERN_CITIZEN_KEY": citizen_key,
                "VAERN_HOST": HOST,
                "VAERN_PORT": str(vaern_port),
                "VAERN_LOG_LEVEL": "WARNING",
                "VAERN_DATA_DIR": str(workdir / "data"),
            },
            vaern_port,
            workdir,
        )
        servers["baseline"] = Server(
            "baseline",
            [sys.executable, "-m", "uvicorn", "bench.baseline_app:create_app", "--factory", "--app-dir", str(ROOT),
             "--host", HOST, "--port", str(baseline_port), "--workers", "1", "--log-level", "warning"],
            {**env, "BENCH_BASELINE_DATABASE_URL": database.url, "BENCH_BASELINE_CITIZEN_KEY": citizen_key},
            baseline_port,
            workdir,
        )
        for name, server in servers.items():
            server.start()
            log(f"{name} serving on {HOST}:{server.port} (pid {server.pid})")

        token = issue_token(token_secret, Role.GUARD, "bench-guard", "Bench Vagt", lifetime=timedelta(hours=6))
        headers = {"Authorization": f"Bearer {token}"}
        sanity_check(servers, population, headers)
        log("both systems give the expected answers for a sample of citizens")

        # Identical request bytes for both systems (the baseline ignores the token).
        payloads = [
            loadgen.build_request(PATH, json.dumps({"cpr": cpr}).encode(), headers)
            for _, cpr in population.lookup_sequence()
        ]
        environment["load_average"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        results = measure(servers, payloads, args, stop)
        text, data = report(results, args, environment, timings)
        for name, server in servers.items():
            if server.process is None or server.process.poll() is not None:
                raise BenchError(f"{name} died during the benchmark:\n{server.log_tail()}")
    finally:
        stop.set()
        for server in servers.values():
            server.stop()
        try:
            if database.created:
                database.drop()
                log(f"dropped database {database.name}")
        except psycopg.Error as error:
            log(f"could not drop database {database.name}: {error}")
        shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.perf_counter() - started
    print(text)
    print(f"\nwhole run: {elapsed:.0f} s")
    if args.json:
        data["timings_s"]["whole_run"] = elapsed
        args.json.write_text(json.dumps(data, indent=2, default=str))
    failures = sum(m.closed.errors + m.open.errors for m in results.values())
    if failures:
        log(f"{failures} requests failed (see the errors columns)")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted; servers stopped and database dropped")
        return 130
    except (BenchError, psycopg.Error, OSError) as error:
        log(f"failed: {type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
