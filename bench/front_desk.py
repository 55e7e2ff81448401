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
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make `bench` importable

from pydantic import SecretStr  # noqa: E402

from bench.front_desk_load import (  # noqa: E402
    add_load_arguments, check_alive, check_load_arguments, clean_up, guarded, load, lookup_servers, start,
)
from bench.front_desk_report import Measured, describe_environment, report  # noqa: E402
from bench.front_desk_seed import Population, check_view_tables, seed  # noqa: E402
from bench.servers import DEFAULT_SERVER_URL, BenchError, Server, ThrowawayDatabase, log  # noqa: E402

if TYPE_CHECKING:
    from tests.support.oidc_provider import OidcProvider


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
    add_load_arguments(parser)
    parser.add_argument("--seed-threads", type=int, default=4, help="threads issuing the seeding commands")
    parser.add_argument(
        "--rotated", action="store_true",
        help="serve Vaern after a rotation of the citizen key: seeded under one key, re-keyed (vaern keys"
        " rekey-citizens) and served under a new one with the first still in VAERN_PREVIOUS_CITIZEN_KEYS",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    parser.add_argument(
        "--oidc", action="store_true",
        help="the guard's token is an ES256 access token from the tests' OpenID provider (oidc-provider on Node.js,"
        " tests/support/oidc_provider.py) that Vaern verifies against its JWKS, instead of one `vaern token` mints",
    )
    args = parser.parse_args(argv)
    for name, (full, quick) in {"citizens": (10_000, 1_000), "restricted": (1_000, 100)}.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    check_load_arguments(parser, args)
    if args.citizens < 10 or args.restricted < 1:
        parser.error("need at least 10 citizens and 1 restricted")
    return args


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
        clean_up(stop, servers, database, workdir)
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
    servers.update(lookup_servers(database.url, served_keys, citizen_key, token_secret, workdir, provider))
    start(servers)
    results, environment["load_average"], watched = load(servers, population, token_secret, args, stop, provider)
    text, data = report(results, args, environment, timings)
    data["guard_token"] = "OIDC (ES256, oidc-provider)" if provider else "HS256 (vaern token)"
    data["watching"] = dataclasses.asdict(watched)
    text = f"guard token : {data['guard_token']}\n{text}\n" + "\n".join(watched.lines())
    check_alive(servers)
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
