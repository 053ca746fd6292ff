"""Bulk load of open reports with COPY: realistic clocks over the demo tree.

Every report has a running staff clock whose deadline is spread around ``now``: a share overdue
(red), a share due today or on the next working day (yellow: the reminders), the rest due later
(green). The clock's basis (start, days) is consistent with its ``due_at`` on the national
calendar, so a holiday recompute moves exactly what it would move in production. Each report
has its SUBMITTED event; reports at a unit have their DISPOSITIONED event carrying the unit's
deadline, as the workflow writes them.
"""
import hashlib
import random
from datetime import date, datetime, timedelta, timezone

from portal.domain.calendar import (
    add_working_days,
    end_of_day,
    is_working_day,
    jakarta_date,
    national_holidays,
)

# Share of reports per clock state at load time.
MIX = (("red", 0.10), ("today", 0.04), ("next", 0.04), ("green", 0.82))
# Answered reports (no clock) loaded besides the N open ones, in per cent of N.
ANSWERED_SHARE = 5

REPORT_COLUMNS = (
    "id", "public_number", "tracking_code_hash", "kind", "title", "body", "category_id",
    "channel", "is_anonymous", "is_confidential", "status", "current_institution_id",
    "current_unit_id", "due_at", "deadline_kind", "clock_started_at", "clock_days",
    "clock_added_days", "deadline_extended", "created_at", "updated_at", "version",
    "answered_at",
)
EVENT_COLUMNS = (
    "report_id", "kind", "visible_to_reporter", "status_after", "target_institution_id",
    "due_at", "created_at",
)


def _national_days_off(today: date) -> frozenset[date]:
    days = set()
    for year in (today.year - 1, today.year, today.year + 1):
        days |= national_holidays(year)
    return frozenset(days)


def _working_days_back(last: date, n: int, days_off) -> date:
    """A working day ``start`` with add_working_days(start, n) == last."""
    day = last
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        if is_working_day(day, days_off):
            counted += 1
    return day


class _Calendar:
    def __init__(self, today: date):
        self.today = today
        self.days_off = _national_days_off(today)
        self._ahead = {}
        self._back = {}

    def working_day(self, offset: int) -> date:
        """Working day ``offset`` from today (0: the next working day at or after today)."""
        if offset not in self._ahead:
            day = self.today
            while not is_working_day(day, self.days_off):
                day += timedelta(days=1)
            if offset > 0:
                day = add_working_days(day, offset, self.days_off)
            elif offset < 0:
                day = _working_days_back(day, -offset, self.days_off)
            self._ahead[offset] = day
        return self._ahead[offset]

    def start_for(self, last: date, n: int) -> date:
        key = (last, n)
        if key not in self._back:
            self._back[key] = _working_days_back(last, n, self.days_off)
        return self._back[key]


def _started_at(day: date, rng: random.Random) -> datetime:
    # Some time during the Jakarta office day (01:00-09:00 UTC).
    return datetime(day.year, day.month, day.day, 1, tzinfo=timezone.utc) + timedelta(
        seconds=rng.randrange(8 * 3600))


def _ts(value: datetime | None):
    return None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def load_reports(conn, n: int, *, now: datetime, institution_id: int, unit_ids: list[int],
                 categories: list[tuple[int, bool]], seed: int = 20261123) -> dict:
    """COPY ``n`` open reports (and their events) into the report tables over ``conn``
    (a psycopg connection). Returns counts per state at ``now``."""
    rng = random.Random(seed)
    cal = _Calendar(jakarta_date(now))
    start_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM report").fetchone()[0]
    counts = {state: 0 for state, _ in MIX}
    states = [state for state, _ in MIX]
    weights = [weight for _, weight in MIX]
    events = []
    with conn.cursor() as cur:
        with cur.copy(f"COPY report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            for i in range(n):
                rid = start_id + i
                state = rng.choices(states, weights)[0]
                counts[state] += 1
                if state == "red":
                    last = cal.working_day(-rng.randint(1, 30))
                elif state == "today":
                    last = cal.working_day(0)
                elif state == "next":
                    last = cal.working_day(1)
                else:
                    last = cal.working_day(rng.randint(2, 12))
                category_id, urgent = categories[rng.randrange(len(categories))]
                roll = rng.random()
                if roll < 0.25:  # waiting for the institution admin's verification
                    kind, report_kind, status, unit = "verification", "complaint", "submitted", None
                    days = 3
                elif roll < 0.35:  # an information request, answer time running
                    kind, report_kind, status = "information_answer", "information_request", \
                        "dispositioned"
                    unit, days = unit_ids[rng.randrange(len(unit_ids))], 10
                else:  # at a unit, follow-up time running
                    kind, report_kind = "follow_up", rng.choice(("complaint", "aspiration"))
                    status = rng.choice(("dispositioned", "in_progress"))
                    unit, days = unit_ids[rng.randrange(len(unit_ids))], 2 if urgent else 5
                start = cal.start_for(last, days)
                started = _started_at(start, rng)
                due = end_of_day(last)
                created = started - timedelta(hours=rng.randrange(0, 72))
                copy.write_row((
                    rid, f"BENCH-{rid:08d}", hashlib.sha256(b"bench%d" % rid).digest(),
                    report_kind, f"Laporan uji beban {rid}", "Isi laporan uji beban.",
                    category_id, "web", rng.random() < 0.3, False, status, institution_id,
                    unit, _ts(due), kind, _ts(started), days, 0, False, _ts(created),
                    _ts(started), 1, None,
                ))
                events.append((rid, "submitted", True, "submitted", None, None, _ts(created)))
                if unit is not None:
                    events.append((rid, "dispositioned", False, "dispositioned", unit, _ts(due),
                                   _ts(started)))
            # Answered reports waiting for the reporter (no staff clock): the sweep completes
            # those left without a reply for the policy's working days.
            answered = n * ANSWERED_SHARE // 100
            for j in range(answered):
                rid = start_id + n + j
                answered_at = now - timedelta(days=rng.uniform(0, 30))
                created = answered_at - timedelta(days=rng.uniform(1, 20))
                category_id, _ = categories[rng.randrange(len(categories))]
                copy.write_row((
                    rid, f"BENCH-{rid:08d}", hashlib.sha256(b"bench%d" % rid).digest(),
                    "complaint", f"Laporan uji beban {rid}", "Isi laporan uji beban.",
                    category_id, "web", False, False, "answered", institution_id,
                    unit_ids[rng.randrange(len(unit_ids))], None, None, None, None, 0, False,
                    _ts(created), _ts(answered_at), 1, _ts(answered_at),
                ))
                events.append((rid, "submitted", True, "submitted", None, None, _ts(created)))
                events.append((rid, "answered", True, "answered", None, None, _ts(answered_at)))
            counts["answered"] = answered
        with cur.copy(f"COPY report_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('report', 'id'), max(id)) FROM report")
    return counts
