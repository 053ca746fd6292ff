"""The kecamatan fields at national scale (portal/domain/places.py): with more kecamatan than
the forms list (150), the filing and intake forms ask for the name as text, take a unique
match, offer a short choice for a name shared by several regencies (everything typed kept),
refuse an unknown name with a message, and never send thousands of <option>s."""
from html import unescape

import pytest
from sqlalchemy import func, insert, select

from portal.domain import places
from portal.extensions import db
from portal.models import Category, District, Institution, InstitutionKind, Report
from tests.functional.test_intake import ADMIN, PAGE
from tests.functional.test_intake import form as intake_form
from tests.functional.test_intake import signed_in
from tests.helpers import csrf_token, node, report_form

EXTRA = 170  # kecamatan added to the demo's 29, in a second regency


@pytest.fixture
def many(demo):
    """A second regency with EXTRA kecamatan, one of them also called Cikupa (as in the demo
    regency); one bulk insert."""
    tangerang = node("KAB-TANGERANG")
    other = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-CONTOH",
                        name="Kabupaten Contoh", parent_id=tangerang.parent_id)
    db.session.add(other)
    db.session.flush()
    db.session.execute(insert(District), [
        {"institution_id": other.id, "name": f"Uji Coba {n:03d}"} for n in range(EXTRA - 1)
    ] + [{"institution_id": other.id, "name": "Cikupa"}])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(District)) > 150
    return {"tangerang": tangerang, "other": other}


def english(client):
    client.get("/bahasa/en")
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def category() -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR")))


def file(client, **overrides):
    data = report_form(category=category(), **overrides)
    data.pop("district", None) if "district" not in overrides else None
    data["csrf_token"] = csrf_token(client, "/lapor")
    return client.post("/lapor", data=data, content_type="multipart/form-data")


def district_of_last_report() -> District | None:
    report = db.session.scalar(select(Report).order_by(Report.id.desc()))
    return report.district


def test_the_demo_keeps_the_select(demo, client):
    html = text(client.get("/lapor"))
    assert '<select id="district" name="district"' in html
    assert 'name="district_name"' not in html
    assert html.count("<option") > 29
    assert places.district_options() is not None


def test_the_form_asks_for_the_name_and_stays_small(many, client):
    html = text(english(client).get("/lapor"))
    assert 'name="district_name"' in html
    assert '<select id="district"' not in html
    assert "Uji Coba" not in html
    assert html.count("<option") < 60  # the categories and the two regencies only
    assert len(html) < 60_000
    # The regencies are few: a select of their names.
    assert '<option value="Kabupaten Contoh">' in html


@pytest.mark.parametrize("typed", ["Tigaraksa", "  kec. TIGARAKSA ", "Kecamatan tigaraksa"])
def test_a_unique_name_is_taken(many, client, typed):
    response = file(english(client), district_name=typed)
    assert response.status_code == 302, text(response)
    district = district_of_last_report()
    assert (district.name, district.institution_id) == ("Tigaraksa", many["tangerang"].id)


def test_a_shared_name_asks_which_one_and_keeps_what_was_typed(many, client):
    english(client)
    response = file(client, district_name="cikupa", title="Lampu jalan mati di Cikupa",
                    body="Sudah seminggu lampu jalan di simpang pasar mati total.")
    assert response.status_code == 422
    html = text(response)
    assert "Several regencies or cities have a kecamatan called “Cikupa”" in html
    assert "Lampu jalan mati di Cikupa" in html
    assert "Sudah seminggu lampu jalan di simpang pasar mati total." in html
    assert 'value="cikupa"' in html
    assert "Cikupa (Kabupaten Contoh)" in html and "Cikupa (Pemerintah Kabupaten Tangerang)" in html
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0

    theirs = db.session.scalar(select(District.id).where(
        District.name == "Cikupa", District.institution_id == many["other"].id))
    response = file(client, district_name="cikupa", district=str(theirs))
    assert response.status_code == 302, text(response)
    assert district_of_last_report().id == theirs


def test_the_regency_narrows_a_shared_name(many, client):
    response = file(english(client), district_name="Cikupa", regency="Kabupaten Tangerang")
    assert response.status_code == 302, text(response)
    assert district_of_last_report().institution_id == many["tangerang"].id


def test_a_choice_that_is_not_a_match_is_not_taken(many, client):
    other = db.session.scalar(select(District.id).where(District.name == "Uji Coba 001"))
    response = file(english(client), district_name="Cikupa", district=str(other))
    assert response.status_code == 422
    assert "Several regencies" in text(response)


