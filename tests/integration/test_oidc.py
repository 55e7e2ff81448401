"""Access tokens from a real OpenID provider (oidc-provider on Node.js, tests/support/oidc_provider.py): each
role reaches what it may; a token for another audience, expired, signed by a key the issuer never published,
unsigned, or HMAC-signed with the issuer's public key is refused with 401; a rotated key is taken up without
a restart; an unreachable provider is a 503."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from api.app import create_app
from api.oidc import OidcVerifier
from api.security import issue_token
from domain.values import Role
from infra.services import Services
from infra.settings import Settings
from tests.support import free_port
from tests.support.cases import decide_over_http
from tests.support.oidc_provider import AUDIENCE, OTHER_AUDIENCE, ROLE_MAP

SECRET = "integration-token-secret-0123456789abcdef"
MASTER_KEY = base64.b64encode(b"m" * 32).decode()
CPR = "211062-5629"
PROBLEM = "application/problem+json"


def oidc_settings(tmp_path, issuer: str, environment: str = "production", **extra) -> Settings:
    return Settings(
        environment=environment, data_dir=tmp_path / "data", token_secret=SECRET, master_key=MASTER_KEY,
        citizen_key="integration-citizen-key-0123456789abcdef", oidc_issuer=issuer, oidc_audience=AUDIENCE,
        oidc_role_map=ROLE_MAP, **extra,
    )


def served(settings: Settings):
    services = Services.build(settings)
    services.start_views()
    return services, TestClient(create_app(settings, services))


@pytest.fixture
def vaern(tmp_path, oidc_provider):
    services, http = served(oidc_settings(tmp_path, oidc_provider.issuer))
    with http:
        yield http
    services.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"


def _segment(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------------------------------------- roles


def test_the_provider_s_claims_name_the_caller_with_their_vaern_role_name_and_title(tmp_path, oidc_provider):
    verifier = OidcVerifier(oidc_settings(tmp_path, oidc_provider.issuer))
    leader = verifier.read(oidc_provider.token("vaern-leader"), timedelta(hours=24))  # RS256
    assert (leader.user_id, leader.name, leader.role, leader.title) == (
        "vaern-leader", "Lone Hansen", Role.LEADER, "Afdelingsleder"
    )
    guard = verifier.read(oidc_provider.token("vaern-guard"), timedelta(hours=24))  # ES256
    assert (guard.user_id, guard.name, guard.role, guard.title) == ("vaern-guard", "Gitte Vagt", Role.GUARD, None)


def test_each_role_s_token_reaches_what_the_role_may_and_is_refused_elsewhere(vaern, oidc_provider):
    token = {client: oidc_provider.bearer(f"vaern-{client}") for client in
             ("guard", "telephony", "caseworker", "leader", "legal", "management")}
    opened = vaern.post("/contact-files", json={"cpr": CPR, "purpose": "incident"}, headers=token["caseworker"])
    assert opened.status_code in (200, 201), opened.text
    ref = opened.json()["citizen_ref"]
    statistics = {"from": "2026-01-01", "to": "2026-03-01"}
    may = [
        ("guard", "post", "/front-desk/lookup", {"json": {"cpr": CPR}}),
        ("telephony", "post", "/phone-routing/lookup", {"json": {"number": "20304050"}}),
        ("leader", "get", "/restrictions/reviews", {}),
        ("legal", "get", f"/contact-files/{ref}", {}),
        ("management", "get", "/statistics", {"params": statistics}),
    ]
    may_not = [
        ("guard", "get", "/restrictions/reviews", {}),
        ("telephony", "post", "/front-desk/lookup", {"json": {"cpr": CPR}}),
        ("caseworker", "get", "/statistics", {"params": statistics}),
        ("leader", "post", "/phone-routing/lookup", {"json": {"number": "20304050"}}),
        ("legal", "post", "/contact-files", {"json": {"cpr": CPR, "purpose": "incident"}}),
        ("management", "get", f"/contact-files/{ref}", {}),
    ]
    for role, method, path, request in may:
        response = vaern.request(method.upper(), path, headers=token[role], **request)
        assert response.status_code == 200, (role, path, response.text)
    for role, method, path, request in may_not:
        response = vaern.request(method.upper(), path, headers=token[role], **request)
        assert response.status_code == 403, (role, path, response.text)
        assert response.headers["content-type"] == PROBLEM


def test_the_telephony_system_gets_its_token_by_client_credentials_and_routes_a_call_with_it(vaern, oidc_provider):
    # As the telephony system does it: the token endpoint from the discovery document, its own id and secret.
    issuer = oidc_provider.issuer
    token_endpoint = httpx.get(f"{issuer}/.well-known/openid-configuration").json()["token_endpoint"]
    granted = httpx.post(token_endpoint, data={
        "grant_type": "client_credentials", "client_id": "vaern-telephony", "client_secret": "vaern-telephony-secret",
        "scope": "vaern", "resource": AUDIENCE,
    })
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    _, claims = _parts(token)
    assert (claims["iss"], claims["aud"], claims["client_id"], claims["roles"]) == (
        issuer, AUDIENCE, "vaern-telephony", ["Vaern.Telephony"]
    )
    caseworker, leader = oidc_provider.bearer("vaern-caseworker"), oidc_provider.bearer("vaern-leader")
    ref = vaern.post("/contact-files", json={"cpr": CPR, "purpose": "restriction"}, headers=caseworker).json()["citizen_ref"]
    added = vaern.post(f"/contact-files/{ref}/phone-numbers", json={"number": "20304050"}, headers=caseworker)
    assert added.status_code in (200, 201), added.text
    decided = decide_over_http(vaern, ref, leader, caseworker)

    routed = vaern.post("/phone-routing/lookup", json={"number": "+4520304050"}, headers=bearer(token),
                        params={"min_position": decided["position"]})
    assert routed.status_code == 200, routed.text
    assert (routed.json()["rule"], routed.json()["contact"]) == ("named_contact_only", "Team Nord")
    wrong_secret = httpx.post(token_endpoint, data={
        "grant_type": "client_credentials", "client_id": "vaern-telephony", "client_secret": "guessed", "scope": "vaern",
    })
    assert wrong_secret.status_code == 401


# ---------------------------------------------------------------------------------------------- refusals


def _unpublished_key_same_kid(provider) -> str:
    header, claims = _parts(provider.token("vaern-leader"))  # RS256: a fresh RSA key of the same size
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm=header["alg"], headers={"kid": header["kid"], "typ": "at+jwt"})


def _unsigned(provider) -> str:
    header, claims = _parts(provider.token("vaern-leader"))
    return f"{_segment({**header, 'alg': 'none'})}.{_segment(claims)}."


def _hmac_with_public_key(provider) -> str:
    header, claims = _parts(provider.token("vaern-leader"))  # the leader's tokens are RS256
    public = jwt.PyJWK(next(key for key in provider.jwks()["keys"] if key["kid"] == header["kid"])).key
    secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(claims)}"
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    return f"{signing_input}.{signature.rstrip(b'=').decode()}"


REFUSED = {
    "for another audience": lambda provider: provider.token("vaern-leader", resource=OTHER_AUDIENCE),
    "expired": lambda provider: provider.token("vaern-expired"),
    "signed by a key the issuer never published, under a published kid": _unpublished_key_same_kid,
    "alg none": _unsigned,
    "HS256 keyed with the issuer's public key": _hmac_with_public_key,
    "naming two of Vaern's roles": lambda provider: provider.token("vaern-two-roles"),
    "naming none of Vaern's roles": lambda provider: provider.token("vaern-no-role"),
    "minted by `vaern token`, in production": lambda _: issue_token(SECRET, Role.LEADER, "l1", "Lone Hansen"),
}


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.7"])
def test_tokens_minted_by_vaern_token_are_refused_in_development_when_vaern_listens_beyond_loopback(
    tmp_path, oidc_provider, host
):
    services, http = served(oidc_settings(tmp_path, oidc_provider.issuer, environment="development", host=host))
    with http:
        assert http.get("/restrictions/reviews", headers=oidc_provider.bearer("vaern-leader")).status_code == 200
        minted = bearer(issue_token(SECRET, Role.LEADER, "l1", "Lone Hansen"))
        assert_refused(http.get("/restrictions/reviews", headers=minted))
    services.close()


@pytest.mark.parametrize("kind", REFUSED)
def test_a_token_that_is_not_the_issuer_s_for_vaern_in_force_and_naming_one_role_is_refused_with_401(
    vaern, oidc_provider, kind
):
    assert vaern.get("/restrictions/reviews", headers=oidc_provider.bearer("vaern-leader")).status_code == 200
    assert_refused(vaern.get("/restrictions/reviews", headers=bearer(REFUSED[kind](oidc_provider))))


def test_in_development_tokens_minted_by_vaern_token_still_work_beside_the_provider_s(tmp_path, oidc_provider):
    services, http = served(oidc_settings(tmp_path, oidc_provider.issuer, environment="development"))
    with http:
        minted = bearer(issue_token(SECRET, Role.LEADER, "l1", "Lone Hansen"))
        assert http.get("/restrictions/reviews", headers=minted).status_code == 200
        assert http.get("/restrictions/reviews", headers=oidc_provider.bearer("vaern-leader")).status_code == 200
        forged = bearer(_hmac_with_public_key(oidc_provider))
        assert_refused(http.get("/restrictions/reviews", headers=forged))
    services.close()


# ---------------------------------------------------------------------------------------------- the keys


def test_a_rotated_key_is_taken_up_without_a_restart(tmp_path, private_oidc_provider):
    provider = private_oidc_provider
    services, http = served(oidc_settings(tmp_path, provider.issuer, oidc_jwks_refresh_seconds=1.0))
    with http:
        before = provider.bearer("vaern-guard")
        assert http.post("/front-desk/lookup", json={"cpr": CPR}, headers=before).status_code == 200
        new_kid = provider.rotate()
        after = provider.token("vaern-guard")
        assert jwt.get_unverified_header(after)["kid"] == new_kid
        time.sleep(1.1)  # past the refetch cooldown that the first fetch started
        assert http.post("/front-desk/lookup", json={"cpr": CPR}, headers=bearer(after)).status_code == 200
        assert http.post("/front-desk/lookup", json={"cpr": CPR}, headers=before).status_code == 200
    services.close()


def test_tokens_naming_unknown_keys_refetch_the_jwks_at_most_once_per_cooldown(tmp_path, private_oidc_provider):
    provider = private_oidc_provider
    services, http = served(oidc_settings(tmp_path, provider.issuer, oidc_jwks_refresh_seconds=60.0))
    with http:
        accepted = http.post("/front-desk/lookup", json={"cpr": CPR}, headers=provider.bearer("vaern-guard"))
        assert accepted.status_code == 200
        fetched = provider.jwks_requests()
        _, claims = _parts(provider.token("vaern-guard"))
        key = ec.generate_private_key(ec.SECP256R1())
        for attempt in range(20):
            made_up = jwt.encode(claims, key, algorithm="ES256", headers={"kid": f"made-up-{attempt}"})
            assert_refused(http.post("/front-desk/lookup", json={"cpr": CPR}, headers=bearer(made_up)))
        assert provider.jwks_requests() - fetched <= 1
    services.close()


def test_an_unreachable_provider_is_a_503_problem_not_a_500(tmp_path, oidc_provider):
    services, http = served(oidc_settings(tmp_path, f"http://127.0.0.1:{free_port()}"))
    with http:
        response = http.get("/restrictions/reviews", headers=oidc_provider.bearer("vaern-leader"))
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM
    services.close()
