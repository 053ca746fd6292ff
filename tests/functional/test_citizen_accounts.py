"""Optional citizen accounts: register, sign in and out, My reports, filing while signed in.
Staff and citizens keep to their own sign-in pages."""
import pytest
from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import Category, Report, ReporterIdentity, User
from tests.helpers import csrf_token, file_report, receipt_code

PASSWORD = "rahasia-sekali-123"


def category_id(code="INFRASTRUKTUR") -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == code)))


def register(client, name="Budi Santoso", email="budi@example.id", password=PASSWORD,
             confirm=None):
    return client.post("/akun/daftar", data={
        "csrf_token": csrf_token(client, "/akun/daftar"), "name": name, "email": email,
        "password": password, "confirm": password if confirm is None else confirm})


def sign_in(client, email, password=PASSWORD, next_url=None):
    path = "/akun/masuk" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"csrf_token": csrf_token(client, "/akun/masuk"),
                                   "email": email, "password": password})


def sign_out(client):
    return client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/lacak")})


def signed_in_user_id(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def number_of(title) -> str:
    return db.session.scalar(select(Report.public_number).where(Report.title == title))


def identity_of(title) -> ReporterIdentity | None:
    return db.session.scalar(select(ReporterIdentity).join(Report).where(Report.title == title))


@pytest.fixture(autouse=True)
def english(demo, client):
    client.get("/bahasa/en")


# --------------------------------------------------------------------------- registering
def test_register_sign_out_and_sign_in_again(client):
    assert client.get("/akun/daftar").status_code == 200
    response = register(client, email="  Budi@Example.ID ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/akun/laporan")
    user = db.session.scalar(select(User).where(User.email == "budi@example.id"))
    assert user is not None and not user.is_staff and user.memberships == []
    assert user.check_password(PASSWORD) and PASSWORD not in user.password_hash

    html = client.get("/akun/laporan").get_data(as_text=True)
    assert "Your account is ready." in html
    assert "You have not sent a report with this account yet." in html
    assert 'href="/akun/laporan">My reports</a>' in html and 'href="/akun/masuk"' not in html

    assert sign_out(client).status_code == 302
    assert signed_in_user_id(client) is None
    response = client.get("/akun/laporan")
    assert response.status_code == 302
    assert "/akun/masuk?next=" in response.headers["Location"]
    html = client.get("/").get_data(as_text=True)
    assert 'href="/akun/masuk">Sign in</a>' in html and 'href="/akun/daftar">Register</a>' in html

    response = sign_in(client, "BUDI@example.id", next_url="/akun/laporan")
    assert response.status_code == 302 and response.headers["Location"].endswith("/akun/laporan")
    assert signed_in_user_id(client) == f"{user.id}:{user.session_version}"


@pytest.mark.parametrize("fields, field_id, message", [
    ({"email": "admin@tangerangkab.example.id"}, "email",
     "An account with this e-mail address already exists."),
    ({"email": "siti@example.id"}, "email", "An account with this e-mail address already exists."),
    ({"password": "pendek", "confirm": "pendek"}, "password",
     "Choose a password of at least 10 characters."),
    ({"confirm": "rahasia-lain-456"}, "confirm", "The two passwords are not the same."),
    ({"email": "bukan-alamat"}, "email", "This is not a valid e-mail address."),
])
def test_registration_errors_keep_what_was_typed(client, fields, field_id, message):
    register(client, name="Siti Rahmawati", email="siti@example.id")
    sign_out(client)
    users_before = db.session.scalar(select(db.func.count()).select_from(User))

    data = {"name": "Siti Aminah", "email": "siti.aminah@example.id", **fields}
    response = register(client, **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field_id}-errors"' in html
    assert 'value="Siti Aminah"' in html
    assert f'value="{data["email"]}"' in html
    assert PASSWORD not in html and "rahasia-lain-456" not in html  # passwords are not echoed
    assert db.session.scalar(select(db.func.count()).select_from(User)) == users_before
    assert signed_in_user_id(client) is None


# --------------------------------------------------------------------------- staff vs citizens
def test_a_staff_account_cannot_sign_in_as_a_citizen(client):
    response = sign_in(client, "admin@tangerangkab.example.id", password=DEMO_PASSWORD)
    assert response.status_code == 401
    assert "The e-mail address or the password is wrong." in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None


def test_a_citizen_cannot_use_the_staff_sign_in(client):
    register(client)
    sign_out(client)
    response = client.post("/staf/masuk", data={"csrf_token": csrf_token(client, "/staf/masuk"),
                                                "email": "budi@example.id",
                                                "password": PASSWORD})
    assert response.status_code != 302
    assert signed_in_user_id(client) is None


def test_wrong_password_is_refused_and_counted(client):
    register(client)
    sign_out(client)
    response = sign_in(client, "budi@example.id", password="salah-salah-salah")
    assert response.status_code == 401
    assert 'value="budi@example.id"' in response.get_data(as_text=True)
    assert signed_in_user_id(client) is None
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "budi@example.id"))
    assert user.failed_logins == 1


