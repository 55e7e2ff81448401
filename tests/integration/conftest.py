"""Services and an HTTP client over them, on the embedded SQLite store and on real PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from domain.values import Role
from infra.services import Services
from infra.settings import Settings
from tests.support import postgres
from tests.support.secrets import server_settings

SECRET = "integration-token-secret-0123456789abcdef"


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path):
    """Settings for one isolated store: a SQLite file, or a fresh PostgreSQL database (with Vaern's tables
    made already when the test starts `services` on it, tests/support/pg_template.py)."""
    database = "started_database_url" if "services" in request.fixturenames else "database_url"
    database_url = request.getfixturevalue(database) if request.param == "postgres" else None
    return server_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        token_secret=SECRET,
        read_wait_timeout=5.0,
    )


@pytest.fixture
def services(settings):
    built = Services.build(settings)
    built.start_views()
    yield built
    built.close()


@pytest.fixture
def client(settings, services):
    with TestClient(create_app(settings, services)) as http:
        yield http


def bearer(role: Role, user: str = "u1", name: str = "Test Person", title: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, user, name, title)}"}


@pytest.fixture
def as_role():
    return bearer


@pytest.fixture
def own_cluster():
    """A PostgreSQL server of the test's own, which it may restart or stop."""
    cluster = postgres.ThrowawayCluster()
    try:
        cluster.start()
    except postgres.PostgresUnavailable as error:
        pytest.fail(f"could not start a throwaway PostgreSQL cluster: {error}", pytrace=False)
    yield cluster
    cluster.stop()
