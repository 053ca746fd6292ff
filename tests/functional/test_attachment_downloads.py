"""Attachments after filing: the reporter with the code (or the account that filed) downloads
their files, nobody else on the public side; every download is an attachment with a neutral
name, its checked type, nosniff and a sandboxing policy; the body limit answers before the body
is read."""
import io
import socket

from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attachment, Report
from portal.storage import AttachmentStore
from tests.functional.test_filing import category_id
from tests.functional.test_staff_workspace import ADMIN, staff_client
from tests.helpers import csrf_token, file_report, jpeg_bytes, receipt_code


def file_with_photo(client, title="Jalan rusak di depan Pasar Cikupa"):
    response = file_report(client, category=category_id(), title=title, attachments=[
        (io.BytesIO(jpeg_bytes(exif_gps=True)), "../../etc/Siti_Rahmawati_KTP.jpg")])
    assert response.status_code == 302
    report = db.session.scalar(select(Report).where(Report.title == title))
    return report, receipt_code(client)


def track(client, code):
    return client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"), "code": code})


def assert_safe_download(response, item):
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename=lampiran-{item.id}.jpg"
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response.headers["Cache-Control"]
    with Image.open(io.BytesIO(response.data)) as image:  # re-encoded: no EXIF, no GPS
        assert not image.getexif()
    assert b"SERIAL-123456" not in response.data


def test_the_reporter_with_the_code_downloads_their_file(demo, client):
    report, code = file_with_photo(client)
    item = db.session.scalar(select(Attachment).where(Attachment.report_id == report.id))
    # The stored name is random: the name the reporter gave never becomes a path.
    assert "/" not in item.stored_name and "KTP" not in item.stored_name
    url = f"/lacak/{report.public_number}/lampiran/{item.id}"

    visitor = demo.test_client()
    assert track(visitor, code).status_code == 302
    page = visitor.get(f"/lacak/{report.public_number}").get_data(as_text=True)
    assert url in page and "Siti_Rahmawati" not in page
    assert_safe_download(visitor.get(url), item)


def test_nobody_else_downloads_it_on_the_public_side(demo, client):
    report, _ = file_with_photo(client)
    other, other_code = file_with_photo(client, title="Lampu jalan mati di Jalan Raya Cikupa")
    item = db.session.scalar(select(Attachment).where(Attachment.report_id == report.id))

    stranger = demo.test_client()
    refused = stranger.get(f"/lacak/{report.public_number}/lampiran/{item.id}")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/lacak")
    # The code of another report opens that report only, not this report's files through it.
    assert track(stranger, other_code).status_code == 302
    assert stranger.get(f"/lacak/{other.public_number}/lampiran/{item.id}").status_code == 404
    # A signed-in staff member is no reporter: staff download in the workspace.
    admin = staff_client(demo, ADMIN)
    assert admin.get(f"/lacak/{report.public_number}/lampiran/{item.id}").status_code == 302
    assert_safe_download(
        admin.get(f"/staf/laporan/{report.public_number}/lampiran/{item.id}"), item)


def test_stored_names_never_leave_the_upload_folder(tmp_path):
    store = AttachmentStore(tmp_path)
    for bad in ("../secret", "a/b.jpg", "..\\x.jpg", ".hidden"):
        try:
            store.path_for(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    name = store.save(b"data", "jpg")
    assert store.path_for(name).parent == tmp_path


def test_a_body_over_the_limit_is_refused_before_it_is_read(demo, live_server):
    """A declared 100 MB body gets its 413 page at once, with only the headers sent."""
    host, port = "127.0.0.1", live_server.server_port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall((f"POST /lapor HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      "Content-Type: multipart/form-data; boundary=XYZ\r\n"
                      f"Content-Length: {100 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
                      "--XYZ\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.endswith(b"413 REQUEST ENTITY TOO LARGE"), answer[:200]
    assert db.session.scalar(select(Report.id)) is None
