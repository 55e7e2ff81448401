"""Benchmark: the front desk as the population grows, from 10,000 to 1,000,000 citizens on file.

    .venv/bin/python bench/growth.py            # 10,000 and 1,000,000 citizens (1.8 million events)
    .venv/bin/python bench/growth.py --quick    # 10,000 and 100,000 citizens, 3 s phases

For each size, in a throwaway PostgreSQL database of its own (dropped at the end, also after an
error or Ctrl-C, unless --keep): the citizens are seeded in bulk through the domain's events by
worker processes (bench/growth_seed.py; no view row is written), the front-desk view is brought up
by Vaern's rebuild (projections.rebuild, what `vaern projections rebuild` runs), timed, and then
Vaern's API and the one-SELECT baseline app are loaded with the front-desk benchmark's lookups
(bench/front_desk_load.py: the same servers, guard tokens, request mix and phases), over the
population of that size. The large size's seeding stops once on the way (--rebuild-at events) for
a rebuild of that smaller log. It prints, per size, the seeding, the rebuilds' time per event, the
database's size and both systems' throughput and latencies, then the large size against the small
one. Targets: Vaern's lookups at most 1.2 times slower (throughput and p99); the rebuild's time per
event within 1.2 (linear) between the smaller log and the whole large one.
The exit code is 0 whether or not the targets hold; 1 when the benchmark itself failed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from bench.front_desk_load import (  # noqa: E402
    add_load_arguments, check_alive, check_load_arguments, clean_up, guarded, load, lookup_servers, start,
)
from bench.front_desk_report import Measured  # noqa: E402
from bench.front_desk_watch import Watched  # noqa: E402
from bench import growth_kept  # noqa: E402
from bench.growth_kept import Kept  # noqa: E402
from bench.growth_seed import Seeder, population  # noqa: E402
from bench.rebuild import load as load_average, rebuild_progress  # noqa: E402
from bench.servers import Server, ThrowawayDatabase, bench_parser, environment, log  # noqa: E402
from infra.services import Services  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections.rebuild import rebuild  # noqa: E402
from tests.support.secrets import SECRETS, server_settings  # noqa: E402

TARGET = 1.2  # the large population at most this many times slower; the rebuild's time per event as well


@dataclass(frozen=True)
class Rebuild:
    """The front-desk view rebuilt from a log of `events` events."""

    events: int
    seconds: float

    @property
    def us_per_event(self) -> float:
        return self.seconds / self.events * 1e6


@dataclass(frozen=True)
class Size:
    """One population's figures."""

    citizens: int
    events: int  # the log's head
    seed_seconds: float
    rebuilds: list[Rebuild]  # the whole log's last; first, if the seeding stopped on the way, a smaller log's
    database_bytes: int  # pg_database_size once seeded and rebuilt
    results: dict[str, Measured]  # Vaern, baseline
    load_average: str
    watched: Watched

    @property
    def rebuild_us_per_event(self) -> float:
        return self.rebuilds[-1].us_per_event

    @property
    def seed_us_per_event(self) -> float:
        return self.seed_seconds / self.events * 1e6


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 citizens, 1 s warm-ups, 3 s phases")
    parser.add_argument("--citizens", type=int, default=10_000, help="the small population")
    parser.add_argument("--large", type=int, default=None, help="the large population [1,000,000; quick 100,000]")
    parser.add_argument("--batch-size", type=int, default=5000, help="the rebuild's events per transaction")
    parser.add_argument("--rebuild-at", type=int, default=100_000,
                        help="the large population's seeding stops once the log holds this many events and the view"
                        " is rebuilt there too, for the rebuild's time per event at two log sizes")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="seeding processes [the CPUs]")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep each size's seeded database (not dropped) and"
                        " record it in DIR, for --reuse")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="load the sizes kept in DIR again instead of seeding"
                        " them (each dropped at the end unless --keep)")
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    if args.large is None:
        args.large = 100_000 if args.quick else 1_000_000
    check_load_arguments(parser, args)
    if not 100 <= args.citizens < args.large:
        parser.error("need at least 100 citizens in the small population and more in the large one")
    return args


