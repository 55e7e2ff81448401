"""Proof under faults, longer than CI runs it: every Procfile process on PostgreSQL and the broker, a steady
command load, kill -9 at random moments, the broker stopped and PostgreSQL restarted; then the checks.

    .venv/bin/python bench/chaos.py                          # 10 minutes, 100 kills
    .venv/bin/python bench/chaos.py --minutes 3 --kills 30   # shorter
    .venv/bin/python bench/chaos.py --json chaos.json        # the counts as JSON too

It starts a throwaway PostgreSQL cluster (initdb; restarted once during the run) and a Tansu broker of
its own (stopped for --broker-down seconds once), both removed at the end. The harness is
tests/support/chaos.py, which tests/integration/test_faults.py runs bounded in CI. It prints the
counts (kills per process, commands acknowledged or not, lookups, downtime) and what the checks
found; the exit code is 1 when a check failed (a command lost or recorded twice, a view unlike its
rebuild, the consumer unlike the snapshot, an answered lookup unlogged, a follower behind).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project and its test support importable

from tests.support import chaos, postgres  # noqa: E402
from tests.support.broker import BrokerProcess  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="of load and faults")
    parser.add_argument("--kills", type=int, default=100, help="kill -9s spread over the run")
    parser.add_argument("--broker-down", type=float, default=30.0, help="seconds the broker is stopped, once")
    parser.add_argument("--workers", type=int, default=3, help="threads sending commands")
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    return parser.parse_args()


def failed(report: chaos.Report) -> bool:
    differing = any(report.views_differing.values()) or not report.views_differing
    return bool(report.lost or report.twice or report.strays or differing or report.lookups_unlogged
                or report.behind or not report.consumer_equals_snapshot or any(report.stopped.values()))


def counts(report: chaos.Report) -> dict:
    """The report's figures, as JSON can hold them."""
    return {
        "kills": dict(report.kills), "exits_unasked": report.own_exits, "load": report.load,
        "unacked_answers": dict(report.unacked), "unacked_recorded_once": report.unacked_applied,
        "lost": len(report.lost), "applied_twice": len(report.twice), "recorded_never_sent": len(report.strays),
        "lookups_unlogged": len(report.lookups_unlogged), "views_differing": report.views_differing,
        "consumer_equals_snapshot": report.consumer_equals_snapshot, "behind": {k: str(v) for k, v in report.behind.items()},
        "broker_down_seconds": report.broker_down, "database_restarts": report.database_restarts,
        "seconds": report.seconds, "exit_codes_at_the_end": report.stopped,
    }


def main() -> int:
    args = arguments()
    plan = chaos.Plan(seconds=args.minutes * 60, kills=args.kills, broker_down=args.broker_down,
                      workers=args.workers, catch_up=300)
    work = Path(tempfile.mkdtemp(prefix="vaern-chaos-"))
    cluster, broker = postgres.ThrowawayCluster(), BrokerProcess(log_dir=work / "tansu")
    try:
        _, database_url = postgres.create_database(cluster.start())
        broker.start()
        report = chaos.run(plan, cluster, database_url, broker, f"c{uuid.uuid4().hex[:12]}", work)
    finally:
        broker.stop()
        cluster.stop()
    print(report.summary())
    print(f"process logs: {work / 'logs'}")
    if args.json:
        args.json.write_text(json.dumps(counts(report), indent=2))
    return 1 if failed(report) else 0


if __name__ == "__main__":
    sys.exit(main())
