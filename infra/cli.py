"""The `vaern` command: the service and each of its long-running parts, and development tokens."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any, Optional

import typer

from infra.settings import Settings

cli = typer.Typer(help="Vaern: harassment cases and citizen contact restrictions.", no_args_is_help=True)
log = logging.getLogger("vaern")


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # kafka-python logs every refused connection as an error; the relay reports outages itself.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("kafka.conn").setLevel(logging.CRITICAL)
    return settings


def _until_signalled() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _uvicorn(app: object, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())


@cli.command()
def serve() -> None:
    """API, views and (with Kafka configured) the relay, in one process: the embedded default."""
    from api.app import create_app
    from infra.services import Services

    settings = _settings()
    services = Services.build(settings)
    services.start_views()
    services.start_scheduler()
    if settings.kafka_bootstrap_servers:
        services.start_relay()
    store = "PostgreSQL" if settings.uses_postgres else f"SQLite at {settings.sqlite_path}"
    print(f"Vaern is serving at http://{settings.host}:{settings.port} (events and views in {store})", flush=True)
    try:
        _uvicorn(create_app(settings, services), settings)
    finally:
        services.close()


@cli.command()
def api() -> None:
    """The HTTP API alone; views, relay and consumers run as their own processes."""
    from api.app import create_app

    settings = _settings()
    print(f"Vaern API at http://{settings.host}:{settings.port}", flush=True)
    _uvicorn(create_app(settings), settings)


@cli.command()
def projection(name: Annotated[str, typer.Argument(help="the view, e.g. front_desk")]) -> None:
    """Runs one view, resuming from its tracked position, until stopped."""
    from infra.services import Services

    settings = _settings()
    services = Services.build(settings)
    if name not in services.views:
        raise typer.BadParameter(f"unknown view {name!r}; known: {', '.join(services.views)}")
    runner = services.runner(name)
    stop = _until_signalled()
    threading.Thread(target=lambda: (stop.wait(), runner.stop()), daemon=True).start()
    try:
        runner.run()
    finally:
        services.close()


@cli.command()
def relay() -> None:
    """Publishes restriction events to Kafka from the relay's tracked position, until stopped."""
    from consumers.relay import Relay
    from infra.services import Services

    settings = _settings()
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set VAERN_KAFKA_BOOTSTRAP_SERVERS to run the relay")
    services = Services.build(settings)
    relay = Relay.from_settings(settings, services.app, services.events, services.db)
    # What start-up built lives as long as the process: keep the collector from scanning it again
    # and again while the relay allocates a message per event.
    gc.freeze()
    stop = _until_signalled()
    threading.Thread(target=lambda: (stop.wait(), relay.stop()), daemon=True).start()
    try:
        relay.run()
    finally:
        services.close()


@cli.command()
def scheduler() -> None:
    """Records restriction expiries when their periods end (safe to run twice), until stopped."""
    from infra.scheduler import ExpiryScheduler
    from infra.services import Services

    settings = _settings()
    services = Services.build(settings)
    ticker = ExpiryScheduler(services, settings.scheduler_interval)
    stop = _until_signalled()
    threading.Thread(target=lambda: (stop.wait(), ticker.stop()), daemon=True).start()
    try:
        ticker.run()
    finally:
        services.close()


@cli.command("telephony-consumer")
def telephony_consumer(
    port: Annotated[Optional[int], typer.Option(help="also serve POST /routing/lookup and GET /health")] = None,  # noqa: UP007
    host: Annotated[str, typer.Option(help="the address to serve on; keep it inside the telephony network")] = "127.0.0.1",
    resync_from_topic: Annotated[bool, typer.Option(help="empty the table first and read the whole topic")] = False,
    snapshot: Annotated[
        Optional[str],  # noqa: UP007
        typer.Option(help="a file saved from GET /phone-routing/snapshot: empty the table, load it, read the topic"),
    ] = None,
) -> None:
    """The telephony reference consumer: keeps its routing table from the restrictions topic."""
    from consumers.telephony import TelephonyConsumer

    settings = _settings()
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set VAERN_KAFKA_BOOTSTRAP_SERVERS to run the consumer")
    consumer = TelephonyConsumer.from_settings(settings)
    try:
        if snapshot is not None:
            with open(snapshot, "rb") as saved:
                log.info("loaded %d routing states from the snapshot", consumer.resync_from_snapshot(saved.read()))
        elif resync_from_topic:
            consumer.resync_from_topic()
        if port is None:
            stop = _until_signalled()
            threading.Thread(target=lambda: (stop.wait(), consumer.stop()), daemon=True).start()
            consumer.run()
        else:
            import uvicorn

            from consumers.telephony_http import create_app

            consumer.start()
            print(f"Telephony consumer at http://{host}:{port}", flush=True)
            uvicorn.run(create_app(consumer), host=host, port=port, log_level=settings.log_level.lower())
    finally:
        consumer.close()


projections = typer.Typer(help="The views and the relay: where each is in the event log.", no_args_is_help=True)
cli.add_typer(projections, name="projections")


