"""`vaern migrate`: applies the durable tables' migrations not yet applied, and lists them all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consumers.telephony_table import MIGRATIONS as TELEPHONY_MIGRATIONS
from infra.cli_settings import command_settings
from infra.database import Database, open_database
from infra.schema import VAERN_MIGRATIONS, migrate_at_start, migrations
from infra.settings import TelephonySettings


def migrate(
    list_only: Annotated[bool, typer.Option("--list", help="only list the migrations and when each was applied")] = False,
    telephony: Annotated[bool, typer.Option(
        help="the telephony consumer's own table (VAERN_TELEPHONY_DATABASE_URL) instead of Vaern's database"
    )] = False,
) -> None:
    """Applies the migrations of Vaern's durable tables (the access log, blobs, statistics releases, positions)
    not yet applied, then lists each with when it was applied. Every process also applies them as it starts;
    views are rebuilt, never migrated (`vaern projections rebuild`)."""
    db, folder = _target(telephony)
    try:
        applied = [] if list_only else migrate_at_start(db, folder)
        for migration in migrations(db, folder):
            when = migration.applied_at.isoformat(timespec="seconds") if migration.applied_at else "pending"
            typer.echo(f"{migration.id}  {when}{'  (applied now)' if migration.id in applied else ''}")
    finally:
        db.close()


def _target(telephony: bool) -> tuple[Database, Path]:
    """The database and the migration folder: Vaern's, or the telephony consumer's own."""
    if telephony:
        chosen = command_settings(TelephonySettings)
        url, path, folder = chosen.telephony_database_url, chosen.telephony_sqlite_path, TELEPHONY_MIGRATIONS
    else:
        chosen = command_settings()
        url, path, folder = chosen.database_url, chosen.sqlite_path, VAERN_MIGRATIONS
    return open_database(url, path, 1, name="vaern-migrate"), folder
