"""`vaern verify` and `vaern checkpoint`: checking the logs' hash chains, and signing their heads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra import checkpoint as checkpoints
from infra.cli_settings import command_settings
from infra.database import Database, open_database
from infra.settings import Settings

BROKEN = 1  # the exit code when a chain is broken or a checkpoint is forged or no longer holds

KeyOption = Annotated[
    Optional[Path],  # noqa: UP007
    typer.Option("--public-key", help="PEM Ed25519 public key the checkpoint must be signed with"
                 " (default: the one of VAERN_CHECKPOINT_KEY_FILE)"),
]


def _database(settings: Settings) -> Database:
    return open_database(settings.database_url, settings.sqlite_path, pool_size=4, name="vaern-verify")


def _private_key(settings: Settings) -> checkpoints.Ed25519PrivateKey:
    if settings.checkpoint_key_file is None:
        raise typer.BadParameter("set VAERN_CHECKPOINT_KEY_FILE to a PEM Ed25519 private key"
                                 " (e.g. `openssl genpkey -algorithm ed25519 -out checkpoint-key.pem`)")
    try:
        return checkpoints.load_private_key(settings.checkpoint_key_file)
    except checkpoints.CheckpointError as error:
        raise typer.BadParameter(str(error)) from None


def _signed_heads(path: Path, public_key: Path | None, settings: Settings) -> tuple[str, dict[str, tuple[int, bytes]]]:
    """When a checkpoint file was taken and the heads it signs, or exit BROKEN saying why it cannot be trusted."""
    try:
        key = checkpoints.load_public_key(public_key) if public_key else _private_key(settings).public_key()
    except checkpoints.CheckpointError as error:
        raise typer.BadParameter(str(error)) from None
    try:
        at, heads = checkpoints.read(path, key)
    except checkpoints.CheckpointError as error:
        typer.echo(f"checkpoint: REJECTED: {error}")
        raise typer.Exit(BROKEN) from None
    typer.echo(f"checkpoint: validly signed, taken {at}: "
               + ", ".join(f"{name} at {position}" for name, (position, _) in sorted(heads.items())))
    return at, heads


def verify(
    checkpoint: Annotated[Optional[Path], typer.Option(help="a file from `vaern checkpoint` to hold the chains to")] = None,  # noqa: UP007
    public_key: KeyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON instead")] = False,
) -> None:
    """Walks the event log's and the access log's hash chains; exit code 1 at the first break in either."""
    from infra import tamper
    from infra.reseal import relinks

    settings = command_settings()
    at, heads = _signed_heads(checkpoint, public_key, settings) if checkpoint else ("", None)
    db = _database(settings)
    try:
        found = tamper.verify(db, heads)
        relinked = relinks(db)
    finally:
        db.close()
    stale = tamper.stale_checkpoint(at, heads["events"][0], found["events"], relinked) if heads and "events" in heads else None
    if as_json:
        findings = tamper.as_json(found)
        findings["events"]["relinks"] = [{**vars(r), "relinked_at": r.relinked_at.isoformat()} for r in relinked]
        typer.echo(json.dumps(findings, indent=2))
    else:
        for name, walked in found.items():
            typer.echo(tamper.describe(name, walked))
        for relink in relinked:
            typer.echo(tamper.describe_relink(relink))
    if stale is not None:
        typer.echo(f"checkpoint: taken {at}, before the event chain was re-linked at {stale.relinked_at.isoformat()} from"
                   f" position {stale.first_position} (sealing facts stored in clear): it cannot match there, as"
                   " expected. Verify against a checkpoint taken after the re-link (`vaern checkpoint`).",
                   err=as_json)
    if any(walked.broken is not None for walked in found.values()):
        raise typer.Exit(BROKEN)


def checkpoint(
    out: Annotated[Optional[Path], typer.Option(help="where to write the signed checkpoint (JSON)")] = None,  # noqa: UP007
    print_public_key: Annotated[bool, typer.Option("--public-key", help="print the signing key's public key (PEM)")] = False,
) -> None:
    """Verifies both chains, then signs their heads (position, link, time) with VAERN_CHECKPOINT_KEY_FILE."""
    from infra import tamper

    settings = command_settings()
    key = _private_key(settings)
    if print_public_key:
        typer.echo(checkpoints.public_pem(key), nl=False)
        return
    if out is None:
        raise typer.BadParameter("give --out FILE (or --public-key to print the public key)")
    db = _database(settings)
    try:
        found = tamper.verify(db)
        broken = [tamper.describe(name, w) for name, w in found.items() if w.broken is not None]
        if broken:  # a checkpoint of a broken chain would vouch for the damage
            typer.echo("\n".join(["refusing to sign a checkpoint of a broken chain:", *broken]))
            raise typer.Exit(BROKEN)
        heads = {name: (w.head, w.link) for name, w in found.items()}
    finally:
        db.close()
    out.write_text(json.dumps(checkpoints.sign(heads, key), indent=2) + "\n", encoding="utf-8")
    typer.echo(f"checkpoint written to {out}: " + ", ".join(f"{n} at {p}" for n, (p, _) in heads.items()))
