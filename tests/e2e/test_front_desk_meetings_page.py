"""The guards' page shows a restricted citizen's meetings today, the one starting within half an hour highlighted,
in Debian's Chromium against Vaern on PostgreSQL; and says plainly when there is none.

The meetings are booked on today's Copenhagen day (tests/support/meetings_today.py); the browser's clock is
fixed at 09:45 today, so the 10:00 meeting is the one about to start whatever the hour the test runs at.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from domain.appointments.values import Host
from domain.contact_file.commands import OpenContactFile
from domain.identity import Cpr
from domain.incident.facts import Person
from tests.e2e.test_front_desk_page import (  # noqa: F401 -- the page's fixtures
    CASEWORKER, RESTRICTED, UNRESTRICTED, browser, log_in, look_up, page, page_problems, screenshot, vaern,
)
from tests.support.cases import decide
from tests.support.meetings_today import book_today, today


def on_file(vaern, cpr: str, rule: str):
    app = vaern.services.app
    ref = app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse(cpr), actor=CASEWORKER)).citizen_ref
    decide(app, ref, in_person={"rule": rule})
    return ref


def test_the_meeting_about_to_start_is_highlighted_among_todays(vaern, page, page_problems):
    app = vaern.services.app
    ref = on_file(vaern, RESTRICTED, "by_appointment")
    book_today(app, ref, "10:00", "11:00", room="Mødelokale 3")
    named = Host(team="Team Syd", employee=Person(user_id="c9", name="Carl Berg"), name_employee=True)
    book_today(app, ref, "14:00", "14:45", room="Mødelokale 1", host=named)
    book_today(app, ref, "09:00", "09:30", centre="JKA", room="Lokale 2", days=1)  # tomorrow: not shown
    vaern.services.wait_for(vaern.services.front_desk.name, vaern.services.events.head())
    page.clock.set_fixed_time(today() + timedelta(hours=9, minutes=45))
    log_in(page, vaern)

    look_up(page, RESTRICTED)
    result = page.locator("#result")
    expect(result).to_contain_text("Kun efter aftale")
    expect(result).to_contain_text("Aftaler i dag")
    meetings = result.locator(".card__meeting")
    expect(meetings).to_have_count(2)
    expect(meetings.nth(0)).to_contain_text("kl. 10.00–11.00")
    expect(meetings.nth(0)).to_contain_text("Mødelokale 3 · center JKI · Team Nord")
    expect(meetings.nth(0)).to_contain_text("Om 15 min")
    expect(meetings.nth(1)).to_contain_text("kl. 14.00–14.45")
    expect(meetings.nth(1)).to_contain_text("Carl Berg")
    expect(result.locator(".card__meeting--soon")).to_have_count(1)
    expect(result.locator(".card__meeting--soon")).to_contain_text("kl. 10.00")
    assert "Lokale 2" not in page.content() and "Gentagne trusler" not in page.content()
    screenshot(page, "meeting-soon")
    assert page_problems == []


def test_no_meeting_today_is_said_plainly(vaern, page, page_problems):
    on_file(vaern, UNRESTRICTED, "guard_present")
    vaern.services.wait_for(vaern.services.front_desk.name, vaern.services.events.head())
    log_in(page, vaern)
    look_up(page, UNRESTRICTED)
    result = page.locator("#result")
    expect(result).to_contain_text("Kun med vagt til stede")
    expect(result.locator(".card__meeting--none")).to_have_text("Ingen aftale i dag")
    screenshot(page, "no-meeting-today")
    assert page_problems == []
