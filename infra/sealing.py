"""AES-256-GCM sealing, and the master key that wraps data keys (re-exported by infra/keys.py)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.settings import PLACEHOLDER_PREFIX, Settings

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_CHECK = b"vaern master key check v1"  # sealed under each master key in use, to recognise a wrong one


class UnsealError(ValueError):
    """Sealed bytes that do not open: a wrong key, other associated data, or altered bytes."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: a random 12-byte nonce followed by the ciphertext and its tag; `aad` is bound, not stored."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(key)}")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext `seal` sealed; UnsealError if the key or `aad` is not the one used, or a byte changed."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(key)}")
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise UnsealError("too short to be sealed bytes")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise UnsealError("the sealed bytes do not open: a wrong key, other associated data, or altered bytes") from None


class MasterKey:
    """The key that wraps data keys; known by `id`, a short digest that tells keys apart without revealing them."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes, not {len(key)}")
        self._key = key
        self.id = hashlib.sha256(b"vaern master key id\x00" + key).hexdigest()[:16]

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        """From base64 of 32 bytes; a development placeholder (refused elsewhere by the settings) is hashed to one."""
        if text.startswith(PLACEHOLDER_PREFIX):
            return cls(hashlib.sha256(text.encode("utf-8")).digest())
        return cls(base64.b64decode(text, validate=True))

    @classmethod
    def from_settings(cls, settings: Settings) -> MasterKey:
        return cls.from_text(settings.master_key.get_secret_value())

    @classmethod
    def previous(cls, settings: Settings) -> list[MasterKey]:
        """The earlier master keys named during a rotation (VAERN_PREVIOUS_MASTER_KEYS)."""
        return [cls.from_text(text) for text in settings.previous_master_key_texts]

    def wrap(self, data_key: bytes, subject: str) -> bytes:
        return seal(self._key, data_key, subject.encode("utf-8"))

    def unwrap(self, wrapped: bytes, subject: str) -> bytes:
        return unseal(self._key, wrapped, subject.encode("utf-8"))

    def check_value(self) -> bytes:
        """A known constant sealed under this key: stored, it later tells this key from a wrong one."""
        return seal(self._key, _CHECK, self.id.encode("ascii"))

    def opens(self, check_value: bytes) -> bool:
        try:
            return unseal(self._key, check_value, self.id.encode("ascii")) == _CHECK
        except UnsealError:
            return False

    def __repr__(self) -> str:
        return f"MasterKey(id={self.id!r})"
