"""The guards' page signing in at a real OpenID provider (oidc-provider, tests/support/oidc_provider.py) in
Debian's Chromium: the authorization-code flow with PKCE, the access token held in the page's memory only,
renewed with a refresh token, or the guard asked to sign in again when it runs out.

Each test has a provider of its own, started knowing the page's address (its redirect URI), with page
access tokens that live a few seconds so their expiry can be watched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Page, Request, expect

from api.app import create_app
from domain.contact_file.commands import FilePurpose, OpenContactFile
from domain.identity import Cpr
from domain.values import Actor, Role
from infra.services import Services
from tests.support.cases import decide
from tests.support.oidc_provider import (
    AUDIENCE, PAGE_CLIENT, PAGE_CLIENT_WITHOUT_REFRESH, PAGE_SCOPE, ROLE_MAP, OidcProvider, ProviderError,
)
from tests.support.secrets import server_settings
from tests.support.web import Backend, chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RESTRICTED = "211062-5629"
CASEWORKER = Actor(user_id="c1", name="Carl Berg", role=Role.CASEWORKER)
SIGN_IN = "Log ind med kommunens login"


@dataclass
class SignedIn:
    """Vaern whose guards' page signs in at `provider`; every request the browser made, to look through."""

    services: Services
    backend: Backend
    provider: OidcProvider
    requests: list[Request] = field(default_factory=list)

    @property
    def page_url(self) -> str:
        return f"{self.backend.url}/front-desk"

    def restrict(self, cpr: str) -> None:
        opening = OpenContactFile(cpr=Cpr.parse(cpr), purpose=FilePurpose.RESTRICTION, actor=CASEWORKER)
        ref = self.services.app.open_contact_file(opening).citizen_ref
        self.services.wait_for(self.services.front_desk.name, decide(self.services.app, ref).position)

    def lookup_tokens(self) -> list[str]:
        """The bearer tokens the page's lookups carried, in order."""
        return [
            r.headers["authorization"].removeprefix("Bearer ") for r in self.requests
            if r.url.endswith("/front-desk/lookup") and "authorization" in r.headers
        ]

    def refresh_grants(self) -> int:
        return sum(1 for r in self.requests if r.method == "POST" and "grant_type=refresh_token" in (r.post_data or ""))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def signing_in(database_url: str, tmp_path: Path, client: str, token_seconds: int) -> Iterator[SignedIn]:
    backend = Backend()  # its address first: the provider registers the page's address as the redirect URI
    provider = OidcProvider(tmp_path / "oidc", page_addresses=(f"{backend.url}/front-desk",),
                            page_token_seconds=token_seconds)
    try:
        provider.start()
    except ProviderError as error:
        pytest.fail(f"could not start the OpenID provider: {error}", pytrace=False)
    settings = server_settings(
        database_url=database_url, data_dir=tmp_path / "data", read_wait_timeout=10.0, oidc_issuer=provider.issuer,
        oidc_audience=AUDIENCE, oidc_role_map=ROLE_MAP, oidc_page_client_id=client, oidc_page_scope=PAGE_SCOPE,
        oidc_clock_skew_seconds=0,  # an expired token is refused at once: what the page does then is seen
    )
    services = Services.build(settings)
    services.start_views()
    backend.start(create_app(settings, services))
    try:
        yield SignedIn(services, backend, provider)
    finally:
        backend.stop()
        services.close()
        provider.stop()


@pytest.fixture
def vaern(database_url, tmp_path) -> Iterator[SignedIn]:
    yield from signing_in(database_url, tmp_path, PAGE_CLIENT, token_seconds=8)


@pytest.fixture
def vaern_without_refresh(database_url, tmp_path) -> Iterator[SignedIn]:
    yield from signing_in(database_url, tmp_path, PAGE_CLIENT_WITHOUT_REFRESH, token_seconds=6)


@pytest.fixture
def page_problems() -> list[str]:
    return []


def opened(browser: Browser, vaern: SignedIn, page_problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="da-DK", timezone_id="Europe/Copenhagen"
    )
    page = context.new_page()
    page.set_default_timeout(10000)
    page.on("request", lambda request: vaern.requests.append(request))
    page.on("console", lambda m: "Content Security Policy" in m.text and page_problems.append(m.text))
    page.on("pageerror", lambda error: page_problems.append(f"script error: {error}"))
    yield page
    context.close()


@pytest.fixture
def page(browser, vaern, page_problems) -> Iterator[Page]:
    yield from opened(browser, vaern, page_problems)


@pytest.fixture
def page_without_refresh(browser, vaern_without_refresh, page_problems) -> Iterator[Page]:
    yield from opened(browser, vaern_without_refresh, page_problems)


