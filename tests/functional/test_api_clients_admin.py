"""The Open311 API keys page (/staf/kelola/api): an institution admin issues a key for a channel
and sees it once, renews it (the old one is refused), disables and enables it; every change is
audited; each admin sees and manages only their institution's keys, the national admin all."""
import re
from html import unescape

from sqlalchemy import select

from portal.domain import api_clients
from portal.extensions import db
from portal.models import ApiClient, AuditAction, AuditEntry, Channel, Institution, InstitutionKind
from portal.models.types import utcnow
from tests.functional.test_intake import ADMIN, LIAISON, NATIONAL_ADMIN, signed_in
from tests.helpers import csrf_token, node

PAGE = "/staf/kelola/api"
KEY_PATTERN = re.compile(r'id="api-key">([^<]+)<')


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def shown_key(response) -> str:
    match = KEY_PATTERN.search(response.get_data(as_text=True))
    assert match, "no key on the page"
    return match.group(1).strip()


def issue(client, **fields):
    data = {"csrf_token": csrf_token(client, PAGE), "name": "SMS 1708", "channel": "sms",
            "institution": node("KAB-TANGERANG").id, **fields}
    return client.post(PAGE, data=data)


def audits() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action == AuditAction.API_CLIENT_CHANGED).order_by(AuditEntry.id)))


def test_a_key_is_shown_once_renewed_disabled_and_enabled(demo):
    admin = signed_in(demo, ADMIN)
    response = issue(admin)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    key = shown_key(response)
    client = api_clients.authenticate(key)
    assert client.channel is Channel.SMS and client.institution.code == "KAB-TANGERANG"
    assert client.api_key_hash != key.encode() and key not in text(admin.get(PAGE))
    assert client.key_hint in text(admin.get(PAGE))

    token = csrf_token(admin, PAGE)
    renewed = admin.post(f"{PAGE}/{client.id}/kunci", data={"csrf_token": token})
    new_key = shown_key(renewed)
    assert new_key != key and api_clients.authenticate(key) is None
    assert api_clients.authenticate(new_key).id == client.id

    assert admin.post(f"{PAGE}/{client.id}/nonaktifkan",
                      data={"csrf_token": token}).status_code == 302
    assert api_clients.authenticate(new_key) is None
    assert "Disabled" in text(admin.get(PAGE))
    admin.post(f"{PAGE}/{client.id}/aktifkan", data={"csrf_token": token})
    assert api_clients.authenticate(new_key).id == client.id
    details = audits()
    assert [d.split(": ", 1)[1].split(",")[0].split(" ")[0] for d in details] == [
        "issued", "new", "disabled", "enabled"]
    assert all(key not in d and new_key not in d for d in details)
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.API_CLIENT_CHANGED)).all()
    assert {e.institution_id for e in entries} == {node("KAB-TANGERANG").id}


def test_bad_input_keeps_what_was_typed(demo):
    admin = signed_in(demo, ADMIN)
    for fields, message in (({"name": ""}, "Write a name"),
                            ({"channel": "web"}, "Not a valid choice"),
                            ({"channel": ""}, "Choose a channel"),
                            ({"institution": node("KEMENPANRB").id}, "Not a valid choice")):
        response = issue(admin, **{"name": "Gerbang SMS Kabupaten", **fields})
        assert response.status_code == 422
        page = text(response)
        assert message in page and not KEY_PATTERN.search(page)
        if fields.get("name") != "":
            assert 'value="Gerbang SMS Kabupaten"' in page
    assert db.session.scalar(select(ApiClient)) is None


def test_each_admin_sees_only_their_institution_s_keys(demo):
    serang = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-SERANG",
                         name="Pemerintah Kabupaten Serang", parent=node("KEMENPANRB"))
    db.session.add(serang)
    db.session.flush()
    theirs = api_clients.issue_key(None, institution_id=serang.id, name="Aplikasi Serang",
                                   channel=Channel.MOBILE_APP, now=utcnow()).client
    db.session.commit()
    admin = signed_in(demo, ADMIN)
    page = text(admin.get(PAGE))
    assert "Aplikasi Serang" not in page
    assert f'<option value="{serang.id}"' not in page
    token = csrf_token(admin, PAGE)
    for action in ("kunci", "nonaktifkan", "aktifkan"):
        assert admin.post(f"{PAGE}/{theirs.id}/{action}",
                          data={"csrf_token": token}).status_code == 403
    assert issue(admin, institution=serang.id).status_code == 422
    assert admin.post(f"{PAGE}/999999/kunci", data={"csrf_token": token}).status_code == 404
    assert audits() == [audits()[0]] and "Aplikasi Serang" in audits()[0]

    national = signed_in(demo, NATIONAL_ADMIN)
    page = text(national.get(PAGE))
    assert "Aplikasi Serang" in page
    response = issue(national, institution=node("KEMENPANRB").id, channel="mobile_app")
    assert response.status_code == 200 and shown_key(response)
    assert signed_in(demo, LIAISON).get(PAGE).status_code == 403
