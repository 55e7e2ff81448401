"""The Procfile's processes, each its own process group, restarted when it dies as systemd would.

`honcho start` stops every process once one of them exits, so it cannot stand for production under
faults; the systemd units (infra/deploy/systemd) restart each process alone. This supervisor does
the same with the Procfile's own lines: a process killed on purpose is started again at once, and
one that exits by itself is counted and started again too (the units say Restart=on-failure).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.support import tail

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's processes: name -> command line."""
    lines = (line.split(":", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in lines}


def ready(api: str, telephony: str) -> bool:
    """Every view current and a relay recorded, as the API's process judges them, and the consumer up."""
    try:
        health = httpx.get(f"{api}/health", timeout=2).json()
        consumer = httpx.get(f"{telephony}/health", timeout=2)
    except httpx.HTTPError:
        return False
    views = health.get("views", {}).values()
    return bool(views) and all(v["state"] == "current" for v in views) and consumer.status_code == 200


class Process:
    """One Procfile line, run by bash in a session of its own (so a kill reaches its workers too)."""

    def __init__(self, name: str, command: str, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log = log_dir / f"{name}.log"
        self.handle: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            out.write(f"=== start at {time.strftime('%H:%M:%S')}\n")
            out.flush()
            self.handle = subprocess.Popen(["bash", "-c", self.command], env=self.env, cwd=self.log.parent,
                                           stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.poll() is None

    def signal(self, number: int) -> None:
        if self.running:
            assert self.handle is not None
            try:
                os.killpg(self.handle.pid, number)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int | None:
        assert self.handle is not None
        try:
            return self.handle.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


class Supervisor:
    """Starts every Procfile process, kills one on demand, restarts whatever died, stops them all."""

    def __init__(self, env: dict[str, str], log_dir: Path, names: set[str] | None = None) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        lines = procfile()
        self.processes = {n: Process(n, c, env, log_dir) for n, c in lines.items() if names is None or n in names}
        self.kills: Counter[str] = Counter()
        self.own_exits: list[tuple[str, int]] = []  # (name, exit code) of processes that died unasked
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> None:
        for process in self.processes.values():
            process.start()
        self._watcher.start()

    def kill(self, name: str) -> None:
        """kill -9 of the process (and its workers), then started again at once."""
        with self._lock:
            process = self.processes[name]
            process.signal(signal.SIGKILL)
            process.wait(10)
            self.kills[name] += 1
            process.start()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                for process in self.processes.values():
                    if not self._stopping.is_set() and not process.running:
                        assert process.handle is not None
                        self.own_exits.append((process.name, int(process.handle.returncode)))
                        process.start()

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to each, as systemd stops a unit; SIGKILL after 30 s. Returns the exit codes."""
        self._stopping.set()
        with self._lock:
            for process in self.processes.values():
                process.signal(signal.SIGTERM)
            codes = {name: process.wait(30) for name, process in self.processes.items()}
            for process in self.processes.values():
                process.signal(signal.SIGKILL)
        return codes

    def output(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name} ---\n{tail(p.log, lines)}" for p in self.processes.values())
