"""Calendar arithmetic the rules need: whole months, as the law and practice count them."""

from __future__ import annotations

import calendar
from datetime import datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
"""The administration's time zone: local days, dates and times are Copenhagen's."""


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the month's last day when that day does not exist."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
