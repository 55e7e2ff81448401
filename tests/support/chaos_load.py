"""A steady command load through the HTTP API, each command carrying a marker of its own.

Each worker walks cases: open a file (its own CPR number), register a number (its own), report an
incident (its own description), propose a restriction (its own reasons), skip the hearing and
decide. A guard looks up the citizens opened so far, each lookup under its own X-Request-ID. Every
answer is kept in a ledger: a 2xx is an acknowledged command (it must be in the log, once); any
other answer, or none (a connection cut by a kill), is unacknowledged and is never sent again, so
it may be in the log at most once. A case stops at its first unacknowledged step.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.security import issue_token
from domain.values import Role
from tests.support.cases import incident_facts, terms_body


@dataclass(frozen=True)
class Sent:
    """One command sent: its kind, its marker, and whether it was acknowledged."""

    kind: str  # opened | number | incident | proposed | hearing_skipped | decided
    marker: str
    acked: bool
    answer: str  # the status code, or the error's type when no answer came


@dataclass
class Ledger:
    """What the load sent and what it was told, shared by its threads."""

    commands: list[Sent] = field(default_factory=list)
    lookups: dict[str, int | None] = field(default_factory=dict)  # request id -> status (None: no answer)
    cprs: list[str] = field(default_factory=list)  # of files whose opening was acknowledged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, sent: Sent) -> bool:
        with self.lock:
            self.commands.append(sent)
        return sent.acked

    def counts(self) -> dict[str, int]:
        acked = sum(s.acked for s in self.commands)
        answered = sum(1 for status in self.lookups.values() if status is not None and 200 <= status < 300)
        return {"commands": len(self.commands), "acked": acked, "unacked": len(self.commands) - acked,
                "lookups": len(self.lookups), "lookups_answered": answered}

    def unacked_answers(self) -> Counter[str]:
        """What the unacknowledged commands got instead: a status, or the error of no answer."""
        return Counter(s.answer for s in self.commands if not s.acked)


class Load:
    """`workers` threads walking cases and one guard looking citizens up, until stopped."""

    def __init__(self, api: str, secret: str, workers: int = 3, run: str = "") -> None:
        self.api, self.workers, self.run = api, workers, run or f"{random.randrange(10**6):06d}"
        self.ledger = Ledger()
        self.stopping = threading.Event()
        self._numbers = itertools.count()
        self._threads: list[threading.Thread] = []
        self.caseworker = _auth(secret, Role.CASEWORKER, "c1", "Carl Berg")
        self.leader = _auth(secret, Role.LEADER, "l1", "Lone Hansen", "Afdelingsleder")
        self.guard = _auth(secret, Role.GUARD, "g1", "Gitte Vagt")

    def start(self) -> None:
        targets = [self._cases] * self.workers + [self._lookups]
        self._threads = [threading.Thread(target=t, daemon=True, name=f"load-{i}") for i, t in enumerate(targets)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> Ledger:
        self.stopping.set()
        for thread in self._threads:
            thread.join(60)
        return self.ledger

    def _cases(self) -> None:
        with httpx.Client(base_url=self.api, timeout=15) as http:
            while not self.stopping.is_set():
                self._case(http, next(self._numbers))

    def _send(self, http: httpx.Client, kind: str, marker: str, path: str, body: Any, who: dict) -> dict | None:
        try:
            answer = http.post(path, json=body, headers=who)
        except httpx.HTTPError as error:
            self.ledger.note(Sent(kind, marker, False, type(error).__name__))
            self.stopping.wait(0.5)  # the API is down or restarting
            return None
        acked = self.ledger.note(Sent(kind, marker, answer.is_success, str(answer.status_code)))
        return answer.json() if acked else None

    def _case(self, http: httpx.Client, n: int) -> None:
        cpr = unique_cpr(n)
        opened = self._send(http, "opened", cpr.replace("-", ""), "/contact-files", {"cpr": cpr, "purpose": "restriction"},
                            self.caseworker)
        if opened is None:
            return
        with self.ledger.lock:
            self.ledger.cprs.append(cpr)
        ref, number = opened["citizen_ref"], f"+45{20100000 + n % 200000:08d}"
        if self._send(http, "number", number, f"/contact-files/{ref}/phone-numbers", {"number": number}, self.caseworker) is None:
            return
        description = f"Kaos {self.run}-{n}: borgeren truede sagsbehandleren"
        reported = self._send(http, "incident", description, "/incidents", incident_facts(ref, description=description),
                              self.caseworker)
        if reported is not None:
            self._restrict(http, ref, reported["incident_id"], f"Kaos {self.run}-{n}: gentagne trusler")

    def _restrict(self, http: httpx.Client, ref: str, incident_id: str, reasons: str) -> None:
        grounds = {"incident_ids": [incident_id], "milder_measures": ["Mundtlig advarsel"]}
        rule = random.choice(["banned", "named_contact_only"])
        phone = {"rule": rule, "contact": "Team Nord"} if rule == "named_contact_only" else {"rule": rule}
        body = {"terms": terms_body(reasons=reasons, phone=phone), "grounds": grounds}
        proposed = self._send(http, "proposed", reasons, f"/contact-files/{ref}/restrictions", body, self.leader)
        if proposed is None:
            return
        one = f"/contact-files/{ref}/restrictions/{proposed['created_id']}"
        skip = {"exception": "urgency", "reason": "Akut fare"}
        if self._send(http, "hearing_skipped", proposed["created_id"], f"{one}/hearing/skip", skip, self.leader) is not None:
            self._send(http, "decided", proposed["created_id"], f"{one}/decision", None, self.leader)

    def _lookups(self) -> None:
        with httpx.Client(base_url=self.api, timeout=15) as http:
            for n in itertools.count():
                if self.stopping.wait(0.05):
                    return
                with self.ledger.lock:
                    cpr = random.choice(self.ledger.cprs) if self.ledger.cprs else None
                if cpr is not None:
                    self._lookup(http, cpr, f"kaos-{self.run}-{n}")

    def _lookup(self, http: httpx.Client, cpr: str, request_id: str) -> None:
        try:
            answer = http.post("/front-desk/lookup", json={"cpr": cpr},
                               headers={**self.guard, "X-Request-ID": request_id})
            status: int | None = answer.status_code
        except httpx.HTTPError:
            status = None
            self.stopping.wait(0.5)
        with self.ledger.lock:
            self.ledger.lookups[request_id] = status


def unique_cpr(n: int) -> str:
    """The n-th CPR number of a run: a real birth date, unique for n below 336,000."""
    day, month, rest = 1 + n % 28, 1 + (n // 28) % 12, n // 336
    return f"{day:02d}{month:02d}{50 + rest % 50:02d}-{1000 + rest // 50:04d}"


def _auth(secret: str, role: Role, user: str, name: str, title: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, role, user, name, title)}"}