def measure_size(args: argparse.Namespace, citizens: int, rebuild_at: int | None = None) -> Size:
    """Seeds `citizens` in a fresh database (or finds them kept, --reuse), rebuilds the front-desk view, loads
    both systems; cleans up. With `rebuild_at`, the view is also rebuilt when the seeding reaches that many events."""
    stop, servers, kept = threading.Event(), dict[str, Server](), growth_kept.find(args.reuse, citizens)
    database = ThrowawayDatabase(args.database_url) if kept is None else growth_kept.existing(args.database_url, kept.database)
    workdir = Path(tempfile.mkdtemp(prefix="vaern-bench-growth-"))
    try:
        if kept is None:
            kept = _seeded(args, citizens, rebuild_at, database, workdir)
        else:
            log(f"{citizens:,} citizens: kept in {database.name}, {kept.events:,} events, not seeded again")
            SECRETS["master_key"] = kept.master_key  # the key its data keys are wrapped under, for the API too
        if args.keep:
            growth_kept.save(args.keep, kept)
        servers.update(lookup_servers(database.url, (kept.citizen_key, ""), kept.citizen_key, kept.token_secret,
                                      workdir, None))
        start(servers)
        people = population(citizens, kept.rules, kept.meetings_today())
        results, average, watched = load(servers, people, kept.token_secret, args, stop, None)
        check_alive(servers)
        return Size(citizens, kept.events, kept.seed_seconds, [Rebuild(*r) for r in kept.rebuilds], kept.database_bytes,
                    results, average, watched)
    finally:
        if args.keep and kept is not None:
            database.created = False  # kept: clean_up leaves it
        elif args.reuse is not None:
            growth_kept.forget(args.reuse, citizens)
        clean_up(stop, servers, database, workdir)


def _seeded(args: argparse.Namespace, citizens: int, rebuild_at: int | None, database: ThrowawayDatabase,
            workdir: Path) -> Kept:
    """A fresh database seeded with `citizens`, the front-desk view rebuilt (on the way too, given `rebuild_at`)."""
    database.create()
    citizen_key, token_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    settings = server_settings(database_url=database.url, citizen_key=citizen_key, token_secret=token_secret,
                               data_dir=workdir / "data", log_level="WARNING")
    log(f"{citizens:,} citizens: seeding their stories through the domain, {args.workers} processes ({load_average()})")
    seeder, rebuilds = Seeder(settings, args.workers), list[Rebuild]()
    try:
        seeder.seed(citizens, until_events=rebuild_at)
        if seeder.next < citizens:  # stopped on the way
            rebuilds.append(_rebuild_front_desk(settings, args.batch_size, seeder.head))
            seeder.seed(citizens)
    finally:
        seeder.close()
    rebuilds.append(_rebuild_front_desk(settings, args.batch_size, seeder.head))
    return Kept(citizens, database.name, citizen_key, token_secret, settings.master_key.get_secret_value(), seeder.head,
                seeder.seconds, [(r.events, r.seconds) for r in rebuilds], _database_size(settings), seeder.rules,
                sorted(seeder.meetings), seeder.meeting_day)


def _rebuild_front_desk(settings: Settings, batch_size: int, head: int) -> Rebuild:
    """The front-desk view rebuilt from the whole log (`head` events), in services of its own: a cold key cache."""
    log(f"  {head:,} events seeded; rebuilding the front-desk view ({load_average()})")
    services = Services.build(settings)
    try:
        rebuilt = rebuild(services.views["front_desk"], services.events, services.db, batch_size,
                          rebuild_progress("front_desk"))
    finally:
        services.close()
    log(f"  rebuilt in {rebuilt.seconds:.1f} s ({rebuilt.seconds / head * 1e6:.1f} µs per event)")
    return Rebuild(head, rebuilt.seconds)


