import time
from datetime import timedelta

import pytest
from pydantic import ValidationError

from api.oidc import claim, role_of
from api.security import Principal, principal_of, remember, remembered
from domain.incident.facts import Centre
from domain.values import Role
from infra.settings import Settings

MAP = {"Vaern.Guard": Role.GUARD, "grp-leaders": Role.LEADER, "grp-leaders-deputy": Role.LEADER}


def test_without_a_map_the_provider_s_role_names_are_vaern_s_and_other_names_are_ignored():
    assert role_of(["offline_access", "caseworker"], {}) is Role.CASEWORKER


def test_with_a_map_only_mapped_names_count_and_two_names_for_one_role_are_that_role():
    assert role_of(["grp-leaders", "grp-leaders-deputy", "guard"], MAP) is Role.LEADER


@pytest.mark.parametrize("names", [[], ["Some.Other.App"], ["Vaern.Guard", "grp-leaders"], "Vaern.Guard", [1], None])
def test_names_giving_no_vaern_role_or_more_than_one_or_not_a_list_of_names_are_refused(names):
    with pytest.raises(ValueError):
        role_of(names, MAP)


def test_a_claim_is_found_by_its_name_first_then_by_a_dotted_path():
    claims = {"realm_access": {"roles": ["leader"]}, "https://example.dk/roles": ["guard"]}
    assert claim(claims, "realm_access.roles") == ["leader"]
    assert claim(claims, "https://example.dk/roles") == ["guard"]
    assert claim(claims, "resource_access.vaern.roles") is None


def test_a_verified_token_is_remembered_only_until_it_expires():
    caller = Principal(user_id="g1", name="Gitte", role=Role.GUARD)
    remember(("test", "live"), caller, time.time() + 60)
    remember(("test", "expired"), caller, time.time() - 1)
    assert remembered(("test", "live")) == caller
    assert remembered(("test", "expired")) is None


def test_the_role_map_is_read_as_json_from_the_environment(monkeypatch):
    monkeypatch.setenv("VAERN_OIDC_ISSUER", "https://login.example.dk/realms/kommune")
    monkeypatch.setenv("VAERN_OIDC_AUDIENCE", "vaern")
    monkeypatch.setenv("VAERN_OIDC_ROLE_MAP", '{"Vaern.Guard": "guard", "grp-leaders": "leader"}')
    settings = Settings()
    assert settings.oidc_role_map == {"Vaern.Guard": Role.GUARD, "grp-leaders": Role.LEADER}


def test_an_issuer_without_an_audience_or_a_map_to_no_role_is_refused():
    with pytest.raises(ValidationError, match="VAERN_OIDC_AUDIENCE"):
        Settings(oidc_issuer="https://login.example.dk")
    with pytest.raises(ValidationError):
        Settings(oidc_issuer="https://login.example.dk", oidc_audience="vaern", oidc_role_map={"x": "superuser"})


def test_the_centre_claim_is_read_by_its_configured_name_or_path_and_an_unknown_centre_is_refused():
    now = time.time()
    claims = {"iat": now, "exp": now + 60, "org": {"centre": "JKU"}}
    found = principal_of(claims, timedelta(hours=1), 30, user_id="c1", name="Carl", title=None, role=Role.CASEWORKER,
                         centre=claim(claims, "org.centre"))
    assert found.centre is Centre.JKU
    with pytest.raises(ValueError):
        principal_of(claims, timedelta(hours=1), 30, user_id="c1", name="Carl", title=None, role=Role.CASEWORKER,
                     centre="Mars")
