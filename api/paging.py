"""Paging a list: a bounded page at a time, the next one named by an opaque cursor.

Keyset paging, not OFFSET: each list is read in the order of a sort key that ends in a unique
tiebreaker, and a page holds the items after the last item of the page before. A row added (or
gone) between two pages moves no other row across the boundary, so nothing repeats or goes
missing. Where the items come from a table, the key and the bound are in the SQL (limit + 1 rows
are read: the one more tells whether a next page exists).

The cursor is urlsafe base64 of the last item's sort key (moments, opaque ids, log positions, a
purpose: never a CPR number, name or phone number), then a MAC over it and the list's name, keyed
from the token secret that every API process shares. A cursor altered, cut short or taken from
another list is refused (422 naming `cursor`) rather than read as some other place in some list.

A list answered as a JSON array keeps that shape: the next page is named in a `Link: <...>;
rel="next"` header (RFC 8288) and in `X-Next-Cursor`. An answer that is an object carries the
cursor in a field as well. The last page has neither.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

T = TypeVar("T")
LIMIT_DEFAULT, LIMIT_MAX = 100, 500
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description=f"items per page, 1 to {LIMIT_MAX}")]
CursorText = Annotated[str | None, Query(
    max_length=512, description="where to go on: the cursor of the page before (its `Link` rel=\"next\"); none for the first",
)]
HEADERS: dict[str, Any] = {
    "Link": {"description": 'the next page, as `<url>; rel="next"` (RFC 8288); absent on the last page',
             "schema": {"type": "string"}},
    "X-Next-Cursor": {"description": "the next page's `cursor`; absent on the last page", "schema": {"type": "string"}},
}
RESPONSES: dict[int | str, dict[str, Any]] = {200: {"headers": HEADERS}}


def with_pages(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """`responses`, their 200 answer also documenting the paging headers."""
    return {**responses, 200: {**responses.get(200, {}), "headers": HEADERS}}


Kind = type[datetime] | type[date] | type[UUID] | type[int] | type[str]


def _mac(secret: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(secret, name.encode() + b"\0" + payload, hashlib.sha256).digest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _refused(reason: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("query", "cursor"), "msg": reason, "input": None}])


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, str)) else str(value) if isinstance(value, UUID) else value.isoformat()


def _typed(kind: Kind, value: Any) -> Any:
    if kind is int:
        if type(value) is not int:
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    typed = kind.fromisoformat(value) if kind in (datetime, date) else kind(value)  # type: ignore[attr-defined]
    if isinstance(typed, datetime) and typed.tzinfo is None:
        raise ValueError
    return typed


@dataclass(frozen=True)
class Page:
    """What a caller asked of one list: at most `limit` items, those after the sort key `after` (from the cursor)."""

    name: str
    limit: int
    after: tuple[Any, ...] | None
    secret: bytes
    request: Request

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to learn whether a next page exists."""
        return self.limit + 1

    def of(self, items: Sequence[T], key: Callable[[T], tuple[Any, ...]]) -> list[T]:
        """The items of a list already in hand (in key order) from the cursor on, `fetch` of them at most."""
        return [item for item in items if self.after is None or key(item) > self.after][: self.fetch]

    def cut(self, rows: Sequence[T], key: Callable[[T], tuple[Any, ...]], response: Response) -> tuple[list[T], str | None]:
        """The page of `rows` (read with `fetch`), and the next page's cursor, also set in `response`'s headers."""
        if len(rows) <= self.limit:
            return list(rows), None
        shown = list(rows[: self.limit])
        payload = json.dumps([_plain(v) for v in key(shown[-1])], separators=(",", ":")).encode()
        cursor = f"{_b64(payload)}.{_b64(_mac(self.secret, self.name, payload))}"
        url = self.request.url.include_query_params(cursor=cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        response.headers["X-Next-Cursor"] = cursor
        return shown, cursor

    @staticmethod
    def decode(cursor: str, name: str, kinds: tuple[Kind, ...], secret: bytes) -> tuple[Any, ...]:
        """The sort key a cursor of list `name` holds; refused (422 naming `cursor`) unless issued for that list."""
        try:
            text, mac = cursor.split(".")
            payload = _unb64(text)
            if not hmac.compare_digest(_unb64(mac), _mac(secret, name, payload)):
                raise _refused("not a cursor this list gave")
            values = json.loads(payload)
            if not isinstance(values, list) or len(values) != len(kinds):
                raise ValueError
            return tuple(_typed(kind, value) for kind, value in zip(kinds, values))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise _refused("not a cursor this list gave") from error


def _secret(request: Request) -> bytes:
    token_secret = request.app.state.services.settings.token_secret.get_secret_value()
    return hashlib.sha256(b"vaern page cursor\0" + token_secret.encode()).digest()


def paged(name: str, *kinds: Kind) -> Any:
    """A dependency taking `limit` and `cursor` for the list `name`, whose sort key has the types `kinds`."""

    def page(request: Request, limit: Limit = LIMIT_DEFAULT, cursor: CursorText = None) -> Page:
        secret = _secret(request)
        after = None if cursor is None else Page.decode(cursor, name, kinds, secret)
        return Page(name, limit, after, secret, request)

    return Annotated[Page, Depends(page)]
