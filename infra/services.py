"""The running parts of one Vaern process, built from settings: store, views, followers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from domain.application import Vaern
from infra.access_log import AccessLog
from infra.blobs import BlobStore
from infra.citizen_refs import CitizenKeys, CitizenRefTable
from infra.database import Database, open_database
from infra.letters import LetterDesk
from infra.erasure import Shredder
from infra.eventstore import EventLog, build_application
from infra.keys import KeyStore
from infra.lookup_watch import LookupWatch
from infra.metrics import ProcessMetrics
from infra.scheduler import ExpiryScheduler
from infra.schema import migrate
from infra.sealed_events import SealingMapper
from infra.settings import Settings
from infra.startup_lock import startup_lock
from projections.freshness import Freshness, assess
from projections.front_desk import FrontDeskView
from projections.front_desk_appointments import VIEW_KEY as FRONT_DESK_KEY, HostSeal
from projections.incident_index import IncidentIndexView
from projections.number_keys import phone_routing_key
from projections.phone_routing import PhoneRoutingView
from projections.positions import STOPPED, WAITING, Follower, current_position, followers, now, register
from projections.restriction_schedule import RestrictionScheduleView
from projections.routing_states import VIEW_KEY as ROUTING_STATES_KEY, RoutingStatesView
from projections.statistics import StatisticsView, statistics_key
from projections.runner import PositionWatch, ViewRunner
from projections.view import View
from projections.worklists import WorklistsView

if TYPE_CHECKING:  # not a cycle: the relay module brings Kafka, imported only where a relay runs
    from consumers.relay import Relay

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
    keys: KeyStore  # the data subjects' keys: the application's mapper seals facts with the same store
    front_desk: FrontDeskView = field(default_factory=FrontDeskView)
    phone_routing: PhoneRoutingView = field(default_factory=PhoneRoutingView)
    schedule: RestrictionScheduleView = field(default_factory=RestrictionScheduleView)
    statistics: StatisticsView = field(default_factory=StatisticsView)
    incident_index: IncidentIndexView = field(default_factory=IncidentIndexView)
    worklists: WorklistsView = field(default_factory=WorklistsView)
    watch: PositionWatch = field(default_factory=PositionWatch)
    runners: dict[str, ViewRunner] = field(default_factory=dict)
    relay: Relay | None = None
    scheduler: ExpiryScheduler | None = None
    metrics: ProcessMetrics = field(default_factory=ProcessMetrics)
    routing_states: RoutingStatesView = field(init=False)
    freshness: Freshness = field(init=False)
    blobs: BlobStore = field(init=False)
    access: AccessLog = field(init=False)
    lookup_watch: LookupWatch = field(init=False)
    citizen_keys: CitizenKeys = field(init=False)
    citizen_refs: CitizenRefTable = field(init=False)
    letters: LetterDesk = field(init=False)
    shredder: Shredder = field(init=False)

    def __post_init__(self) -> None:
        self.routing_states = RoutingStatesView(self.app.get_contact_file, self.keys.data_key(ROUTING_STATES_KEY))
        limit = timedelta(seconds=self.settings.view_max_staleness_seconds)
        self.freshness = Freshness(self.events.head_sql(), limit)
        self.front_desk.freshness = self.phone_routing.freshness = self.freshness
        mapper = self.app.mapper  # names employees' data subjects: the view knows whom a named host is by it
        erased_as = mapper.erased_employee if isinstance(mapper, SealingMapper) else None
        self.front_desk.seal = HostSeal(self.keys.data_key(FRONT_DESK_KEY), erased_as)
        self.blobs = BlobStore(self.db, self.keys)
        self.citizen_keys = CitizenKeys.from_settings(self.settings)
        self.access = AccessLog(self.db, self.citizen_keys.current, self.metrics.access_writes)
        self.lookup_watch = LookupWatch(self.settings.watch_rules, self.db, self.metrics)
        self.citizen_refs = CitizenRefTable(self.db, self.citizen_keys)
        self.app.recorded_refs = self.citizen_refs
        self.letters = LetterDesk(self.app, self.blobs)
        self.shredder = Shredder(self.app, self.keys)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        with startup_lock(settings.database_url):
            return cls._build(settings)

    @classmethod
    def _build(cls, settings: Settings) -> Services:
        db = open_database(settings.database_url, settings.sqlite_path, settings.database_pool_size)
        migrate(db)  # the durable tables, before anything reads or writes them (the start-up lock is held)
        # The keys on connections of their own: facts are decoded (and their keys read) inside views'
        # and rebuilds' transactions, which on SQLite hold the thread's one connection.
        keys_db = open_database(settings.database_url, settings.sqlite_path, 2, name="vaern-keys")
        keys = KeyStore.from_settings(keys_db, settings)  # refuses a wrong master key at start
        app = build_application(settings, keys)
        services = cls(settings=settings, app=app, db=db, events=EventLog(app, settings), keys=keys)
        citizen_key = settings.citizen_key.get_secret_value()
        services.statistics.key = statistics_key(citizen_key)
        services.phone_routing.key = phone_routing_key(citizen_key)
        services.phone_routing.previous_keys = tuple(phone_routing_key(k) for k in settings.previous_citizen_key_texts)
        for view in services.views.values():
            register(db, view.name)
            with db.transaction() as cur:
                view.create_tables(cur)
        return services

    @property
    def views(self) -> dict[str, View]:
        return {v.name: v for v in (self.front_desk, self.phone_routing, self.schedule, self.routing_states, self.statistics,
                                         self.incident_index, self.worklists)}

    def runner(self, name: str) -> ViewRunner:
        """The view's runner in this process; stopped by an event, it waits for the event to be superseded."""
        if name not in self.runners:
            self.runners[name] = ViewRunner(
                self.views[name], self.events, self.db, watch=self.watch, resume_when_superseded=True
            )
        return self.runners[name]

    def start_views(self) -> None:
        for name in self.views:
            self.runner(name).start()

    def start_relay(self) -> None:
        from consumers.relay import Relay  # Kafka plumbing only where the relay runs

        self.relay = Relay.from_settings(self.settings, self.app, self.events, self.db)
        self.relay.start()

    def start_scheduler(self) -> None:
        keep_uploads = timedelta(hours=self.settings.unclaimed_upload_hours)
        chores = (
            self.shredder.complete, lambda: self.blobs.forget_unclaimed(now() - keep_uploads),
            lambda: self.lookup_watch.forget_before(now()),
        )
        self.scheduler = ExpiryScheduler(
            self.app, self.schedule, self.db, self.settings.scheduler_interval, chores, self.metrics
        )
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

    def ensure_current(self, view: str) -> None:
        """Raises ViewBehind unless `view` may be served as current (see projections/freshness.py)."""
        check = self.freshness.check()
        rows = self.db.read(
            f"SELECT p.position, {check} FROM vaern_positions p WHERE p.name = %s",
            (self.freshness.threshold(now()), view),
        )
        position, reason = (int(rows[0][0]), rows[0][1]) if rows else (0, "behind")
        behind = self.freshness.verdict(view, reason, position)
        if behind is not None:
            raise behind

    def current_to_head(self, view: str) -> None:
        """Returns once `view` reflects every event logged before the call; raises ViewBehind at once if it is
        stopped or behind (it may not be served), ViewNotCaughtUp if it does not get there within the wait limit."""
        self.ensure_current(view)
        self.wait_for(view, self.events.head())

    def followers_past(self, position: int) -> list[str]:
        """The views and relays whose position has passed `position`: they applied the event there as it was."""
        rows = {**followers(self.db, names=list(self.views)), **followers(self.db, prefix="relay:")}
        return [name for name, row in rows.items() if row.position >= position]

    def relay_positions(self) -> dict[str, int]:
        """The tracked position of every relay that has run against this database."""
        return {name: row.position for name, row in followers(self.db, prefix="relay:").items()}

    def status(self) -> dict[str, Any]:
        """Every view's and relay's position, lag and state, as recorded in the database by whichever
        process runs it; `problems` says what is not well (empty: all is well)."""
        head, problems = self.events.head(), []
        views = {name: self._judged(row, head, problems) for name, row in self._followers(list(self.views)).items()}
        relays = {name: self._judged(row, head, problems) for name, row in followers(self.db, prefix="relay:").items()}
        status: dict[str, Any] = {"event_log": {"head": head}, "views": views, "relays": relays}
        if self.relay is not None:
            status["relay"] = self.relay.status()
            problems += [f"relay: {status['relay']['error']}"] if status["relay"]["error"] else []
        if self.scheduler is not None:
            status["scheduler"] = {"error": str(self.scheduler.error) if self.scheduler.error else None}
            problems += [f"scheduler: {status['scheduler']['error']}"] if self.scheduler.error else []
        status["problems"] = list(dict.fromkeys(problems))
        return status

    def _followers(self, names: list[str]) -> dict[str, Follower]:
        rows = followers(self.db, names=names)
        return {name: rows.get(name) or Follower(name, 0) for name in names}

    def _judged(self, row: Follower, head: int, problems: list[str]) -> dict[str, Any]:
        """A follower's recorded row judged against the head now; what is not well goes to `problems`."""
        judged = assess(row, head, now(), self.freshness.max_staleness)
        error = row.error if row.state in (STOPPED, WAITING) else None
        runner = self.runners.get(row.name)
        if error is None and runner is not None and runner.error is not None:
            error = str(runner.error)  # this process knows before its record is written
        kind = "" if row.name.startswith("relay:") else "view "
        problems += [f"{kind}{judged.problem}"] if judged.problem else [f"{kind}{row.name}: {error}"] if error else []
        return {"position": row.position, "lag": max(head - row.position, 0), "error": error, "state": judged.state,
                "stopped_at": row.stopped_at, "alive_at": row.alive_at, "current_at": row.current_at}

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for runner in self.runners.values():
            runner.stop()
        if self.relay is not None:
            self.relay.stop()
        self.events.close()
        self.db.close()
        self.keys.db.close()
        self.app.close()
