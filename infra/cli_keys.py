"""`vaern keys`: rotating the master key that wraps every data subject's key, re-keying citizen references
after a rotation of the citizen key, and sealing the facts stored in clear from before sealing (see
docs/encryption.md)."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.citizen_refs import CitizenKeys, CitizenRefTable, rekey
from infra.cli_settings import command_settings, progress_bar
from infra.database import open_database
from infra.eventstore import EventLog, build_application
from infra.keys import KeyStore, MasterKey, WrongMasterKey
from infra.settings import MASTER_KEY_BYTES

keys = typer.Typer(help="The master key and the data keys it wraps; the citizen key.", no_args_is_help=True)
NEW_KEY_VARIABLE = "VAERN_NEW_MASTER_KEY"
SEAL_PASSES = 3  # staging, then applying; again only if facts in clear were written meanwhile


@keys.command("rotate-master")
def rotate_master(
    new_key_file: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        exists=True, dir_okay=False, help=f"a file holding the new master key (base64 of 32 bytes); default:"
        f" ${NEW_KEY_VARIABLE}, else VAERN_MASTER_KEY (finishing a rotation the services already run with)",
    )] = None,
) -> None:
    """Wraps every data key under the new master key; events and documents are not touched.

    The master keys configured (VAERN_MASTER_KEY, VAERN_PREVIOUS_MASTER_KEYS) open the keys as they are.
    Each key is rewrapped in its own transaction: an interrupted rotation is finished by running it again.
    Never pass a key on the command line, where other users and the shell history see it.
    """
    settings = command_settings()
    new = _new_key(new_key_file) or MasterKey.from_settings(settings)
    db = open_database(settings.database_url, settings.sqlite_path, pool_size=2, name="vaern-keys")
    try:
        store = KeyStore.from_settings(db, settings)
        with progress_bar(f"rewrapping under master key {new.id}", "keys") as progress:
            done = store.rewrap(new, progress)
    except WrongMasterKey as error:
        typer.echo(f"vaern: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.close()
    print(f"rewrapped {done} data keys under master key {new.id}; every data key is now wrapped under it.")
    if new.id != MasterKey.from_settings(settings).id:
        print("Set VAERN_MASTER_KEY to the new key in every process, and drop the earlier keys from"
              " VAERN_PREVIOUS_MASTER_KEYS once every process runs with it.")


def _new_key(path: Path | None) -> MasterKey | None:
    """The new master key from the file, else from $VAERN_NEW_MASTER_KEY; None if neither is given."""
    text = path.read_text(encoding="ascii").strip() if path is not None else os.environ.get(NEW_KEY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != MASTER_KEY_BYTES:
        raise typer.BadParameter(f"the new master key is not base64 of {MASTER_KEY_BYTES} bytes")
    return MasterKey(raw)


@keys.command("seal-existing")
def seal_existing() -> None:
    """Seals, in place, every fact stored in clear from before sealing, so that erasure reaches it too.

    First each plain fact is sealed into a staging table, a batch per transaction, while Vaern runs on;
    then one transaction, with writers waiting, writes them and re-links the event chain from the first
    of them, recording the re-link. Stopped or crashed, it is finished by running it again; run twice,
    the second run finds nothing to do. Refused while the event chain is broken.
    """
    from infra import tamper
    from infra.reseal import ChainBroken, NotAllStaged, Resealer

    settings = command_settings()
    db = open_database(settings.database_url, settings.sqlite_path, pool_size=2, name="vaern-keys")
    app = build_application(settings, KeyStore.from_settings(db, settings))  # creates the chain and its record of re-links
    try:
        events = tamper.verify(db)["events"]
        if events.broken is not None:
            typer.echo(f"vaern: refusing to rewrite facts over a broken chain: {tamper.describe('events', events)}", err=True)
            raise typer.Exit(1)
        resealer = Resealer(db, app.mapper)  # type: ignore[arg-type]
        for _ in range(SEAL_PASSES):
            with progress_bar("sealing facts stored in clear", "facts") as progress:
                resealer.stage(progress)
            try:
                with progress_bar("re-linking the event chain", "events") as progress:
                    relink = resealer.apply(progress)
                break
            except NotAllStaged:
                continue
        else:
            raise NotAllStaged(f"facts in clear were still being written after {SEAL_PASSES} passes: stop every"
                               " Vaern from before sealing, then run this again")
    except (ChainBroken, NotAllStaged) as error:
        typer.echo(f"vaern: {error}; nothing was rewritten", err=True)
        raise typer.Exit(1) from None
    finally:
        app.close()
        db.close()
    if relink is None:
        print("no fact is stored in clear: nothing to seal.")
        return
    print(f"sealed {relink.sealed} facts stored in clear; the event chain was re-linked from position"
          f" {relink.first_position} through {relink.through_position} ({relink.relinked} events) at"
          f" {relink.relinked_at.isoformat()}.")
    print("Take a new checkpoint now (`vaern checkpoint`): checkpoints signed before this one do not match from"
          f" position {relink.first_position} on. The replaced plain bytes remain in the database's free space"
          " and in backups until reclaimed: see docs/encryption.md.")


@keys.command("rekey-citizens")
def rekey_citizens() -> None:
    """Records the reference each file's CPR number has under the current citizen key: old files are then found without old keys.

    Only files that keep their CPR number (sealed in their events) can be recorded.

    Run it once every process runs with the new VAERN_CITIZEN_KEY and the earlier keys in
    VAERN_PREVIOUS_CITIZEN_KEYS (docs/encryption.md, "Rotating the citizen key"). It records in one
    transaction per batch of the log: an interrupted run is finished by running it again.
    """
    settings = command_settings()
    db = open_database(settings.database_url, settings.sqlite_path, pool_size=2, name="vaern-keys")
    app = None
    try:
        app = build_application(settings, KeyStore.from_settings(db, settings))
        with progress_bar("re-keying citizen references", "events") as progress:
            done = rekey(CitizenRefTable(db, CitizenKeys.from_settings(settings)), EventLog(app), progress)
    except WrongMasterKey as error:
        typer.echo(f"vaern: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        if app is not None:
            app.close()
        db.close()
    print(f"{done.recorded} contact files opened under earlier citizen keys are found under the current key"
          f" ({done.newly_recorded} recorded by this run); {done.current} were opened under the current key.")
    print(f"{done.without_cpr} contact files keep no CPR number: each is found only by the citizen key it was"
          f" opened under, until its citizen's file is opened again; {done.erased} files' CPR numbers are erased.")
    if settings.previous_citizen_key_texts:
        print("Rebuild the phone-routing view (vaern projections rebuild phone_routing; the statistics view was"
              " built again when the processes started under the new key); then the previous keys may be dropped"
              " from VAERN_PREVIOUS_CITIZEN_KEYS"
              + (" once the files without a CPR number have been opened again." if done.without_cpr else "."))
