"""Signed checkpoints of the chains' heads: valid ones read back, forged or edited ones are refused."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.checkpoint import CheckpointError, load_private_key, load_public_key, public_pem, read, sign

HEADS = {"events": (41, bytes(range(32))), "access_log": (7, bytes(32))}


def written(tmp_path, document) -> object:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(document, indent=4))
    return path


def test_a_signed_checkpoint_reads_back_its_heads_and_time(tmp_path):
    key = Ed25519PrivateKey.generate()
    at, heads = read(written(tmp_path, sign(HEADS, key)), key.public_key())
    assert heads == HEADS and at.startswith("20")


@pytest.mark.parametrize("edit", [
    lambda d: d["checkpoint"]["chains"]["events"].__setitem__("position", 40),
    lambda d: d["checkpoint"]["chains"]["events"].__setitem__("link", "00" * 32),
    lambda d: d["checkpoint"].__setitem__("at", "2020-01-01T00:00:00+00:00"),
])
def test_an_edited_checkpoint_is_refused(tmp_path, edit):
    key = Ed25519PrivateKey.generate()
    document = sign(HEADS, key)
    edit(document)
    with pytest.raises(CheckpointError, match="not validly signed"):
        read(written(tmp_path, document), key.public_key())


def test_a_checkpoint_signed_with_another_key_or_unreadable_is_refused(tmp_path):
    key = Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError, match="not validly signed"):
        read(written(tmp_path, sign(HEADS, Ed25519PrivateKey.generate())), key.public_key())
    with pytest.raises(CheckpointError, match="cannot read"):
        read(written(tmp_path, {"checkpoint": {}}), key.public_key())


def test_keys_load_from_pem_and_a_key_of_another_kind_is_refused(tmp_path):
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "key.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = tmp_path / "public.pem"
    public.write_text(public_pem(load_private_key(private)))
    document = sign(HEADS, load_private_key(private))
    assert read(written(tmp_path, document), load_public_key(public))[1] == HEADS
    with pytest.raises(CheckpointError, match="not an Ed25519 private key|cannot read"):
        load_private_key(public)