def sign_in(page: Page, vaern: SignedIn, login: str = "gitte", name: str = "Gitte Vagt") -> None:
    """At the provider's login and consent pages, as the guard does; back on the page, signed in."""
    page.get_by_role("button", name=SIGN_IN).click()
    page.wait_for_url(f"{vaern.provider.issuer}/**")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password will do at the test provider")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(f"Logget ind: {name}")).to_be_visible()


def look_up(page: Page, cpr: str) -> None:
    page.keyboard.type(cpr)
    page.keyboard.press("Enter")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"front-desk-{name}.png"), full_page=True, animations="disabled")


def stored(page: Page) -> str:
    """Everything the page keeps beyond its memory: the address, the storage and cookies it can read."""
    return " ".join(
        (page.url, page.evaluate("JSON.stringify({...localStorage})"),
         page.evaluate("JSON.stringify({...sessionStorage})"), page.evaluate("document.cookie"))
    )


def test_a_guard_signs_in_at_the_provider_and_looks_up_with_a_token_held_only_in_memory(vaern, page, page_problems):
    vaern.restrict(RESTRICTED)
    response = page.goto(vaern.page_url)
    assert f"connect-src 'self' {vaern.provider.issuer}" in response.headers["content-security-policy"]
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_focused()
    expect(page.get_by_label("Dit vagt-token")).to_be_hidden()

    sign_in(page, vaern)
    assert page.url == vaern.page_url  # the code and state are gone from the address
    assert page.evaluate("localStorage.length") == 0 and page.evaluate("sessionStorage.length") == 0
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Kun med vagt til stede")
    screenshot(page, "signed-in-at-the-provider")

    [token] = vaern.lookup_tokens()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["sub"], claims["roles"]) == (
        vaern.provider.issuer, AUDIENCE, "gitte", ["Vaern.Guard"]
    )
    assert token not in stored(page)
    assert not any(token in r.url or "access_token=" in r.url for r in vaern.requests)
    challenge = next(r.url for r in vaern.requests if r.url.startswith(f"{vaern.provider.issuer}/auth"))
    assert "code_challenge_method=S256" in challenge and "code_challenge=" in challenge

    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_focused()
    page.get_by_role("button", name=SIGN_IN).click()  # signed out here: the provider asks who it is again
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page_problems == []


def test_a_caseworker_signed_in_at_the_provider_is_told_the_page_is_not_for_them(vaern, page):
    page.goto(vaern.page_url)
    sign_in(page, vaern, login="carl", name="Carl Berg")
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Dit log ind giver ikke adgang til opslag ved skranken")
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_visible()


def test_the_page_renews_its_token_with_the_refresh_token_before_it_expires(vaern, page):
    vaern.restrict(RESTRICTED)
    page.goto(vaern.page_url)
    sign_in(page, vaern)
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Kun med vagt til stede")
    [first] = vaern.lookup_tokens()
    expires = jwt.decode(first, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires + 1 - time.time()))  # the first token has now expired
    lookup = f"{vaern.backend.url}/front-desk/lookup"
    refused = httpx.post(lookup, json={"cpr": RESTRICTED}, headers={"Authorization": f"Bearer {first}"})
    assert refused.status_code == 401

    look_up(page, RESTRICTED)
    expect(page.locator("#result .card__footer")).to_contain_text("CPR 211062-••••")
    expect(page.locator("#result")).to_contain_text("Kun med vagt til stede")
    second = vaern.lookup_tokens()[-1]
    assert second != first and jwt.decode(second, options={"verify_signature": False})["exp"] > expires
    assert vaern.refresh_grants() >= 1
    assert page.url == vaern.page_url and second not in stored(page)


def test_without_a_refresh_token_the_guard_is_asked_to_sign_in_again_when_the_token_expires(
    vaern_without_refresh, page_without_refresh
):
    vaern, page = vaern_without_refresh, page_without_refresh
    vaern.restrict(RESTRICTED)
    page.goto(vaern.page_url)
    sign_in(page, vaern)
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Kun med vagt til stede")

    result = page.locator("#result")
    expect(result).to_contain_text("Dit log ind er udløbet", timeout=15000)
    expect(result).to_contain_text("Log ind igen")
    expect(result).not_to_contain_text("Kun med vagt til stede")
    expect(page.get_by_role("button", name=SIGN_IN)).to_be_focused()
    expect(page.get_by_label("CPR-nummer")).to_be_hidden()
    screenshot(page, "sign-in-again")
    assert vaern.refresh_grants() == 0

    page.get_by_role("button", name=SIGN_IN).click()  # the provider still knows the guard: straight back
    expect(page.get_by_text("Logget ind: Gitte Vagt")).to_be_visible()
    look_up(page, RESTRICTED)
    expect(result).to_contain_text("Kun med vagt til stede")
    first, second = vaern.lookup_tokens()
    assert first != second and page.url == vaern.page_url
