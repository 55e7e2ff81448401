"""The command line's settings, logging and progress bars, shared by `vaern`, `vaern projections` and `vaern keys`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from infra import logs
from infra.settings import Settings


def command_settings(kind: type[Settings] = Settings, /, **chosen: object) -> Settings:
    """The settings from the environment, with what was chosen on the command line put first."""
    settings = kind(**{name: value for name, value in chosen.items() if value is not None})
    logs.configure(settings.log_level)
    return settings


@contextmanager
def progress_bar(doing: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error: `doing`, how many `unit` of how many are done, the rate, the time left."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:  # rich comes with typer; without it, a plain line now and then
        yield _plain_progress(doing, unit)
        return
    bar = Progress(
        TextColumn(doing),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{{task.fields[rate]}} {unit}/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(doing, total=None, rate="-")
    with bar:
        def update(position: int, head: int) -> None:
            speed = bar.tasks[0].speed
            bar.update(task, completed=position, total=head, rate=f"{speed:,.0f}" if speed else "-")

        yield update


def _plain_progress(doing: str, unit: str) -> Callable[[int, int], None]:
    started, last = time.monotonic(), [0.0]

    def update(position: int, head: int) -> None:
        now = time.monotonic()
        if now - last[0] < 2 and position < head:
            return
        last[0] = now
        rate = position / (now - started) if now > started else 0.0
        left = (head - position) / rate if rate else 0.0
        print(f"{doing}: {position}/{head} {unit}, {rate:,.0f} {unit}/s, ETA {left:,.0f} s",
              file=sys.stderr, flush=True)

    return update

