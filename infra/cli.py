"""The `vaern` command: the service and each of its long-running parts, and development tokens."""

from __future__ import annotations

import errno
import gc
import logging
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Optional, Protocol

import typer

from infra.cli_chain import checkpoint, verify
from infra.cli_keys import keys
from infra.cli_metrics import MetricsHost, MetricsPort, serve_metrics
from infra.cli_migrate import migrate
from infra.cli_projections import projections
from infra.cli_retention import retention
from infra.cli_settings import command_settings
from infra.cli_token import token
from infra.settings import Settings, TelephonySettings

if TYPE_CHECKING:
    from infra.services import Services

cli = typer.Typer(help="Vaern: harassment cases and citizen contact restrictions.", no_args_is_help=True)
log = logging.getLogger("vaern")


# What `vaern serve` and `vaern api` answer when they cannot listen: uvicorn's code for a failed start-up.
CANNOT_LISTEN = 3
# How long a worker of `vaern api --workers N` may leave its health check unanswered (see `_workers`).
WORKER_HEALTHCHECK_SECONDS = 60
HostOption = Annotated[
    Optional[str], typer.Option(help="the address to serve on (default: VAERN_HOST, else 127.0.0.1)")  # noqa: UP007
]
PortOption = Annotated[
    Optional[int],  # noqa: UP007
    typer.Option(min=0, max=65535, help="the port to serve on, 0 for any free one (default: VAERN_PORT, else 8000)"),
]


