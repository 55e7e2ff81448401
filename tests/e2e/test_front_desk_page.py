"""The guards' page in a real headless browser (Debian's chromium), against Vaern on PostgreSQL.

Vaern runs under uvicorn in a thread on a loopback port, with its views running; every starting
state is built by sending commands. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.app import create_app
from api.security import issue_token
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.values import Actor, Role
from infra.services import Services
from tests.support.cases import decide
from tests.support.secrets import server_settings
from tests.support.web import Backend, chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SECRET = "front-desk-page-secret-0123456789abcdef"
RESTRICTED, UNRESTRICTED, UNKNOWN = "211062-5629", "150785-1234", "010190-1235"
CASEWORKER = Actor(user_id="c1", name="Carl Berg", role=Role.CASEWORKER)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
MONTHS = "januar februar marts april maj juni juli august september oktober november december".split()
REASONS = "Gentagne trusler mod sagsbehandler"  # what terms_body records as the reasons


@dataclass
class Served:
    """Vaern serving over HTTP, and its services for building starting states with commands."""

    services: Services
    backend: Backend

    @property
    def url(self) -> str:
        return self.backend.url

    def restrict(self, cpr: str, **terms) -> None:
        """Open the citizen's file and decide a restriction on it; returns once the front-desk view shows it."""
        ref = self.services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=CASEWORKER)).citizen_ref
        self.services.wait_for(self.services.front_desk.name, decide(self.services.app, ref, **terms).position)

    def open_file(self, cpr: str) -> None:
        receipt = self.services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=CASEWORKER))
        self.services.wait_for(self.services.front_desk.name, receipt.position)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def vaern(database_url, tmp_path) -> Iterator[Served]:
    settings = server_settings(
        database_url=database_url, data_dir=tmp_path, token_secret=SECRET,
        read_wait_timeout=10.0,
    )
    services = Services.build(settings)
    services.start_views()
    app = create_app(settings, services)
    backend = Backend(app)
    backend.start()
    yield Served(services, backend)
    backend.stop()
    services.close()


@pytest.fixture
def page_problems() -> list[str]:
    """What the page's console reported as refused by its Content-Security-Policy, and script errors."""
    return []


@pytest.fixture
def page(browser: Browser, page_problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="da-DK", timezone_id="Europe/Copenhagen"
    )
    opened = context.new_page()
    opened.set_default_timeout(15000)
    opened.on("console", lambda m: "Content Security Policy" in m.text and page_problems.append(m.text))
    opened.on("pageerror", lambda error: page_problems.append(f"script error: {error}"))
    yield opened
    context.close()


def token(role: Role = Role.GUARD, secret: str = SECRET) -> str:
    return issue_token(secret, role, "g1", "Gitte Vagt")


def log_in(page, vaern: Served, with_token: str | None = None) -> None:
    response = page.goto(f"{vaern.url}/front-desk")
    assert response.status == 200
    page.get_by_label("Dit vagt-token").fill(with_token or token())
    page.keyboard.press("Enter")
    expect(page.get_by_text("Logget ind: Gitte Vagt")).to_be_visible()


def look_up(page, cpr: str) -> None:
    """As a scanner does: the digits, then Enter, into whatever has the focus."""
    page.keyboard.type(cpr)
    page.keyboard.press("Enter")


def last_whole_day(until: datetime) -> str:
    day = (until - timedelta(microseconds=1)).astimezone(COPENHAGEN)
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def midnight_in(days: int) -> datetime:
    return datetime.combine(datetime.now(COPENHAGEN).date() + timedelta(days=days), time(0), COPENHAGEN)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"front-desk-{name}.png"), full_page=True, animations="disabled")


