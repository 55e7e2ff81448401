"""Benchmark: command throughput with every save hash-chained, beside the bare eventsourcing library.

    .venv/bin/python bench/commands.py             # 1,500 citizens, 1 and 4 writers, 2 rounds
    .venv/bin/python bench/commands.py --quick     # 300 citizens, 1 round

Three systems, each in its own throwaway PostgreSQL database on the same server (dropped at the
end), given the same work in the same run, one after another (order rotated per round):

- **Vaern**: the front-desk benchmark's command mix through the application (bench/front_desk_seed.py):
  per citizen, open the contact file; for half of them also report an incident, propose a
  restriction, skip the hearing and decide it (five saves). Every save is chained (infra/event_chain.py)
  and, as served, seals its personal text under each data subject's key;
- **Vaern, unchained**: the same application on the library's own recorder (storing new data keys with the
  facts as the chained one does, infra/new_keys.py): what the chain costs;
- **baseline**: the bare eventsourcing library (its PostgreSQL recorder, the same pool and lock
  settings) saving a plain aggregate (`Application.save`) as many times, each save with as many
  events as Vaern's save in its place: the events per save of Vaern's mix are measured first (one
  citizen of each kind, in a database of its own), and after the run every system's log must
  hold the same number of events per save, or the run fails.

Throughput counts saves (commands that recorded events) per second, from each `--writers` count
of threads in turn (1 and 4 by default). Target: Vaern at least 70% of the baseline's rate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402
from eventsourcing.utils import get_topic  # noqa: E402

from bench.front_desk_seed import Population, _in_pool, _Seeder  # noqa: E402
from bench.servers import ThrowawayDatabase, bench_parser, bench_settings, environment, in_throwaway_databases, log  # noqa: E402
from infra.eventstore import build_application, event_store_env  # noqa: E402
from infra.new_keys import KeyedPostgresRecorder  # noqa: E402

SYSTEMS = ["Vaern", "Vaern, unchained", "baseline"]
TARGET = 0.7  # Vaern's saves per second at least this share of the bare library's
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
    def one(self, shape: list[int]) -> None:
        """As one citizen of Vaern's mix: as many saves, each of as many events (`shape`), on a plain aggregate."""
        case = Case(NOTE)
        for _ in range(shape[0] - 1):
            case.step(NOTE)
        self.save(case)
        for events in shape[1:]:
            for _ in range(events):
                case.step(NOTE)
            self.save(case)


@dataclass(frozen=True)
class Timed:
    saves: int
    events: int  # in the log afterwards
    seconds: float

    @property
    def rate(self) -> float:
        return self.saves / self.seconds


System = Callable[[Population, int], Timed]


def _writer_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("writer counts are positive integers, comma-separated")
    return counts


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--citizens", type=int, default=None, help="citizens per system and round [1,500; quick 300]")
    parser.add_argument("--writers", type=_writer_counts, default=[1, 4],
                        help="writer threads, comma-separated: every system is measured at each count")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="300 citizens, one round")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    args.citizens = args.citizens or (300 if args.quick else 1500)
    runs = len(args.writers) * len(SYSTEMS) * args.rounds
    return in_throwaway_databases(args.database_url, runs + 1, lambda databases: run(args, databases))


