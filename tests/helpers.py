"""Helpers for driving the real forms."""
import io
import re

from PIL import Image

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CODE_PATTERN = re.compile(r'id="tracking-code"[^>]*>([^<]+)<')


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def jpeg_bytes(size=(64, 48), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
        gps = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 30.0, 15.0)}
        exif[0x8825] = gps
        image.save(out, "JPEG", exif=exif.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def report_form(**overrides) -> dict:
    data = {
        "kind": "complaint",
        "title": "Jalan rusak di depan Pasar Cikupa",
        "body": "Lubang besar di jalan raya depan pasar sudah dua minggu dan membahayakan pengendara.",
        "category": "",
        "district": "",
        "village": "Talaga",
        "address": "Jl. Raya Serang km 24",
        "event_date": "",
        "name": "Siti Rahmawati",
        "email": "siti@example.id",
        "phone": "",
        "nik": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def file_report(client, **overrides):
    """Post the filing form; returns the response (not followed)."""
    data = report_form(**overrides)
    data["csrf_token"] = csrf_token(client, "/lapor")
    return client.post("/lapor", data=data, content_type="multipart/form-data")


def receipt_code(client) -> str:
    html = client.get("/lapor/terkirim").get_data(as_text=True)
    match = CODE_PATTERN.search(html)
    assert match, "no tracking code on the receipt page"
    return match.group(1).strip()


def node(code: str):
    """The institution node with this code (demo codes: KEMENPANRB, KAB-TANGERANG, TNG-...)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Institution

    return db.session.scalar(select(Institution).where(Institution.code == code))


def user(email: str):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import User

    return db.session.scalar(select(User).where(User.email == email))


def mails_to(*addresses: str) -> list:
    """The outbox messages to these addresses, oldest first. The recipient is encrypted at rest
    (portal/crypto.py), so it is compared after reading, never in SQL."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import OutboxMessage

    return [message for message in db.session.scalars(select(OutboxMessage)
                                                      .order_by(OutboxMessage.id))
            if message.recipient in addresses]
