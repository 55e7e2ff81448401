"""Authentication, on SQLite and on PostgreSQL: a token naming no usable user, or living too long, gets 401."""

from __future__ import annotations

import time

import jwt
import pytest

from domain.values import Role
from tests.integration.conftest import SECRET, bearer
from tests.support.cases import decide_over_http

LEADER = bearer(Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
CASEWORKER = bearer(Role.CASEWORKER, "c1", "Carl Berg")


def leader_token(**claims) -> dict[str, str]:
    now = int(time.time())
    base = {"iss": "vaern", "sub": "l2", "name": "Lis Leder", "role": "leader", "iat": now, "exp": now + 3600, **claims}
    return {"Authorization": "Bearer " + jwt.encode(base, SECRET, algorithm="HS256")}


@pytest.mark.parametrize(
    "claims",
    [
        {"name": ""},
        {"name": "  "},
        {"name": "Lis\x07Leder"},
        {"name": "L" * 500},
        {"sub": ""},
        {"exp": int(time.time()) + 100 * 365 * 24 * 3600},  # a century ahead
    ],
)
def test_a_leader_whose_token_names_no_usable_official_or_lives_too_long_gets_401_and_issues_nothing(client, claims):
    ref = client.post("/contact-files", json={"cpr": "211062-5629", "purpose": "incident"}, headers=CASEWORKER).json()["citizen_ref"]
    decided = decide_over_http(client, ref, LEADER, CASEWORKER)
    body = {"kind": "decision", "subject_id": decided["restriction_id"]}
    response = client.post(f"/contact-files/{ref}/letters", json=body, headers=leader_token(**claims))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get(f"/contact-files/{ref}", headers=LEADER).json()["letters"] == []


def test_the_longest_token_lifetime_follows_the_setting(client, settings):
    now = int(time.time())
    two_days = leader_token(iat=now, exp=now + 48 * 3600)
    assert client.get("/restrictions/reviews", headers=two_days).status_code == 401
    settings.token_max_hours = 72
    assert client.get("/restrictions/reviews", headers=two_days).status_code == 200
