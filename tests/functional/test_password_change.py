"""Changing one's own password (staff /staf/sandi, citizen /akun/sandi): this session stays
signed in, every other session of the account ends, the old password stops working."""
import pytest

from portal.demo import DEMO_PASSWORD
from tests.functional import test_citizen_accounts as citizens
from tests.functional.test_staff_workspace import OPERATOR, english, sign_in, staff_client
from tests.helpers import csrf_token, user

NEW_PASSWORD = "kata-sandi-baru-2026"


def change(client, path, current, new, confirm=None):
    return client.post(path, data={"csrf_token": csrf_token(client, path),
                                   "current_password": current, "new_password": new,
                                   "confirm": new if confirm is None else confirm})


def test_staff_password_change_ends_the_other_sessions(demo):
    here, elsewhere = staff_client(demo, OPERATOR), staff_client(demo, OPERATOR)
    version = user(OPERATOR).session_version
    assert here.get("/staf/sandi").status_code == 200

    response = change(here, "/staf/sandi", DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staf/")
    assert user(OPERATOR).session_version == version + 1
    assert here.get("/staf/").status_code == 200  # this session goes on
    gone = elsewhere.get("/staf/")  # the other one is signed out
    assert gone.status_code == 302 and "/staf/masuk" in gone.headers["Location"]
    # The old password is refused, the new one works.
    assert sign_in(english(demo.test_client()), OPERATOR).status_code == 401
    assert sign_in(english(demo.test_client()), OPERATOR, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current,new,confirm,field", [
    ("salah-sekali-123", NEW_PASSWORD, None, "current_password"),
    (DEMO_PASSWORD, "pendek", None, "new_password"),
    (DEMO_PASSWORD, DEMO_PASSWORD, None, "new_password"),
    (DEMO_PASSWORD, NEW_PASSWORD, "lain-lagi-2026", "confirm"),
])
def test_a_refused_change_changes_nothing(demo, current, new, confirm, field):
    here, elsewhere = staff_client(demo, OPERATOR), staff_client(demo, OPERATOR)
    version = user(OPERATOR).session_version
    response = change(here, "/staf/sandi", current, new, confirm)
    assert response.status_code == 422
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert user(OPERATOR).session_version == version
    assert user(OPERATOR).check_password(DEMO_PASSWORD)
    assert elsewhere.get("/staf/").status_code == 200


def test_the_staff_page_needs_a_staff_member(demo, client):
    assert client.get("/staf/sandi").status_code == 302
    citizens.register(client, email="warga.sandi@example.id")
    assert client.get("/staf/sandi").status_code == 403


def test_citizen_password_change_ends_the_other_sessions(demo, client):
    client.get("/bahasa/en")
    citizens.register(client, email="warga.sandi@example.id")
    elsewhere = demo.test_client()
    assert citizens.sign_in(elsewhere, "warga.sandi@example.id").status_code == 302
    assert client.get("/akun/sandi").status_code == 200

    response = change(client, "/akun/sandi", citizens.PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/akun/laporan")
    assert client.get("/akun/laporan").status_code == 200
    gone = elsewhere.get("/akun/laporan")
    assert gone.status_code == 302 and "/akun/masuk" in gone.headers["Location"]
    assert citizens.sign_in(demo.test_client(), "warga.sandi@example.id").status_code == 401
    assert citizens.sign_in(demo.test_client(), "warga.sandi@example.id",
                            NEW_PASSWORD).status_code == 302


def test_the_citizen_page_needs_a_citizen(demo, client):
    response = client.get("/akun/sandi")
    assert response.status_code == 302 and "/akun/masuk" in response.headers["Location"]
