"""The `vaern` command as a user runs it: tokens on standard output, and the followers' status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.security import read_token
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Role
from infra.services import Services
from tests.support.cases import LEADER, decide
from tests.support.secrets import secret_env, server_settings

VAERN = str(Path(sys.executable).with_name("vaern"))
SECRET = "cli-token-secret-0123456789abcdefghijkl"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    return subprocess.run([VAERN, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60, check=True)


def test_token_prints_a_signed_token_and_nothing_else_on_standard_output(tmp_path):
    out = run("token", "--role", "guard", "--user", "g1", "--name", "Gitte Vagt",
              env={"VAERN_TOKEN_SECRET": SECRET, "VAERN_DATA_DIR": str(tmp_path)}).stdout
    assert out.count("\n") == 1
    principal = read_token(SECRET, out.strip())
    assert (principal.user_id, principal.name, principal.role) == ("g1", "Gitte Vagt", Role.GUARD)
    assert principal.centre is None


def test_token_names_the_centre_given(tmp_path):
    out = run("token", "--role", "caseworker", "--user", "c1", "--name", "Carl Berg", "--centre", "JKA",
              env={"VAERN_TOKEN_SECRET": SECRET, "VAERN_DATA_DIR": str(tmp_path)}).stdout
    assert read_token(SECRET, out.strip()).centre == "JKA"


def test_a_placeholder_secret_is_refused_outside_development(tmp_path):
    result = subprocess.run(
        [VAERN, "token", "--role", "guard", "--user", "g1", "--name", "G"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}, "VAERN_ENVIRONMENT": "production"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert "VAERN_TOKEN_SECRET" in result.stderr


def test_projections_status_shows_each_followers_position_and_lag(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path)
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    decide(services.app, ref)
    services.runner("front_desk").catch_up()
    head = services.events.head()
    services.close()
    out = run("projections", "status", env={"VAERN_DATABASE_URL": database_url, **secret_env(),
                                            "VAERN_DATA_DIR": str(tmp_path), "VAERN_LOG_LEVEL": "WARNING"}).stdout
    lines = {line.rsplit(maxsplit=2)[0]: line.split()[-2:] for line in out.splitlines()[1:-1]}
    assert lines["view front_desk"] == [str(head), "0"]
    assert lines["view phone_routing"] == ["0", str(head)]
    assert out.splitlines()[-1].split()[-1] == str(head)


def test_projections_rebuild_rebuilds_a_view_beside_the_live_one_and_switches(settings):
    services = Services.build(settings)
    ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    decide(services.app, ref)
    services.runner("front_desk").catch_up()
    with services.db.transaction() as cur:
        cur.execute("DELETE FROM front_desk_restrictions")  # what a view's bug leaves behind
    head = services.events.head()
    env = {**secret_env(settings), "VAERN_DATA_DIR": str(settings.data_dir),
           "VAERN_LOG_LEVEL": "WARNING", **({"VAERN_DATABASE_URL": settings.database_url} if settings.database_url else {})}
    result = run("projections", "rebuild", "front_desk", "--batch-size", "2", env=env)
    assert "rebuilt front_desk: 2 events" in result.stdout and f"live at position {head}" in result.stdout
    assert "rebuilding front_desk" in result.stderr and f"{head}/{head}" in result.stderr  # the progress bar
    with services.db.transaction() as cur:
        assert cur.execute("SELECT count(*) FROM front_desk_restrictions").fetchone()[0] == 1
    services.close()


def test_projections_rebuild_of_an_unknown_view_fails_and_changes_nothing(tmp_path):
    result = subprocess.run(
        [VAERN, "projections", "rebuild", "no_such_view"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}, "VAERN_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and "unknown view 'no_such_view'" in result.stderr


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--name", " "), "name is blank"),
        (("--name", ""), "name is blank"),
        (("--name", "Gitte", "--user", " "), "user is blank"),
        (("--name", "Gitte", "--hours", "100000"), "at most 24 hours"),
        (("--name", "Gitte", "--hours", "0"), "at most 24 hours"),
        (("--name", "Gitte", "--centre", "Mars"), "unknown centre 'Mars'"),
    ],
)
def test_token_refuses_a_blank_name_or_a_lifetime_past_the_longest(tmp_path, args, why):
    result = subprocess.run(
        [VAERN, "token", "--role", "leader", "--user", "l1", *args],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}, "VAERN_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert why in " ".join(result.stderr.split())
