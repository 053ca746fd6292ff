"""prepare_upload: the type comes from the bytes, photos lose their metadata, bombs are refused."""
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from portal.domain.uploads import MAX_IMAGE_PIXELS, UploadRejected, prepare_upload
from tests.helpers import jpeg_bytes

MB = 1024 * 1024
LIMIT = 10 * MB
REPO_ROOT = Path(__file__).resolve().parents[2]

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")

ORIENTATION = 0x0112


def oriented_jpeg() -> bytes:
    """A 60x40 picture, left half red, right half blue, with GPS, a camera serial and
    EXIF orientation 6: 'turn me 90 degrees clockwise to see me upright'."""
    image = Image.new("RGB", (60, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0xA431] = "SERIAL-123456"
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 30.0, 15.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def bomb_png(width: int, height: int) -> bytes:
    """A 1-bit grey PNG of width x height, all black: tens of KB on disk, and one byte per
    pixel (hundreds of MB) once Pillow decodes it. Written chunk by chunk, never decoded."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


# --------------------------------------------------------------------------- photos
def test_jpeg_loses_exif_and_gps_and_is_kept_as_jpeg():
    original = jpeg_bytes(exif_gps=True)
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get(0x8825)  # the fixture really carries GPS

    prepared = prepare_upload("IMG_0001.jpg", original, LIMIT)

    assert (prepared.content_type, prepared.extension) == ("image/jpeg", "jpg")
    assert prepared.original_name == "IMG_0001.jpg"
    assert b"SERIAL-123456" not in prepared.data
    assert b"CameraMaker" not in prepared.data
    assert b"Exif\x00\x00" not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as after:
        assert after.format == "JPEG"
        assert not after.getexif()
        assert "exif" not in after.info
        assert after.size == (64, 48)


def test_jpeg_is_turned_upright_by_its_exif_orientation():
    prepared = prepare_upload("miring.jpg", oriented_jpeg(), LIMIT)

    with Image.open(io.BytesIO(prepared.data)) as after:
        assert after.size == (40, 60)  # portrait now: the rotation was applied to the pixels
        assert ORIENTATION not in after.getexif()  # ... and the tag that asked for it is gone
        rgb = after.convert("RGB")
        top, bottom = rgb.getpixel((20, 5)), rgb.getpixel((20, 55))
    # Turned clockwise, the left (red) half ends up on top.
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    assert b"SERIAL-123456" not in prepared.data


def test_png_text_chunks_are_stripped():
    image = Image.new("RGBA", (32, 32), (10, 200, 10, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "rumah saya di Jl. Melati 7")
    info.add_text("Author", "Siti Rahmawati", zip=True)
    info.add_itxt("Description", "lokasi -6.175,106.827", lang="id")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    original = out.getvalue()
    assert b"Melati" in original

    prepared = prepare_upload("layar.png", original, LIMIT)

    assert (prepared.content_type, prepared.extension) == ("image/png", "png")
    for secret in (b"Melati", b"Siti", b"106.827", b"tEXt", b"zTXt", b"iTXt"):
        assert secret not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as after:
        assert not after.text
        assert after.size == (32, 32)
        assert after.convert("RGBA").getpixel((1, 1)) == (10, 200, 10, 128)


def test_webp_with_exif_loses_it():
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-WEBP-99"
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "WEBP", exif=exif.tobytes())
    assert b"SERIAL-WEBP-99" in out.getvalue()

    prepared = prepare_upload("foto.webp", out.getvalue(), LIMIT)

    assert (prepared.content_type, prepared.extension) == ("image/webp", "webp")
    assert b"SERIAL-WEBP-99" not in prepared.data


# --------------------------------------------------------------------------- documents
def test_pdf_is_kept_byte_for_byte():
    prepared = prepare_upload("surat.pdf", PDF, LIMIT)
    assert (prepared.content_type, prepared.extension) == ("application/pdf", "pdf")
    assert prepared.data == PDF


def test_the_bytes_decide_the_type_not_the_name():
    prepared = prepare_upload("foto.jpg", PDF, LIMIT)
    assert (prepared.content_type, prepared.extension) == ("application/pdf", "pdf")
    assert prepared.data == PDF
    assert prepared.original_name == "foto.jpg"  # metadata only


# --------------------------------------------------------------------------- refused
@pytest.mark.parametrize("name, data", [
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
    ("foto.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
    ("laporan.html", b"<!doctype html><html><script>alert(1)</script></html>"),
    ("gambar.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                   b'onload="alert(1)"><rect width="10" height="10"/></svg>'),
    ("gambar.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("arsip.zip", b"PK\x03\x04" + b"\x00" * 60),
    ("catatan.txt", "Laporan biasa dalam teks".encode()),
])
def test_anything_but_photos_and_documents_is_refused(name, data):
    with pytest.raises(UploadRejected) as rejected:
        prepare_upload(name, data, LIMIT)
    assert rejected.value.field == "attachments"
    assert name in str(rejected.value.message)


def test_empty_file_is_refused():
    with pytest.raises(UploadRejected) as rejected:
        prepare_upload("kosong.jpg", b"", LIMIT)
    assert rejected.value.field == "attachments"


def test_file_over_the_limit_is_refused_before_it_is_read_as_an_image():
    data = jpeg_bytes() + b"\x00" * 2048
    with pytest.raises(UploadRejected):
        prepare_upload("besar.jpg", data, len(data) - 1)
    assert prepare_upload("pas.jpg", data, len(data)).extension == "jpg"


def test_corrupt_jpeg_is_refused():
    with pytest.raises(UploadRejected) as rejected:
        prepare_upload("rusak.jpg", b"\xff\xd8\xff\xe0" + b"garbage, not a picture" * 50, LIMIT)
    assert "rusak.jpg" in str(rejected.value.message)


def test_truncated_jpeg_is_refused():
    whole = jpeg_bytes(size=(400, 300))
    with pytest.raises(UploadRejected):
        prepare_upload("terpotong.jpg", whole[: len(whole) // 3], LIMIT)


@pytest.mark.parametrize("width, height", [
    (20_000, 20_000),  # 400 Mpx: past Pillow's own hard limit
    (9_000, 9_000),    # 81 Mpx: under Pillow's warning threshold, over the portal's limit
])
def test_decompression_bomb_is_refused(width, height):
    assert width * height > MAX_IMAGE_PIXELS
    data = bomb_png(width, height)
    assert len(data) < 200_000
    with pytest.raises(UploadRejected):
        prepare_upload("bom.png", data, LIMIT)


def test_decompression_bomb_is_refused_without_eating_memory():
    """In a fresh interpreter, so that the high-water mark of memory is this check's alone.
    Decoding the 20000x20000 picture would take 400 MB."""
    script = (
        "import resource, sys\n"
        "from tests.unit.test_uploads import bomb_png\n"
        "from portal.domain.uploads import UploadRejected, prepare_upload\n"
        "data = bomb_png(20000, 20000)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    prepare_upload('bom.png', data, 10 * 1024 * 1024)\n"
        "except UploadRejected:\n"
        "    pass\n"
        "else:\n"
        "    sys.exit('accepted')\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) // 1024)\n"  # ru_maxrss is in KiB on Linux
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    grown_mb = int(result.stdout.strip().splitlines()[-1])
    assert grown_mb < 50, f"refusing the bomb took {grown_mb} MB"


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\foto.jpg", "foto.jpg"),
    ("/var/www/../../foto.jpg", "foto.jpg"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("foto\x00.jpg", "foto.jpg"),
    ("../", "berkas"),
    ("", "berkas"),
    (None, "berkas"),
])
def test_only_the_last_part_of_the_original_name_is_kept(given, kept):
    prepared = prepare_upload(given, PDF, LIMIT)
    assert prepared.original_name == kept
    assert "/" not in prepared.original_name and "\\" not in prepared.original_name
