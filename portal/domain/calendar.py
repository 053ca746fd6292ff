"""The working calendar: pure date arithmetic, no database.

A working day is a Monday to Friday that is neither an Indonesian national public holiday (the
``holidays`` package's calendar for ``ID``, public category) nor one of the extra ``days_off``
the caller passes (holidays added by administrators: cuti bersama, regional days). Days are
dates in Asia/Jakarta; a deadline on a day ends at the midnight that follows it there.
"""
from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

JAKARTA = ZoneInfo("Asia/Jakarta")
NO_DAYS_OFF: frozenset[date] = frozenset()
ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=32)
def national_holidays(year: int) -> frozenset[date]:
    """Indonesia's public holidays of one year (cuti bersama are not in it: admins add those)."""
    return frozenset(holidays.country_holidays("ID", years=year))


def is_working_day(day: date, days_off: Collection[date] = NO_DAYS_OFF) -> bool:
    return day.weekday() < 5 and day not in national_holidays(day.year) and day not in days_off


def add_working_days(start: date, n: int, days_off: Collection[date] = NO_DAYS_OFF) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count; n=0 gives it)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += ONE_DAY
        if is_working_day(day, days_off):
            n -= 1
    return day


def working_days_between(start: date, end: date,
                         days_off: Collection[date] = NO_DAYS_OFF) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if none).

    The inverse of ``add_working_days``: add_working_days(a, working_days_between(a, b)) == b
    for every working day b after a."""
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day, days_off):
            count += 1
    return count


def next_working_day(day: date, days_off: Collection[date] = NO_DAYS_OFF) -> date:
    return add_working_days(day, 1, days_off)


def jakarta_date(instant: datetime) -> date:
    return instant.astimezone(JAKARTA).date()


def start_of_day(day: date) -> datetime:
    """The instant (UTC) a Jakarta day begins."""
    return datetime.combine(day, time(0), JAKARTA).astimezone(timezone.utc)


def end_of_day(day: date) -> datetime:
    """The instant (UTC) a Jakarta day ends: the midnight after it, 17:00 UTC that day."""
    return start_of_day(day + ONE_DAY)


def last_day_before(instant: datetime) -> date:
    """The last Jakarta day that ends at or before ``instant`` reaches it (for a due_at made by
    ``end_of_day``: the last allowed day)."""
    return jakarta_date(instant - timedelta(microseconds=1))
