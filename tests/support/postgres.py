"""PostgreSQL for tests: find (or make) a server, hand out throwaway databases.

Server resolution (``postgres_server``), in order:

1. ``VAERN_TEST_DATABASE_URL`` if set.  It must be reachable and allow
   CREATE DATABASE; otherwise we fail loudly (an explicit setting is never
   silently ignored).
2. Unless ``VAERN_TEST_POSTGRES=throwaway``: a local server at
   ``postgresql://postgres@127.0.0.1:5432/postgres``, then the default unix
   sockets (as ``postgres`` and as the current OS user).
3. A throwaway cluster (``ThrowawayCluster``): ``initdb`` into a temp dir,
   ``pg_ctl start`` on a free loopback port, stopped and deleted afterwards.
   If ``initdb``/``pg_ctl`` are missing and we are root, the Debian
   ``postgresql`` package is installed with apt-get first.

``VAERN_TEST_POSTGRES`` may be ``auto`` (default), ``throwaway`` (skip steps 1
and 2) or ``local`` (steps 1 and 2 only; fail if neither works).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from . import free_port, tail

__all__ = [
    "ENV_URL",
    "ENV_MODE",
    "LOCAL_CANDIDATES",
    "PostgresUnavailable",
    "ThrowawayCluster",
    "postgres_server",
    "probe",
    "url_with_dbname",
    "create_database",
    "drop_database",
    "temporary_database",
]

ENV_URL = "VAERN_TEST_DATABASE_URL"
ENV_MODE = "VAERN_TEST_POSTGRES"

LOCAL_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://postgres@/postgres?host=/var/run/postgresql",
    "postgresql:///postgres",  # default socket dir, current OS user
)

DB_PREFIX = "vaern_t_"
CONNECT_TIMEOUT = 3


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL server could be found or started."""


def _log(msg: str) -> None:
    print(f"[vaern-tests/postgres] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------


def url_with_dbname(server_url: str, dbname: str) -> str:
    """Return a ``postgresql://`` URL for database ``dbname`` on ``server_url``'s server.

    Accepts URL-form or ``key=value`` conninfo strings.
    """
    if "://" not in server_url:
        params = conninfo_to_dict(server_url)
        params.pop("dbname", None)
        user = params.pop("user", "")
        password = params.pop("password", "")
        host = params.pop("host", "")
        port = params.pop("port", "")
        query = dict(params)
        netloc = ""
        if user:
            netloc = quote(user, safe="")
            if password:
                netloc += ":" + quote(password, safe="")
            netloc += "@"
        if host and not host.startswith("/") and "," not in host:
            netloc += host + (f":{port}" if port else "")
        else:
            if host:
                query["host"] = host
            if port:
                query["port"] = port
        return urlunsplit(("postgresql", netloc, "/" + quote(dbname, safe=""), urlencode(query), ""))
    parts = urlsplit(server_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "dbname"]
    return urlunsplit(
        ("postgresql", parts.netloc, "/" + quote(dbname, safe=""), urlencode(query), parts.fragment)
    )


def _connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, autocommit=True, **kwargs)


def probe(url: str) -> str | None:
    """Return ``None`` if ``url`` is reachable and may CREATE DATABASE, else a reason."""
    try:
        with _connect(url) as conn:
            row = conn.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            if not row or not row[0]:
                return "connected, but the role may not CREATE DATABASE"
            if conn.info.server_version < 130000:
                return f"server version {conn.info.server_version} < 13 (need DROP DATABASE ... WITH (FORCE))"
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


# --------------------------------------------------------------------------
# Per-test databases
# --------------------------------------------------------------------------


