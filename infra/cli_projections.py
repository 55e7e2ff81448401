"""`vaern projections`: where each view and relay is and how it fares, rebuilding a view, superseding an event."""

from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Annotated, Any, Optional

import typer

from infra.cli_settings import command_settings, progress_bar

log = logging.getLogger("vaern")
projections = typer.Typer(help="The views and the relay: where each is in the event log.", no_args_is_help=True)


@projections.command("status")
def projections_status() -> None:
    """Prints whether all is well (else each problem), then each view's and relay's position and lag.

    Read from what each runner records in the database, so it shows views run by other processes:
    one stopped (with the event's position and the error), one waiting out a database error, one
    whose runner is gone or hangs while it has events to apply, one behind the log.
    """
    from infra.services import Services

    services = Services.build(command_settings())
    try:
        status = services.status()
        head = status["event_log"]["head"]
        print(f"status: {'degraded' if status['problems'] else 'ok'}")
        for problem in status["problems"]:
            print(f"  {problem}")
        print(f"{'follower':<40} {'position':>10} {'lag':>8}")
        for name, view in status["views"].items():
            print(f"{'view ' + name:<40} {view['position']:>10} {view['lag']:>8}")
        for name, relay in status["relays"].items():
            print(f"{name:<40} {relay['position']:>10} {relay['lag']:>8}")
        for name, position in _rebuilds_running(services).items():
            print(f"{name:<40} {position:>10} {max(head - position, 0):>8}")
        print(f"{'event log head':<40} {head:>10}")
    finally:
        services.close()


@projections.command("supersede")
def projections_supersede(
    position: Annotated[int, typer.Argument(min=1, help="the log position of the event to supersede")],
    corrections: Annotated[str, typer.Option(
        help='the fields to correct, as JSON; objects are corrected member by member,'
        ' e.g. {"terms": {"in_person": {"instructions": "Vagt til stede"}}}'
    )],
    reason: Annotated[str, typer.Option(help="why the event is superseded; recorded with it")],
    token: Annotated[Optional[str], typer.Option(  # noqa: UP007
        envvar="VAERN_OPERATOR_TOKEN", help="an admin token naming the official (vaern token --role admin ...)",
    )] = None,
    dry_run: Annotated[bool, typer.Option(help="check the replacement and say what it corrects; record nothing")] = False,
) -> None:
    """Records a corrected replacement for the event at POSITION, which every follower then reads in its place.

    The log keeps the event as recorded; the supersession is a new event naming the official and
    the reason. A view stopped at the event applies the replacement and goes on. Nothing from the
    event's values is printed: only which fields the replacement corrects.
    """
    from domain.errors import DomainError
    from infra.services import Services

    settings = command_settings()
    caller, command = _supersession(settings.token_secret.get_secret_value(), token, position, corrections, reason)
    services = Services.build(settings)
    try:
        if dry_run:
            plan = services.app.plan_supersession(command)
        else:
            plan, recorded = services.app.supersede_event(command)
        passed = services.followers_past(position)
    except DomainError as error:
        _refuse(str(error))
    finally:
        services.close()
    event = plan.original
    what = f"event {position} ({type(event).TOPIC.removeprefix('vaern:')}, version {event.originator_version})"
    print(f"{what}: the replacement corrects {', '.join(plan.corrected)}")
    if dry_run:
        print("dry run: nothing recorded")
        return
    log.info("event %d superseded by user %s; recorded at position %d", position, caller.user_id, recorded)
    print(f"superseded: recorded at position {recorded} by {caller.official.name}, {caller.official.title}")
    if passed:
        print("these had applied the event as recorded before and keep its effect until rebuilt"
              f" (vaern projections rebuild NAME): {', '.join(passed)}")


def _supersession(secret: str, token: str | None, position: int, corrections: str, reason: str) -> tuple[Any, Any]:
    """The admin the token names and the command they give; refuses anything else, or no reason."""
    from pydantic import ValidationError

    from api.security import InvalidToken, read_token
    from domain.records.supersession import SupersedeEvent
    from domain.values import Role

    refusal = "superseding an event takes an admin token, a JSON object of corrections and a reason"
    try:
        caller = read_token(secret, token or "")
        fields = json.loads(corrections)
    except (InvalidToken, ValueError):
        _refuse("give an admin token (--token or VAERN_OPERATOR_TOKEN) and --corrections as a JSON object")
    if caller.role is not Role.ADMIN or not isinstance(fields, dict) or not reason.strip():
        _refuse(refusal)
    try:
        command = SupersedeEvent(
            position=position, corrections=fields, reason=reason, official=caller.official, actor=caller.actor
        )
    except ValidationError:  # a reason past the bounds of free text
        _refuse(refusal)
    return caller, command


def _refuse(message: str) -> Any:
    print(f"refused: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _rebuilds_running(services: Any) -> dict[str, int]:
    """Each rebuild with a tracked position, named with whether it runs or was abandoned (killed)."""
    from projections.rebuild import rebuilds_in_progress

    return {
        f"{found.name} ({'running' if found.running else 'abandoned'})": found.position
        for found in rebuilds_in_progress(services.db)
    }


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@projections.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="the view to rebuild, e.g. front_desk")],
    batch_size: Annotated[int, typer.Option(min=1, help="events per transaction")] = 5000,
) -> None:
    """Rebuilds one view from the first event beside the live one, then switches lookups to it.

    On PostgreSQL the live view keeps answering meanwhile. On the embedded SQLite store the rebuild
    holds the database's write lock throughout: stop the service first. An interruption or an
    error before the switch leaves the live view as it was.
    """
    from infra.services import Services
    from projections.rebuild import RebuildLost, RebuildRefused, SwitchFailed, SwitchOutcomeUnknown, rebuild
    from projections.failures import ProjectionFailed, describe

    settings = command_settings()
    services = Services.build(settings)
    if name not in services.views:
        services.close()
        raise typer.BadParameter(f"unknown view {name!r}; known: {', '.join(services.views)}")
    if not settings.uses_postgres:
        print(f"the SQLite store at {settings.sqlite_path} is locked for writing until the rebuild ends:"
              " commands and views wait, then fail; run it with the service stopped", file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: the rebuild's tables are discarded
    done = None
    try:
        with progress_bar(f"rebuilding {name}", "events") as progress:
            done = rebuild(services.views[name], services.events, services.db, batch_size, progress)
    except (ProjectionFailed, RebuildRefused, RebuildLost, SwitchFailed) as error:
        print(f"rebuild of {name} failed, the live view is unchanged: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except SwitchOutcomeUnknown as error:
        print(f"rebuild of {name} stopped: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        if done is None:  # else it came after the switch, which stands
            print(f"rebuild of {name} interrupted, the live view is unchanged", file=sys.stderr)
            raise typer.Exit(130) from None
    except Exception as error:  # the rebuild raises nothing else once its switch has committed
        print(f"rebuild of {name} failed, the live view is unchanged: {describe(error)}", file=sys.stderr)
        raise typer.Exit(1) from None
    finally:
        services.close()
    assert done is not None
    rate = done.applied / done.seconds if done.seconds else 0.0
    print(f"rebuilt {name}: {done.applied} events in {done.seconds:.1f} s ({rate:,.0f} events/s);"
          f" live at position {done.position}")
