"""Benchmark: from a command's commit to its visibility in the front-desk view, at 200 commands/s.

    .venv/bin/python bench/lag.py            # 200 commands/s for 15 s
    .venv/bin/python bench/lag.py --quick    # 5 s

In a throwaway PostgreSQL database (dropped at the end): `vaern projection front_desk` runs as its
own process, and beside it, in the same run, the baseline: the eventsourcing library's own
ProjectionRunner (bench/lag_baseline.py, a projection that only records each event's position, one
transaction per event). This process opens contact files at a fixed rate (one event each) and
notes when each `save` returned; a poller reads both positions every millisecond and notes when
each passed each command's position. Lag = seen - committed. Target: Vaern's p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable

import psycopg  # noqa: E402

from bench.front_desk_seed import cpr_number  # noqa: E402
from domain.contact_file.commands import OpenContactFile  # noqa: E402
from domain.identity import Cpr  # noqa: E402
from domain.values import Actor, Role  # noqa: E402
from infra.eventstore import build_application  # noqa: E402
from tests.support.secrets import secret_env, server_settings  # noqa: E402

SERVER = os.environ.get("VAERN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ACTOR = Actor(user_id="bench", name="Bench Sagsbehandler", role=Role.CASEWORKER)
POSITIONS = (
    "SELECT (SELECT position FROM vaern_positions WHERE name = 'front_desk'),"
    " (SELECT max(notification_id) FROM lagbaseline_tracking)"
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Poller(threading.Thread):
    """Reads both positions every millisecond and keeps (time, vaern, baseline) at every change."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.seen, self.stopping = url, [], threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            last = None
            while not self.stopping.is_set():
                row = conn.execute(POSITIONS).fetchone()
                now = time.perf_counter()
                if row != last:
                    self.seen.append((now, row[0] or 0, row[1] or 0))
                    last = row
                time.sleep(0.001)


def first_seen(seen: list[tuple[float, int, int]], column: int, position: int) -> float | None:
    return next((t for t, *positions in seen if positions[column - 1] >= position), None)


def start(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)


def wait_until_both_follow(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                if conn.execute(POSITIONS).fetchone() is not None:
                    return
        except psycopg.Error:
            pass
        time.sleep(0.2)
    raise RuntimeError("the runners did not start")


def percentiles(lags: list[float]) -> str:
    ms = sorted(x * 1000 for x in lags)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):6.1f} ms   p99 {p99:6.1f} ms   max {ms[-1]:6.1f} ms"


def measure(url: str, rate: float, seconds: float, workdir: Path) -> dict[str, list[float]]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")},
           "VAERN_DATABASE_URL": url, **secret_env(), "VAERN_LOG_LEVEL": "WARNING",
           "VAERN_DATA_DIR": str(workdir), "PYTHONPATH": str(ROOT)}
    vaern = Path(sys.executable).with_name("vaern")
    app = build_application(server_settings(database_url=url))
    app.open_contact_file(
        OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr_number(0)), actor=ACTOR)
    )  # both runners start with one event to follow
    runners = [start([str(vaern), "projection", "front_desk"], env, workdir / "vaern.log"),
               start([sys.executable, "-m", "bench.lag_baseline", url], env, workdir / "baseline.log")]
    poller = Poller(url)
    try:
        wait_until_both_follow(url)
        poller.start()
        committed: list[tuple[float, int]] = []
        count, began = int(rate * seconds), time.perf_counter()
        for n in range(1, count + 1):
            time.sleep(max(0.0, began + n / rate - time.perf_counter()))
            receipt = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr_number(n)), actor=ACTOR))
            committed.append((time.perf_counter(), receipt.position))
        last = committed[-1][1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (poller.seen and min(poller.seen[-1][1:]) >= last):
            time.sleep(0.05)
        poller.stopping.set()
        poller.join()
        lags = {"vaern": [], "baseline": []}
        for at, position in committed:
            for column, name in ((1, "vaern"), (2, "baseline")):
                seen = first_seen(poller.seen, column, position)
                if seen is None:
                    raise RuntimeError(f"{name} never reached position {position}")
                lags[name].append(max(seen - at, 0.0))
        return lags
    finally:
        for runner in runners:
            runner.terminate()
            runner.wait(timeout=15)
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--quick", action="store_true", help="5 s")
    args = parser.parse_args()
    name = f"vaern_bench_lag_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(SERVER, dbname=name)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        seconds = 5.0 if args.quick else args.seconds
        log(f"{args.rate:.0f} commands/s for {seconds:.0f} s; both runners follow the same log")
        lags = measure(url, args.rate, seconds, workdir)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"\nCommit -> visible, {len(lags['vaern'])} commands at {args.rate:.0f}/s (poll resolution 1 ms)")
    print(f"  Vaern front_desk view (batched, own process)     {percentiles(lags['vaern'])}")
    print(f"  library ProjectionRunner, tracking only (baseline) {percentiles(lags['baseline'])}")
    p99 = sorted(lags["vaern"])[min(len(lags["vaern"]) - 1, int(len(lags["vaern"]) * 0.99))] * 1000
    print(f"  Vaern p99 {p99:.1f} ms (target < 50 ms): {'met' if p99 < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
