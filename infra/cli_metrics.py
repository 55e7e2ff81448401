"""`--metrics-port` and `--metrics-host`: each long-running process serves its own metrics (infra/metrics.py)."""

from __future__ import annotations

import errno
from wsgiref.simple_server import WSGIServer
from typing import Annotated, Optional

import typer
from prometheus_client.registry import Collector, CollectorRegistry

from infra.metrics import serve

MetricsPort = Annotated[
    Optional[int],  # noqa: UP007
    typer.Option(min=0, max=65535, help="serve this process's metrics (Prometheus) at http://HOST:PORT/metrics;"
                 " 0 for any free port; none unless given"),
]
MetricsHost = Annotated[
    str, typer.Option(help="the address to serve metrics on; keep it inside the network that scrapes them")
]
CANNOT_LISTEN = 3  # as `vaern api` answers when it cannot listen


def serve_metrics(registry: CollectorRegistry, port: int | None, host: str, *scraped: Collector) -> WSGIServer | None:
    """With a port, serves `registry` (and `scraped`, collectors read when scraped) from a background thread
    until the process ends; returns the server (None without a port)."""
    if port is None:
        return None
    for collector in scraped:
        registry.register(collector)
    try:
        server = serve(registry, port, host)
    except OSError as error:
        why = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror or str(error)
        typer.echo(f"vaern: cannot serve metrics on {host}:{port}: {why}; choose another with --metrics-port", err=True)
        raise typer.Exit(CANNOT_LISTEN) from None
    print(f"Metrics at http://{host}:{server.server_port}/metrics", flush=True)
    return server
