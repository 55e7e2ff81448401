"""The benchmarks' throwaway PostgreSQL database and the HTTP servers they start and load."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from infra.settings import Settings
from tests.support.secrets import server_settings

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The benchmark could not run or measured something wrong; the exit code is non-zero."""


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


class ThrowawayDatabase:
    """A fresh database with a unique name on the given server; `drop` removes it (idempotent)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.name = f"vaern_bench_{uuid.uuid4().hex[:12]}"
        self.url = with_dbname(server_url, self.name)
        self.created = False

    def server_version(self) -> str:
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"

    def create(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        self.created = False


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line: its module docstring as help, and `--database-url`, the PostgreSQL
    server the throwaway databases are made on."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("VAERN_BENCH_DATABASE_URL") or DEFAULT_SERVER_URL)
    return parser


def bench_settings(database_url: str, name: str) -> Settings:
    """A Vaern's settings for benchmark `name` on a throwaway database: real secrets (as off the embedded default
    Vaern requires), its own data folder, warnings only."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"vaern_bench_{name}_"))
    return server_settings(database_url=database_url, data_dir=data_dir, log_level="WARNING")


def in_throwaway_databases(server_url: str, count: int, run: Callable[[list[ThrowawayDatabase]], int]) -> int:
    """`run`'s exit code, given `count` fresh databases that are dropped afterwards, also after an error,
    Ctrl-C or SIGTERM (exit code 130 when interrupted)."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    databases = [ThrowawayDatabase(server_url) for _ in range(count)]
    try:
        for database in databases:
            database.create()
        return run(databases)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for database in databases:
            database.drop()


def environment(database: ThrowawayDatabase) -> str:
    """The versions and the machine's load a figure was measured under, for the first line of a report."""
    one, five, _ = os.getloadavg()
    return (f"PostgreSQL {database.server_version()}, Python {platform.python_version()},"
            f" load average {one:.2f} {five:.2f} on {os.cpu_count()} CPUs")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def base_environment() -> dict[str, str]:
    """This process's environment without VAERN_* settings (each server gets exactly ours)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VAERN_", "BENCH_BASELINE_"))}


class Server:
    """A server subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.name, self.command, self.env, self.port = name, command, env, port
        self.log_path = workdir / f"{name}.log"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, not it; we stop it ourselves
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            conn.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)  # the group is the server and anything it started
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def vaern_command() -> list[str]:
    script = Path(sys.executable).parent / "vaern"
    if script.exists():
        return [str(script), "api"]
    found = shutil.which("vaern")
    if found:
        return [found, "api"]
    return [sys.executable, "-c", "from infra.cli import main; main()", "api"]
