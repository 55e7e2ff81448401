"""`vaern projections status` and `rebuild` tell the operator what a rebuild is doing and what it needs."""

from __future__ import annotations

from infra.services import Services
from infra.settings import Settings
from tests.support.secrets import secret_env, server_settings
from tests.integration.test_cli import run
from tests.integration.test_rebuild import history, kill_a_rebuild_midway


def env_for(settings: Settings) -> dict[str, str]:
    env = {**secret_env(settings), "VAERN_DATA_DIR": str(settings.data_dir),
           "VAERN_LOG_LEVEL": "WARNING"}
    return {**env, "VAERN_DATABASE_URL": settings.database_url} if settings.database_url else env


def test_status_shows_a_rebuild_whose_process_was_killed_as_abandoned(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path)
    services = Services.build(settings)
    history(services)
    services.close()
    kill_a_rebuild_midway(database_url, tmp_path)
    out = run("projections", "status", env=env_for(settings)).stdout
    rebuilds = [line.split()[:2] for line in out.splitlines() if "rebuild:" in line]
    assert rebuilds == [["rebuild:front_desk", "(abandoned)"]]


def test_a_rebuild_on_the_embedded_store_says_to_stop_the_service_first(tmp_path):
    settings = server_settings(data_dir=tmp_path / "data")
    services = Services.build(settings)
    history(services, files=3)
    services.close()
    result = run("projections", "rebuild", "front_desk", env=env_for(settings))
    assert "run it with the service stopped" in result.stderr
    assert "rebuilt front_desk" in result.stdout
