"""Benchmark: command throughput with every save hash-chained, beside the bare eventsourcing library.

    .venv/bin/python bench/commands.py             # 1,500 citizens, 4 threads
    .venv/bin/python bench/commands.py --quick     # 300 citizens

Three systems, each in its own throwaway PostgreSQL database on the same server (dropped at the
end), given the same work in the same run, one after another (order rotated per round):

- **Vaern**: the front-desk benchmark's command mix through the application (bench/front_desk_seed.py):
  per citizen, open the contact file; for half of them also report an incident, propose a
  restriction, skip the hearing and decide it (five saves). Every save is chained (infra/event_chain.py);
- **Vaern, unchained**: the same application on the library's own recorder: what the chain costs;
- **baseline**: the bare eventsourcing library (its PostgreSQL recorder, the same pool and lock
  settings) saving a plain aggregate with the same number of saves, of the same sizes.

Throughput counts saves (commands that recorded events) per second, from `--threads` threads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402

from bench.front_desk_seed import Population, _in_pool, _Seeder  # noqa: E402
from bench.servers import ThrowawayDatabase, bench_parser, bench_settings, environment, in_throwaway_databases, log  # noqa: E402
from domain.application import Vaern  # noqa: E402
from infra.eventstore import event_store_env  # noqa: E402

NOTE = "Benchmark: gentagne trusler mod sagsbehandler; vagt til stede, ring til teamleder. " * 4


class Case(Aggregate):
    """The baseline's aggregate: opened, then stepped; each event carries some text."""

    @event("Opened")
    def __init__(self, note: str) -> None:
        self.notes = [note]

    @event("Stepped")
    def step(self, note: str) -> None:
        self.notes.append(note)


class Baseline(Application[Any]):
    def one(self, restricted: bool) -> None:
        """As Vaern's mix: a file opened; if restricted, an incident and three steps on the file."""
        case = Case(NOTE)
        self.save(case)
        if restricted:
            self.save(Case(NOTE))
        for _ in range(3 if restricted else 0):
            case.step(NOTE)
            self.save(case)


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--citizens", type=int, default=1500, help="citizens per system and round")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="300 citizens, one round")
    args = parser.parse_args()
    if args.quick:
        args.citizens, args.rounds = 300, 1
    return in_throwaway_databases(args.database_url, 3 * args.rounds, lambda databases: run(args, databases))


def run(args: argparse.Namespace, databases: list[ThrowawayDatabase]) -> int:
    print(environment(databases[0]))
    systems: dict[str, Callable[[str], Callable[[Population], int]]] = {
        "Vaern": lambda url: _vaern(url, chained=True),
        "Vaern, unchained": lambda url: _vaern(url, chained=False),
        "baseline": _baseline,
    }
    rates: dict[str, list[float]] = {name: [] for name in systems}
    population = Population.make(args.citizens, args.citizens // 2, unknown=0)
    free = iter(databases)
    for n in range(args.rounds):
        names = list(systems)[n % 3:] + list(systems)[:n % 3]
        for name in names:
            saves, seconds = _timed(systems[name](next(free).url), population, args.threads)
            rates[name].append(saves / seconds)
            log(f"  round {n + 1}: {name}: {saves:,} saves in {seconds:.1f} s ({saves / seconds:,.0f}/s)")
    print(f"\n{'system':<18} {'saves/s':>8}   ({args.citizens:,} citizens, {args.threads} threads,"
          f" median of {args.rounds} rounds)")
    for name, values in rates.items():
        print(f"{name:<18} {statistics.median(values):>8,.0f}")
    chained, unchained, base = (statistics.median(rates[n]) for n in systems)
    print(f"\nVaern / baseline: {chained / base:.0%}; Vaern chained / unchained: {chained / unchained:.0%}"
          f" (the chain's write cost)")
    return 0


def _vaern(url: str, chained: bool) -> Callable[[Population], int]:
    env = event_store_env(bench_settings(url, "commands"))
    if not chained:
        del env["APPLICATION_RECORDER_TOPIC"]
    app = Vaern(env=env)
    saves = [0]
    app.on_saved.append(lambda _: saves.__setitem__(0, saves[0] + 1))

    def work(population: Population, threads: int) -> int:
        seeder = _Seeder(app, population, threading.Event())
        _in_pool(seeder.one, population.cprs, threads, seeder.stop)
        app.close()
        return saves[0]

    return work  # type: ignore[return-value]


def _baseline(url: str) -> Callable[[Population], int]:
    env = {k: v for k, v in event_store_env(bench_settings(url, "commands")).items()
           if k.startswith(("PERSISTENCE", "POSTGRES"))}
    app = Baseline(env=env)

    def work(population: Population, threads: int) -> int:
        _in_pool(lambda cpr: app.one(cpr in population.restricted), population.cprs, threads, threading.Event())
        app.close()
        return len(population.cprs) + 4 * len(population.restricted)

    return work  # type: ignore[return-value]


def _timed(work: Any, population: Population, threads: int) -> tuple[int, float]:
    started = time.perf_counter()
    saves = work(population, threads)
    return saves, time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
