"""After PostgreSQL restarts, or ends our connections, the next reads are answered, not failed with 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from domain.values import Role
from infra.services import Services
from tests.integration.conftest import SECRET, bearer
from tests.support import postgres, wait_until
from tests.support.secrets import server_settings

TELEPHONY = bearer(Role.TELEPHONY, "tel", "Telefoni")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")
GUARD = bearer(Role.GUARD, "g1", "Gitte Vagt")


def serve(database_url: str, tmp_path) -> tuple[Services, TestClient]:
    settings = server_settings(data_dir=tmp_path, database_url=database_url, token_secret=SECRET)
    services = Services.build(settings)
    services.start_views()
    return services, TestClient(create_app(settings, services), raise_server_exceptions=False)


def reads(client: TestClient) -> list[int]:
    """The idempotent reads that met stale connections first (the telephony snapshot and /health), and
    the guard's lookup, which reads on the event loop through a pool of its own."""
    return [
        client.get("/phone-routing/snapshot", headers=TELEPHONY).status_code,
        client.get("/health").status_code,
        client.post("/front-desk/lookup", json={"cpr": "211062-5629"}, headers=GUARD).status_code,
    ]


def fill_the_pools(client: TestClient) -> None:
    """Several reads at once, so each pool holds several connections that the server then ends."""
    client.post("/contact-files", json={"cpr": "211062-5629", "purpose": "incident"}, headers=CASEWORKER)
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda _: tuple(reads(client)), range(16))) == {(200, 200, 200)}


def test_reads_after_the_servers_backends_were_terminated_are_answered(database_url, tmp_path):
    services, client = serve(database_url, tmp_path)
    with client:
        fill_the_pools(client)
        with psycopg.connect(database_url, autocommit=True) as admin:
            ended = [
                pid for (pid,) in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (ended,))
            wait_until(
                lambda: not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", (ended,)).fetchone(),
                message="the terminated backends did not end",
            )
        assert len(ended) >= 3
        assert reads(client) == [200, 200, 200]
        assert reads(client) == [200, 200, 200]
    services.close()


def test_reads_after_the_server_restarted_are_answered(own_cluster, tmp_path):
    _, database_url = postgres.create_database(own_cluster.url)
    services, client = serve(database_url, tmp_path)
    with client:
        fill_the_pools(client)
        own_cluster.restart()
        assert reads(client) == [200, 200, 200]
        assert reads(client) == [200, 200, 200]
    services.close()
