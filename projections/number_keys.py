"""Keyed hashes of phone numbers: how the phone-routing view finds a number without holding it.

The view must find the citizens who hold a number, and nothing else of the number: so it keeps an
HMAC of the number (in E.164 form) under a key derived from the citizen key with a label of its
own. Equal numbers give equal digests, so a lookup finds its rows by the digest of the number it
was asked about; without the key a digest cannot be matched to a number by hashing every number
(Danish numbers are few enough to try them all, which is why a plain hash would not do).
"""

from __future__ import annotations

import hashlib
import hmac


def phone_routing_key(citizen_key: str) -> bytes:
    """The key of the view's number digests: derived from the citizen key under a label of its own, so it
    is secret like that key but never equal to it, nor to a key derived for another purpose."""
    return hmac.new(citizen_key.encode("utf-8"), b"vaern phone routing number key", hashlib.sha256).digest()


def number_key(key: bytes, number: str) -> str:
    """The digest standing in for `number` (E.164): equal for the same number, and not the number."""
    return hmac.new(key, f"number:{number}".encode("utf-8"), hashlib.sha256).hexdigest()