@projections.command("status")
def projections_status() -> None:
    """Prints each view's and relay's position and lag behind the event log."""
    from infra.services import Services

    settings = _settings()
    services = Services.build(settings)
    try:
        status = services.status()
        head = status["event_log"]["head"]
        print(f"{'follower':<40} {'position':>10} {'lag':>8}")
        for name, view in status["views"].items():
            print(f"{'view ' + name:<40} {view['position']:>10} {view['lag']:>8}")
        for name, position in services.relay_positions().items():
            print(f"{name:<40} {position:>10} {max(head - position, 0):>8}")
        for name, position in _rebuilds_running(services).items():
            print(f"{name:<40} {position:>10} {max(head - position, 0):>8}")
        print(f"{'event log head':<40} {head:>10}")
    finally:
        services.close()


def _rebuilds_running(services: Any) -> dict[str, int]:
    """Each rebuild with a tracked position, named with whether it runs or was abandoned (killed)."""
    from projections.rebuild import rebuilds_in_progress

    return {
        f"{found.name} ({'running' if found.running else 'abandoned'})": found.position
        for found in rebuilds_in_progress(services.db)
    }


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@projections.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="the view to rebuild, e.g. front_desk")],
    batch_size: Annotated[int, typer.Option(min=1, help="events per transaction")] = 5000,
) -> None:
    """Rebuilds one view from the first event beside the live one, then switches lookups to it.

    On PostgreSQL the live view keeps answering meanwhile. On the embedded SQLite store the rebuild
    holds the database's write lock throughout: stop the service first. An interruption or an
    error before the switch leaves the live view as it was.
    """
    from infra.services import Services
    from projections.rebuild import RebuildLost, RebuildRefused, SwitchFailed, SwitchOutcomeUnknown, rebuild
    from projections.failures import ProjectionFailed, describe

    settings = _settings()
    services = Services.build(settings)
    if name not in services.views:
        services.close()
        raise typer.BadParameter(f"unknown view {name!r}; known: {', '.join(services.views)}")
    if not settings.uses_postgres:
        print(f"the SQLite store at {settings.sqlite_path} is locked for writing until the rebuild ends:"
              " commands and views wait, then fail; run it with the service stopped", file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the rebuild's tables are discarded
    done = None
    try:
        with _progress_bar(name) as progress:
            done = rebuild(services.views[name], services.events, services.db, batch_size, progress)
    except (ProjectionFailed, RebuildRefused, RebuildLost, SwitchFailed) as error:
        print(f"rebuild of {name} failed, the live view is unchanged: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except SwitchOutcomeUnknown as error:
        print(f"rebuild of {name} stopped: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        if done is None:  # else it came after the switch, which stands
            print(f"rebuild of {name} interrupted, the live view is unchanged", file=sys.stderr)
            raise typer.Exit(130) from None
    except Exception as error:  # the rebuild raises nothing else once its switch has committed
        print(f"rebuild of {name} failed, the live view is unchanged: {describe(error)}", file=sys.stderr)
        raise typer.Exit(1) from None
    finally:
        services.close()
    assert done is not None
    rate = done.applied / done.seconds if done.seconds else 0.0
    print(f"rebuilt {name}: {done.applied} events in {done.seconds:.1f} s ({rate:,.0f} events/s);"
          f" live at position {done.position}")


@contextmanager
def _progress_bar(name: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error (events done of the head, rate, time left)."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:  # rich comes with typer; without it, a plain line now and then
        yield _plain_progress(name)
        return
    bar = Progress(
        TextColumn(f"rebuilding {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(name, total=None, rate="-")
    with bar:
        def update(position: int, head: int) -> None:
            speed = bar.tasks[0].speed
            bar.update(task, completed=position, total=head, rate=f"{speed:,.0f}" if speed else "-")

        yield update


def _plain_progress(name: str) -> Callable[[int, int], None]:
    started, last = time.monotonic(), [0.0]

    def update(position: int, head: int) -> None:
        now = time.monotonic()
        if now - last[0] < 2 and position < head:
            return
        last[0] = now
        rate = position / (now - started) if now > started else 0.0
        left = (head - position) / rate if rate else 0.0
        print(f"rebuilding {name}: {position}/{head} events, {rate:,.0f} events/s, ETA {left:,.0f} s",
              file=sys.stderr, flush=True)

    return update


@cli.command()
def token(
    role: Annotated[str, typer.Option(help="guard, caseworker, leader, legal, telephony, management or admin")],
    user: Annotated[str, typer.Option(help="the user's id")],
    name: Annotated[str, typer.Option(help="the user's full name")],
    title: Annotated[Optional[str], typer.Option(help="job title, named on decisions")] = None,  # noqa: UP007
    hours: Annotated[float, typer.Option(help="validity in hours, at most VAERN_TOKEN_MAX_HOURS")] = 12,
) -> None:
    """Prints a signed development token on standard output, and nothing else there."""
    from api.security import issue_token
    from domain.values import Role

    settings = Settings()
    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}") from None
    if not 0 < hours <= settings.token_max_hours:
        raise typer.BadParameter(f"tokens live more than 0 and at most {settings.token_max_hours:g} hours")
    secret = settings.token_secret.get_secret_value()
    try:
        print(issue_token(secret, chosen, user, name, title, timedelta(hours=hours)))
    except ValueError as error:  # a blank or unprintable name: no letter could name this user
        raise typer.BadParameter(str(error)) from None


def main() -> None:
    cli()
