"""Vaern served over HTTP inside the test process, and Debian's Chromium to look at its pages."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from tests.support import wait_until

CHROMIUM = Path("/usr/bin/chromium")


class Backend:
    """Vaern's ASGI app under uvicorn in a daemon thread, on a socket bound before it starts: its address is known
    before the app is built (an identity provider must know the page's address first)."""

    def __init__(self, app=None) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.app = app

    def start(self, app=None) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app or self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=15, message="uvicorn did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; never a browser playwright downloads."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (infra/dev.sh test does)", pytrace=False)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            yield launched
        finally:
            launched.close()
