"""Institution admins run their own node through the real forms: units, staff and roles,
categories, response templates; nobody else gets in, and nobody reaches past their subtree."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from portal.demo import DEMO_PASSWORD
from portal.domain import DomainError
from portal.domain import administration as admin
from portal.domain.accounts import SignInRefused, authenticate
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    Institution,
    InstitutionKind,
    Membership,
    ResponseTemplate,
    Role,
    User,
)
from tests.helpers import csrf_token, node, user

ADMIN = "admin@tangerangkab.example.id"
NATIONAL_ADMIN = "admin.nasional@lapor.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- helpers




def audits(action) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def sign_in(client, email, password=DEMO_PASSWORD):
    client.get("/bahasa/en")  # assertions read the English texts
    token = csrf_token(client, "/staf/masuk")
    response = client.post("/staf/masuk",
                           data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, f"{email} could not sign in"
    return client


def post(client, path, page=None, **data):
    """A real form post: the CSRF token comes from the page the form is on (``page``, when
    that is not ``path`` itself)."""
    data["csrf_token"] = csrf_token(client, page or path)
    return client.post(path, data=data)


def post_action(client, path, page):
    """A one-button form (revoke, deactivate, delete), with the token of the page it sits on."""
    return client.post(path, data={"csrf_token": csrf_token(client, page)})


def member_page(account) -> str:
    return f"/staf/kelola/petugas/{account.id}"


def field_error(html, field) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def second_regency():
    """Kabupaten Serang beside Tangerang: its own admin, a unit, a liaison, a category and a
    template. Nothing of it belongs to the Tangerang admin."""
    serang = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-SERANG",
                         name="Pemerintah Kabupaten Serang", parent=node("KEMENPANRB"))
    unit = Institution(kind=InstitutionKind.UNIT, code="SRG-DINKES",
                       name="Dinas Kesehatan Serang", parent=serang)
    liaison = User(email="penghubung@serangkab.example.id", name="Penghubung Serang",
                   is_staff=True)
    liaison.set_password(DEMO_PASSWORD)
    liaison.memberships.append(Membership(institution=unit, role=Role.LIAISON))
    category = Category(code="SRG-KESEHATAN", name_id="Kesehatan Serang",
                        name_en="Health Serang", default_unit=unit)
    template = ResponseTemplate(institution=serang, title="Jawaban Serang", body="Laporan {nomor}")
    db.session.add_all([serang, unit, liaison, category, template])
    db.session.commit()
    return {"institution": serang.id, "unit": unit.id, "liaison": liaison.id,
            "membership": liaison.memberships[0].id, "category": category.id,
            "template": template.id}


@pytest.fixture
def admin_client(demo, client):
    return sign_in(client, ADMIN)


# --------------------------------------------------------------------------- units and staff
def test_admin_creates_a_unit_and_its_liaison_who_can_sign_in(admin_client, app):
    regency = node("KAB-TANGERANG")
    response = post(admin_client, "/staf/kelola/unit", institution=regency.id,
                    name="  Dinas Sosial ", code="tng-dinsos")
    assert response.status_code == 302
    unit = node("TNG-DINSOS")
    assert unit is not None and unit.name == "Dinas Sosial"
    assert unit.kind is InstitutionKind.UNIT and unit.parent_id == regency.id
    assert "Dinas Sosial" in admin_client.get("/staf/kelola/unit").get_data(as_text=True)

    response = post(admin_client, f"/staf/kelola/unit/{unit.id}", name="Dinas Sosial Kab. Tangerang")
    assert response.status_code == 302
    db.session.refresh(unit)
    assert unit.name == "Dinas Sosial Kab. Tangerang" and unit.code == "TNG-DINSOS"

    response = post(admin_client, "/staf/kelola/petugas/baru", name="Rina Penghubung Dinsos",
                    email="Rina@TangerangKab.example.id", password="sandi-awal-2026",
                    role="liaison", node=unit.id)
    assert response.status_code == 302
    rina = user("rina@tangerangkab.example.id")
    assert rina.is_staff and rina.is_active_account
    assert [(m.role, m.institution_id) for m in rina.memberships] == [(Role.LIAISON, unit.id)]
    assert response.headers["Location"].endswith(f"/staf/kelola/petugas/{rina.id}")

    granted = audits(AuditAction.ROLE_GRANTED)
    assert len(granted) == 1
    assert granted[0].actor_id == user(ADMIN).id and granted[0].subject_user_id == rina.id
    assert granted[0].institution_id == regency.id
    assert granted[0].detail == "liaison @ TNG-DINSOS"

    # The new liaison signs in with the password the admin typed, and with nothing else.
    assert authenticate("rina@tangerangkab.example.id", "sandi-awal-2026", now=NOW,
                        staff=True).user.id == rina.id
    with pytest.raises(SignInRefused):
        authenticate("rina@tangerangkab.example.id", DEMO_PASSWORD, now=NOW, staff=True)
    db.session.rollback()  # the checks above wrote failure counts; a request must not wait on them
    sign_in(app.test_client(), "rina@tangerangkab.example.id", "sandi-awal-2026")


def test_admin_grants_and_revokes_roles_with_audit_rows(admin_client):
    regency = node("KAB-TANGERANG")
    liaison = user(LIAISON)
    page = f"/staf/kelola/petugas/{liaison.id}"
    assert "Pejabat Penghubung Disdukcapil" in admin_client.get(page).get_data(as_text=True)

    response = post(admin_client, f"{member_page(liaison)}/peran", member_page(liaison),
                    role="operator", node=node("TNG-DISHUB").id)
    assert response.status_code == 302
    added = db.session.scalar(select(Membership).where(Membership.user_id == liaison.id,
                                                       Membership.role == Role.OPERATOR))
    assert added.institution.code == "TNG-DISHUB"

    # The same role at the same node twice is refused next to the role.
    again = post(admin_client, f"{member_page(liaison)}/peran", member_page(liaison),
                 role="operator", node=node("TNG-DISHUB").id)
    assert again.status_code == 422
    assert "already holds this role" in field_error(again.get_data(as_text=True), "role")

    added_id = added.id
    response = post_action(admin_client, f"/staf/kelola/peran/{added_id}/cabut", page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert db.session.scalar(select(Membership.id).where(Membership.id == added_id)) is None

    granted, revoked = audits(AuditAction.ROLE_GRANTED), audits(AuditAction.ROLE_REVOKED)
    assert [(a.subject_user_id, a.institution_id, a.detail) for a in granted] == [
        (liaison.id, regency.id, "operator @ TNG-DISHUB")]
    assert [(a.subject_user_id, a.institution_id, a.detail) for a in revoked] == [
        (liaison.id, regency.id, "operator @ TNG-DISHUB")]
    assert revoked[0].actor_id == user(ADMIN).id

    # The account's only role stays: deactivate instead.
    only = liaison.memberships[0]
    refused = post_action(admin_client, f"/staf/kelola/peran/{only.id}/cabut", page)
    assert refused.status_code == 302
    assert "only role" in admin_client.get(page).get_data(as_text=True)
    assert db.session.get(Membership, only.id) is not None
    assert len(audits(AuditAction.ROLE_REVOKED)) == 1


def test_national_admin_role_cannot_be_granted(admin_client):
    liaison = user(LIAISON)
    response = post(admin_client, f"{member_page(liaison)}/peran", member_page(liaison),
                    role="national_admin", node=node("KAB-TANGERANG").id)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "role")
    assert {m.role for m in liaison.memberships} == {Role.LIAISON}

    # Not by a new account either, and not behind the form's back.
    response = post(admin_client, "/staf/kelola/petugas/baru", name="Calon Admin",
                    email="calon@tangerangkab.example.id", password="sandi-awal-2026",
                    role="national_admin", node=node("KAB-TANGERANG").id)
    assert response.status_code == 422 and user("calon@tangerangkab.example.id") is None
    with pytest.raises(DomainError) as refused:
        admin.grant_role(user(ADMIN), liaison.id, role=Role.NATIONAL_ADMIN,
                         node_id=node("KAB-TANGERANG").id, now=NOW)
    assert refused.value.field == "role"
    assert audits(AuditAction.ROLE_GRANTED) == []


def test_admin_cannot_revoke_their_own_last_admin_role(admin_client):
    me = user(ADMIN)
    mine = me.memberships[0]
    page = f"/staf/kelola/petugas/{me.id}"
    response = post_action(admin_client, f"/staf/kelola/peran/{mine.id}/cabut", page)
    assert response.status_code == 302
    html = admin_client.get(page).get_data(as_text=True)
    assert "last administrator role" in html
    assert "Deactivate account" not in html  # no button to lock oneself out either
    assert db.session.get(Membership, mine.id) is not None
    assert audits(AuditAction.ROLE_REVOKED) == []
    refused = post_action(admin_client, f"/staf/kelola/petugas/{me.id}/nonaktifkan", page)
    assert refused.status_code == 302
    db.session.refresh(me)
    assert me.is_active_account

    # Another role does not count: a supervisor cannot administer.
    post(admin_client, f"{page}/peran", page, role="supervisor",
         node=node("KAB-TANGERANG").id)
    assert len(user(ADMIN).memberships) == 2
    assert post_action(admin_client, f"/staf/kelola/peran/{mine.id}/cabut",
                       page).status_code == 302
    assert db.session.get(Membership, mine.id) is not None


def test_admin_deactivates_and_reactivates_staff(admin_client, app):
    operator = user(OPERATOR)
    operator_client = sign_in(app.test_client(), OPERATOR)
    assert operator_client.get("/staf/").status_code == 200
    page = f"/staf/kelola/petugas/{operator.id}"

    assert post_action(admin_client, f"{page}/nonaktifkan", page).status_code == 302
    db.session.refresh(operator)
    assert operator.is_active_account is False
    assert operator.memberships  # roles and history stay
    with pytest.raises(SignInRefused):
        authenticate(OPERATOR, DEMO_PASSWORD, now=NOW, staff=True)
    db.session.rollback()  # the refused attempt's audit entry is not this test's to keep
    assert operator_client.get("/staf/").status_code == 302  # their open session ended
    assert "Deactivated" in admin_client.get("/staf/kelola/petugas").get_data(as_text=True)

    assert post_action(admin_client, f"{page}/aktifkan", page).status_code == 302
    db.session.refresh(operator)
    assert operator.is_active_account
    assert authenticate(OPERATOR, DEMO_PASSWORD, now=NOW, staff=True).user.id == operator.id

    # An account that also works for another institution is not this admin's to switch off.
    ids = second_regency()
    operator.memberships.append(Membership(institution_id=ids["unit"], role=Role.OPERATOR))
    db.session.commit()
    assert post_action(admin_client, f"{page}/nonaktifkan", page).status_code == 302
    db.session.refresh(operator)
    assert operator.is_active_account
    assert "roles elsewhere" in admin_client.get(page).get_data(as_text=True)


def test_nothing_outside_the_subtree_can_be_touched(admin_client):
    ids = second_regency()
    me = user(ADMIN)

    for path in ("/staf/kelola/unit", "/staf/kelola/petugas", "/staf/kelola/kategori",
                 "/staf/kelola/templat"):
        html = admin_client.get(path).get_data(as_text=True)
        assert "Serang" not in html, path
    assert "Serang" not in admin_client.get("/staf/kelola/petugas/baru").get_data(as_text=True)

    # Pages of Serang's things: 403. (Tokens from a page of our own.)
    own = "/staf/kelola/unit"
    assert admin_client.get(f"/staf/kelola/unit/{ids['unit']}").status_code == 403
    assert admin_client.get(f"/staf/kelola/petugas/{ids['liaison']}").status_code == 403
    assert admin_client.get(f"/staf/kelola/kategori/{ids['category']}").status_code == 403
    assert admin_client.get(f"/staf/kelola/templat/{ids['template']}").status_code == 403
    token = csrf_token(admin_client, "/staf/kelola/unit")
    for path, data in [
        (f"/staf/kelola/unit/{ids['unit']}", {"name": "Diambil alih"}),
        (f"/staf/kelola/petugas/{ids['liaison']}/peran",
         {"role": "operator", "node": node("TNG-DISHUB").id}),
        (f"/staf/kelola/peran/{ids['membership']}/cabut", {}),
        (f"/staf/kelola/petugas/{ids['liaison']}/nonaktifkan", {}),
        (f"/staf/kelola/kategori/{ids['category']}", {"name_id": "x", "name_en": "x"}),
        (f"/staf/kelola/templat/{ids['template']}", {"title": "x", "body": "x", "save": "1"}),
        (f"/staf/kelola/templat/{ids['template']}/hapus", {}),
    ]:
        assert admin_client.post(path, data={**data, "csrf_token": token}).status_code == 403, path

    # Choosing Serang's nodes in our own forms: the choice is refused next to the field.
    liaison = user(LIAISON)
    response = post(admin_client, f"{member_page(liaison)}/peran", member_page(liaison),
                    role="liaison", node=ids["unit"])
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "node")
    response = post(admin_client, "/staf/kelola/unit", institution=ids["institution"],
                    name="Dinas Baru", code="SRG-BARU")
    assert response.status_code == 422 and node("SRG-BARU") is None
    response = post(admin_client, "/staf/kelola/kategori/baru", code="BARU", name_id="Baru",
                    name_en="New", default_unit=ids["unit"], is_active="y")
    assert response.status_code == 422
    response = post(admin_client, "/staf/kelola/templat/baru", institution=ids["institution"],
                    title="Curang", body="Teks", save="1")
    assert response.status_code == 422

    # And the rules say so themselves, whatever door calls them.
    with pytest.raises(admin.NotAllowed):
        admin.grant_role(me, liaison.id, role=Role.LIAISON, node_id=ids["unit"], now=NOW)
    with pytest.raises(admin.NotAllowed):
        admin.create_unit(me, institution_id=ids["institution"], name="X", code="SRG-X", now=NOW)
    with pytest.raises(admin.NotAllowed):
        admin.revoke_membership(me, ids["membership"], now=NOW)
    db.session.rollback()

    unit = db.session.get(Institution, ids["unit"])
    assert unit.name == "Dinas Kesehatan Serang"
    assert db.session.get(Membership, ids["membership"]) is not None
    assert db.session.get(ResponseTemplate, ids["template"]) is not None
    assert audits(AuditAction.ROLE_GRANTED) == audits(AuditAction.ROLE_REVOKED) == []

    # Unknown and absurd ids: 404, never a 500.
    for path in ("/staf/kelola/unit/999999", "/staf/kelola/petugas/999999",
                 "/staf/kelola/kategori/999999", "/staf/kelola/templat/999999",
                 "/staf/kelola/unit/99999999999999999999",
                 f"/staf/kelola/unit/{node('KAB-TANGERANG').id}"):  # an institution is no unit
        assert admin_client.get(path).status_code == 404, path
    assert admin_client.post("/staf/kelola/peran/99999999999999999999/cabut",
                             data={"csrf_token": csrf_token(admin_client, own)}).status_code == 404


def test_national_admin_manages_every_institution(demo, client):
    ids = second_regency()
    sign_in(client, NATIONAL_ADMIN)
    assert client.get(f"/staf/kelola/kategori/{ids['category']}").status_code == 200
    response = post(client, f"/staf/kelola/unit/{ids['unit']}", name="Dinas Kesehatan Kab. Serang")
    assert response.status_code == 302
    assert db.session.get(Institution, ids["unit"]).name == "Dinas Kesehatan Kab. Serang"
    response = post(client, "/staf/kelola/petugas/baru", name="Admin Serang",
                    email="admin@serangkab.example.id", password="sandi-awal-2026",
                    role="institution_admin", node=ids["institution"])
    assert response.status_code == 302
    assert audits(AuditAction.ROLE_GRANTED)[0].institution_id == ids["institution"]


# --------------------------------------------------------------------------- who gets in
def _routes(ids):
    unit, member, membership = ids["unit"], ids["user"], ids["membership"]
    category, template = ids["category"], ids["template"]
    gets = ["/staf/kelola/", "/staf/kelola/unit", f"/staf/kelola/unit/{unit}",
            "/staf/kelola/petugas", "/staf/kelola/petugas/baru", f"/staf/kelola/petugas/{member}",
            "/staf/kelola/kategori", "/staf/kelola/kategori/baru",
            f"/staf/kelola/kategori/{category}", "/staf/kelola/templat",
            "/staf/kelola/templat/baru", f"/staf/kelola/templat/{template}"]
    posts = ["/staf/kelola/unit", f"/staf/kelola/unit/{unit}", "/staf/kelola/petugas/baru",
             f"/staf/kelola/petugas/{member}/peran", f"/staf/kelola/peran/{membership}/cabut",
             f"/staf/kelola/petugas/{member}/nonaktifkan",
             f"/staf/kelola/petugas/{member}/aktifkan", "/staf/kelola/kategori/baru",
             f"/staf/kelola/kategori/{category}", "/staf/kelola/templat/baru",
             f"/staf/kelola/templat/{template}", f"/staf/kelola/templat/{template}/hapus"]
    scope = f"/staf/kelola/tenggat/{ids['institution']}"
    gets += ["/staf/kelola/tenggat", scope]
    posts += [scope, f"{scope}/libur", f"{scope}/libur/1/hapus", f"{scope}/webhook",
              f"{scope}/webhook/rahasia", f"{scope}/webhook/hapus"]
    gets += ["/staf/kelola/feed"]  # the feed sources (national administrator)
    posts += ["/staf/kelola/feed", "/staf/kelola/feed/1/kunci", "/staf/kelola/feed/1/nonaktifkan",
              "/staf/kelola/feed/1/aktifkan"]
    gets += ["/staf/kelola/api"]  # Open311 API keys (administrators)
    posts += ["/staf/kelola/api", "/staf/kelola/api/1/kunci", "/staf/kelola/api/1/nonaktifkan",
              "/staf/kelola/api/1/aktifkan"]
    return gets, posts


@pytest.mark.parametrize("visitor", [None, LIAISON, OPERATOR, SUPERVISOR])
def test_only_administrators_get_in(demo, client, visitor):
    operator = user(OPERATOR)
    template = ResponseTemplate(institution=node("KAB-TANGERANG"), title="T", body="B")
    db.session.add(template)
    db.session.commit()
    ids = {"unit": node("TNG-DISHUB").id, "user": operator.id,
           "membership": operator.memberships[0].id,
           "category": db.session.scalar(select(Category.id).where(Category.code == "LAINNYA")),
           "template": template.id, "institution": node("KAB-TANGERANG").id}
    gets, posts = _routes(ids)
    every = sum(len(rule.methods & {"GET", "POST"})
                for rule in client.application.url_map.iter_rules()
                if rule.endpoint.startswith("staff_admin."))
    assert len(gets) + len(posts) == every  # a new route must be added here
    if visitor:
        sign_in(client, visitor)
    expected = 403 if visitor else 302
    token = csrf_token(client, "/lapor")  # the session's token, from a page anyone may open
    for path in gets:
        response = client.get(path)
        assert response.status_code == expected, path
        if not visitor:
            assert "/staf/masuk" in response.headers["Location"]
    for path in posts:
        response = client.post(path, data={"csrf_token": token, "name": "X", "role": "operator",
                                           "node": ids["unit"], "title": "X", "body": "X"})
        assert response.status_code == expected, path
    db.session.refresh(operator)
    assert operator.is_active_account and len(operator.memberships) == 1
    assert db.session.get(ResponseTemplate, template.id) is not None
    assert audits(AuditAction.ROLE_GRANTED) == audits(AuditAction.ROLE_REVOKED) == []


# --------------------------------------------------------------------------- bad input
def test_duplicates_are_refused_and_the_typed_fields_kept(admin_client):
    regency = node("KAB-TANGERANG")
    response = post(admin_client, "/staf/kelola/unit", institution=regency.id,
                    name="Dinas Perhubungan Kedua", code="tng-dishub")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already in use" in field_error(html, "code")
    assert 'value="Dinas Perhubungan Kedua"' in html and 'value="TNG-DISHUB"' in html
    assert db.session.scalar(select(func.count()).select_from(Institution)
                             .where(Institution.name == "Dinas Perhubungan Kedua")) == 0

    response = post(admin_client, "/staf/kelola/petugas/baru", name="Operator Kembar",
                    email=OPERATOR.upper(), password="sandi-awal-2026", role="operator",
                    node=node("TNG-DISHUB").id)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already exists" in field_error(html, "email")
    assert 'value="Operator Kembar"' in html and f'value="{OPERATOR}"' in html
    assert re.search(rf'<option selected value="{node("TNG-DISHUB").id}"', html)
    assert 'value="sandi-awal-2026"' not in html  # a password is never sent back
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.name == "Operator Kembar")) == 0

    response = post(admin_client, "/staf/kelola/kategori/baru", code="adminduk",
                    name_id="Adminduk lagi", name_en="Population again", is_active="y")
    assert response.status_code == 422
    assert "already in use" in field_error(response.get_data(as_text=True), "code")
    assert 'value="Adminduk lagi"' in response.get_data(as_text=True)


def test_bad_input_is_answered_next_to_the_field(admin_client):
    regency, dishub = node("KAB-TANGERANG"), node("TNG-DISHUB")
    cases = [
        ("/staf/kelola/petugas/baru", dict(name="Budi", email="budi@tangerangkab.example.id",
                                           password="pendek", role="operator", node=dishub.id),
         "password", "at least 10"),
        ("/staf/kelola/petugas/baru", dict(name="Budi", email="budi@tangerangkab.example.id",
                                           password="sandi-awal-2026", role="liaison",
                                           node=regency.id), "node", "choose a unit"),
        ("/staf/kelola/petugas/baru", dict(name="Budi", email="budi@tangerangkab.example.id",
                                           password="sandi-awal-2026", role="supervisor",
                                           node=dishub.id), "node", "institution"),
        ("/staf/kelola/petugas/baru", dict(name="Budi", email="bukan-surel",
                                           password="sandi-awal-2026", role="operator",
                                           node=dishub.id), "email", "valid"),
        ("/staf/kelola/petugas/baru", dict(name="", email="", password="", role="", node="abc"),
         "node", ""),
        ("/staf/kelola/unit", dict(institution=regency.id, name="Dinas", code="KODE ADA SPASI"),
         "code", "capital letters"),
        ("/staf/kelola/unit", dict(institution="x", name="Dinas", code="TNG-X"),
         "institution", ""),
        ("/staf/kelola/unit", dict(institution=regency.id, name="x" * 201, code="TNG-X"),
         "name", "200"),
        ("/staf/kelola/kategori/baru", dict(code="BARU", name_id="Baru", name_en="New",
                                            default_unit="99999999999"), "default_unit", ""),
        ("/staf/kelola/templat/baru", dict(institution=regency.id, title="Salah ketik",
                                           body="Laporan {nomor} tanggal {tangal}", save="1"),
         "body", "{tangal}"),
    ]
    for path, data, field, text in cases:
        response = post(admin_client, path, **data)
        assert response.status_code == 422, (path, data)
        assert text in field_error(response.get_data(as_text=True), field), (path, field)
    assert user("budi@tangerangkab.example.id") is None
    assert db.session.scalar(select(func.count()).select_from(ResponseTemplate)) == 0


# --------------------------------------------------------------------------- categories
def test_categories_create_and_edit(admin_client):
    listed = admin_client.get("/staf/kelola/kategori").get_data(as_text=True)
    assert "Transport (truck hours" in listed and "Other" in listed

    dishub, dlhk = node("TNG-DISHUB"), node("TNG-DLHK")
    response = post(admin_client, "/staf/kelola/kategori/baru", code="angkot",
                    name_id="Angkutan Kota", name_en="City minibuses", default_unit=dishub.id,
                    is_urgent="y", is_active="y")
    assert response.status_code == 302
    category = db.session.scalar(select(Category).where(Category.code == "ANGKOT"))
    assert (category.name_id, category.name_en, category.default_unit_id, category.is_urgent,
            category.is_active) == ("Angkutan Kota", "City minibuses", dishub.id, True, True)
    # The citizen form offers it now.
    assert "City minibuses" in admin_client.get("/lapor").get_data(as_text=True)

    edit = f"/staf/kelola/kategori/{category.id}"
    page = admin_client.get(edit).get_data(as_text=True)
    assert 'value="Angkutan Kota"' in page and f'<option selected value="{dishub.id}"' in page
    response = post(admin_client, edit, name_id="Angkutan Umum", name_en="Public transport",
                    default_unit=dlhk.id, code="HIJACK")  # not urgent, not active
    assert response.status_code == 302
    db.session.refresh(category)
    assert (category.code, category.name_id, category.default_unit_id, category.is_urgent,
            category.is_active) == ("ANGKOT", "Angkutan Umum", dlhk.id, False, False)
    assert "Public transport" not in admin_client.get("/lapor").get_data(as_text=True)

    # A category routed nowhere may be given one of our units.
    other = db.session.scalar(select(Category).where(Category.code == "LAINNYA"))
    response = post(admin_client, f"/staf/kelola/kategori/{other.id}", name_id="Lainnya",
                    name_en="Other", default_unit="", is_active="y")
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.default_unit_id is None and other.is_active


# --------------------------------------------------------------------------- templates
def test_response_templates_create_preview_edit_delete(admin_client):
    regency = node("KAB-TANGERANG")
    body = "Yth. Pelapor, laporan {nomor} \"{judul}\" ditangani {unit}, {instansi}. {tanggal}"

    # Preview: filled for a sample report, nothing saved, the typed text kept.
    response = post(admin_client, "/staf/kelola/templat/baru", institution=regency.id,
                    title="Jawaban umum", body=body, preview="1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = re.search(r'id="template-preview">(.*?)</section>', html, re.S).group(1)
    assert "Pemerintah Kabupaten Tangerang" in preview
    assert re.search(r"LPR-\d{4}-0000123", preview)
    assert "{nomor}" not in preview and "{instansi}" not in preview
    assert re.search(r"\d{2}-\d{2}-\d{4}", preview)
    assert "{instansi}" in html  # the textarea still holds what was typed
    assert db.session.scalar(select(func.count()).select_from(ResponseTemplate)) == 0

    response = post(admin_client, "/staf/kelola/templat/baru", institution=regency.id,
                    title="Jawaban umum", body=body, save="1")
    assert response.status_code == 302
    template = db.session.scalar(select(ResponseTemplate))
    assert (template.institution_id, template.title, template.body) == (
        regency.id, "Jawaban umum", body)
    assert "Jawaban umum" in admin_client.get("/staf/kelola/templat").get_data(as_text=True)

    edit = f"/staf/kelola/templat/{template.id}"
    assert "Pemerintah Kabupaten Tangerang" in admin_client.get(edit).get_data(as_text=True)
    response = post(admin_client, edit, title="Jawaban singkat", body="Laporan {nomor} selesai.",
                    save="1")
    assert response.status_code == 302
    db.session.refresh(template)
    assert (template.title, template.body) == ("Jawaban singkat", "Laporan {nomor} selesai.")

    response = post_action(admin_client, f"{edit}/hapus", edit)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ResponseTemplate)) == 0
    assert admin_client.get(edit).status_code == 404
