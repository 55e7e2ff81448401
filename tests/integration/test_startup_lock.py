"""Processes started at the same moment on a new database all come up: they take turns creating its tables."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from infra.services import Services
from tests.support.secrets import server_settings

STARTING_TOGETHER = 4


def test_services_built_at_the_same_moment_on_a_new_database_all_come_up(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path, database_pool_size=2)
    together = threading.Barrier(STARTING_TOGETHER)

    def start() -> Services:
        together.wait()
        return Services.build(settings)

    with ThreadPoolExecutor(STARTING_TOGETHER) as pool:
        outcomes = [pool.submit(start) for _ in range(STARTING_TOGETHER)]
    errors = [repr(outcome.exception()) for outcome in outcomes if outcome.exception() is not None]
    built = [outcome.result() for outcome in outcomes if outcome.exception() is None]
    try:
        assert errors == []
        assert all(services.events.head() == 0 for services in built)
    finally:
        for services in built:
            services.close()
