"""Offline units at scale: the check the worker runs every minute reads every institution with
a fixed number of statements; who covers a unit; each institution's own days off.

(The episode rules and the weekend are tested in tests/unit/test_weekly_report.py.)

Wednesday 25 November 2026 10:00 WIB (03:00 UTC) is ``NOW``; the staff of every unit here was
last seen on Monday 23 November 11:00 WIB: 47 working hours before, or 23 where Tuesday is a
day off."""
import os
from contextlib import contextmanager
from datetime import date, datetime, timezone

from sqlalchemy import event, select

from portal.domain.offline import alert_offline_units, offline_units
from portal.extensions import db
from portal.models import (
    Category,
    Holiday,
    Institution,
    InstitutionKind,
    Membership,
    OutboxMessage,
    Report,
    ReportKind,
    ReportStatus,
    Role,
    User,
)
from tests.helpers import node

NOW = datetime(2026, 11, 25, 3, tzinfo=timezone.utc)
LAST_SEEN = datetime(2026, 11, 23, 4, tzinfo=timezone.utc)
TUESDAY = date(2026, 11, 24)


def staff(email: str, at: Institution, role: Role, *, seen=LAST_SEEN, active=True) -> User:
    person = User(email=email, name=email.split("@")[0], is_staff=True, last_seen_at=seen,
                  password_hash="!",  # never signs in
                  is_active_account=active)
    person.memberships.append(Membership(institution=at, role=role))
    db.session.add(person)
    return person


def waiting_report(unit: Institution, status=ReportStatus.IN_PROGRESS) -> Report:
    report = Report(
        tracking_code_hash=os.urandom(32), kind=ReportKind.COMPLAINT, title="Laporan uji",
        body="Isi laporan uji.", category=db.session.scalar(select(Category).limit(1)),
        status=status, current_institution=unit.parent, current_unit=unit,
        created_at=LAST_SEEN, updated_at=LAST_SEEN)
    db.session.add(report)
    db.session.flush()
    report.public_number = f"UJI-{report.id:06d}"
    return report


def add_institution(code: str, *, holiday_on_tuesday=False) -> Institution:
    """An institution with one idle unit (a liaison and an operator last seen on Monday, one
    waiting report) and an admin."""
    institution = Institution(kind=InstitutionKind.INSTITUTION, code=code, name=f"Kab {code}",
                              parent=node("KEMENPANRB"))
    unit = Institution(kind=InstitutionKind.UNIT, code=f"{code}-DINAS", name=f"Dinas {code}",
                       parent=institution)
    db.session.add_all([institution, unit])
    staff(f"admin@{code.lower()}.example.id", institution, Role.INSTITUTION_ADMIN)
    staff(f"penghubung@{code.lower()}.example.id", unit, Role.LIAISON)
    staff(f"operator@{code.lower()}.example.id", unit, Role.OPERATOR)
    waiting_report(unit)
    if holiday_on_tuesday:
        db.session.add(Holiday(day=TUESDAY, name="Hari jadi", institution=institution))
    db.session.flush()
    return institution


