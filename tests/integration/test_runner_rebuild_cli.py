"""`vaern projections status` and `rebuild` tell the operator what a rebuild is doing and what it needs."""

from __future__ import annotations

import signal
import subprocess
import sys

from infra.services import Services
from infra.settings import Settings
from tests.integration.test_cli import run
from tests.integration.test_rebuild import ROOT, history


def env_for(settings: Settings) -> dict[str, str]:
    env = {"VAERN_CITIZEN_KEY": settings.citizen_key.get_secret_value(), "VAERN_DATA_DIR": str(settings.data_dir),
           "VAERN_LOG_LEVEL": "WARNING"}
    return {**env, "VAERN_DATABASE_URL": settings.database_url} if settings.database_url else env


KILLED_MIDWAY = (
    "import os, signal, sys; sys.path.insert(0, sys.argv[3])\n"
    "from infra.services import Services\nfrom infra.settings import Settings\n"
    "from projections.rebuild import rebuild\n"
    "s = Services.build(Settings(database_url=sys.argv[1], data_dir=sys.argv[2], citizen_key='k'))\n"
    "def die(position, head):\n"
    "    if position > 0: os.kill(os.getpid(), signal.SIGKILL)\n"
    "rebuild(s.front_desk, s.events, s.db, batch_size=3, progress=die)\n"
)


def test_status_shows_a_rebuild_whose_process_was_killed_as_abandoned(database_url, tmp_path):
    settings = Settings(database_url=database_url, data_dir=tmp_path, citizen_key="k")
    services = Services.build(settings)
    history(services)
    services.close()
    killed = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, database_url, str(tmp_path), str(ROOT)], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    out = run("projections", "status", env=env_for(settings)).stdout
    rebuilds = [line.split()[:2] for line in out.splitlines() if "rebuild:" in line]
    assert rebuilds == [["rebuild:front_desk", "(abandoned)"]]


def test_a_rebuild_on_the_embedded_store_says_to_stop_the_service_first(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", citizen_key="k")
    services = Services.build(settings)
    history(services, files=3)
    services.close()
    result = run("projections", "rebuild", "front_desk", env=env_for(settings))
    assert "run it with the service stopped" in result.stderr
    assert "rebuilt front_desk" in result.stdout
