"""A restriction's dates: the one rule for its period and review, and the days people read.

A restriction is in force from `valid_from` up to `valid_until` (exclusive). Its review is a
deadline, `review_at`: the restriction is reviewed by then. People read both as days: an end or a
deadline at midnight belongs to the day before ("til og med 22. maj 2027", "senest den 22. maj
2027"), so `last_day` is the one way an instant becomes the day a person reads, in letters, PDFs
and answers alike.

`check_dates` is the rule every command applies to the dates (proposal, decision, amendment), and
`check_review` the part of it a continuing review applies to its next review; a letter reads the
dates through the same functions, so what can be decided can be notified. A burdensome decision
takes effect at the earliest when it is made: a proposal may not start before today, and a
decision starts at the decision moment when the proposed start has passed meanwhile.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import Enum

from domain.calendar import COPENHAGEN, add_months
from domain.errors import RuleViolation
from domain.contact_file.restriction_terms import RestrictionPolicy, RestrictionTerms



class Stage(str, Enum):
    """Where in a restriction's life its dates are checked; the start is treated per stage."""

    PROPOSAL = "proposal"
    DECISION = "decision"
    AMENDMENT = "amendment"


def local(moment: datetime) -> datetime:
    """The moment in Copenhagen time, as people there read it."""
    return moment.astimezone(COPENHAGEN)


def first_day(valid_from: datetime) -> date:
    """The first day in force, in Copenhagen."""
    return local(valid_from).date()


def last_day(until: datetime) -> date:
    """The day a person reads for an exclusive end or a deadline: midnight belongs to the day before."""
    at = local(until)
    return at.date() - timedelta(days=1) if at.time() == time(0) else at.date()


def start_of_day(moment: datetime) -> datetime:
    """Midnight in Copenhagen at the start of the moment's local day."""
    return datetime.combine(local(moment).date(), time(0), COPENHAGEN)


def review_day(review: date | datetime) -> date:
    """The day by which a review is due, as a person reads it; a date is that day."""
    return last_day(review) if isinstance(review, datetime) else review


def review_within(valid_from: datetime, valid_until: datetime, review: date | datetime) -> bool:
    """Whether a review falls within the period: after the start, by the end (on the days people read)."""
    if isinstance(review, datetime):
        return valid_from < review <= valid_until
    return first_day(valid_from) <= review <= last_day(valid_until)


def default_review(valid_from: datetime, valid_until: datetime, policy: RestrictionPolicy, now: datetime) -> datetime:
    """The policy's interval from the start (or from now, when it has begun), never past the end."""
    return min(add_months(max(valid_from, now), policy.review_months), valid_until)


def check_review(
    valid_from: datetime, valid_until: datetime, review: datetime, now: datetime, remedy: str = "give a later one"
) -> None:
    """Refuses a review outside the period, or one that has passed; says what to give instead."""
    if review <= now:
        raise RuleViolation(
            "review_at", f"the review date ({_moment(review)}) has passed; {remedy}, by the end of the period "
            f"(the last day in force is {last_day(valid_until).isoformat()})",
        )
    if not review_within(valid_from, valid_until, review):
        raise RuleViolation(
            "review_at", f"the review date must fall within the restriction's period: after its start "
            f"({_moment(valid_from)}) and by its end (the last day in force is {last_day(valid_until).isoformat()}); "
            "give a date in between, or leave review_at out for the default",
        )


def check_dates(
    terms: RestrictionTerms, policy: RestrictionPolicy, now: datetime, stage: Stage = Stage.PROPOSAL,
    current: RestrictionTerms | None = None,
) -> RestrictionTerms:
    """The terms with their dates as they can be recorded at `now`, or a refusal naming the date at fault.

    The period ends after it starts, lasts at most the policy's months and has not ended; the review
    (by default the policy's interval, never past the end) falls after the start and after now, by
    the end. The start: a proposal may not start before today; a decision starts no earlier than
    itself; an amendment of a restriction in force keeps its start (`current`) or moves it forward.
    """
    if terms.valid_until <= terms.valid_from:
        raise RuleViolation("valid_until", "must lie after valid_from")
    terms = terms.model_copy(update={"valid_from": _start(terms.valid_from, now, stage, current)})
    if terms.valid_until > add_months(terms.valid_from, policy.max_months):
        raise RuleViolation(
            "valid_until", f"a restriction lasts at most {policy.max_months} months; give an earlier end "
            "(to go on after it, continue it by a new decision on fresh grounds)",
        )
    if terms.valid_until <= now:
        raise RuleViolation("valid_until", "the period has already ended; propose a period that lies ahead")
    if terms.review_at is None:
        terms = terms.model_copy(update={"review_at": default_review(terms.valid_from, terms.valid_until, policy, now)})
    remedy = "propose the restriction again with a later one" if stage is Stage.DECISION else "give a later one"
    check_review(terms.valid_from, terms.valid_until, terms.review_at, now, remedy)
    return terms


def _start(valid_from: datetime, now: datetime, stage: Stage, current: RestrictionTerms | None) -> datetime:
    if stage is Stage.PROPOSAL:
        if valid_from < start_of_day(now):
            raise RuleViolation(
                "valid_from", "a restriction takes effect at the earliest when it is decided, so it cannot start "
                "before today; give a start from today on (a start that has passed by the decision moves to it)",
            )
        return valid_from
    if stage is Stage.AMENDMENT and current is not None and current.valid_from <= now:
        if valid_from <= current.valid_from:
            return current.valid_from  # in force already: its start stays where it was decided
        if valid_from < now:
            raise RuleViolation(
                "valid_from", "an amendment cannot move the start of a restriction in force to a moment that has "
                f"passed; keep its start ({_moment(current.valid_from)}) or give one from now on",
            )
        return valid_from
    return max(valid_from, now)


def _moment(value: datetime) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M")