@contextmanager
def statements():
    """The SQL statements run on the engine inside the block."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def alert_counted():
    """(units alerted, statements but the alerts' INSERT) of one check, committed. (The
    INSERT is one statement per batch on PostgreSQL, one per mail on SQLite: it grows with the
    mails written, not with the institutions read.)"""
    with statements() as seen:
        alerted = alert_offline_units(NOW)
    db.session.commit()
    reads = [s for s in seen if not s.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGE")]
    assert len(seen) - len(reads) <= len(alerted)
    return sorted(item.unit.code for item in alerted), len(reads)


def test_the_check_runs_as_many_statements_for_six_institutions_as_for_two(demo):
    # Two institutions, one of them keeping Tuesday off (its own cutoff in the CASE).
    add_institution("KAB-A"), add_institution("KAB-B", holiday_on_tuesday=True)
    db.session.add(Holiday(day=date(2026, 11, 2), name="Cuti bersama", institution=None))
    db.session.commit()
    alerted, reads_two = alert_counted()
    assert alerted == ["KAB-A-DINAS"]  # KAB-B: 23 working hours only
    assert alert_counted() == ([], reads_two)  # nothing new

    # Four more (two of them with Tuesday off), two with a second waiting report.
    for code in ("KAB-C", "KAB-D", "KAB-E", "KAB-F"):
        add_institution(code, holiday_on_tuesday=code in ("KAB-C", "KAB-E"))
    for unit in db.session.scalars(select(Institution).where(
            Institution.code.in_(["KAB-C-DINAS", "KAB-D-DINAS"]))):
        waiting_report(unit, ReportStatus.DISPOSITIONED)
    db.session.commit()
    assert alert_counted() == (["KAB-D-DINAS", "KAB-F-DINAS"], reads_two)
    assert alert_counted() == ([], reads_two)
    assert reads_two == 4  # the days off, the offline units, their admins, their last alerts
    mails = db.session.scalars(select(OutboxMessage.recipient).order_by(OutboxMessage.id)).all()
    assert mails == ["admin@kab-a.example.id", "admin@kab-d.example.id",
                     "admin@kab-f.example.id"]
    # One institution asked for: two statements, its units only.
    institution = node("KAB-D")
    with statements() as seen:
        found = offline_units(institution, now=NOW)
    assert [(o.unit.code, o.waiting) for o in found] == [("KAB-D-DINAS", 2)]
    assert len(seen) == 2


def test_an_operator_above_the_unit_covers_it_a_liaison_above_does_not(demo):
    institution = add_institution("KAB-A")
    unit = node("KAB-A-DINAS")
    recently = datetime(2026, 11, 25, 2, tzinfo=timezone.utc)
    # Active above the unit, but as a liaison; an operator above it whose account is closed;
    # an operator of another unit: none of them makes the unit online.
    staff("penghubung.atas@kab-a.example.id", institution, Role.LIAISON, seen=recently)
    staff("operator.lama@kab-a.example.id", institution, Role.OPERATOR, seen=recently,
          active=False)
    other = Institution(kind=InstitutionKind.UNIT, code="KAB-A-LAIN", name="Dinas Lain",
                        parent=institution)
    db.session.add(other)
    staff("operator@kab-a-lain.example.id", other, Role.OPERATOR, seen=recently)
    db.session.commit()
    assert [(o.unit.code, o.last_active_at) for o in offline_units(institution, now=NOW)] == [
        ("KAB-A-DINAS", LAST_SEEN)]
    # An active operator whose membership is at the institution covers its units.
    staff("operator.kabupaten@kab-a.example.id", institution, Role.OPERATOR, seen=recently)
    db.session.commit()
    assert offline_units(institution, now=NOW) == []
    assert unit.id not in {o.unit.id for o in offline_units(node("KAB-A"), now=NOW)}


def test_a_unit_nobody_was_ever_active_for_is_offline_and_alerted_once(demo):
    institution = add_institution("KAB-A")
    for person in db.session.scalars(select(User).where(User.email.in_(
            ["penghubung@kab-a.example.id", "operator@kab-a.example.id"]))):
        person.last_seen_at = None
    db.session.commit()
    found = offline_units(institution, now=NOW)
    assert [(o.unit.code, o.last_active_at) for o in found] == [("KAB-A-DINAS", None)]
    assert [o.unit.code for o in alert_offline_units(NOW)] == ["KAB-A-DINAS"]
    db.session.commit()
    assert alert_offline_units(NOW) == []  # never active: the first alert stands


def test_each_institution_keeps_its_own_days_off(demo):
    add_institution("KAB-A"), add_institution("KAB-B", holiday_on_tuesday=True)
    db.session.commit()
    assert [o.unit.code for o in offline_units(node("KAB-A"), now=NOW)] == ["KAB-A-DINAS"]
    assert offline_units(node("KAB-B"), now=NOW) == []
    # A day off for everyone (no institution) applies to both.
    db.session.add(Holiday(day=TUESDAY, name="Cuti bersama", institution=None))
    db.session.commit()
    assert alert_offline_units(NOW) == []
