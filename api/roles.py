"""Who may call what: the one table the routes' role checks and README's role table are both made from.

Each row covers some endpoints, names the roles that may call them and says what they do. A route
admits its caller through its row (`api.deps.allowed`), and README's table is this table rendered
(`markdown`); a test holds the two together and checks every route against its row's endpoints.
Police-report data is criminal-offence data (Databeskyttelsesloven § 8): only leaders record it and
only leaders and legal read it. Legal reads what it needs to reconstruct a case, not work lists.
`admin` is the operator's role: no endpoint admits it; it only signs the corrections an operator records
from the command line (OPERATOR_COMMANDS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.values import Role

GUARD, CASEWORKER, LEADER, LEGAL = Role.GUARD, Role.CASEWORKER, Role.LEADER, Role.LEGAL
TELEPHONY, MANAGEMENT, ADMIN = Role.TELEPHONY, Role.MANAGEMENT, Role.ADMIN
STAFF = (CASEWORKER, LEADER)
CASE_READERS = (CASEWORKER, LEADER, LEGAL)


@dataclass(frozen=True)
class Operations:
    """A row of the role table: endpoints (`METHOD /path`, or `…` for the rest of a path), roles, what."""

    endpoints: tuple[str, ...]
    roles: tuple[Role, ...]
    what: str

    @property
    def role_names(self) -> str:
        return ", ".join(role.value for role in self.roles) or "none"


def _row(endpoints: str | tuple[str, ...], roles: Role | tuple[Role, ...], what: str) -> Operations:
    return Operations(
        (endpoints,) if isinstance(endpoints, str) else endpoints, (roles,) if isinstance(roles, Role) else roles, what
    )


R = "…/restrictions/{id}"
FIND_FILE = _row(
    "POST /contact-files/search", STAFF,
    "find a citizen's open file by the CPR number (in the body) for a stated purpose; creates nothing; 404 if none",
)
OPEN_FILE = _row(
    "POST /contact-files", STAFF, "open a citizen's file from the CPR number for a stated purpose (or get the open one)"
)
READ_FILE = _row(
    "GET /contact-files/{ref}", CASE_READERS, "numbers, needs, warnings, restrictions with grounds, letters"
)
PHONE_NUMBERS = _row("POST /contact-files/{ref}/phone-numbers", CASEWORKER, "register a number (normalised to E.164)")
ADJUSTMENT_NEEDS = _row(
    "POST /contact-files/{ref}/adjustment-needs", STAFF, "record a need (e.g. dyslexia) and the channels it relies on"
)
WARNINGS = _row(
    "POST /contact-files/{ref}/warnings", LEADER, "a warning to stop a named behaviour, resting on incidents"
)
GRANT_ACCESS = _row(
    "POST /contact-files/{ref}/grants", LEADER,
    "let a named caseworker (user id in the body) reach the citizen's file and the incidents naming them, whatever"
    " their centre, for a reason, `until` a moment; `created_id` is the grant",
)
REVOKE_ACCESS = _row("…/grants/{gid}/revoke", LEADER, "end a grant before its time")
PROPOSE = _row("POST /contact-files/{ref}/restrictions", STAFF, "propose a restriction: terms and grounds")
HEARING = _row((R + "/hearing", "…/hearing/answer"), STAFF, "the hearing sent with a deadline; the citizen's answer")
SKIP_HEARING = _row(R + "/hearing/skip", LEADER, "skip the hearing under a legal exception, with the reason")
DECIDE = _row(R + "/decision", LEADER, "decide (never by an employee affected by the incidents)")
REVIEW = _row(
    (R + "/reviews", "…/amendments"), LEADER,
    "continue on fresh grounds, amend or lift; amend within the period",
)
COMPLAINTS = _row(R + "/complaints", STAFF, "record a complaint about the restriction")
COMPLAINT_DECISION = _row("…/complaints/{cid}/decision", LEADER, "the complaint's outcome, with reasons")
LIFT = _row(R + "/lift", LEADER, "lift it, with the reason")
REVIEWS_DUE = _row("GET /restrictions/reviews", LEADER, "reviews overdue or coming due (`within_days`, default 30)")
ISSUE_LETTER = _row(
    "POST /contact-files/{ref}/letters", LEADER,
    "issue a hearing, warning, decision, continuation, amendment or lift letter, or a meeting's appointment letter"
    " (PDF), to the recipient given (name and postal address, kept only in the PDF); `Location` is the letter",
)
READ_LETTER = _row("GET /contact-files/{ref}/letters/{id}", CASE_READERS, "the stored PDF, exactly as issued")
LETTER_SENT = _row(("…/letters/{id}/dispatch", "…/delivery"), LEADER, "how it was sent; the evidence it arrived")
REPORT_INCIDENT = _row("POST /incidents", STAFF, "report an incident")
READ_INCIDENT = _row(
    "GET /incidents/{id}", CASE_READERS, "read an incident; its police-report section only for leaders and legal"
)
HANDLE_INCIDENT = _row(
    "POST /incidents/{id}/…", STAFF,
    "leader informed, support, debriefing, notes, evidence, takedowns, absence, corrections (not close, reopen or"
    " the police report: below)",
)
CLOSE_INCIDENT = _row(
    ("POST /incidents/{id}/close", "…/reopen"), LEADER,
    "close (once a leader was informed: the leader answers for the follow-up) and reopen, with the reason",
)
POLICE_REPORT = _row(
    "POST /incidents/{id}/police-report/…", LEADER,
    "consent, advice, and the decision: reported, reported privately, not reported; how the case ended",
)
OVERDUE = _row("GET /incidents/overdue", STAFF, "incidents whose leader was not informed within 24 hours")
UPLOAD_EVIDENCE = _row(
    "POST /evidence", STAFF, "upload a file (PDF, image, text, e-mail, audio, video) to attach to an incident"
)
READ_EVIDENCE = _row(
    "GET /incidents/{id}/evidence/{sha256}", CASE_READERS, "an incident's evidence file, as a download"
)
A = "POST /appointments/{id}"
BOOK_APPOINTMENT = _row(
    ("POST /appointments", A + "/move", A + "/cancel"), STAFF,
    "book a meeting with a citizen on file (reference in the body) in Copenhagen wall time, a room and a host"
    " (a team unless the booking names the employee); move or cancel it. Refused in the past, overlapping the"
    " room's other meetings, or where a restriction in force then bans attendance",
)
READ_APPOINTMENT = _row("GET /appointments/{id}", STAFF, "a meeting: time, place, host, safety plan, steps, outcome")
SAFETY_PLAN = _row(
    A + "/safety-plan", LEADER,
    "attach a safety plan (colleague, takeover, guard, room, pre- and post-meeting) to a meeting with a citizen"
    " with an incident or restriction on file",
)
MEETING_FOLLOW_UP = _row(
    (A + "/safety-plan/steps/{step}/done", A + "/outcome", A + "/incidents"), STAFF,
    "a plan's step done; the meeting's outcome; an incident reported from it, linked to it",
)
OVERDUE_POST_MEETINGS = _row(
    "GET /appointments/post-meetings/overdue", LEADER, "meetings whose plan's post-meeting was not held in time"
)
FRONT_DESK = _row(
    "POST /front-desk/lookup", GUARD,
    "in-person terms in force now, never the reasons nor whether the person is on file; for `by_appointment` and"
    " `guard_present`, today's meetings at the guard's centre (\"no appointment today\" when none); 503 `cannot_tell`"
    " when the view is stopped or behind; 429 past the hourly limit of different citizens per user",
)
PHONE_LOOKUP = _row(
    "POST /phone-routing/lookup", TELEPHONY,
    "phone routing in force now for a number; 503 `cannot_tell` when the view is stopped or behind (route by"
    " your own table)",
)
PHONE_SNAPSHOT = _row(
    "GET /phone-routing/snapshot", TELEPHONY, "every citizen's routing state, to start reading the topic from"
)
CITIZEN_TIMELINE = _row(
    ("GET /contact-files/{ref}/timeline", "GET /contact-files/{ref}/timeline.pdf"), LEGAL,
    "every fact on the citizen's file and the incidents naming them, in log order, with letters and who looked",
)
INCIDENT_TIMELINE = _row(
    ("GET /incidents/{id}/timeline", "GET /incidents/{id}/timeline.pdf"), LEGAL, "the same for one incident"
)
AS_OF = _row(
    ("GET /contact-files/{ref}/as-of", "GET /contact-files/{ref}/as-of.pdf"), LEGAL,
    "in force at `at` as known now, what the front desk and phone routing answered then, what was known then",
)
ACCESS_REPORT = _row(
    "GET /contact-files/{ref}/access-report", LEGAL, "when and why the citizen's data was read, never by whom"
)
STATISTICS = _row(
    ("GET /statistics", "GET /statistics.csv", "GET /statistics/incidents-per-month.svg"), MANAGEMENT,
    "figures for whole months (`from`, `to`), small counts masked, stored as a release that links to its CSV and"
    " chart; the `.csv` and `.svg` shortcuts record a release and redirect (303) to it; 503 `cannot_tell` (no"
    " release) when the view is stopped or behind",
)
RELEASES = _row(
    (
        "GET /statistics/releases/{id}", "GET /statistics/releases/{id}.csv",
        "GET /statistics/releases/{id}/incidents-per-month.svg",
    ),
    MANAGEMENT,
    "a release as given out (JSON, CSV for Danish Excel, chart), verified by recomputing it at its position",
)
ERASE_CITIZEN = _row(
    "POST /contact-files/{ref}/erasure", (LEADER, LEGAL),
    "erase the citizen's personal data and that of the incidents naming them, under the State Archives'"
    " authorisation (reference and date); refused while a restriction, complaint, open incident or police case"
    " is pending",
)
ERASE_EMPLOYEE = _row(
    "POST /employees/erasure", (LEADER, LEGAL),
    "erase a former employee's name, id and title wherever they stand, under the archive authorisation",
)
LOOKUP_ALERTS = _row(
    "GET /access/alerts", LEGAL,
    "alerts on users' front-desk lookups: more different citizens in a clock hour than the threshold, or outside"
    " opening hours; who, which kind, which hour, how many, never which citizens",
)
METRICS = _row(
    "GET /metrics", (), "metrics in Prometheus text format, labelled by fixed values only: requests and latency"
    " by route template and status, refusals by rule, access-log writes, views' and relays' position and lag,"
    " lookups, lookups refused for the hourly limit (429) and alerts, by role and kind",
)
HEALTH = _row(
    ("GET /health", "GET /health/live", "GET /health/ready"), (),
    "`ok` or `degraded` with the problems; position, lag and state of every view and relay, as their runners"
    " recorded them. `/health/live`: 200 while the process answers; `/health/ready`: 503 while the database is"
    " unreachable or a view is stopped or further behind than `VAERN_READY_MAX_LAG_SECONDS`",
)

TABLE: tuple[Operations, ...] = (
    FIND_FILE, OPEN_FILE, READ_FILE, PHONE_NUMBERS, ADJUSTMENT_NEEDS, WARNINGS, GRANT_ACCESS, REVOKE_ACCESS, PROPOSE, HEARING, SKIP_HEARING, DECIDE,
    REVIEW, COMPLAINTS, COMPLAINT_DECISION, LIFT, REVIEWS_DUE, ISSUE_LETTER, READ_LETTER, LETTER_SENT,
    REPORT_INCIDENT, READ_INCIDENT, HANDLE_INCIDENT, CLOSE_INCIDENT, POLICE_REPORT, OVERDUE, UPLOAD_EVIDENCE,
    READ_EVIDENCE, BOOK_APPOINTMENT, READ_APPOINTMENT, SAFETY_PLAN, MEETING_FOLLOW_UP, OVERDUE_POST_MEETINGS, FRONT_DESK, PHONE_LOOKUP, PHONE_SNAPSHOT, CITIZEN_TIMELINE, INCIDENT_TIMELINE, AS_OF,
    ACCESS_REPORT, LOOKUP_ALERTS, STATISTICS, RELEASES, ERASE_CITIZEN, ERASE_EMPLOYEE, METRICS, HEALTH,
)


# Commands an operator gives on the command line with a token naming them (VAERN_OPERATOR_TOKEN): the only
# place the `admin` role is admitted. Rebuilds, key rotations and the like need no token: they need the
# database and the secrets, which only an operator holds.
SUPERSEDE = _row(
    "vaern projections supersede POSITION", ADMIN,
    "record a corrected replacement for an event a view cannot apply, with the reason; the operator the token"
    " names is recorded with it (`vaern token --role admin`, given as `VAERN_OPERATOR_TOKEN`)",
)
OPERATOR_COMMANDS: tuple[Operations, ...] = (SUPERSEDE,)


def markdown() -> str:
    """The table as README shows it, the operator's commands last."""
    lines = ["| endpoint | role | what |", "|---|---|---|"]
    for row in (*TABLE, *OPERATOR_COMMANDS):
        endpoints = ", ".join(f"`{e}`" for e in row.endpoints)
        lines.append(f"| {endpoints} | {row.role_names} | {row.what} |")
    return "\n".join(lines) + "\n"