def test_the_page_is_served_never_stored_and_locked_to_vaern_itself(vaern):
    response = httpx.get(f"{vaern.url}/front-desk")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "form-action 'none'" in policy and "frame-ancestors 'none'" in policy
    assert '<html lang="da">' in response.text and "https://" not in response.text
    assets = (
        ("front-desk.js", "text/javascript"), ("sign-in.js", "text/javascript"), ("front-desk.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    )
    for name, kind in assets:
        asset = httpx.get(f"{vaern.url}/front-desk/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind), name
        assert "https://" not in asset.text and "http://" not in asset.text.replace("http://www.w3.org/", ""), name
    assert httpx.get(f"{vaern.url}/front-desk/assets/index.html").status_code == 404
    sign_in = httpx.get(f"{vaern.url}/front-desk/sign-in")  # no provider: the guard pastes a token
    assert sign_in.json() == {"issuer": None, "client_id": None, "scope": None}
    assert sign_in.headers["cache-control"] == "no-store"
    assert httpx.get(f"{vaern.url}/front-desk/assets/..%2F..%2Frouters%2Fpages.py").status_code == 404


def test_a_guard_sees_the_terms_of_a_restriction_and_never_the_reasons(vaern, page, page_problems):
    until = midnight_in(days=60)
    vaern.restrict(
        RESTRICTED,
        in_person={"rule": "guard_present", "instructions": "Vagt følger borgeren hele vejen; ring til teamleder"},
        valid_until=until.isoformat(),
    )
    vaern.restrict(RESTRICTED, in_person={"rule": "by_appointment"}, scope={"kind": "centre", "centre": "JKA"})
    log_in(page, vaern)

    look_up(page, RESTRICTED)
    result = page.locator("#result")
    expect(result).to_contain_text("Kun med vagt til stede")
    expect(result).to_contain_text("Begrænset adgang")
    expect(result).to_contain_text("Vagt følger borgeren hele vejen; ring til teamleder")
    expect(result).to_contain_text("Team Nord, 33 17 33 17")
    expect(result.locator(".card__detail", has_text="Gælder til og med")).to_contain_text(last_whole_day(until))
    expect(result).to_contain_text("Gælder hele forvaltningen")
    expect(result).to_contain_text("Også gældende")
    expect(result).to_contain_text("Kun efter aftale · Gælder kun center JKA")
    expect(result).to_contain_text("CPR 211062-••••")
    assert REASONS.lower() not in page.content().lower() and "5629" not in page.content()
    screenshot(page, "restricted-desktop")

    page.set_viewport_size({"width": 360, "height": 780})
    expect(result).to_contain_text("Kun med vagt til stede")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing runs off a small screen
    screenshot(page, "restricted-360")
    assert page_problems == []


def test_lookups_leave_no_cpr_in_the_url_the_history_the_field_or_storage(vaern, page, page_problems):
    vaern.open_file(UNRESTRICTED)
    vaern.restrict(RESTRICTED, in_person={"rule": "banned", "instructions": "Henvis til skriftlig henvendelse"})
    log_in(page, vaern)
    start_url, start_history = page.url, page.evaluate("history.length")
    result = page.locator("#result")

    states = (
        (UNRESTRICTED, "Ingen begrænsning", "open"),
        (UNKNOWN, "Ingen begrænsning", "not-on-file"),  # the same card: a guard never learns who is on file
        (RESTRICTED, "Må ikke komme ind", "banned"),
    )
    cards = []
    for cpr, state, name in states:
        look_up(page, cpr)
        expect(result).to_contain_text(state)
        expect(page.get_by_label("CPR-nummer")).to_have_value("")
        expect(page.get_by_label("CPR-nummer")).to_be_focused()
        cards.append(result.locator(".card").evaluate("card => card.cloneNode(true).outerHTML"))
        screenshot(page, name)
    expect(result).to_contain_text("Henvis til skriftlig henvendelse")
    without_footer = [re.sub(r'<p class="card__footer">.*?</p>', "", card) for card in cards[:2]]
    assert without_footer[0] == without_footer[1] and "registreret" not in cards[1]

    page.keyboard.press("Escape")  # with the field empty, Escape clears the answer shown
    expect(result).to_be_empty()
    look_up(page, "2110625629")  # a scanner may send the ten digits without the dash
    expect(result).to_contain_text("Må ikke komme ind")
    look_up(page, "12345")
    expect(result).to_contain_text("Ugyldigt CPR-nummer")

    assert page.url == start_url == f"{vaern.url}/front-desk"
    assert page.evaluate("history.length") == start_history
    assert page.evaluate("document.cookie") == "" and page.evaluate("localStorage.length") == 0
    assert page.evaluate("Object.keys(sessionStorage)") == ["vaern.front-desk.token"]
    visited = page.evaluate("performance.getEntries().map(e => e.name).join(' ')")
    assert not any(cpr in visited or cpr.replace("-", "") in visited for cpr in (RESTRICTED, UNRESTRICTED, UNKNOWN))

    page.keyboard.type("0101")
    page.keyboard.press("Escape")
    expect(page.get_by_label("CPR-nummer")).to_have_value("")
    expect(result).to_contain_text("Ugyldigt CPR-nummer")  # the first Escape clears only the field
    page.keyboard.press("Escape")
    expect(result).to_be_empty()
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_label("Dit vagt-token")).to_be_focused()
    assert page.evaluate("sessionStorage.length") == 0
    assert page_problems == []


@pytest.mark.parametrize(
    ("bad_token", "why"),
    [
        (token(Role.CASEWORKER), "Dit token giver ikke adgang til opslag ved skranken"),  # 403
        (token(secret="another-secret-0123456789abcdefghijkl"), "Dit log ind er udløbet eller ugyldigt"),  # 401
    ],
    ids=["a-caseworker-token", "a-token-vaern-did-not-sign"],
)
def test_a_token_vaern_refuses_for_lookups_leads_back_to_log_in(vaern, page, bad_token, why):
    log_in(page, vaern, with_token=bad_token)
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Log ind igen")
    expect(page.locator("#result")).to_contain_text(why)
    expect(page.get_by_label("Dit vagt-token")).to_be_visible()
    expect(page.get_by_label("Dit vagt-token")).to_be_focused()
    expect(page.get_by_label("CPR-nummer")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    screenshot(page, "log-in-again")


def test_when_vaern_does_not_answer_the_page_says_so_and_never_may_come_in(vaern, page):
    vaern.restrict(RESTRICTED)
    log_in(page, vaern)
    result = page.locator("#result")

    # Stubbed answers: a 5xx, as from a view that has not caught up (the page never asks for a
    # position), and a rule newer than the page, which must not read as "may come in".
    page.route("**/front-desk/lookup", lambda route: route.fulfill(status=503, body="{}"))
    look_up(page, RESTRICTED)
    expect(result).to_contain_text("Tjenesten svarer ikke")
    page.unroute("**/front-desk/lookup")
    newer = {"on_file": True, "in_person": {"rule": "escort_only", "contact_point": "Team Nord"}, "also_in_force": []}
    page.route("**/front-desk/lookup", lambda route: route.fulfill(status=200, json=newer))
    look_up(page, RESTRICTED)
    expect(result).to_contain_text("Ukendt regel")
    expect(result).not_to_contain_text("Må komme ind")
    page.unroute("**/front-desk/lookup")
    look_up(page, RESTRICTED)
    expect(result).to_contain_text("Kun med vagt til stede")

    vaern.backend.stop()
    look_up(page, RESTRICTED)
    expect(result).to_contain_text("Tjenesten svarer ikke")
    expect(result).not_to_contain_text("Kun med vagt til stede")
    expect(page.get_by_label("CPR-nummer")).to_be_focused()
    screenshot(page, "unavailable")


def test_when_the_view_is_not_current_the_page_cannot_tell_and_says_to_follow_the_local_procedure(
    database_url, tmp_path, page, page_problems
):
    # `vaern api` with the front-desk runner gone: what the view holds is older than the limit allows.
    settings = server_settings(
        database_url=database_url, data_dir=tmp_path, token_secret=SECRET,
        read_wait_timeout=10.0, view_max_staleness_seconds=1.0,
    )
    services = Services.build(settings)
    services.runner("front_desk").catch_up()
    backend = Backend(create_app(settings, services))
    backend.start()
    try:
        vaern = Served(services, backend)
        ref = services.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(RESTRICTED), actor=CASEWORKER)).citizen_ref
        decide(services.app, ref, in_person={"rule": "banned"})  # decided after the runner stopped following
        clock.sleep(1.2)  # the decision has now waited longer than the limit
        log_in(page, vaern)
        look_up(page, RESTRICTED)
        result = page.locator("#result")
        expect(result).to_contain_text("Kan ikke afgøre adgang")
        expect(result).to_contain_text("Følg jeres lokale procedure, og ring til teamet")
        expect(result).not_to_contain_text("Må komme ind")
        expect(page.get_by_label("CPR-nummer")).to_be_focused()
        screenshot(page, "cannot-tell")
        assert page_problems == []
    finally:
        backend.stop()
        services.close()


LAPTOP = {"width": 1280, "height": 800}
CONTACT = "Team Nord, 33 17 33 17"  # what terms_body records as the contact point


def seen_without_scrolling(page, *shown) -> None:
    """Each element lies wholly within the viewport, and the page needs no vertical scroll at all."""
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]
    for element in shown:
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], (element, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], (element, box)


@pytest.mark.parametrize(
    ("rule", "headline", "cpr"),
    [
        ("by_appointment", "Kun efter aftale", "211062-5629"),
        ("guard_present", "Kun med vagt til stede", "150785-1234"),
        ("banned", "Må ikke komme ind", "010190-1235"),
    ],
)
def test_on_a_laptop_a_guard_sees_rule_instruction_contact_end_and_the_number_checked_at_once(
    vaern, page, rule, headline, cpr
):
    until = midnight_in(days=60)
    instruction = "Vagt følger borgeren hele vejen; ring til teamleder på 33 17 33 17 før borgeren lukkes ind"
    vaern.restrict(cpr, in_person={"rule": rule, "instructions": instruction}, valid_until=until.isoformat())
    page.set_viewport_size(LAPTOP)
    log_in(page, vaern)
    look_up(page, cpr)
    result = page.locator("#result")
    expect(result.locator(".card__headline")).to_have_text(headline)
    seen_without_scrolling(
        page,
        result.locator(".card__headline"),
        result.get_by_text(instruction),
        result.get_by_text(CONTACT),
        result.locator("dt", has_text="Gælder til og med"),
        result.locator("dd", has_text=last_whole_day(until)),
        result.get_by_text(f"CPR {cpr[:6]}-••••"),
    )
    screenshot(page, f"laptop-{rule}")


def test_on_a_laptop_every_other_answer_shows_its_words_and_the_number_checked_at_once(vaern, page):
    page.set_viewport_size(LAPTOP)
    log_in(page, vaern)
    result = page.locator("#result")
    answers = (
        ("open", None, "Må komme ind"),
        ("cannot-tell", {"status": 503, "json": {"cannot_tell": True}}, "Kan ikke afgøre adgang"),
        ("error", {"status": 500, "body": "{}"}, "Tjenesten svarer ikke"),
    )
    for name, stub, headline in answers:
        if stub:
            page.route("**/front-desk/lookup", answering(stub))
        look_up(page, UNKNOWN)
        expect(result.locator(".card__headline")).to_have_text(headline)
        shown = [result.locator(".card__headline"), result.get_by_text("CPR 010190-••••")]
        seen_without_scrolling(page, *shown, *result.locator(".card__line").all())
        screenshot(page, f"laptop-{name}")
        page.unroute("**/front-desk/lookup")


def answering(stub: dict):
    return lambda route: route.fulfill(**stub)


@pytest.mark.parametrize(
    ("typed", "what_is_wrong"),
    [
        ("12345", "Nummeret har 5 cifre. Et CPR-nummer har 10."),
        ("211062-562", "Nummeret har 9 cifre. Et CPR-nummer har 10."),
        ("2110x2-5629", "Kun cifre og én bindestreg"),
        ("311362-5629", "De første 6 cifre er ikke en dato"),
    ],
)
def test_an_invalid_number_stays_in_the_field_with_what_is_wrong(vaern, page, typed, what_is_wrong):
    page.set_viewport_size(LAPTOP)
    log_in(page, vaern)
    look_up(page, typed)
    result = page.locator("#result")
    expect(result).to_contain_text("Ugyldigt CPR-nummer")
    expect(result).to_contain_text(what_is_wrong)
    field = page.get_by_label("CPR-nummer")
    expect(field).to_have_value(typed)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    seen_without_scrolling(page, field, result.locator(".card__headline"), result.get_by_text(what_is_wrong))
    page.keyboard.type("2110625629")  # the whole number selected: a scan or typing replaces it
    page.keyboard.press("Enter")
    expect(result.locator(".card__headline")).to_have_text("Må komme ind")
    expect(field).to_have_value("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "laptop-invalid")


def test_a_number_vaern_refuses_comes_back_to_the_field_for_correction(vaern, page):
    log_in(page, vaern)
    page.route("**/front-desk/lookup", answering({"status": 422, "json": {"errors": [{"field": "cpr"}]}}))
    look_up(page, RESTRICTED)
    expect(page.locator("#result")).to_contain_text("Vaern kan ikke bruge det som CPR-nummer")
    field = page.get_by_label("CPR-nummer")
    expect(field).to_have_value(RESTRICTED)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    page.keyboard.press("Escape")
    expect(field).to_have_value("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
