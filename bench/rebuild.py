"""Benchmark: rebuilding the front-desk and phone-routing views from a log of 1,000,000 events.

    .venv/bin/python bench/rebuild.py            # 1,000,000 events; about 6 minutes
    .venv/bin/python bench/rebuild.py --quick    # 100,000 events; about a minute

In a throwaway PostgreSQL database (dropped at the end, also after an error or Ctrl-C): the log is
seeded through the domain (bench/rebuild_seed.py), then each view is rebuilt beside its live
tables by `projections.rebuild` (what `vaern projections rebuild` runs: batches of the view's own
topics, pipelined statements, one transaction per batch), and, on the same data in the same run,
run by the eventsourcing library's ProjectionRunner (bench/rebuild_baseline.py: the same topics,
the view's same `apply`, one transaction per event) over a bounded prefix of the log. Both print
the events the view was given per second. Target: Vaern at least 10x the library's rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from bench.rebuild_baseline import measure  # noqa: E402
from bench.rebuild_seed import progress_log, seed  # noqa: E402
from bench.servers import ThrowawayDatabase, bench_parser, bench_settings, in_throwaway_databases, log  # noqa: E402
from infra.eventstore import application_class, build_application, event_store_env  # noqa: E402
from infra.services import Services  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections.rebuild import rebuild  # noqa: E402

VIEWS = ("front_desk", "phone_routing")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events to seed")
    parser.add_argument("--batch-size", type=int, default=5000, help="Vaern's events per transaction")
    parser.add_argument("--baseline-events", type=int, default=50_000, help="the library's runner stops after these")
    parser.add_argument("--baseline-seconds", type=float, default=60.0, help="... or after this long")
    parser.add_argument("--quick", action="store_true", help="100,000 events; the library for 10,000 events or 20 s")
    args = parser.parse_args()
    if args.quick:
        args.events, args.baseline_events, args.baseline_seconds = 100_000, 10_000, 20.0
    return in_throwaway_databases(args.database_url, 2, lambda databases: run(args, *databases))


def run(args: argparse.Namespace, events_db: ThrowawayDatabase, baseline_db: ThrowawayDatabase) -> int:
    settings = bench_settings(events_db.url, "rebuild")
    print(f"PostgreSQL {events_db.server_version()}, Python {platform.python_version()}, {load()}")
    head = _seed_log(settings, args.events)
    rows = _rebuild_each_view(settings, args, events_db, baseline_db)
    _print_rates(head, rows, args.batch_size)
    return 0


def _seed_log(settings: Settings, events: int) -> int:
    """Seeds `events` events through the domain, reporting every 10 s; returns the log's head."""
    app = build_application(settings)
    started = time.perf_counter()
    head = seed(app, events, report=progress_log())
    app.close()
    print(f"Seeded {head:,} events through the domain in {time.perf_counter() - started:.0f} s")
    return head


def _rebuild_each_view(
    settings: Settings, args: argparse.Namespace, events_db: ThrowawayDatabase, baseline_db: ThrowawayDatabase
) -> list[tuple[str, Any, Any]]:
    """For each view: Vaern's rebuild of the whole log, then the library's runner on its first events."""
    services = Services.build(settings)
    rows = []
    try:
        for name in VIEWS:
            view = services.views[name]
            log(f"{name}: Vaern rebuild of the whole log ({load()})")
            ours = rebuild(view, services.events, services.db, args.batch_size, rebuild_progress(name))
            log(f"{name}: library ProjectionRunner, first {args.baseline_events:,} events or {args.baseline_seconds:.0f} s"
                f" ({load()})")
            env = event_store_env(settings)
            table = services.app.recorder.events_table_name  # type: ignore[attr-defined]
            theirs = measure(
                view, env, events_db.url, baseline_db.url, args.baseline_events, args.baseline_seconds, table,
                application_class(settings),
            )
            rows.append((name, ours, theirs))
    finally:
        services.close()
    return rows


def rebuild_progress(name: str) -> Callable[[int, int], None]:
    """Logs a rebuild's rate at most every 10 s."""
    began = time.perf_counter()
    shown = [0.0]

    def progress(position: int, head: int) -> None:
        now = time.perf_counter()
        if now - shown[0] >= 10:
            shown[0] = now
            log(f"  {name}: {position:,} / {head:,} ({position / max(now - began, 1e-9):,.0f} positions/s)")

    return progress


def _print_rates(head: int, rows: list[tuple[str, Any, Any]], batch_size: int) -> None:
    print(f"\nRebuilding views from a log of {head:,} events (events = those of the view's topics; {load()})")
    print(f"{'view':<15} {'runner':<38} {'log range':>22} {'events':>9} {'seconds':>8} {'events/s':>9}")
    ratios = []
    for name, ours, theirs in rows:
        our_rate, their_rate = ours.applied / ours.seconds, theirs.events / theirs.seconds
        ratios.append(our_rate / their_rate)
        label = f"Vaern rebuild (batches of {batch_size:,})"
        print(f"{name:<15} {label:<38} {f'1..{ours.position:,}':>22}"
              f" {ours.applied:>9,} {ours.seconds:>8.1f} {our_rate:>9,.0f}")
        print(f"{'':<15} {'library ProjectionRunner (per event)':<38} {f'1..{theirs.position:,}':>22}"
              f" {theirs.events:>9,} {theirs.seconds:>8.1f} {their_rate:>9,.0f}")
        print(f"{'':<15} Vaern / library: {our_rate / their_rate:.1f}x")
    worst = min(ratios)
    print(f"\nTarget: Vaern at least 10x the library's rate: {'met' if worst >= 10 else 'NOT met'} (worst {worst:.1f}x)")


if __name__ == "__main__":
    sys.exit(main())
