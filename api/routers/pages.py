"""The guards' page: static HTML, CSS and JS that call `POST /front-desk/lookup`; it holds no data itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["pages"], include_in_schema=False)

FRONT_DESK = Path(__file__).resolve().parent.parent / "static" / "front_desk"

# Only these files are served: a name from the URL never reaches the file system.
ASSETS = {
    "front-desk.css": "text/css; charset=utf-8",
    "front-desk.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}

# Everything from Vaern itself; nothing inline, no other origin, no framing, no form posts anywhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


@router.get("/front-desk")
def front_desk_page() -> FileResponse:
    """The front-desk page. Never stored by the browser: a shown answer must not come back via Back."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return FileResponse(FRONT_DESK / "index.html", media_type="text/html; charset=utf-8", headers=headers)


@router.get("/front-desk/assets/{name}")
def front_desk_asset(name: str) -> FileResponse:
    """The page's stylesheet, script and icon; revalidated on each load so a new version is picked up."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, "Not Found")
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(FRONT_DESK / name, media_type=media_type, headers=headers)
