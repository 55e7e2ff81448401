"""Benchmark: front-desk lookups over HTTP, Vaern on PostgreSQL against a one-SELECT baseline.

    .venv/bin/python bench/front_desk.py            # full size: 10,000 citizens, 1,000 restricted
    .venv/bin/python bench/front_desk.py --quick    # smoke run: 1,000 citizens, 3 s phases
    .venv/bin/python bench/front_desk.py --oidc     # the guard's token from an OpenID provider

In a fresh throwaway PostgreSQL database (dropped at the end) it seeds citizens through Vaern's
own commands, brings the views up to date, starts `vaern api` and the baseline app (bench/
baseline_app.py) as uvicorn subprocesses with one worker each, and loads both with the same
client (bench/loadgen.py): a closed loop for maximum throughput and an open loop at a fixed rate
for latency. Vaern watches the lookups as in production: they come from many guards, each asking
about a front desk's share of the citizens (bench/front_desk_watch.py), and Vaern's own counters
say how many it throttled. It prints one table. The exit code is 0 whether or not the targets hold;
it is non-zero only when the benchmark itself failed (setup error, wrong answers, a lookup of the
normal mix throttled, interrupted).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make `bench` importable

import psycopg  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bench import front_desk_watch as watch  # noqa: E402
from bench import loadgen  # noqa: E402
from bench.front_desk_report import Measured, describe_environment, report  # noqa: E402
from bench.front_desk_seed import Population, check_view_tables, seed  # noqa: E402
from bench.http_client import build_request  # noqa: E402
from bench.servers import (  # noqa: E402
    DEFAULT_SERVER_URL, HOST, BenchError, Server, ThrowawayDatabase, base_environment, free_port, log, vaern_command,
)

if TYPE_CHECKING:
    from tests.support.oidc_provider import OidcProvider

PATH = "/front-desk/lookup"
OIDC_GUARDS = 300  # guard clients the tests' OpenID provider has (tests/support/oidc/provider.mjs)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


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
    parser.add_argument(
        "--rotated", action="store_true",
        help="serve Vaern after a rotation of the citizen key: seeded under one key, re-keyed (vaern keys"
        " rekey-citizens) and served under a new one with the first still in VAERN_PREVIOUS_CITIZEN_KEYS",
    )
    parser.add_argument(
        "--guards", type=int, default=None,
        help="guards the lookups are spread over, each citizen always asked about by the same guard [enough that"
        f" none asks about more than {watch.CITIZENS_PER_GUARD} different citizens]",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    parser.add_argument(
        "--oidc", action="store_true",
        help="the guard's token is an ES256 access token from the tests' OpenID provider (oidc-provider on Node.js,"
        " tests/support/oidc_provider.py) that Vaern verifies against its JWKS, instead of one `vaern token` mints",
    )
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
    if args.guards is not None and args.guards < 1:
        parser.error("--guards must be at least 1")
    if args.citizens < 10 or args.restricted < 1 or args.connections < 1 or args.open_workers < 1 or args.rate <= 0:
        parser.error("need at least 10 citizens, 1 restricted, 1 connection, 1 open-loop worker and a positive rate")
    if min(args.duration, args.rate_duration) <= 0 or args.warmup < 0:
        parser.error("durations must be positive")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    database = ThrowawayDatabase(args.database_url)
    servers: dict[str, Server] = {}
    workdir = Path(tempfile.mkdtemp(prefix="vaern-bench-"))
    started = time.perf_counter()
    provider = _started_provider(workdir) if args.oidc else None
    try:
        text, data, results = _bench(args, database, servers, workdir, stop, provider)
    finally:
        _clean_up(stop, servers, database, workdir)
        if provider is not None:
            provider.stop()
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
    if data["watching"]["throttled"]:
        log("Vaern refused lookups of the normal mix for its hourly limit (429): see the watching line")
        return 1
    return 0


def _bench(
    args: argparse.Namespace, database: ThrowawayDatabase, servers: dict[str, Server], workdir: Path,
    stop: threading.Event, provider: OidcProvider | None,
) -> tuple[str, dict[str, Any], dict[str, Measured]]:
    """Seeds a fresh database, starts both systems (into `servers`, for the caller to stop) and measures them."""
    from tests.support.secrets import server_settings

    postgres_version = database.server_version()
    environment = describe_environment(postgres_version)
    database.create()
    log(f"created database {database.name} (PostgreSQL {postgres_version})")

    citizen_key = secrets.token_urlsafe(32)
    token_secret = secrets.token_urlsafe(32)
    settings = server_settings(
        database_url=database.url, citizen_key=citizen_key, token_secret=token_secret, data_dir=workdir / "data"
    )
    population = Population.make(args.citizens, args.restricted)
    log(f"seeding {args.citizens:,} citizens ({args.restricted:,} restricted) through Vaern's commands")
    timings = seed(settings, population, args.seed_threads, stop)
    check_view_tables(database.url, population)
    log(f"seeded in {timings['seed']:.1f} s; views caught up in {timings['catch_up']:.1f} s")

    served_keys = (citizen_key, "")
    if args.rotated:
        served_keys = (secrets.token_urlsafe(32), citizen_key)
        log(f"re-keyed {_rekey(settings, *served_keys):,} citizen references under a new citizen key")
    servers.update(_servers(database.url, served_keys, citizen_key, token_secret, workdir, provider))
    for name, server in servers.items():
        server.start()
        log(f"{name} serving on {HOST}:{server.port} (pid {server.pid})")
    results, environment["load_average"], watched = _load(servers, population, token_secret, args, stop, provider)
    text, data = report(results, args, environment, timings)
    data["guard_token"] = "OIDC (ES256, oidc-provider)" if provider else "HS256 (vaern token)"
    data["watching"] = dataclasses.asdict(watched)
    text = f"guard token : {data['guard_token']}\n{text}\n" + "\n".join(watched.lines())

    for name, server in servers.items():
        if server.process is None or server.process.poll() is not None:
            raise BenchError(f"{name} died during the benchmark:\n{server.log_tail()}")
    return text, data, results


def _rekey(settings: Any, citizen_key: str, previous: str) -> int:
    """Records the references of the seeded files under `citizen_key`, as `vaern keys rekey-citizens` does."""
    from infra.citizen_refs import CitizenKeys, CitizenRefTable, rekey
    from infra.services import Services

    rotated = settings.model_copy(update={"citizen_key": SecretStr(citizen_key), "previous_citizen_keys": SecretStr(previous)})
    services = Services.build(rotated)
    try:
        table = CitizenRefTable(services.db, CitizenKeys.from_settings(rotated))
        return rekey(table, services.events, lambda done, head: None).recorded
    finally:
        services.close()


def _started_provider(workdir: Path) -> OidcProvider:
    from tests.support.oidc_provider import OidcProvider, ProviderError

    provider = OidcProvider(log_dir=workdir / "oidc")
    try:
        provider.start()
    except ProviderError as error:
        raise BenchError(f"the OpenID provider did not start: {error}") from None
    log(f"OpenID provider at {provider.issuer}")
    return provider


def _servers(
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


def _load(
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


def _clean_up(stop: threading.Event, servers: dict[str, Server], database: ThrowawayDatabase, workdir: Path) -> None:
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
