"""The baseline for bench/lag.py: the eventsourcing library's own ProjectionRunner on Vaern's log.

Its projection does nothing but record the position of every event (one transaction per event, as
the library does): the least a per-event runner can do before an event counts as seen.

    python -m bench.lag_baseline POSTGRES_URL    (the secrets from VAERN_*, as bench/lag.py gives them)
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner

from infra.eventstore import application_class, event_store_env
from infra.settings import Settings

NAME = "lagbaseline"  # its position is in the table lagbaseline_tracking


class TrackingOnly(Projection[PostgresTrackingRecorder]):
    name = NAME

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)


def main(url: str) -> None:
    settings = Settings(database_url=url)
    env = event_store_env(settings)
    runner = ProjectionRunner(  # the application reads facts as Vaern's own runner does, sealed texts opened
        application_class=application_class(settings), projection_class=TrackingOnly, view_class=PostgresTrackingRecorder, env=env
    )
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    with runner:
        runner.run_forever()


if __name__ == "__main__":
    main(sys.argv[1])
