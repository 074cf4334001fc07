"""When digests go out: every day at 07:00, or on Mondays at 07:00, in Paris time.

Periods are computed on the Paris wall clock and stored in UTC, so a week that crosses a
daylight-saving change is 167 or 169 hours long and every digest still leaves at 07:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from maillage.emails.models import Frequency

PARIS = ZoneInfo("Europe/Paris")
SEND_AT = time(7, 0)
STEP = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}


def _at_seven(day: datetime) -> datetime:
    return datetime.combine(day.date(), SEND_AT, tzinfo=PARIS)


def period_end(frequency: Frequency, now: datetime) -> datetime:
    """Return the latest 07:00 (a Monday's, for weekly) in Paris at or before `now`, in UTC."""
    local = now.astimezone(PARIS)
    if frequency is Frequency.WEEKLY:
        local -= timedelta(days=local.weekday())
    boundary = _at_seven(local)
    if boundary > now:
        boundary = _at_seven(boundary - STEP[frequency])
    return boundary.astimezone(UTC)


def previous_end(frequency: Frequency, end: datetime) -> datetime:
    """Return the boundary one period before `end`: where a first digest's window starts."""
    return _at_seven(end.astimezone(PARIS) - STEP[frequency]).astimezone(UTC)
