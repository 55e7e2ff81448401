"""The guards' page: static HTML, CSS and JS that call `POST /front-desk/lookup`; it holds no data itself.

With VAERN_OIDC_PAGE_CLIENT_ID set the page signs the guard in at the provider (sign-in.js); it learns the
issuer and client from `GET /front-desk/sign-in`, and may then call the provider's endpoints as well.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from infra.settings import Settings

router = APIRouter(tags=["pages"], include_in_schema=False)

FRONT_DESK = Path(__file__).resolve().parent.parent / "static" / "front_desk"

# Only these files are served: a name from the URL never reaches the file system.
ASSETS = {
    "front-desk.css": "text/css; charset=utf-8",
    "front-desk.js": "text/javascript; charset=utf-8",
    "sign-in.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


def content_security_policy(connect_to: str = "") -> str:
    """Everything from Vaern itself (and calls to the provider's origin when the page signs in there); nothing
    inline, no framing, no form posts anywhere."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self'{' ' + connect_to if connect_to else ''}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


SECURITY_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def _signs_in(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_page_client_id)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@router.get("/front-desk")
def front_desk_page(request: Request) -> FileResponse:
    """The front-desk page. Never stored by the browser: a shown answer must not come back via Back."""
    settings: Settings = request.app.state.services.settings
    provider = _origin(settings.oidc_issuer) if _signs_in(settings) and settings.oidc_issuer else ""
    headers = {
        **SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(provider), "Cache-Control": "no-store"
    }
    return FileResponse(FRONT_DESK / "index.html", media_type="text/html; charset=utf-8", headers=headers)


@router.get("/front-desk/sign-in")
def front_desk_sign_in(request: Request) -> JSONResponse:
    """Where the page signs the guard in: the provider's issuer, the page's public client and the scopes to ask
    for; all null when the page asks for a token instead (development)."""
    settings: Settings = request.app.state.services.settings
    signs_in = _signs_in(settings)
    body = {
        "issuer": settings.oidc_issuer if signs_in else None,
        "client_id": settings.oidc_page_client_id if signs_in else None,
        "scope": settings.oidc_page_scope if signs_in else None,
    }
    return JSONResponse(body, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


@router.get("/front-desk/assets/{name}")
def front_desk_asset(name: str) -> FileResponse:
    """The page's stylesheet, script and icon; revalidated on each load so a new version is picked up."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "Not Found")
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(FRONT_DESK / name, media_type=media_type, headers=headers)
