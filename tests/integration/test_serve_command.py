"""`vaern serve` as a person runs it: it says it serves only once it does, and says plainly when it cannot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

VAERN = str(Path(sys.executable).with_name("vaern"))


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    return {**clean, "VAERN_DATA_DIR": str(tmp_path), "VAERN_LOG_LEVEL": "WARNING", **settings}


@contextmanager
def serving(*args: str, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`vaern serve ARGS` in its own process, and the first line it prints; stopped with SIGTERM after."""
    process = subprocess.Popen([VAERN, "serve", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        yield process, process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_serve_says_it_serves_only_once_the_port_answers_on_the_port_given_with_options(tmp_path):
    port = free_port()
    with serving("--host", "127.0.0.1", "--port", str(port), env=environment(tmp_path)) as (process, line):
        assert line.startswith(f"Vaern is serving at http://127.0.0.1:{port} "), line
        answers(port)
    assert process.returncode is not None


def test_serve_takes_its_host_and_port_from_the_environment(tmp_path):
    port = free_port()
    env = environment(tmp_path, VAERN_HOST="127.0.0.1", VAERN_PORT=str(port))
    with serving(env=env) as (_, line):
        assert line.startswith(f"Vaern is serving at http://127.0.0.1:{port} "), line
        answers(port)


def test_an_option_wins_over_the_environment(tmp_path):
    port = free_port()
    env = environment(tmp_path, VAERN_PORT=str(free_port()))
    with serving("--port", str(port), env=env) as (_, line):
        assert line.startswith(f"Vaern is serving at http://127.0.0.1:{port} "), line


def answers(port: int) -> None:
    """The port takes a connection the moment the line is read (no retry), and Vaern answers on it."""
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("listening", "given"),
    [(True, "option"), (False, "environment")],
    ids=["a-server-listens-port-as-option", "a-socket-holds-it-port-from-environment"],
)
def test_on_a_taken_port_serve_says_so_in_one_line_and_how_to_choose_another(tmp_path, listening, given):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        if listening:
            holder.listen()
        port = holder.getsockname()[1]
        args, env = ([VAERN, "serve", "--port", str(port)], environment(tmp_path)) if given == "option" else (
            [VAERN, "serve"], environment(tmp_path, VAERN_PORT=str(port)))
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout == ""
    assert result.returncode == 3
    [error] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in error and "in use" in error
    assert "--port" in error and "VAERN_PORT" in error


def test_a_port_past_65535_is_refused_rather_than_served_on_another(tmp_path):
    result = subprocess.run([VAERN, "serve"], env=environment(tmp_path, VAERN_PORT="99999"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and result.stdout == ""
    assert "less than or equal to 65535" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("args", "given"),
    [(("--host", "0.0.0.0"), {}), ((), {"VAERN_DATABASE_URL": "postgresql://vaern@127.0.0.1:9/vaern"})],
    ids=["listening-beyond-loopback", "on-postgresql"],
)
def test_serve_off_the_embedded_default_refuses_the_published_placeholder_secrets(tmp_path, args, given):
    port = str(free_port())
    result = subprocess.run([VAERN, "serve", "--port", port, *args], env=environment(tmp_path, **given),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and result.stdout == ""
    assert "VAERN_TOKEN_SECRET is a placeholder" in result.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