def test_an_unknown_name_is_refused(many, client):
    response = file(english(client), district_name="Atlantis", title="Jalan berlubang besar")
    assert response.status_code == 422
    html = text(response)
    assert "No kecamatan is called “Atlantis”" in html
    assert "Jalan berlubang besar" in html
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_no_kecamatan_is_still_allowed(many, client):
    response = file(english(client))
    assert response.status_code == 302, text(response)
    assert district_of_last_report() is None


def test_the_similar_check_uses_the_typed_name(many, client):
    english(client)
    data = report_form(category=category(), district_name="Tigaraksa", check="1")
    data["csrf_token"] = csrf_token(client, "/lapor")
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'value="Tigaraksa"' in text(response)


def test_staff_intake_takes_the_name_too(many, app):
    admin = signed_in(app, ADMIN)
    html = text(admin.get(PAGE))
    assert 'name="district_name"' in html and "Uji Coba" not in html
    response = admin.post(PAGE, data={"csrf_token": csrf_token(admin, PAGE),
                                      **intake_form(district_name="Cikupa")})
    assert response.status_code == 422
    assert "Cikupa (Kabupaten Contoh)" in text(response)
    response = admin.post(PAGE, data={"csrf_token": csrf_token(admin, PAGE),
                                      **intake_form(district_name="Kec. Legok")})
    assert response.status_code == 302, text(response)
    assert district_of_last_report().name == "Legok"


def test_one_statement_finds_a_name(many, app):
    statements = []

    def count(*_args):
        statements.append(1)

    from sqlalchemy import event
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = places.resolve_district("Cikupa", "contoh")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert found.district_id is not None and len(statements) == 1


# ----------------------------------------------------------------------------- the public feed
def feed_html(client, **params) -> str:
    response = client.get("/laporan", query_string=params)
    assert response.status_code == 200
    return text(response)


def test_the_feed_filters_by_a_typed_kecamatan(many, client):
    from tests.public_feed_helpers import filed, listed

    tigaraksa = filed("Sampah menumpuk di Tigaraksa", district="Tigaraksa").public_number
    legok = filed("Sampah menumpuk di Legok", district="Legok").public_number
    db.session.commit()
    english(client)
    html = feed_html(client)
    assert 'name="kecamatan"' in html and "Uji Coba" not in html
    assert html.count("<option") < 60 and len(html) < 60_000
    html = feed_html(client, kecamatan="kec. tigaraksa")
    assert listed(html) == [tigaraksa]
    assert 'value="Tigaraksa"' in html

    html = feed_html(client, kecamatan="Cikupa")
    assert "Several regencies or cities have a kecamatan called “Cikupa”" in html
    assert "Cikupa (Kabupaten Contoh)" in html
    assert set(listed(html)) == {tigaraksa, legok}  # not filtered until chosen

    html = feed_html(client, kecamatan="Atlantis")
    assert "No kecamatan is called “Atlantis”" in html

    legok_id = db.session.scalar(select(District.id).where(District.name == "Legok"))
    html = feed_html(client, district=legok_id)  # a link with the number
    assert listed(html) == [legok] and 'value="Legok"' in html


def test_the_feed_lists_institutions_not_thousands_of_units(many, client):
    other = many["other"]
    db.session.execute(insert(Institution), [
        {"kind": InstitutionKind.UNIT, "code": f"CONTOH-UNIT-{n}", "name": f"Unit Contoh {n}",
         "parent_id": other.id} for n in range(160)])
    db.session.commit()
    html = feed_html(english(client))
    assert "Kabupaten Contoh" in html and "Unit Contoh" not in html
    unit = db.session.scalar(select(Institution.id).where(Institution.code == "CONTOH-UNIT-7"))
    html = feed_html(client, unit=unit)  # from a link: shown by its name, selected
    assert f'<option value="{unit}" selected>Unit Contoh 7</option>' in html


def test_the_type_ahead_names_at_most_twenty(many, client):
    assert 'js/district.js' in text(client.get("/lapor"))
    assert client.get("/lapor/kecamatan?q=kec. TIGA").get_json() == ["Tigaraksa"]
    names = client.get("/lapor/kecamatan?q=uji").get_json()
    assert names == [f"Uji Coba {n:03d}" for n in range(20)]
    assert client.get("/lapor/kecamatan?q=c").get_json() == []
    assert client.get("/lapor/kecamatan?q=100%25").get_json() == []
