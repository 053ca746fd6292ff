"""Reporter identities encrypted at rest (portal/crypto.py), on SQLite and PostgreSQL: the raw
table holds no plain text, the national admin's identity view and the mail to the reporter still
read it, the keys rotate, production refuses to start without a key."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from portal import create_app
from portal.crypto import DEVELOPMENT_KEY, ENCRYPTED_COLUMNS, EncryptedText, parse_keys
from portal.extensions import db
from portal.models import OutboxMessage, Report, ReporterIdentity
from tests.conftest import IsolatedClient
from tests.functional.test_filing import category_id
from tests.functional.test_staff_workspace import staff_client
from tests.helpers import csrf_token, file_report

NAME, EMAIL, PHONE, NIK = "Dewi Anonim Lestari", "dewi.rahasia@example.id", "0812 7777 6666", \
    "3603123456780001"
PLAIN = (NAME, EMAIL, PHONE, NIK, "dewi.rahasia", "7777 6666", "3603123456780001")


def raw_rows() -> list:
    return db.session.execute(text(
        "SELECT name, email, phone, nik FROM reporter_identity ORDER BY id")).all()


def file_anonymous(client):
    response = file_report(client, category=category_id(), is_anonymous="y", name=NAME,
                           email=EMAIL, phone=PHONE, nik=NIK)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalars(select(Report).order_by(Report.id.desc())).first()


def test_a_dump_of_the_identity_table_names_nobody(demo, client):
    report = file_anonymous(client)
    file_report(client, category=category_id(), name="Budi Bernama", email="budi@example.id")  # named: encrypted too
    rows = raw_rows()
    assert len(rows) == 2
    dump = " ".join(str(value) for row in rows for value in row)
    for plain in PLAIN + ("Budi Bernama", "budi@example.id"):
        assert plain not in dump
    for row in rows:
        for value in row:
            assert value is None or value.startswith("gAAAAA")  # a Fernet token
    # The application reads it back, and the keyed contact hash was made from the plain text.
    identity = db.session.scalar(select(ReporterIdentity)
                                 .where(ReporterIdentity.report_id == report.id))
    assert (identity.name, identity.email, identity.phone, identity.nik) == (NAME, EMAIL, PHONE,
                                                                             NIK)
    assert identity.contact_hash is not None
    # The system's own mail (the tracking code) went to the reporter's real address.
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    assert mail.recipient == EMAIL


def test_the_national_admin_reads_the_anonymous_identity(demo, client):
    report = file_anonymous(client)
    admin = staff_client(demo, "admin.nasional@lapor.example.id")
    page = f"/staf/laporan/{report.public_number}"
    revealed = admin.post(f"{page}/identitas", data={"csrf_token": csrf_token(admin, page)})
    html = revealed.get_data(as_text=True)
    assert revealed.status_code == 200
    for plain in (NAME, EMAIL, PHONE, NIK):
        assert plain in html


def test_a_wrong_key_is_an_error_not_ciphertext_shown(demo, client):
    report = file_anonymous(client)
    demo.config["IDENTITY_KEYS"] = [Fernet.generate_key().decode()]
    db.session.expire_all()
    with pytest.raises(RuntimeError, match="IDENTITY_KEYS"):
        db.session.scalar(select(ReporterIdentity.name)
                          .where(ReporterIdentity.report_id == report.id))


def raw_outbox() -> list:
    return db.session.execute(text(
        "SELECT recipient, body_text, body_html FROM outbox_message ORDER BY id")).all()


def count_rows() -> int:
    return sum(db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
               for table in ENCRYPTED_COLUMNS)


def test_every_encrypted_column_is_listed_for_rotation():
    found = {}
    for table in db.metadata.sorted_tables:
        columns = tuple(c.name for c in table.columns if isinstance(c.type, EncryptedText))
        if columns:
            found[table.name] = columns
    assert found == ENCRYPTED_COLUMNS


def test_the_outbox_names_nobody_either(demo, client):
    file_anonymous(client)
    rows = raw_outbox()
    assert rows
    dump = " ".join(str(value) for row in rows for value in row)
    for plain in PLAIN:
        assert plain not in dump
    assert all(row.recipient.startswith("gAAAAA") for row in rows)


def test_rotate_identities_re_encrypts_every_row_once(demo, client, runner):
    file_anonymous(client)
    file_report(client, category=category_id(), name="Budi Bernama", email="budi@example.id")
    before = raw_rows() + raw_outbox()
    total = count_rows()
    new = Fernet.generate_key().decode()
    demo.config["IDENTITY_KEYS"] = [new, DEVELOPMENT_KEY]

    result = runner.invoke(args=["keys", "rotate-identities", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert f"re-encrypted with the first key: {total}; already under it: 0" in result.output
    after = raw_rows() + raw_outbox()
    only_new = Fernet(new.encode())
    for old_row, new_row in zip(before, after, strict=True):
        for old_value, new_value in zip(old_row, new_row, strict=True):
            assert (old_value is None) == (new_value is None)
            if new_value is not None:
                assert new_value != old_value
                only_new.decrypt(new_value.encode())  # the new key alone reads it
    # Idempotent: nothing left to do.
    again = runner.invoke(args=["keys", "rotate-identities"])
    assert f"re-encrypted with the first key: 0; already under it: {total}" in again.output
    assert raw_rows() + raw_outbox() == after
    # The old key can go: the application reads every identity with the new key alone.
    demo.config["IDENTITY_KEYS"] = [new]
    db.session.expire_all()
    names = set(db.session.scalars(select(ReporterIdentity.name)))
    assert names == {NAME, "Budi Bernama"}
    assert EMAIL in set(db.session.scalars(select(OutboxMessage.recipient)))


def test_rotation_stops_on_a_row_no_key_reads(demo, client, runner):
    file_anonymous(client)
    demo.config["IDENTITY_KEYS"] = [Fernet.generate_key().decode()]
    result = runner.invoke(args=["keys", "rotate-identities"])
    assert result.exit_code != 0
    assert "does not decrypt" in result.output


def test_keys_new_prints_a_usable_key(runner):
    result = runner.invoke(args=["keys", "new"])
    assert parse_keys(result.output.strip()) == [result.output.strip()]


def test_production_needs_identity_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("IDENTITY_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="IDENTITY_KEYS"):
        create_app()
    monkeypatch.setenv("IDENTITY_KEYS", "not-a-key")
    with pytest.raises(ValueError, match="key 1 is not a Fernet key"):
        create_app()
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("IDENTITY_KEYS", f" {first}, {second} ")
    assert create_app().config["IDENTITY_KEYS"] == [first, second]


# ----------------------------------------------------------------------------- the migration
@pytest.fixture
def own_database(database_url, request, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'own.db'}"
    return request.getfixturevalue("pg_server").create_database("identity_migration")


def test_migration_0011_encrypts_the_rows_already_there(own_database, app_config):
    """Down to 0010 (plain text again), then up: the existing rows come out encrypted."""
    from flask_migrate import downgrade, upgrade

    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": own_database})
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            upgrade()
            from portal.demo import load_demo_data

            load_demo_data()
            db.session.commit()
            file_anonymous(app.test_client())
            db.session.remove()
            downgrade(revision="0010")
            plain = raw_rows()
            assert plain == [(NAME, EMAIL, PHONE, NIK)]
            assert raw_outbox()[0].recipient == EMAIL
            db.session.remove()
            upgrade()
            encrypted = raw_rows()
            assert all(value.startswith("gAAAAA") for value in encrypted[0])
            assert raw_outbox()[0].recipient.startswith("gAAAAA")
            assert db.session.scalar(select(ReporterIdentity.nik)) == NIK
        finally:
            db.session.remove()
            db.engine.dispose()


def test_an_anonymous_report_filed_with_an_account_is_not_linked_to_it(demo, client):
    """The account table is plain (e-mail, name): a link from the identity row would name the
    anonymous reporter in a dump. The account still finds its report."""
    from tests.functional import test_citizen_accounts as citizens

    citizens.register(client, name="Rahasia Warga", email="rahasia.warga@example.id")
    report = file_anonymous(client)
    row = db.session.execute(text(
        "SELECT user_id, contact_hash, account_ref FROM reporter_identity WHERE report_id = :id"),
        {"id": report.id}).one()
    assert row.user_id is None and row.contact_hash is not None
    assert row.account_ref.startswith("gAAAAA")  # the account, for the national admin only
    mine = client.get("/akun/laporan").get_data(as_text=True)
    assert report.public_number in mine
    assert client.get(f"/lacak/{report.public_number}").status_code == 200
    # A named report keeps its account link.
    file_report(client, category=category_id(), title="Laporan bernama warga",
                name="Rahasia Warga", email="rahasia.warga@example.id")
    named = db.session.scalar(select(ReporterIdentity).join(Report)
                              .where(Report.title == "Laporan bernama warga"))
    assert named.user_id is not None


def test_migration_0014_unlinks_the_anonymous_reports_already_there(own_database, app_config):
    """An anonymous report linked to its account the old way loses the link on upgrade, keeps
    the account's keyed hash (so My reports still lists it) and the holder's name, encrypted."""
    from flask_migrate import downgrade, upgrade

    from portal.domain.accounts import register_citizen
    from portal.domain.duplicates import contact_hash
    from portal.domain.reporter import reports_of
    from portal.models.types import utcnow

    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": own_database})
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            upgrade()
            from portal.demo import load_demo_data

            load_demo_data()
            citizen = register_citizen(name="Warga Lama", email="warga.lama@example.id",
                                       password="sandi-warga-lama", now=utcnow())
            db.session.commit()
            citizen_id = citizen.id
            report = file_anonymous(app.test_client())
            db.session.remove()
            downgrade(revision="0013")
            db.session.execute(text(
                "UPDATE reporter_identity SET user_id = :user, name = NULL, contact_hash = NULL"
                " WHERE report_id = :report"), {"user": citizen_id, "report": report.id})
            db.session.commit()
            db.session.remove()
            upgrade()
            row = db.session.execute(text(
                "SELECT user_id, name, contact_hash FROM reporter_identity")).one()
            assert row.user_id is None
            assert row.contact_hash == contact_hash(user_id=citizen_id)
            assert row.name.startswith("gAAAAA") and "Warga" not in row.name
            assert db.session.scalar(select(ReporterIdentity.name)) == "Warga Lama"
            # The national admin's view still finds the account, through the encrypted ref.
            identity = db.session.scalar(select(ReporterIdentity))
            assert identity.account_ref == str(citizen_id)
            assert identity.account.email == "warga.lama@example.id"
            citizen = db.session.get(type(citizen), citizen_id)
            assert [r.id for r in db.session.scalars(reports_of(citizen))] == [report.id]
            db.session.remove()
            downgrade(revision="0013")  # the plain link comes back
            assert db.session.execute(text("SELECT user_id FROM reporter_identity")).scalar() \
                == citizen_id
            db.session.remove()
            upgrade()
        finally:
            db.session.remove()
            db.engine.dispose()