def run(args: argparse.Namespace, databases: list[ThrowawayDatabase]) -> int:
    print(environment(databases[0]))
    population = Population.make(args.citizens, args.citizens // 2, unknown=0)
    shapes = _shapes(databases[0].url)
    log(f"Vaern's mix, events per save: {shapes[False]} for a citizen, {shapes[True]} for a restricted one")
    free = iter(databases[1:])
    measured = {writers: _measure(args, population, shapes, writers, free) for writers in args.writers}
    print(f"\nsaves/s, {args.citizens:,} citizens ({len(population.restricted):,} restricted),"
          f" median of {args.rounds} rounds")
    print(f"{'writers':>7} {'Vaern':>9} {'unchained':>10} {'baseline':>9} {'Vaern / baseline':>17}")
    for writers, rates in measured.items():
        chained, unchained, base = (statistics.median(t.rate for t in rates[name]) for name in SYSTEMS)
        verdict = "met" if chained >= TARGET * base else "NOT met"
        print(f"{writers:>7} {chained:>9,.0f} {unchained:>10,.0f} {base:>9,.0f} {chained / base:>17.0%}"
              f"   target {TARGET:.0%}: {verdict}; chained / unchained {chained / unchained:.0%} (the chain's cost)")
    return _same_events_per_save(measured)


def _shapes(url: str) -> dict[bool, list[int]]:
    """Events per save of Vaern's mix, by whether the citizen is restricted: what the baseline repeats."""
    app = build_application(bench_settings(url, "commands"))
    positions = [0]
    app.on_saved.append(positions.append)
    population = Population.make(2, 1, unknown=0)
    seeder, shapes = _Seeder(app, population, threading.Event()), {}
    for cpr in population.cprs:
        before = len(positions)
        seeder.one(cpr)
        shapes[cpr in population.restricted] = [b - a for a, b in zip(positions[before - 1:], positions[before:])]
    app.close()
    return shapes


def _measure(
    args: argparse.Namespace, population: Population, shapes: dict[bool, list[int]], writers: int,
    free: Iterator[ThrowawayDatabase],
) -> dict[str, list[Timed]]:
    """Every system `args.rounds` times at `writers` writers, each time in a fresh database, order rotated."""
    timed: dict[str, list[Timed]] = {name: [] for name in SYSTEMS}
    for n in range(args.rounds):
        for name in SYSTEMS[n % 3:] + SYSTEMS[:n % 3]:
            url = next(free).url
            system = _baseline(url, shapes) if name == "baseline" else _vaern(url, chained=name == "Vaern")
            result = system(population, writers)
            timed[name].append(result)
            log(f"  {writers} writers, round {n + 1}: {name}: {result.saves:,} saves, {result.events:,} events"
                f" in {result.seconds:.1f} s ({result.rate:,.0f}/s)")
    return timed


def _same_events_per_save(measured: dict[int, dict[str, list[Timed]]]) -> int:
    """1 if a system made other events per save than Vaern's mix: then the rates compare different work."""
    per_save = {(name, t.events / t.saves) for rates in measured.values() for name, ts in rates.items() for t in ts}
    if len({ratio for _, ratio in per_save}) != 1:
        log(f"the systems made different numbers of events per save: {sorted(per_save)}")
        return 1
    print(f"\nevents per save: {per_save.pop()[1]:.2f} in every system")
    return 0


def _vaern(url: str, chained: bool) -> System:
    settings = bench_settings(url, "commands")
    env = event_store_env(settings)
    if not chained:  # the library's recorder, storing new data keys with the facts as the chained one does
        env["APPLICATION_RECORDER_TOPIC"] = get_topic(KeyedPostgresRecorder)
    app = build_application(settings, env=env)  # as served: every fact's personal text sealed
    saves = [0]
    app.on_saved.append(lambda _: saves.__setitem__(0, saves[0] + 1))

    def work(population: Population, writers: int) -> Timed:
        seeder, started = _Seeder(app, population, threading.Event()), time.perf_counter()
        _in_pool(seeder.one, population.cprs, writers, seeder.stop)
        seconds = time.perf_counter() - started
        events = app.recorder.max_notification_id() or 0  # type: ignore[attr-defined]
        app.close()
        return Timed(saves[0], events, seconds)

    return work


def _baseline(url: str, shapes: dict[bool, list[int]]) -> System:
    env = {k: v for k, v in event_store_env(bench_settings(url, "commands")).items()
           if k.startswith(("PERSISTENCE", "POSTGRES"))}
    app = Baseline(env=env)

    def work(population: Population, writers: int) -> Timed:
        one = lambda cpr: app.one(shapes[cpr in population.restricted])  # noqa: E731
        started = time.perf_counter()
        _in_pool(one, population.cprs, writers, threading.Event())
        seconds = time.perf_counter() - started
        events = app.recorder.max_notification_id() or 0  # type: ignore[attr-defined]
        app.close()
        return Timed(sum(len(shapes[cpr in population.restricted]) for cpr in population.cprs), events, seconds)

    return work


if __name__ == "__main__":
    sys.exit(main())
