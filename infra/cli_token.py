"""`vaern token`: a signed development token for a role, printed on standard output."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Optional

import typer

from infra.settings import Settings


def token(
    role: Annotated[str, typer.Option(help="guard, caseworker, leader, legal, telephony, management or admin")],
    user: Annotated[str, typer.Option(help="the user's id")],
    name: Annotated[str, typer.Option(help="the user's full name")],
    title: Annotated[Optional[str], typer.Option(help="job title, named on decisions")] = None,  # noqa: UP007
    hours: Annotated[float, typer.Option(help="validity in hours, at most VAERN_TOKEN_MAX_HOURS")] = 12,
    centre: Annotated[Optional[str], typer.Option(help="the centre the user works at: JKI, JKA, JKU, CAB or CF")] = None,  # noqa: UP007
) -> None:
    """Prints a signed development token on standard output, and nothing else there."""
    from api.security import issue_token
    from domain.incident.facts import Centre
    from domain.values import Role

    settings = Settings()
    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}") from None
    if not 0 < hours <= settings.token_max_hours:
        raise typer.BadParameter(f"tokens live more than 0 and at most {settings.token_max_hours:g} hours")
    if centre is not None and centre not in Centre._value2member_map_:
        raise typer.BadParameter(f"unknown centre {centre!r}")
    secret = settings.token_secret.get_secret_value()
    try:
        print(issue_token(secret, chosen, user, name, title, timedelta(hours=hours), centre and Centre(centre)))
    except ValueError as error:  # a blank or unprintable name: no letter could name this user
        raise typer.BadParameter(str(error)) from None
