"""A seeded population kept between runs of bench/growth.py (`--keep DIR`, `--reuse DIR`).

Seeding a million citizens takes a quarter of an hour or more; the lookups' load takes a minute or
two and is what a busy machine distorts. With `--keep`, each size's database stays on the server and
a file in DIR records what a later run needs to load it again without seeding it: the database, the
secrets it was seeded under (its data keys are wrapped under the master key), the seeding's and
rebuilds' figures, and the in-person rule of each restricted citizen (the sample check and the
lookup mix). The file holds secrets and benchmark CPR numbers only: keep DIR private.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.front_desk_seed import today
from bench.servers import ThrowawayDatabase, with_dbname


@dataclass(frozen=True)
class Kept:
    """One size's seeded database, as a later run finds it."""

    citizens: int
    database: str  # its name on the benchmark's server
    citizen_key: str
    token_secret: str
    master_key: str
    events: int
    seed_seconds: float
    rebuilds: list[tuple[int, float]]  # events, seconds
    database_bytes: int
    rules: dict[str, str]  # cpr -> in-person rule in force
    meetings: list[str] = field(default_factory=list)  # the citizens with a meeting booked for the seeding's day
    meeting_day: str = ""  # that day, ISO

    def meetings_today(self) -> list[str]:
        """Who has a meeting today: none if the population was seeded on another day."""
        return self.meetings if self.meeting_day == today().isoformat() else []


def _path(folder: Path, citizens: int) -> Path:
    return folder / f"growth-{citizens}.json"


def save(folder: Path, kept: Kept) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _path(folder, kept.citizens).write_text(json.dumps(asdict(kept)))


def find(folder: Path | None, citizens: int) -> Kept | None:
    """The size kept in `folder` for this many citizens, if any."""
    if folder is None or not _path(folder, citizens).exists():
        return None
    data = json.loads(_path(folder, citizens).read_text())
    return Kept(**{**data, "rebuilds": [tuple(r) for r in data["rebuilds"]]})


def forget(folder: Path, citizens: int) -> None:
    """The record of a kept size whose database was dropped."""
    _path(folder, citizens).unlink(missing_ok=True)


def existing(server_url: str, name: str) -> ThrowawayDatabase:
    """A kept database, to be dropped like a fresh one at the end (unless kept again)."""
    database = ThrowawayDatabase(server_url)
    database.name, database.url, database.created = name, with_dbname(server_url, name), True
    return database
