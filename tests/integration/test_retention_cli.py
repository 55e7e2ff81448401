"""`vaern retention due`: whose retention has passed, read from the log, for a person to authorise erasure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from domain.contact_file.commands import OpenContactFile
from domain.incident.commands import CloseIncident, InformLeader
from domain.incident.facts import Person
from infra.services import Services
from tests.support.cases import LEADER, report_incident
from tests.support.secrets import secret_env, server_settings

VAERN = str(Path(sys.executable).with_name("vaern"))


def due(env: dict[str, str], *args: str) -> list[dict[str, str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    result = subprocess.run([VAERN, "retention", "due", "--json", *args], env={**clean, **env},
                            capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_only_citizens_with_nothing_going_on_are_listed_once_their_period_is_over(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path)
    services = Services.build(settings)
    app = services.app
    quiet = app.open_contact_file(OpenContactFile(purpose="incident", cpr="211062-5629", actor=LEADER)).citizen_ref
    busy = app.open_contact_file(OpenContactFile(purpose="incident", cpr="010203-1234", actor=LEADER)).citizen_ref
    closed = app.open_contact_file(OpenContactFile(purpose="incident", cpr="150575-4321", actor=LEADER)).citizen_ref
    report_incident(app, busy)  # still open
    done = report_incident(app, closed)
    app.inform_leader(InformLeader(incident_id=done, leader=Person(user_id="l1", name="Lone Hansen"), actor=LEADER))
    app.close_incident(CloseIncident(incident_id=done, actor=LEADER))
    services.close()
    env = {"VAERN_DATABASE_URL": database_url, **secret_env(),
           "VAERN_DATA_DIR": str(tmp_path), "VAERN_LOG_LEVEL": "WARNING", "VAERN_RETENTION_YEARS": "2"}

    assert due(env) == []  # nothing is two years old yet
    later = due(env, "--at", "2040-01-01")
    assert [row["citizen_ref"] for row in later] == [str(quiet), str(closed)]
    assert all(row["kept_until"] < "2040" for row in later)
