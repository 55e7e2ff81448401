"""The baseline for bench/rebuild.py: a Vaern view run by the eventsourcing library's ProjectionRunner.

The library's runner subscribes to the application (reading only the view's topics, as Vaern's
runner does) and calls the projection once per event; the projection applies the event with the
view's own `apply` and records the library's tracking row in the same transaction: one
transaction per event, which is how the library's projections are written.

Its tables are in a database of their own (the projection's POSTGRES_DBNAME), so the same SQL runs
against empty tables of the same shape, beside Vaern's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner

from domain.application import Vaern
from projections.view import View, view_topics


class ViewRecorder(PostgresTrackingRecorder):
    """The library's tracking recorder, also holding a Vaern view's tables."""

    def apply(self, view: View, event: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            view.apply(curs, event, tracking.notification_id)  # type: ignore[arg-type]
            self._insert_tracking(curs, tracking)


@dataclass(frozen=True)
class Measured:
    events: int  # events the view was given
    position: int  # how far into the log it got
    seconds: float


def projection_for(view: View) -> type[Projection[ViewRecorder]]:
    class LibraryProjection(Projection[ViewRecorder]):
        name = f"baseline_{view.name}"
        topics = view_topics(view)

        def process_event(self, domain_event: Any, tracking: Tracking) -> None:
            self.view.apply(view, domain_event, tracking)

    return LibraryProjection


def measure(
    view: View, env: dict[str, str], events_url: str, view_url: str, events: int, seconds: float, table: str,
    app_class: type[Vaern] = Vaern,
) -> Measured:
    """Runs the library's runner from the start of the log until it has applied `events` events or `seconds` passed.

    `table` is the application's events table in `events_url`; the view's tables are in `view_url`;
    `app_class` is the application the runner builds (infra.eventstore.application_class: it reads
    facts as Vaern's own runner does, sealed personal text opened).
    """
    projection = projection_for(view)
    topics = list(view_topics(view))
    with psycopg.connect(view_url, autocommit=True) as conn, conn.cursor() as cur:
        view.create_tables(cur)  # type: ignore[arg-type]
    with psycopg.connect(events_url, autocommit=True) as log:
        row = log.execute(
            f"SELECT notification_id FROM {table} WHERE topic = ANY(%s) ORDER BY notification_id OFFSET %s LIMIT 1",
            (topics, events - 1),
        ).fetchone()
        target = int(row[0]) if row else int(log.execute(f"SELECT max(notification_id) FROM {table}").fetchone()[0])
    env = {**env, f"{projection.name.upper()}_POSTGRES_DBNAME": psycopg.conninfo.conninfo_to_dict(view_url)["dbname"]}
    tracked, reached_at = 0, 0.0
    with psycopg.connect(view_url, autocommit=True) as watch:
        started = time.perf_counter()
        runner = ProjectionRunner(application_class=app_class, projection_class=projection, view_class=ViewRecorder, env=env)
        with runner:
            while True:
                time.sleep(0.05)
                now = time.perf_counter()
                row = watch.execute(f"SELECT max(notification_id) FROM {projection.name}_tracking").fetchone()
                if row and row[0] and int(row[0]) != tracked:
                    tracked, reached_at = int(row[0]), now
                if tracked >= target or now - started >= seconds:
                    break
            runner.stop()
        row = watch.execute(f"SELECT max(notification_id) FROM {projection.name}_tracking").fetchone()
    final = int(row[0]) if row and row[0] else 0
    with psycopg.connect(events_url, autocommit=True) as log:
        count = log.execute(
            f"SELECT count(*) FROM {table} WHERE topic = ANY(%s) AND notification_id <= %s", (topics, tracked)
        ).fetchone()[0]
    assert final >= tracked
    return Measured(events=int(count), position=tracked, seconds=reached_at - started)
