"""Benchmark: `vaern keys seal-existing` over a log of facts stored in clear, on PostgreSQL.

    .venv/bin/python bench/seal_existing.py                    # 100,000 plain facts
    .venv/bin/python bench/seal_existing.py --events 20000     # a quicker run

In a throwaway PostgreSQL database (dropped at the end, also after an error or Ctrl-C), the log is
seeded through the domain (bench/rebuild_seed.py's stories) by a Vaern storing plain JSON without
the chain, as a store from before sealing. Then the sealing Vaern starts (genesis links them all),
and the command's two steps are timed: staging (decode, seal, store in the staging table; writers
go on) and applying (rewrite and re-link in one transaction; writers wait). Afterwards the chain
must verify and no fact may be left in clear. The whole-log check an employee's erasure makes is
timed before and after.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from eventsourcing.persistence import JSONTranscoder  # noqa: E402

from bench.rebuild_seed import seed  # noqa: E402
from bench.servers import BenchError, ThrowawayDatabase, bench_parser, bench_settings, environment, in_throwaway_databases, log  # noqa: E402
from domain.application import Vaern  # noqa: E402
from domain.model import PydanticMapper  # noqa: E402
from infra.eventstore import event_store_env  # noqa: E402
from infra.reseal import Resealer, stores_plain  # noqa: E402
from infra.services import Services  # noqa: E402
from infra.tamper import verify  # noqa: E402


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="plain facts to seed (about)")
    args = parser.parse_args()
    return in_throwaway_databases(args.database_url, 1, lambda databases: run(args.events, databases[0]))


def run(events: int, database: ThrowawayDatabase) -> int:
    settings = bench_settings(database.url, "seal")
    print(environment(database))
    env = {k: v for k, v in event_store_env(settings).items() if k != "APPLICATION_RECORDER_TOPIC"}
    plain = Vaern(env=env, mapper=PydanticMapper(transcoder=JSONTranscoder()))
    started = time.perf_counter()
    head = seed(plain, events)
    plain.close()
    print(f"Seeded {head:,} plain facts in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    services = Services.build(settings)
    print(f"Genesis (the sealing Vaern's first start) linked them in {time.perf_counter() - started:.1f} s")
    try:
        started = time.perf_counter()
        assert stores_plain(services.app.recorder)
        print(f"Whole-log check for facts in clear (an employee's erasure), some found: {time.perf_counter() - started:.3f} s")
        resealer = Resealer(services.db, services.app.mapper)  # type: ignore[arg-type]
        started = time.perf_counter()
        staged = resealer.stage(lambda done, total: log(f"  staged {done:,}") if done % 20_000 < 500 else None)
        staging = time.perf_counter() - started
        started = time.perf_counter()
        relink = resealer.apply()
        applying = time.perf_counter() - started
        if relink is None or relink.sealed != head:
            raise BenchError(f"sealed {relink and relink.sealed} of {head} facts")
        print(f"Staging: {staged:,} facts sealed in {staging:.1f} s ({staged / staging:,.0f} facts/s), writers going on")
        print(f"Applying: {relink.sealed:,} facts rewritten and {relink.relinked:,} events re-linked in {applying:.1f} s,"
              " writers waiting")
        started = time.perf_counter()
        walked = verify(services.db)["events"]
        if walked.broken is not None or walked.count != head:
            raise BenchError(f"the chain does not verify after the re-link: {walked.broken}")
        print(f"vaern verify afterwards: intact, {walked.count:,} events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        if stores_plain(services.app.recorder):
            raise BenchError("facts are still stored in clear")
        print(f"Whole-log check for facts in clear after the re-link (none): {time.perf_counter() - started:.3f} s")
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