def _shape(template: str) -> str:
    """A path with its parameter names left out: `/incidents/{incident_id}` and `/incidents/{id}` are one path."""
    return re.sub(r"\{[^}]*\}", "{}", template)


def _specificity(endpoint: str, method: str, path: str) -> tuple[int, int] | None:
    """How closely a table endpoint names this operation (higher is closer); None if it does not name it.

    An endpoint written out in full names one operation; `…/x` abbreviates the start of a path
    and names the operations ending so; `POST /a/…` names the rest of what lies under `/a`, so any
    other row naming an operation there is the closer one."""
    wanted_method, _, pattern = endpoint.rpartition(" ")
    if wanted_method and wanted_method != method:
        return None
    shape = re.escape(_shape(pattern)).replace("…", ".*")
    if re.fullmatch(shape, _shape(path)) is None:
        return None
    kind = 0 if pattern.endswith("…") else 1 if "…" in pattern else 2
    return kind, len(pattern)


def row_for(method: str, path: str) -> Operations | None:
    """The row that names an operation (`GET`, `/contact-files/{citizen_ref}`): the one naming it most closely."""
    named = [(s, row) for row in TABLE for e in row.endpoints if (s := _specificity(e, method, path)) is not None]
    if not named:
        return None
    best = max(s for s, _ in named)
    rows = {row for s, row in named if s == best}
    if len(rows) > 1:
        raise LookupError(f"{method} {path} is named as closely by more than one row")
    return rows.pop()
