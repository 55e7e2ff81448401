"""Each request's id: the caller's `X-Request-ID` when it is a sane token, else a new one; answered in the
same header, carried by every log line written while answering and by the access-log entries it makes.
Each answer is also counted, by method, route template and status (infra/metrics.py)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from starlette.responses import JSONResponse

from api.headers import DEFAULTS, HttpMiddleware
from infra.logs import answering

HEADER = "X-Request-ID"
# Letters, digits and . _ : - only, at most 128: an id from a proxy or a client is kept, anything else
# (which could carry text into the logs) is replaced.
SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
log = logging.getLogger("vaern.requests")


def request_id(scope: Scope) -> str:
    """The caller's id if it is sane, else a new random one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if SANE.fullmatch(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The route's template (`/contact-files/{ref}`), never the path as sent: a path may carry anything."""
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def _count(scope: Scope, route: str, status: int, seconds: float) -> None:
    """Counts the answer in the metrics of the app's services (none before its start-up has built them)."""
    services = getattr(scope["app"].state, "services", None) if "app" in scope else None
    if services is not None:
        services.metrics.answered(scope["method"], route, status, seconds)


async def failed(scope: Scope, receive: Receive, send: Send) -> None:
    """A 500 problem that says nothing of the failure; the log line with the same request id says what."""
    body = {"type": "about:blank", "title": "Internal Server Error", "status": 500,
            "detail": "the request failed; quote the X-Request-ID header when reporting it"}
    answer = JSONResponse(body, status_code=500, media_type="application/problem+json", headers=DEFAULTS)
    await answer(scope, receive, send)


class RequestIds(HttpMiddleware):
    """ASGI middleware: the request id in context, in the answer's header, and a log line per request."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid, started, status, begun = request_id(scope), time.perf_counter(), [500], [False]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0], begun[0] = message["status"], True
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with answering(rid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("request failed", extra={"method": scope["method"], "route": route_of(scope)})
                if not begun[0]:
                    # Answered here rather than by the server's bare 500, so the caller gets the id to
                    # quote and the same private headers as every other answer.
                    await failed(scope, receive, send_with_id)
                raise
            finally:
                seconds, route = time.perf_counter() - started, route_of(scope)
                log.info("request", extra={
                    "method": scope["method"], "route": route, "status": status[0],
                    "duration_ms": round(seconds * 1000, 3),
                })
                _count(scope, route, status[0], seconds)
