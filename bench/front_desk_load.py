"""The front-desk lookup load, shared by bench/front_desk.py and bench/growth.py: Vaern's API and the
one-SELECT baseline (bench/baseline_app.py) started on a seeded database, their answers checked on a
sample of citizens, then both loaded in turn with the same requests (bench/loadgen.py)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from bench import front_desk_watch as watch
from bench import loadgen
from bench.front_desk_report import Measured
from bench.front_desk_seed import MEETING_RULES, Population
from bench.http_client import build_request
from bench.servers import HOST, BenchError, Server, ThrowawayDatabase, base_environment, free_port, log, vaern_command

if TYPE_CHECKING:
    from tests.support.oidc_provider import OidcProvider

ROOT = Path(__file__).resolve().parent.parent
PATH = "/front-desk/lookup"
OIDC_GUARDS = 300  # guard clients the tests' OpenID provider has (tests/support/oidc/provider.mjs)


def sanity_check(servers: dict[str, Server], population: Population, headers: dict[str, str]) -> None:
    """Both systems give the expected answer for a sample of each kind of citizen: the rule, and today's meetings."""
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
            meetings = int(cpr_text in population.meeting_today) if rule in MEETING_RULES else None
            listed = answer.get("appointments_today")
            if (None if listed is None else len(listed)) != meetings:
                raise BenchError(f"{name}: expected {meetings} meetings today, got {answer}")


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


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The lookup load's knobs (connections, phases, rate, rounds, guards), shared with bench/growth.py."""
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
    parser.add_argument(
        "--guards", type=int, default=None,
        help="guards the lookups are spread over, each citizen always asked about by the same guard [enough that"
        f" none asks about more than {watch.CITIZENS_PER_GUARD} different citizens]",
    )


def check_load_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fills in the phases' durations (full or `--quick`) and refuses a load that cannot run."""
    for name, (full, quick) in {"warmup": (2.0, 1.0), "duration": (10.0, 3.0), "rate_duration": (15.0, 3.0)}.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.guards is not None and args.guards < 1:
        parser.error("--guards must be at least 1")
    if args.connections < 1 or args.open_workers < 1 or args.rate <= 0:
        parser.error("need at least 1 connection, 1 open-loop worker and a positive rate")
    if min(args.duration, args.rate_duration) <= 0 or args.warmup < 0:
        parser.error("durations must be positive")


def lookup_servers(
    database_url: str, citizen_keys: tuple[str, str], seeded_key: str, token_secret: str, workdir: Path,
    provider: OidcProvider | None,
) -> dict[str, Server]:
    """Vaern's API (under `citizen_keys`, current and previous) and the baseline app (deriving references
    under `seeded_key`), each on a free port of its own, on the same database."""
    from tests.support.secrets import secret_env

    env = base_environment()
    vaern_port, baseline_port = free_port(), free_port()
    vaern_env = {
        **env,
        "VAERN_DATABASE_URL": database_url,
        **secret_env(),
        "VAERN_TOKEN_SECRET": token_secret,
        "VAERN_CITIZEN_KEY": citizen_keys[0],
        "VAERN_PREVIOUS_CITIZEN_KEYS": citizen_keys[1],
        "VAERN_HOST": HOST,
        "VAERN_PORT": str(vaern_port),
        "VAERN_LOG_LEVEL": "WARNING",
        "VAERN_DATA_DIR": str(workdir / "data"),
        # The desk's normal traffic is traffic in opening hours; the benchmark may run at any hour. A lookup
        # outside them records an alert, an event: no view runs here to move past it, so 5 s later the
        # front-desk view would count as behind and every lookup answer "cannot tell".
        "VAERN_WATCH_OPENS": "00:00", "VAERN_WATCH_CLOSES": "23:59", "VAERN_WATCH_OPEN_WEEKDAYS": "[1,2,3,4,5,6,7]",
    }
    if provider is not None:
        from tests.support.oidc_provider import ROLE_MAP

        vaern_env.update({"VAERN_OIDC_ISSUER": provider.issuer, "VAERN_OIDC_AUDIENCE": provider.audience,
                          "VAERN_OIDC_ROLE_MAP": json.dumps(ROLE_MAP)})
    baseline = [sys.executable, "-m", "uvicorn", "bench.baseline_app:create_app", "--factory", "--app-dir", str(ROOT),
                "--host", HOST, "--port", str(baseline_port), "--workers", "1", "--log-level", "warning"]
    baseline_env = {**env, "BENCH_BASELINE_DATABASE_URL": database_url, "BENCH_BASELINE_CITIZEN_KEY": seeded_key}
    return {
        "Vaern": Server("Vaern", vaern_command(), vaern_env, vaern_port, workdir),
        "baseline": Server("baseline", baseline, baseline_env, baseline_port, workdir),
    }


def load(
    servers: dict[str, Server], population: Population, token_secret: str, args: argparse.Namespace,
    stop: threading.Event, provider: OidcProvider | None,
) -> tuple[dict[str, Measured], str, watch.Watched]:
    """Checks both systems' answers, then measures them; returns the results, the load average before and
    what Vaern's watching counted."""
    from api.security import issue_token
    from domain.values import Role

    def token(guard: int | None) -> str:
        name = "vaern-guard" if guard is None else f"vaern-guard-{guard + 1}"
        if provider is not None:
            return provider.token(name)
        return issue_token(token_secret, Role.GUARD, name, "Bench Vagt", lifetime=timedelta(hours=6))

    sanity_check(servers, population, {"Authorization": f"Bearer {token(None)}"})  # a guard of its own
    log("both systems give the expected answers for a sample of citizens")

    # Every citizen asked about by the same guard of many (bench/front_desk_watch.py), so none looks up
    # more different citizens than a front desk's guard does; identical request bytes for both systems
    # (the baseline ignores the token).
    sequence = [cpr for _, cpr in population.lookup_sequence()]
    guards, guard_of = watch.guards_for(sequence, args.guards)
    if provider is not None and guards > OIDC_GUARDS:
        raise BenchError(f"the OpenID provider has {OIDC_GUARDS} guard clients; {guards} needed (see --guards)")
    headers = watch.guard_headers(guards, token)
    payloads = [build_request(PATH, json.dumps({"cpr": cpr}).encode(), headers[guard_of[cpr]]) for cpr in sequence]
    load_average = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    results = measure(servers, payloads, args, stop)
    most = max(Counter(guard_of.values()).values())
    return results, load_average, watch.scrape(servers["Vaern"].port, guards, most)


def clean_up(stop: threading.Event, servers: dict[str, Server], database: ThrowawayDatabase, workdir: Path) -> None:
    """Stops the servers, drops the database and removes the working folder, whatever happened."""
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


def start(servers: dict[str, Server]) -> None:
    for name, server in servers.items():
        server.start()
        log(f"{name} serving on {HOST}:{server.port} (pid {server.pid})")


def check_alive(servers: dict[str, Server]) -> None:
    """A server that died during the load makes its figures meaningless: the run fails."""
    for name, server in servers.items():
        if server.process is None or server.process.poll() is not None:
            raise BenchError(f"{name} died during the benchmark:\n{server.log_tail()}")


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def guarded(run: Callable[[], int]) -> int:
    """`run`'s exit code; 130 when interrupted (Ctrl-C or SIGTERM), 1 when the benchmark itself failed.
    `run` stops its servers and drops its databases on its way out."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        return run()
    except KeyboardInterrupt:
        log("interrupted; servers stopped and database dropped")
        return 130
    except (BenchError, psycopg.Error, OSError) as error:
        log(f"failed: {type(error).__name__}: {error}")
        return 1
