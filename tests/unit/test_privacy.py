"""Who may see a reporter's identity: the rules, on real rows (SQLite and PostgreSQL)."""
import pytest

from portal.domain.privacy import may_see_identity
from portal.extensions import db
from portal.models import Membership, Report, ReportKind, Role, User
from tests.helpers import node


def staff(role, node_code):
    user = User(email=f"{role.value}.{node_code}@test.id".lower(), name=role.value, is_staff=True)
    user.set_password("x")
    user.memberships.append(Membership(institution=node(node_code), role=role))
    db.session.add(user)
    return user


def report(anonymous, unit_code="TNG-DISDUKCAPIL"):
    r = Report(tracking_code_hash=bytes(32) if anonymous else b"\x01" * 32, kind=ReportKind.COMPLAINT,
               title="t", body="b", is_anonymous=anonymous,
               current_institution=node("KAB-TANGERANG"), current_unit=node(unit_code))
    db.session.add(r)
    db.session.flush()
    return r


@pytest.mark.parametrize("role,node_code,sees_named,sees_anonymous", [
    (Role.NATIONAL_ADMIN, "KEMENPANRB", True, True),
    (Role.INSTITUTION_ADMIN, "KAB-TANGERANG", True, False),
    (Role.LIAISON, "TNG-DISDUKCAPIL", True, False),
    (Role.OPERATOR, "TNG-DISDUKCAPIL", True, False),
    (Role.SUPERVISOR, "KAB-TANGERANG", False, False),
    (Role.LIAISON, "TNG-DISHUB", False, False),  # another unit
    (Role.OPERATOR, "TNG-DISHUB", False, False),
])
def test_identity_visibility(demo, role, node_code, sees_named, sees_anonymous):
    user = staff(role, node_code)
    named, anonymous = report(False), report(True)
    assert may_see_identity(user, named) is sees_named
    assert may_see_identity(user, anonymous) is sees_anonymous


def test_nobody_outside_staff_sees_identity(demo):
    citizen = User(email="warga@test.id", name="Warga", is_staff=False)
    citizen.set_password("x")
    db.session.add(citizen)
    named = report(False)
    assert may_see_identity(None, named) is False
    assert may_see_identity(citizen, named) is False
