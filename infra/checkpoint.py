"""Signed checkpoints of the chains' heads: what a later verification holds the database to.

A checkpoint names, for each chain, a position and the link there, and when it was taken, signed
with Ed25519 (`cryptography`). Kept away from the database (mailed, printed, in another system),
it catches what the chains alone cannot: someone with full rights over the database who rewrites
a log and recomputes every link after it, or cuts records off the end together with their links.

The file is JSON: {"checkpoint": {...}, "signature": base64}. The signature covers the
checkpoint's canonical JSON (sorted keys, no spaces), so the file may be re-indented freely.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class CheckpointError(ValueError):
    """A checkpoint or key that cannot be used: unreadable, of the wrong kind, or not validly signed."""


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise CheckpointError(f"cannot read the checkpoint key {path}: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"the checkpoint key {path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot read the public key {path}: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(heads: dict[str, tuple[int, bytes]], key: Ed25519PrivateKey, at: datetime | None = None) -> dict[str, Any]:
    """A signed checkpoint of `heads` (chain name -> (position, link))."""
    body = {
        "at": (at or datetime.now(timezone.utc)).isoformat(),
        "chains": {name: {"position": position, "link": link.hex()} for name, (position, link) in heads.items()},
    }
    return {"checkpoint": body, "signature": base64.b64encode(key.sign(_canonical(body))).decode("ascii")}


def read(path: Path, key: Ed25519PublicKey) -> tuple[str, dict[str, tuple[int, bytes]]]:
    """A checkpoint file's time and heads, once its signature is found valid for `key`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        body, signature = document["checkpoint"], base64.b64decode(document["signature"], validate=True)
        chains = {name: (int(c["position"]), bytes.fromhex(c["link"])) for name, c in body["chains"].items()}
        at = str(body["at"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"cannot read the checkpoint {path}: {error!r}") from None
    try:
        key.verify(signature, _canonical(body))
    except InvalidSignature:
        raise CheckpointError(f"the checkpoint {path} is not validly signed by this key: forged or altered") from None
    return at, chains
