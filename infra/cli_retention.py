"""`vaern retention due`: the citizens whose retention has passed, for a person to authorise their erasure."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Optional

import typer

from infra.cli_settings import command_settings

retention = typer.Typer(help="How long citizens' data is kept (VAERN_RETENTION_YEARS).", no_args_is_help=True)


@retention.command("due")
def retention_due(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line instead of a table")] = False,
    at: Annotated[Optional[datetime], typer.Option(  # noqa: UP007
        help="list those due at this moment instead of now (UTC unless an offset is given), to plan ahead",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
    )] = None,
) -> None:
    """Lists the citizens (by reference) whose retention has passed: nothing about them is going on, and
    the retention period since their last activity is over. Nothing is erased: erasure is a recorded,
    authorised act."""
    from domain.application import utc_now
    from infra.retention import retentions
    from infra.services import Services

    settings = command_settings()
    services = Services.build(settings)
    try:
        now = utc_now() if at is None else (at if at.tzinfo else at.replace(tzinfo=timezone.utc))
        due = [r for r in retentions(services.app, settings.retention_years, now) if r.due(now)]
        for kept in due:
            row = {"citizen_ref": str(kept.citizen_ref), "last_activity": kept.last_activity.isoformat(),
                   "kept_until": kept.kept_until.isoformat()}
            typer.echo(json.dumps(row) if as_json else f"{row['citizen_ref']}  {row['last_activity'][:10]}  {row['kept_until'][:10]}")
        if not as_json:
            typer.echo(f"{len(due)} citizen(s) due for erasure after {settings.retention_years} years", err=True)
    finally:
        services.close()
