"""`vaern keys`: rotating the master key that wraps every data subject's key (see docs/encryption.md)."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.cli_settings import command_settings, progress_bar
from infra.database import open_database
from infra.keys import KeyStore, MasterKey, WrongMasterKey
from infra.settings import MASTER_KEY_BYTES

keys = typer.Typer(help="The master key and the data keys it wraps.", no_args_is_help=True)
NEW_KEY_VARIABLE = "VAERN_NEW_MASTER_KEY"


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
