"""Personal data typed into a report's text is hidden before the public reads it; amounts,
dates, road numbers and RT/RW stay readable. Samples as Indonesian reporters write them."""
import pytest

from portal.domain.masking import mask_personal_data, public_excerpt, shorten

NIK = "[NIK hidden]"
PHONE = "[phone number hidden]"
EMAIL = "[e-mail hidden]"

MASKED = [
    # NIK (and other 16-digit numbers: the family card, KK, has 16 digits as well)
    ("NIK saya 3603124501900003 mohon dibantu", f"NIK saya {NIK} mohon dibantu"),
    ("NIK: 3603 1245 0190 0003.", f"NIK: {NIK}."),
    ("nik 36.03.12.450190.0003", f"nik {NIK}"),
    ("No. KK 3603010101100009 hilang", f"No. KK {NIK} hilang"),
    ("NIK=3603124501900003,", f"NIK={NIK},"),
    # mobile numbers
    ("hubungi 0812-3456-7890 ya", f"hubungi {PHONE} ya"),
    ("HP 0812 3456 7890", f"HP {PHONE}"),
    ("WA: +62 812 3456 7890", f"WA: {PHONE}"),
    ("WA +62-857-1234-5678 (admin RT)", f"WA {PHONE} (admin RT)"),
    ("telp081234567890", f"telp{PHONE}"),
    ("nomor 6281234567890 aktif", f"nomor {PHONE} aktif"),
    ("0857.1234.5678", PHONE),
    # landlines
    ("kantor kelurahan (021) 5551234", f"kantor kelurahan {PHONE}"),
    ("021-555-1234 tidak diangkat", f"{PHONE} tidak diangkat"),
    # e-mail addresses
    ("email budi.santoso@gmail.com", f"email {EMAIL}"),
    ("kirim ke siti_rahma87@yahoo.co.id.", f"kirim ke {EMAIL}."),
    ("budi @ yahoo.co.id", EMAIL),
    ("pengaduan+rt03@desa-talaga.id", EMAIL),
]

KEPT = [
    "Pungli Rp 1.500.000 untuk e-KTP",
    "Rp 850.000.000 anggaran jalan",
    "Jalan Raya Serang km 24, RT 03/RW 05",
    "tanggal 12-05-2024 pukul 10.30",
    "sudah 3 kali sejak tahun 2024",
    "Nomor laporan LPR-2026-0000123",
    "jalan sepanjang 1200 meter",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_numbers_stay(text):
    assert mask_personal_data(text) == text


def test_everything_in_one_text():
    text = ("Saya Budi (NIK 3603124501900003), HP 0812-3456-7890, email budi@mail.id. "
            "Jalan depan pasar berlubang.")
    masked = mask_personal_data(text)
    assert masked == (f"Saya Budi (NIK {NIK}), HP {PHONE}, email {EMAIL}. "
                      "Jalan depan pasar berlubang.")


def test_the_excerpt_masks_before_it_shortens():
    """Cut first, a NIK at the edge would keep its first digits."""
    text = "x" * 150 + " 3603124501900003 lagi"
    excerpt = public_excerpt(text, length=160)
    assert "3603" not in excerpt and len(excerpt) <= 160


def test_shorten_cuts_at_a_space_with_an_ellipsis():
    text = "Lubang besar di jalan raya depan pasar " * 10
    short = shorten(text, 60)
    assert len(short) <= 60 and short.endswith("…") and not short[:-1].endswith(" ")
    assert short[:-1] == text[: len(short) - 1].rstrip(" ,.;:-")
    assert shorten("  pendek\n  saja ") == "pendek saja"


def test_nothing_gives_nothing():
    assert mask_personal_data(None) == "" and public_excerpt("") == ""
