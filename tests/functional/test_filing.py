import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Attachment, Category, OutboxMessage, Report, ReporterIdentity
from tests.helpers import csrf_token, file_report, jpeg_bytes, receipt_code


def category_id(code="INFRASTRUKTUR") -> str:
    return str(db.session.scalar(select(Category.id).where(Category.code == code)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_citizen_files_and_tracks_a_report(demo, client):
    response = file_report(client, category=category_id())
    assert response.status_code == 302
    code = receipt_code(client)

    report = db.session.scalar(select(Report))
    assert report.public_number.startswith("LPR-")
    assert report.status.value == "submitted"
    assert report.current_institution.code == "KAB-TANGERANG"
    assert code.replace("-", "") not in str(report.tracking_code_hash)

    tracked = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                          "code": code.lower()})
    assert tracked.status_code == 302
    page = client.get(tracked.headers["Location"]).get_data(as_text=True)
    assert report.title in page
    assert report.public_number in page


def test_receipt_is_shown_once(demo, client):
    file_report(client, category=category_id())
    first = receipt_code(client)
    assert first
    again = client.get("/lapor/terkirim").get_data(as_text=True)
    assert first not in again


def test_missing_fields_keep_what_was_typed(demo, client):
    response = file_report(client, category=category_id(), title="", name="",
                           body="Sebuah uraian yang cukup panjang untuk lolos validasi.")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Sebuah uraian yang cukup panjang untuk lolos validasi." in html
    assert 'value="siti@example.id"' in html
    assert count(Report) == 0


def test_anonymous_report_needs_no_contact(demo, client):
    response = file_report(client, category=category_id(), is_anonymous="y", name="", email="")
    assert response.status_code == 302
    assert count(ReporterIdentity) == 0
    assert db.session.scalar(select(Report.is_anonymous)) is True


def test_photo_is_reencoded_without_exif(demo, client, app):
    from PIL import Image

    response = file_report(client, category=category_id(), attachments=[
        (io.BytesIO(jpeg_bytes(exif_gps=True)), "IMG_0001.jpg")])
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment))
    stored = (app.config["UPLOAD_FOLDER"] + "/" + attachment.stored_name)
    with Image.open(stored) as image:
        assert not image.getexif()
    assert b"SERIAL-123456" not in open(stored, "rb").read()
    assert attachment.original_name == "IMG_0001.jpg"
    assert "IMG_0001" not in attachment.stored_name


def test_wrong_file_type_saves_nothing(demo, client, app):
    response = file_report(client, category=category_id(), attachments=[
        (io.BytesIO(b"MZ\x90\x00 this is an exe renamed"), "foto.jpg")])
    assert response.status_code == 422
    assert "foto.jpg" in response.get_data(as_text=True)
    assert count(Report) == 0 and count(Attachment) == 0


def test_email_gets_the_code_through_the_outbox(demo, client):
    file_report(client, category=category_id())
    code = receipt_code(client)
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "siti@example.id"
    assert code in message.body_text