def _database_size(settings: Settings) -> int:
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def report(small: Size, large: Size) -> str:
    """Both sizes side by side, then the large against the small, Vaern beside the baseline."""
    lines = [f"\n{'citizens':>10} {'events':>10} {'seed µs/ev':>10} {'rebuild s':>10} {'µs/event':>9}"
             f"   {'system':<9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99 @rate':>9}   load average"]
    for size in (small, large):
        first = (f"{size.citizens:>10,} {size.events:>10,} {size.seed_us_per_event:>10.1f}"
                 f" {size.rebuilds[-1].seconds:>10.1f} {size.rebuild_us_per_event:>9.1f}")
        for n, (name, measured) in enumerate(size.results.items()):
            closed, opened = measured.closed, measured.open
            lead = first if n == 0 else " " * len(first)
            lines.append(f"{lead}   {name:<9} {closed.throughput:>7,.0f} {closed.quantile_ms(0.5):>7.1f}"
                         f" {closed.quantile_ms(0.99):>7.1f} {opened.quantile_ms(0.99):>9.1f}"
                         f"   {size.load_average if n == 0 else ''}")
        lines.extend(f"{'':>10} {line}" for line in size.watched.lines())
        lines.append(f"{'':>10} seeded in {size.seed_seconds:,.0f} s ({size.events / size.seed_seconds:,.0f} events/s);"
                     f" database {size.database_bytes / 2**20:,.0f} MB")
        lines.extend(f"{'':>10} rebuilt from {r.events:,} events in {r.seconds:,.1f} s: {r.us_per_event:.1f} µs/event"
                     for r in size.rebuilds)
    return "\n".join(lines + _ratios(small, large))


def _ratios(small: Size, large: Size) -> list[str]:
    """How many times slower the large population is (above 1: slower), with the targets."""
    def slower(name: str) -> tuple[float, float, float]:
        a, b = small.results[name], large.results[name]
        return (a.closed.throughput / b.closed.throughput, b.closed.quantile_ms(0.99) / a.closed.quantile_ms(0.99),
                b.open.quantile_ms(0.99) / a.open.quantile_ms(0.99))

    vaern, baseline = slower("Vaern"), slower("baseline")
    # The rebuild's reference: the large seeding's stop on the way (--rebuild-at), else the small population.
    reference = large.rebuilds[0] if len(large.rebuilds) > 1 else small.rebuilds[-1]
    rebuild_ratio = large.rebuild_us_per_event / reference.us_per_event
    seed_ratio = large.seed_us_per_event / small.seed_us_per_event
    verdict = lambda ratio: "met" if ratio <= TARGET else "NOT met"  # noqa: E731
    return [
        f"\n{large.citizens:,} against {small.citizens:,} citizens (times slower){'Vaern':>13} {'baseline':>9}",
        f"  lookups per second (small / large)              {vaern[0]:>7.2f} {baseline[0]:>9.2f}"
        f"   target Vaern <= {TARGET}: {verdict(vaern[0])}",
        f"  p99 at max load (large / small)                 {vaern[1]:>7.2f} {baseline[1]:>9.2f}"
        f"   target Vaern <= {TARGET}: {verdict(vaern[1])}",
        f"  p99 at the fixed rate (large / small)           {vaern[2]:>7.2f} {baseline[2]:>9.2f}",
        f"  rebuild µs per event ({large.events:,} / {reference.events:,} events) {rebuild_ratio:>7.2f}"
        f"   target <= {TARGET}: {verdict(rebuild_ratio)}",
        f"  seeding µs per event (large / small)            {seed_ratio:>7.2f}",
    ]


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    small = measure_size(args, args.citizens)
    large = measure_size(args, args.large, args.rebuild_at)
    print(environment(ThrowawayDatabase(args.database_url)))
    print(report(small, large))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    failed = sum(m.closed.errors + m.open.errors for size in (small, large) for m in size.results.values())
    throttled = small.watched.throttled + large.watched.throttled
    if failed or throttled:
        log(f"{failed} requests failed, {throttled:.0f} throttled (429): the figures do not count")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