def create_database(server_url: str, name: str | None = None, template: str | None = None) -> tuple[str, str]:
    """Create a fresh database, empty or a copy of ``template``; return ``(name, url)``."""
    name = name or f"{DB_PREFIX}{uuid.uuid4().hex[:16]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _connect(server_url) as conn:
        conn.execute(statement)
    return name, url_with_dbname(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop ``name``, terminating any sessions still connected to it."""
    with _connect(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def temporary_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """Yield the URL of a new database, empty or a copy of ``template``; drop it on exit."""
    name, url = create_database(server_url, template=template)
    try:
        yield url
    finally:
        drop_database(server_url, name)


# --------------------------------------------------------------------------
# Throwaway cluster
# --------------------------------------------------------------------------


def _find_bindir() -> Path | None:
    """Directory holding both ``initdb`` and ``pg_ctl`` (newest version wins)."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates.extend(Path(p) for p in versioned)
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _run_logged(cmd: list[str], log: Path, **kwargs) -> None:
    with open(log, "ab") as fh:
        fh.write(f"\n$ {shlex.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, **kwargs)
    if proc.returncode != 0:
        raise PostgresUnavailable(
            f"command failed (exit {proc.returncode}): {shlex.join(cmd)}\n--- tail of {log} ---\n{tail(log)}"
        )


def _install_server_packages() -> Path:
    if os.geteuid() != 0:
        raise PostgresUnavailable(
            "initdb/pg_ctl not found and not running as root, so cannot apt-get install postgresql. "
            f"Install the PostgreSQL server or set {ENV_URL}."
        )
    if not shutil.which("apt-get"):
        raise PostgresUnavailable(f"initdb/pg_ctl not found and apt-get is unavailable; set {ENV_URL}.")
    _log("initdb/pg_ctl not found; installing the 'postgresql' package with apt-get (one-off)")
    log = Path(tempfile.gettempdir()) / "vaern-apt-postgresql.log"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run_logged(["apt-get", "update"], log, env=env)
    _run_logged(["apt-get", "install", "-y", "--no-install-recommends", "postgresql"], log, env=env)
    bindir = _find_bindir()
    if bindir is None:
        raise PostgresUnavailable(f"apt-get installed postgresql but initdb/pg_ctl are still missing; see {log}")
    return bindir


def _service_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the cluster as (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pass
    _log("running as root and no 'postgres' user exists; creating a system user 'postgres'")
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "postgres"],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam("postgres")


class ThrowawayCluster:
    """A private PostgreSQL cluster in a temp dir, on a free loopback port.

    ``start()`` returns a trust-auth URL for the ``postgres`` superuser;
    ``stop()`` shuts the server down and deletes the directory.  Both are
    idempotent; ``stop()`` is also registered with ``atexit``.
    """

    def __init__(self) -> None:
        self.bindir: Path | None = None
        self.root: Path | None = None
        self.port: int | None = None
        self.url: str | None = None
        self._user: pwd.struct_passwd | None = None
        self._running = False

    # paths -----------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        assert self.root is not None
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    # process helpers ---------------------------------------------------------
    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        kwargs: dict = {"cwd": str(self.root), "capture_output": True, "text": True}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
            env.update(HOME=str(self.root), USER=self._user.pw_name, LOGNAME=self._user.pw_name)
        kwargs["env"] = env
        proc = subprocess.run(cmd, **kwargs)
        if check and proc.returncode != 0:
            raise PostgresUnavailable(
                f"command failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}\n"
                f"--- tail of {self.logfile} ---\n{tail(self.logfile)}"
            )
        return proc

    # lifecycle ---------------------------------------------------------------
    def start(self, attempts: int = 3) -> str:
        if self._running:
            assert self.url is not None
            return self.url
        self.bindir = _find_bindir() or _install_server_packages()
        self._user = _service_user()
        base = tempfile.gettempdir()
        if len(base) > 60:  # unix socket paths are limited to ~107 bytes
            base = "/tmp"
        self.root = Path(tempfile.mkdtemp(prefix="vaern-pg-", dir=base))
        atexit.register(self.stop)
        self.sockdir.mkdir()
        if self._user is not None:
            for p in (self.root, self.sockdir):
                os.chown(p, self._user.pw_uid, self._user.pw_gid)
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.datadir),
                "-U", "postgres",
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        last_error: Exception | None = None
        for _ in range(attempts):
            port = free_port()
            opts = " ".join(
                shlex.quote(o)
                for o in (
                    "-p", str(port),
                    "-k", str(self.sockdir),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    "-c", "max_connections=200",
                )
            )
            try:
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D", str(self.datadir),
                        "-l", str(self.logfile),
                        "-o", opts,
                        "-w", "-t", "60",
                        "start",
                    ]
                )
            except PostgresUnavailable as exc:  # most likely lost the port race
                last_error = exc
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], check=False)
                continue
            self._running = True
            self.port = port
            self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            reason = probe(self.url)
            if reason is not None:
                self.stop()
                raise PostgresUnavailable(f"throwaway cluster started but is unusable: {reason}")
            _log(f"started throwaway cluster {self.root} on port {port} (PostgreSQL bin dir {self.bindir})")
            return self.url
        self.stop()
        raise PostgresUnavailable(f"could not start throwaway cluster after {attempts} attempts:\n{last_error}")

    def restart(self) -> None:
        """Stops the server (fast: every connection is ended) and starts it again on the same port."""
        assert self._running and self.bindir is not None, "the cluster is not running"
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), "-m", "fast", "-w", "-t", "60", "restart"])

    def stop(self) -> None:
        if self.root is None:
            return
        if self._running and self.bindir is not None:
            proc = self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "-t", "30", "stop"],
                check=False,
            )
            if proc.returncode != 0:
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], check=False)
            self._running = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------
# Server resolution
# --------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a server where we may CREATE DATABASE (see module doc)."""
    mode = os.environ.get(ENV_MODE, "auto").strip().lower() or "auto"
    if mode not in {"auto", "throwaway", "local"}:
        raise PostgresUnavailable(f"{ENV_MODE}={mode!r}: expected 'auto', 'throwaway' or 'local'")

    if mode != "throwaway":
        explicit = os.environ.get(ENV_URL, "").strip()
        if explicit:
            reason = probe(explicit)
            if reason is not None:
                raise PostgresUnavailable(f"{ENV_URL} is set but unusable ({reason}); fix or unset it")
            yield explicit
            return
        reasons = []
        for candidate in LOCAL_CANDIDATES:
            reason = probe(candidate)
            if reason is None:
                yield candidate
                return
            reasons.append(f"  {candidate}: {reason}")
        if mode == "local":
            raise PostgresUnavailable("no local PostgreSQL server usable:\n" + "\n".join(reasons))

    with ThrowawayCluster() as url:
        yield url
