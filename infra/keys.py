"""PLACEHOLDER until the key store lands: seal/unseal and an in-memory key store."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], aad)


class MemoryKeyStore:
    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    def data_key(self, subject: str) -> bytes:
        if subject not in self.keys:
            self.keys[subject] = AESGCM.generate_key(bit_length=256)
        key = self.keys[subject]
        if key is None:
            raise RuntimeError("destroyed")
        return key

    def existing_key(self, subject: str) -> bytes | None:
        return self.keys.get(subject)

    def destroy(self, subject: str) -> None:
        self.keys[subject] = None