class _Follower(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


def _run_until_signalled(follower: _Follower) -> None:
    """Runs a view, the relay, the scheduler or the consumer in this thread until SIGINT or SIGTERM stops it."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=lambda: (stop.wait(), follower.stop()), daemon=True).start()
    follower.run()


def _follow(settings: Settings, follower_of: Callable[[Services], _Follower], metrics: Callable[..., None]) -> None:
    """Builds the services, runs what `follower_of` makes of them until signalled, then closes them;
    `metrics(services, follower)` serves the process's metrics first, if asked to."""
    from infra.services import Services

    services = Services.build(settings)
    follower = follower_of(services)
    try:
        metrics(services, follower)
        _run_until_signalled(follower)
    finally:
        services.close()


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or exit with one line saying why and how to choose another port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        bound = socket.socket(family, kind, proto)
        try:
            bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            bound.bind(address)
        except OSError:
            bound.close()
            raise
    except OSError as error:
        why = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror or str(error)
        typer.echo(f"vaern: cannot serve on {host}:{port}: {why}; choose another port with --port PORT or"
                   f" VAERN_PORT=PORT (and the address with --host or VAERN_HOST)", err=True)
        raise typer.Exit(CANNOT_LISTEN) from None
    return bound


def _url(listening: socket.socket) -> str:
    host, port = listening.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _stopping_cleanly_on_sigterm() -> None:
    """Lets the code after a uvicorn server run once SIGTERM has stopped it gracefully."""
    # uvicorn raises the SIGTERM it shut down on again as it returns; by default that would kill the
    # process before it closes its pools and consumer, and report a clean stop as death by signal.
    signal.signal(signal.SIGTERM, lambda *_: None)


def _uvicorn(app: object, settings: Settings, listening: socket.socket, saying: Callable[[str], str]) -> None:
    """Serves the app on the bound socket; prints `saying(url)` once it takes connections, and not before."""
    import uvicorn

    url = _url(listening)

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # listening, the app's start-up done: now it is true
                print(saying(url), flush=True)

    # Our logging (infra/logs.py), not uvicorn's; each request is logged by the app, with its id (api/request_ids.py).
    config = uvicorn.Config(app, log_level=settings.log_level.lower(), log_config=None, access_log=False)
    _stopping_cleanly_on_sigterm()
    Announcing(config).run(sockets=[listening])


@cli.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """API, views and (with Kafka configured) the relay, in one process: the embedded default."""
    from api.app import create_app
    from infra.services import Services

    settings = command_settings(host=host, port=port)
    listening = _listening(settings.host, settings.port)  # before anything starts: a taken port fails at once
    services = Services.build(settings)
    services.start_views()
    services.start_scheduler()
    if settings.kafka_bootstrap_servers:
        services.start_relay()
    store = "PostgreSQL" if settings.uses_postgres else f"SQLite at {settings.sqlite_path}"
    try:
        _uvicorn(create_app(settings, services), settings, listening,
                 lambda url: f"Vaern is serving at {url} (events and views in {store})")
    finally:
        services.close()


def worker_app() -> object:
    """The API of one worker process of `vaern api --workers N`, from the settings its parent passed on."""
    from api.app import create_app

    return create_app(command_settings())


def _workers(settings: Settings, listening: socket.socket, workers: int) -> None:
    """Serves the API from `workers` processes sharing the bound socket; uvicorn restarts one that dies."""
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # Each worker reads its settings afresh: the address chosen here must be the one it judges itself by.
    os.environ.update(VAERN_HOST=settings.host, VAERN_PORT=str(settings.port))
    # uvicorn kills a worker that has not answered its health check within `timeout_worker_healthcheck`,
    # and a fresh worker answers only once it has imported Vaern: on a busy machine (every process
    # restarting at once after a crash) that took longer than uvicorn's 5 s, so each new worker was
    # killed while starting and the API stayed down. A worker that hangs for a minute is still replaced.
    config = uvicorn.Config("infra.cli:worker_app", factory=True, workers=workers,
                            log_level=settings.log_level.lower(), log_config=None, access_log=False,
                            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)
    print(f"Vaern API at {_url(listening)} in {workers} worker processes", flush=True)
    Multiprocess(config, sockets=[listening]).run()


@cli.command()
def api(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[int, typer.Option(min=1, help="how many processes serve requests on the one port")] = 1,
) -> None:
    """The HTTP API alone; views, relay and consumers run as their own processes."""
    from api.app import create_app

    settings = command_settings(host=host, port=port)
    listening = _listening(settings.host, settings.port)
    if workers > 1:
        from infra.metrics import shared_by_workers

        with shared_by_workers():  # the workers' counts, added up by the one a scrape reaches
            _workers(settings, listening, workers)
        return
    _uvicorn(create_app(settings), settings, listening, lambda url: f"Vaern API at {url}")


@cli.command()
def projection(
    name: Annotated[str, typer.Argument(help="the view, e.g. front_desk")],
    metrics_port: MetricsPort = None, metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Runs one view, resuming from its tracked position, until stopped."""
    from infra.metrics_scraped import FollowersCollector, none, only

    def runner(services: Services) -> _Follower:
        if name not in services.views:
            raise typer.BadParameter(f"unknown view {name!r}; known: {', '.join(services.views)}")
        return services.runner(name)

    _follow(command_settings(), runner, lambda services, _: serve_metrics(
        services.metrics.registry, metrics_port, metrics_host, FollowersCollector(services.status, only(name), none)
    ))


@cli.command()
def relay(metrics_port: MetricsPort = None, metrics_host: MetricsHost = "127.0.0.1") -> None:
    """Publishes restriction events to Kafka from the relay's tracked position, until stopped."""
    from consumers.relay import Relay
    from infra.metrics_scraped import FollowersCollector, none, only

    settings = command_settings()
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set VAERN_KAFKA_BOOTSTRAP_SERVERS to run the relay")

    def relay(services: Services) -> _Follower:
        built = Relay.from_settings(settings, services.app, services.events, services.db)
        # What start-up built lives as long as the process: keep the collector from scanning it again
        # and again while the relay allocates a message per event.
        gc.freeze()
        return built

    _follow(settings, relay, lambda services, built: serve_metrics(
        services.metrics.registry, metrics_port, metrics_host, FollowersCollector(services.status, none, only(built.name))
    ))


@cli.command()
def scheduler(metrics_port: MetricsPort = None, metrics_host: MetricsHost = "127.0.0.1") -> None:
    """Records restriction expiries when their periods end (safe to run twice), until stopped."""
    from infra.scheduler import ExpiryScheduler

    settings = command_settings()
    _follow(settings, lambda services: ExpiryScheduler(
        services.app, services.schedule, services.db, settings.scheduler_interval, metrics=services.metrics
    ), lambda services, _: serve_metrics(services.metrics.registry, metrics_port, metrics_host))


@cli.command("telephony-consumer")
def telephony_consumer(
    port: Annotated[Optional[int], typer.Option(help="also serve POST /routing/lookup and GET /health")] = None,  # noqa: UP007
    host: Annotated[str, typer.Option(help="the address to serve on; keep it inside the telephony network")] = "127.0.0.1",
    resync_from_topic: Annotated[bool, typer.Option(help="empty the table first and read the whole topic")] = False,
    snapshot: Annotated[
        Optional[str],  # noqa: UP007
        typer.Option(help="a file saved from GET /phone-routing/snapshot: empty the table, load it, read the topic"),
    ] = None,
    metrics_port: MetricsPort = None, metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """The telephony reference consumer: keeps its routing table from the restrictions topic."""
    from prometheus_client import CollectorRegistry

    from consumers.telephony import TelephonyConsumer
    from infra.metrics_scraped import TelephonyCollector

    settings = command_settings(TelephonySettings)
    if not settings.kafka_bootstrap_servers:
        raise typer.BadParameter("set VAERN_KAFKA_BOOTSTRAP_SERVERS to run the consumer")
    consumer = TelephonyConsumer.from_settings(settings)
    try:
        serve_metrics(CollectorRegistry(), metrics_port, metrics_host, TelephonyCollector(consumer.status))
        if snapshot is not None:
            with open(snapshot, "rb") as saved:
                log.info("loaded %d routing states from the snapshot", consumer.resync_from_snapshot(saved.read()))
        elif resync_from_topic:
            consumer.resync_from_topic()
        if port is None:
            _run_until_signalled(consumer)
        else:
            import uvicorn

            from consumers.telephony_http import create_app

            consumer.start()
            print(f"Telephony consumer at http://{host}:{port}", flush=True)
            _stopping_cleanly_on_sigterm()
            uvicorn.run(create_app(consumer), host=host, port=port, log_level=settings.log_level.lower(),
                        log_config=None)
    finally:
        consumer.close()


cli.add_typer(projections, name="projections")  # status, rebuild, supersede: infra/cli_projections.py
cli.add_typer(keys, name="keys")  # rotate-master: infra/cli_keys.py
cli.add_typer(retention, name="retention")  # due: infra/cli_retention.py
cli.command()(verify)  # the logs' hash chains: infra/cli_chain.py
cli.command()(checkpoint)
cli.command()(token)  # development tokens: infra/cli_token.py
cli.command()(migrate)  # the durable tables' migrations: infra/cli_migrate.py


def main() -> None:
    cli()
