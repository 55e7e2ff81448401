"""The API description pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), from Vaern's own assets.

FastAPI's defaults load both from a CDN, which a closed municipal network blocks: the page stays
blank. The `fastapi-offline` package ships the distributions (Swagger UI 5.32.6 and ReDoc 2.5.3 in
its 1.7.7); they are served here the way FastAPI documents for self-hosting.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

# The package's version is in the URL: an upgrade changes it, so a browser may keep an asset for long.
ASSETS_URL = f"/docs/assets/{version('fastapi-offline')}"
ASSETS_CACHE = "public, max-age=31536000, immutable"

# Nothing from another origin, even where the pages would ask: ReDoc shows Redocly's logo from its CDN.
# FastAPI's pages set Swagger UI up in an inline script, and both style inline.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


class DescriptionAssets(StaticFiles):
    """The packaged Swagger UI and ReDoc files; they hold no personal data, so browsers may cache them."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code < 400:
            response.headers["Cache-Control"] = ASSETS_CACHE
        return response


def install(app: FastAPI) -> None:
    """Serves `/docs`, `/redoc` and their assets (the app is made with FastAPI's own two turned off)."""
    app.mount(ASSETS_URL, DescriptionAssets(packages=[("fastapi_offline", "static")]), name="description-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        files = {"swagger_js_url": "swagger-ui-bundle.js", "swagger_css_url": "swagger-ui.css",
                 "swagger_favicon_url": "favicon.png"}
        return _page(get_swagger_ui_html, app, request, "Swagger UI", files)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        files = {"redoc_js_url": "redoc.standalone.js", "redoc_favicon_url": "favicon.png"}
        return _page(get_redoc_html, app, request, "ReDoc", files, with_google_fonts=False)


def _page(
    render: Callable[..., HTMLResponse], app: FastAPI, request: Request, name: str, files: dict[str, str], **options: Any
) -> HTMLResponse:
    """A description page whose assets and OpenAPI document are fetched from under the app's root path."""
    root = request.scope.get("root_path", "")
    urls = {parameter: f"{root}{ASSETS_URL}/{file}" for parameter, file in files.items()}
    page = render(openapi_url=root + (app.openapi_url or ""), title=f"{app.title} - {name}", **urls, **options)
    return own_origin_only(page)


def own_origin_only(page: HTMLResponse) -> HTMLResponse:
    """The page with a policy that lets the browser load nothing from anywhere but Vaern."""
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
