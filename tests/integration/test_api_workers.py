"""`vaern api --workers N` on a busy machine: a worker slow to start is waited for, not killed while starting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import free_port, wait_until

VAERN = str(Path(sys.executable).with_name("vaern"))
ROOT = Path(__file__).resolve().parents[2]

# Imported by every Python process started with this directory on its path: the API's spawned workers
# (and only they: their command line ends in --multiprocessing-fork) take 7 s longer to start, as they
# did when every process of the Procfile restarted at once on two busy cores.
SLOW_WORKERS = "import sys, time\nif '--multiprocessing-fork' in sys.argv:\n    time.sleep(7)\n"


def serves(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/live", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_workers_that_take_longer_than_five_seconds_to_start_are_waited_for(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SLOW_WORKERS)
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")},
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), "VAERN_DATA_DIR": str(tmp_path / "data"),
           "VAERN_PORT": str(port)}
    log = tmp_path / "api.log"
    with log.open("w") as out:
        api = subprocess.Popen([VAERN, "api", "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_until(lambda: serves(f"http://127.0.0.1:{port}"), timeout=60, interval=0.5, message=log.read_text)
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)
    assert "died" not in log.read_text(), log.read_text()  # no worker was killed as hung while it started
