"""Headers every answer carries: it may hold personal data, so nothing stores it, and nothing sniffs it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set where a route has not set its own: the guards' page assets are revalidated, not unstorable.
DEFAULTS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class HttpMiddleware:
    """ASGI middleware that passes anything but HTTP (the lifespan) straight through to `handle` the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        else:
            await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class PrivateAnswers(HttpMiddleware):
    """ASGI middleware adding `DEFAULTS` to every HTTP answer, errors included."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_defaults)
