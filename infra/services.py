"""The running parts of one Vaern process, built from settings: store, views, followers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from domain.application import Vaern
from infra.access_log import AccessLog
from infra.blobs import BlobStore
from infra.database import Database, open_database
from infra.letters import LetterDesk
from infra.eventstore import EventLog, build_application
from infra.settings import Settings
from projections.front_desk import FrontDeskView
from projections.incident_index import IncidentIndexView
from projections.phone_routing import PhoneRoutingView
from projections.positions import current_position, register
from projections.restriction_schedule import RestrictionScheduleView
from projections.routing_states import RoutingStatesView
from projections.statistics import StatisticsView, statistics_key
from projections.runner import PositionWatch, ViewRunner

log = logging.getLogger(__name__)


class ViewNotCaughtUp(Exception):
    """A read asked for a position its view has not reached within the wait limit."""

    def __init__(self, view: str, wanted: int, reached: int) -> None:
        super().__init__(f"view {view} is at position {reached}, not yet at {wanted}")
        self.view, self.wanted, self.reached = view, wanted, reached


@dataclass
class Services:
    """The application, the view database and (when this process runs them) the followers."""

    settings: Settings
    app: Vaern
    db: Database
    events: EventLog
    front_desk: FrontDeskView = field(default_factory=FrontDeskView)
    phone_routing: PhoneRoutingView = field(default_factory=PhoneRoutingView)
    schedule: RestrictionScheduleView = field(default_factory=RestrictionScheduleView)
    statistics: StatisticsView = field(default_factory=StatisticsView)
    incident_index: IncidentIndexView = field(default_factory=IncidentIndexView)
    watch: PositionWatch = field(default_factory=PositionWatch)
    runners: dict[str, ViewRunner] = field(default_factory=dict)
    relay: Any = None
    scheduler: Any = None
    blobs: Any = None
    access: Any = None
    letters: Any = None
    routing_states: RoutingStatesView = field(init=False)

    def __post_init__(self) -> None:
        self.routing_states = RoutingStatesView(self.app.get_contact_file)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        app = build_application(settings)
        db = open_database(settings.database_url, settings.sqlite_path, settings.database_pool_size)
        services = cls(settings=settings, app=app, db=db, events=EventLog(app, settings))
        services.blobs = BlobStore(db)
        services.access = AccessLog(db, settings.citizen_key.get_secret_value().encode("utf-8"))
        services.letters = LetterDesk(app, services.blobs)
        services.statistics.key = statistics_key(settings.citizen_key.get_secret_value())
        for view in services.views.values():
            register(db, view.name)
            with db.transaction() as cur:
                view.create_tables(cur)
        return services

    @property
    def views(self) -> dict[str, Any]:
        return {v.name: v for v in (self.front_desk, self.phone_routing, self.schedule, self.routing_states, self.statistics,
                                         self.incident_index)}

    def runner(self, name: str) -> ViewRunner:
        if name not in self.runners:
            self.runners[name] = ViewRunner(self.views[name], self.events, self.db, watch=self.watch)
        return self.runners[name]

    def start_views(self) -> None:
        for name in self.views:
            self.runner(name).start()

    def start_relay(self) -> None:
        from consumers.relay import Relay  # Kafka plumbing only where the relay runs

        self.relay = Relay.from_settings(self.settings, self.app, self.events, self.db)
        self.relay.start()

    def start_scheduler(self) -> None:
        from infra.scheduler import ExpiryScheduler

        self.scheduler = ExpiryScheduler(self, self.settings.scheduler_interval)
        self.scheduler.start()

    def wait_for(self, view: str, position: int | None) -> None:
        """Returns once `view` reflects `position`, or raises ViewNotCaughtUp after the wait limit."""
        if not position:
            return
        deadline = time.monotonic() + self.settings.read_wait_timeout
        while (reached := current_position(self.db, view)) < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ViewNotCaughtUp(view, position, reached)
            self.watch.wait(min(remaining, 0.02))

    def relay_positions(self) -> dict[str, int]:
        """The tracked position of every relay that has run against this database."""
        rows = self.db.read("SELECT name, position FROM vaern_positions WHERE name LIKE %s ORDER BY name", ("relay:%",))
        return {str(name): int(position) for name, position in rows}

    def status(self) -> dict[str, Any]:
        head = self.events.head()
        views = {}
        for name in self.views:
            position = current_position(self.db, name)
            runner = self.runners.get(name)
            views[name] = {
                "position": position,
                "lag": max(head - position, 0),
                "error": str(runner.error) if runner and runner.error else None,
            }
        status: dict[str, Any] = {"event_log": {"head": head}, "views": views}
        if self.relay is not None:
            status["relay"] = self.relay.status()
        if self.scheduler is not None:
            status["scheduler"] = {"error": str(self.scheduler.error) if self.scheduler.error else None}
        return status

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for runner in self.runners.values():
            runner.stop()
        if self.relay is not None:
            self.relay.stop()
        self.events.close()
        self.db.close()
        self.app.close()
