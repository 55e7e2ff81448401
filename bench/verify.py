"""Benchmark: `vaern verify`'s rate over a seeded event log, beside just reading the same rows.

    .venv/bin/python bench/verify.py                     # 100,000 events, 3 rounds
    .venv/bin/python bench/verify.py --events 1000000    # the full log of bench/rebuild.py

In a throwaway PostgreSQL database (dropped at the end, also after an error or Ctrl-C), the log is
seeded through the domain (bench/rebuild_seed.py, the rebuild benchmark's data set; each save is
hash-chained as in production) and the access log gets one entry per ten events (each linked by
its trigger). Then, alternating, in the same run:

- **Vaern**: the walk `vaern verify` does over the event log (infra/tamper.py): the events and the
  chain read side by side in keyset batches of 5,000, each event encoded and its link recomputed;
- **baseline**: reading the same event rows in the same keyset batches through the same
  connection pool, and nothing else: the least any check of every stored event must cost.

It prints events/s for both (median of the rounds), their ratio, and the access log's walk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from bench.rebuild_seed import seed  # noqa: E402
from bench.servers import BenchError, ThrowawayDatabase, bench_parser, bench_settings, environment, in_throwaway_databases, log  # noqa: E402
from infra.chain import batches  # noqa: E402
from infra.database import Database, open_database  # noqa: E402
from infra.eventstore import build_application  # noqa: E402
from infra.services import Services  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.tamper import BATCH, LOGS, walk_log  # noqa: E402


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events to seed (about)")
    parser.add_argument("--rounds", type=int, default=3, help="walks of each side, alternating; the median counts")
    args = parser.parse_args()
    return in_throwaway_databases(args.database_url, 1, lambda databases: run(args, databases[0]))


def run(args: argparse.Namespace, database: ThrowawayDatabase) -> int:
    settings = bench_settings(database.url, "verify")
    print(environment(database))
    head, seconds = _seed(settings, args.events)
    print(f"Seeded {head:,} events (chained as they were saved) in {seconds:.0f} s ({head / seconds:,.0f} events/s)")
    db = open_database(settings.database_url, settings.sqlite_path, pool_size=4)
    try:
        vaern, baseline = _measure(db, args.rounds)
        access = _timed(lambda: walk_log(db, LOGS[1], None, BATCH))
    finally:
        db.close()
    count = vaern[1]
    v, b = statistics.median(vaern[0]), statistics.median(baseline[0])
    print(f"\n{'system':<10} {'events':>10} {'seconds':>8} {'events/s':>10}   (median of {args.rounds} rounds)")
    print(f"{'Vaern':<10} {count:>10,} {v:>8.2f} {count / v:>10,.0f}   verify: read, encode, re-link, compare")
    print(f"{'baseline':<10} {baseline[1]:>10,} {b:>8.2f} {baseline[1] / b:>10,.0f}   read the same rows only")
    print(f"\nVaern / baseline rate: {b / v:.0%}")
    walked, took = access
    print(f"access log: {walked.count:,} entries verified in {took:.2f} s ({walked.count / took:,.0f}/s)")
    return 0


def _seed(settings: Settings, events: int) -> tuple[int, float]:
    app = build_application(settings)
    started = time.perf_counter()
    head = seed(app, events, report=lambda h, s: log(f"  seeded {h:,} events ({h / s:,.0f}/s)") if h % 40_000 < 3000 else None)
    app.close()
    services = Services.build(settings)  # the access log and its chain
    try:
        with services.db.transaction() as cur:
            cur.execute("INSERT INTO vaern_access_log (at, user_id, role, purpose, what, subject_ref)"
                        " SELECT now(), 'bench-guard', 'guard', 'entry_check', 'front_desk_lookup', gen_random_uuid()::text"
                        " FROM generate_series(1, %s)", (max(1, head // 10),))
    finally:
        services.close()
    return head, time.perf_counter() - started


def _timed(work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _read_only(db: Database) -> int:
    statement = ("SELECT notification_id, originator_id, originator_version, topic, state FROM vaern_events"
                 " WHERE notification_id > %s ORDER BY notification_id LIMIT %s")
    return sum(1 for _ in batches(lambda after, n: db.read(statement, (after, n)), BATCH))


def _measure(db: Database, rounds: int) -> tuple[tuple[list[float], int], tuple[list[float], int]]:
    """Seconds per round for each side, alternating which goes first, and the rows each covered."""
    vaern: list[float] = []
    baseline: list[float] = []
    count = rows = 0
    for n in range(rounds):
        sides = [("vaern", lambda: walk_log(db, LOGS[0], None, BATCH)), ("baseline", lambda: _read_only(db))]
        for name, work in sides if n % 2 == 0 else reversed(sides):
            result, seconds = _timed(work)
            if name == "vaern":
                if result.broken is not None:
                    raise BenchError(f"the seeded chain does not verify: {result.broken}")
                vaern.append(seconds)
                count = result.count
            else:
                baseline.append(seconds)
                rows = result
            log(f"  round {n + 1}: {name} {seconds:.2f} s")
    return (vaern, count), (baseline, rows)


if __name__ == "__main__":
    sys.exit(main())
