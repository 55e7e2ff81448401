"""Fixtures the domain's unit tests share: an application on the library's in-memory store, and a citizen on file."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from domain.application import Vaern
from domain.contact_file.commands import OpenContactFile
from tests.support.cases import LEADER


@pytest.fixture
def app() -> Iterator[Vaern]:
    application = Vaern(env={"CITIZEN_KEY": "unit-test-key"})
    yield application
    application.close()


@pytest.fixture
def citizen(app: Vaern) -> UUID:
    return app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref
