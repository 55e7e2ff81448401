"""The API description pages on a closed network: Chromium may reach Vaern and nothing else.

Every request to another origin is aborted and recorded; the pages must render the operations from
Vaern's own assets alone, and must not even try to reach anything else.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from api.app import create_app
from infra.settings import Settings
from tests.support.web import Backend, chromium

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
RENDERED_WITHIN = 20_000  # ms: the pages render the whole document in the browser, which takes seconds on 2 cores


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def vaern_url(tmp_path_factory) -> Iterator[str]:
    backend = Backend(create_app(Settings(data_dir=tmp_path_factory.mktemp("vaern"))))
    backend.start()
    yield backend.url
    backend.stop()


@pytest.fixture
def offline(browser: Browser, vaern_url: str) -> Iterator[tuple[Page, list[str]]]:
    """A page whose every request to anywhere but Vaern is aborted; the list holds what was attempted,
    what the page's Content-Security-Policy refused to load, and script errors."""
    elsewhere: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800})

    def closed_network(route: Route) -> None:
        if route.request.url.startswith(vaern_url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", closed_network)
    page = context.new_page()
    page.set_default_timeout(RENDERED_WITHIN)
    page.on("console", lambda m: "Content Security Policy" in m.text and elsewhere.append(m.text))
    page.on("pageerror", lambda error: elsewhere.append(f"script error: {error}"))
    yield page, elsewhere
    context.close()


def test_swagger_ui_renders_every_operation_from_vaerns_own_assets(offline, vaern_url):
    page, elsewhere = offline
    assert page.goto(f"{vaern_url}/docs").status == 200
    lookup = page.locator(".opblock-summary-path", has_text="/front-desk/lookup")
    expect(lookup.first).to_be_visible(timeout=RENDERED_WITHIN)
    shown = page.locator(".opblock-summary").evaluate_all(
        "blocks => blocks.map(b => `${b.querySelector('.opblock-summary-method').textContent.toLowerCase()} `"
        " + b.querySelector('.opblock-summary-path').dataset.path)"
    )
    assert set(shown) == set(operations(vaern_url))
    assert elsewhere == []


def test_redoc_renders_the_operations_from_vaerns_own_assets(offline, vaern_url):
    page, elsewhere = offline
    assert page.goto(f"{vaern_url}/redoc").status == 200
    expect(page.locator("[data-section-id^='operation/']", has_text="/front-desk/lookup").first).to_be_attached(
        timeout=RENDERED_WITHIN
    )
    # ReDoc shows Redocly's logo from its CDN; the policy keeps the browser from even asking for it.
    assert all(REDOCLY_LOGO in attempt and "Content Security Policy" in attempt for attempt in elsewhere), elsewhere


def test_the_description_assets_are_served_by_vaern_and_may_be_cached(vaern_url):
    for page in ("/docs", "/redoc"):
        html = httpx.get(vaern_url + page).text
        assert "https://" not in html and "http://" not in html, page
        for asset in asset_urls(html):
            answer = httpx.get(vaern_url + asset)
            assert answer.status_code == 200, asset
            assert "max-age" in answer.headers["cache-control"] and "no-store" not in answer.headers["cache-control"]
            assert answer.headers["x-content-type-options"] == "nosniff"


def operations(url: str) -> list[str]:
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    return [f"{method} {path}" for path, item in paths.items() for method in item]


def asset_urls(html: str) -> list[str]:
    found = [part.split('"', 1)[0] for marker in ('src="', 'href="', "url: '") for part in html.split(marker)[1:]]
    return [url for url in found if url.startswith("/docs/assets/")] or pytest.fail("no assets named in the page")