def test_sign_in_only_returns_to_a_page_of_this_site(client):
    register(client)
    sign_out(client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = sign_in(client, "budi@example.id", next_url=target)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/akun/laporan"), target
        sign_out(client)


# --------------------------------------------------------------------------- my reports
def test_filing_while_signed_in_prefills_and_links_the_report(client):
    register(client, name="Budi Santoso", email="budi@example.id")
    html = client.get("/lapor").get_data(as_text=True)
    assert 'value="Budi Santoso"' in html and 'value="budi@example.id"' in html

    response = file_report(client, category=category_id(), title="Jalan berlubang di Cikupa",
                           name="Budi Santoso", email="budi@example.id")
    assert response.status_code == 302
    assert "also listed under My reports" in client.get("/lapor/terkirim").get_data(as_text=True)
    user_id = db.session.scalar(select(User.id).where(User.email == "budi@example.id"))
    assert identity_of("Jalan berlubang di Cikupa").user_id == user_id


def test_my_reports_lists_only_my_own_reports_newest_first(client):
    # A guest report, then Budi's reports (one of them anonymous), then Ani's.
    file_report(client, category=category_id(), title="Laporan tamu tanpa akun")
    guest_code = receipt_code(client)
    register(client, name="Budi Santoso", email="budi@example.id")
    file_report(client, category=category_id(), title="Laporan pertama Budi")
    file_report(client, category=category_id(), title="Laporan anonim Budi", is_anonymous="y",
                name="", email="")
    sign_out(client)
    register(client, name="Ani Lestari", email="ani@example.id")
    file_report(client, category=category_id(), title="Laporan milik Ani", name="Ani Lestari",
                email="ani@example.id")
    sign_out(client)

    assert guest_code and identity_of("Laporan tamu tanpa akun").user_id is None
    anonymous = identity_of("Laporan anonim Budi")
    # No link to the account in the database (a dump names nobody): the keyed contact hash
    # finds it; the holder's name is kept, encrypted, only to mask it in public texts.
    assert anonymous.email is None and anonymous.user_id is None
    assert anonymous.name == "Budi Santoso" and anonymous.contact_hash is not None

    sign_in(client, "budi@example.id")
    html = client.get("/akun/laporan").get_data(as_text=True)
    assert "Laporan anonim Budi" in html and "Laporan pertama Budi" in html
    assert html.index("Laporan anonim Budi") < html.index("Laporan pertama Budi")
    assert "Laporan milik Ani" not in html and "Laporan tamu tanpa akun" not in html
    for title in ("Laporan pertama Budi", "Laporan anonim Budi"):
        number = number_of(title)
        assert f'href="/lacak/{number}"' in html
        page = client.get(f"/lacak/{number}")  # no tracking code typed: the account is enough
        assert page.status_code == 200 and title in page.get_data(as_text=True)
    for title in ("Laporan milik Ani", "Laporan tamu tanpa akun"):
        response = client.get(f"/lacak/{number_of(title)}")
        assert response.status_code == 302 and response.headers["Location"].endswith("/lacak")


def test_the_owner_replies_without_the_code_until_signing_out(client):
    register(client)
    file_report(client, category=category_id(), title="Lampu jalan mati di Balaraja")
    number = number_of("Lampu jalan mati di Balaraja")
    response = client.post(f"/lacak/{number}/balas", data={
        "csrf_token": csrf_token(client, "/akun/laporan"),
        "message": "Lampu di depan rumah nomor 12."})
    assert response.status_code == 302 and response.headers["Location"].endswith(number)

    sign_out(client)
    response = client.post(f"/lacak/{number}/balas", data={
        "csrf_token": csrf_token(client, "/lacak"), "message": "Sudah keluar, masih bisa?"})
    assert response.headers["Location"].endswith("/lacak")
    assert client.get(f"/lacak/{number}").headers["Location"].endswith("/lacak")


def test_a_staff_session_has_no_my_reports(client):
    response = client.post("/staf/masuk", data={
        "csrf_token": csrf_token(client, "/staf/masuk"),
        "email": "admin@tangerangkab.example.id", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    response = client.get("/akun/laporan")
    assert response.status_code == 302 and "/akun/masuk" in response.headers["Location"]


def test_control_characters_in_the_address_are_dropped_not_a_500(client):
    response = register(client, name="Budi\x00 Santoso", email="budi\x00@example.id")
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "budi@example.id"))
    assert user.name == "Budi Santoso"
