"""Synthetic national data for development and benchmarks: ``flask dev generate --reports N``.

Fills an empty database (the demo tree may be there; it is loaded if missing) with a national
tree and N reports that look like LAPOR!'s:

* the tree: the national administrator (the demo's KemenPANRB) over 34 ministries and
  agencies, 38 provinces and 200 regencies and cities (with the demo's Kabupaten Tangerang),
  each with its units (directorates, dinas, kecamatan offices): about 270 institutions and
  3,600 units; 10 to 25 kecamatan (``district``) per regency; one institution admin and one
  supervisor per institution, one liaison and one operator per unit (all with the demo
  password, one shared hash), citizen accounts for a fifth of the reporters;
* N reports over three years (more in recent months), spread over the institutions with a
  Zipf skew (the busiest holds about a sixth), and within each over its units; 82% complaints,
  13% aspirations, 5% information requests; 12% anonymous, 6% confidential; channels as on
  LAPOR! (web and app first, then SMS, social media, WhatsApp...); titles and texts written from
  Indonesian templates (the same as ``benchmarks/duplicates.py``), 4% of them naming a phone
  number or NIK that the public text masks;
* statuses by age (recent reports still waiting, old ones completed or archived, a small
  stale backlog), with the timestamps and the staff clock of portal/domain/deadlines.py
  (verification 3, follow-up 5 or 2 urgent, information answer 10 working days, on the
  national calendar), the history each step writes (submitted, verified, dispositioned,
  follow-up, answered, completed, rated, archived, duplicate merged, overdue with the
  sweep's notice), ratings on about half the completed reports, support for public reports
  (``support_count`` equal to the rows), 3% of the archived kept as duplicates of an earlier
  report with the same text (``duplicate_of_id``), the text and contact hashes of
  portal/domain/duplicates.py, and ``search_document`` built the way
  ``portal.domain.public_feed`` builds it at filing;
* identities encrypted with the identity keys (portal/crypto.py). A reporter who files again
  reuses their identity's tokens (each person is encrypted once: 35 µs a value would make
  a million reports a minute slower); production writes a new token each time. Nothing reads
  the tokens' equality.

Reproducible: the same seed, N and ``now`` give the same rows (ids, texts, times, hashes; only
the Fernet tokens differ, being random by design, but they decrypt to the same values). Each
report's tracking code is derived from the seed and its id (``tracking_code``), so that a
benchmark can look a report up; never use generated data in production (the command refuses
when PORTAL_ENV=production).

PostgreSQL is loaded with COPY (psycopg) in batches, through a staging table so that the
search document is computed by PostgreSQL (``to_tsvector('indonesian', ...)``); SQLite with
executemany. One transaction; the caller commits.
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from portal.domain.calendar import add_working_days, end_of_day
from portal.domain.tracking import ALPHABET, CODE_LENGTH, GROUP_LENGTH, hash_tracking_code

YEARS = 3
JAKARTA_OFFSET = timedelta(hours=7)  # Asia/Jakarta has kept UTC+7, without summer time
BATCH = 20_000

# ----------------------------------------------------------------------------- texts
# (Shared with benchmarks/duplicates.py: one set of Indonesian templates.)
PROBLEMS = {
    "INFRASTRUKTUR": [
        ("Jalan rusak parah", "jalan rusak parah dan banyak lubang besar"),
        ("Jalan berlubang", "aspal berlubang dalam sehingga motor sering jatuh"),
        ("Lampu jalan mati", "lampu penerangan jalan umum mati dan jalan gelap gulita"),
        ("Drainase tersumbat", "saluran drainase tersumbat lumpur dan sampah, air meluap"),
        ("Jembatan retak", "jembatan penghubung retak dan goyang saat dilalui truk"),
        ("Trotoar rusak", "trotoar hancur sehingga pejalan kaki turun ke badan jalan"),
    ],
    "LINGKUNGAN": [
        ("Sampah menumpuk", "sampah di TPS tidak diangkut dan menumpuk sampai ke jalan"),
        ("Limbah pabrik dibuang ke kali", "pabrik membuang limbah cair hitam ke kali"),
        ("Bau limbah B3", "bau menyengat limbah B3 dari gudang pengepul"),
        ("Pembakaran sampah", "warga membakar sampah setiap sore, asapnya masuk rumah"),
    ],
    "PERHUBUNGAN": [
        ("Truk melintas di luar jam operasional", "truk tanah melintas siang hari"),
        ("Angkot ngetem sembarangan", "angkot berhenti lama di tengah jalan menunggu penumpang"),
        ("Parkir liar", "juru parkir liar menguasai bahu jalan dan memungut uang"),
        ("Lampu lalu lintas mati", "lampu lalu lintas di persimpangan mati sejak kemarin"),
    ],
    "ADMINDUK": [
        ("Blangko KTP habis", "blangko KTP elektronik habis dan warga disuruh kembali"),
        ("Kartu Keluarga belum jadi", "perubahan kartu keluarga belum selesai berbulan-bulan"),
        ("Pungli pengurusan akta", "petugas meminta uang tambahan untuk akta kelahiran"),
        ("Antrean Disdukcapil", "antrean layanan kependudukan dibatasi dan habis pagi-pagi"),
    ],
    "KESEHATAN": [
        ("Antrean puskesmas panjang", "pasien antre dari subuh dan dokter datang siang"),
        ("Obat kosong di puskesmas", "obat hipertensi kosong dan pasien disuruh membeli sendiri"),
        ("Pasien BPJS ditolak", "pasien peserta BPJS ditolak dengan alasan kamar penuh"),
    ],
    "KEDARURATAN-KESEHATAN": [
        ("Kasus DBD meningkat", "banyak warga terkena demam berdarah dalam sebulan terakhir"),
        ("Fogging belum dilakukan", "permohonan fogging belum ditanggapi padahal ada kasus DBD"),
    ],
    "PENDIDIKAN": [
        ("Pungutan uang seragam", "sekolah meminta uang seragam tanpa kuitansi resmi"),
        ("PPDB zonasi bermasalah", "anak kami tidak diterima padahal rumah dekat sekolah"),
        ("Atap kelas bocor", "atap ruang kelas bocor dan plafon hampir runtuh"),
    ],
    "KETERTIBAN": [
        ("PKL menutup trotoar", "pedagang kaki lima berjualan di trotoar dan bahu jalan"),
        ("Balap liar tiap malam", "remaja balap liar setiap malam minggu sampai subuh"),
        ("Tempat hiburan berisik", "tempat hiburan memutar musik keras sampai larut malam"),
    ],
    "LAINNYA": [
        ("Pelayanan kantor desa lambat", "surat pengantar dari desa baru selesai seminggu"),
        ("Bansos tidak tepat sasaran", "bantuan sosial diterima warga yang mampu"),
    ],
}
CATEGORY_WEIGHTS = {"INFRASTRUKTUR": 30, "ADMINDUK": 20, "LINGKUNGAN": 12, "PERHUBUNGAN": 10,
                    "KESEHATAN": 10, "PENDIDIKAN": 7, "KETERTIBAN": 5,
                    "KEDARURATAN-KESEHATAN": 2, "LAINNYA": 4}
PLACES = ["Jl. Raya {d} km {n}", "depan Pasar {d}", "Desa {v}", "Perumahan {p} blok {b}",
          "dekat SDN {n} {d}", "Kantor Kecamatan {d}", "Puskesmas {d}", "gang {v} RT 0{r}"]
VILLAGES = ["Talaga", "Bitung Jaya", "Sukamulya", "Pasir Jaya", "Cibogo", "Kadu", "Suka Asih",
            "Salembaran Jaya", "Tanjung Burung", "Mekar Jaya", "Pasir Gadung", "Bojong"]
ESTATES = ["Citra Raya", "Taman Sepatan", "Griya Asri", "Bumi Indah", "Villa Permata"]
DETAILS = [
    "Sudah {n} minggu tidak ada perbaikan dari dinas terkait.",
    "Warga sudah melapor ke RT dan RW tetapi belum ada tanggapan.",
    "Kondisi ini membahayakan anak-anak yang berangkat sekolah.",
    "Kemarin ada pengendara motor yang jatuh dan luka-luka.",
    "Kami mohon petugas segera datang untuk memeriksa lokasi.",
    "Sudah pernah diberitakan di media sosial tetapi belum ditangani.",
    "Setiap hujan keadaannya bertambah parah.",
    "Banyak lansia dan ibu hamil yang dirugikan.",
    "Kami khawatir akan terjadi kecelakaan yang lebih besar.",
    "Mohon ditindaklanjuti sebelum musim hujan.",
]
ASPIRATIONS = [
    ("Usulan pembangunan", "kami mengusulkan agar {x} dibangun atau diperbaiki tahun depan"),
    ("Usulan penambahan layanan", "kami berharap ada layanan keliling untuk {x}"),
    ("Saran perbaikan pelayanan", "sebaiknya jam layanan {x} diperpanjang sampai sore"),
]
INFORMATION_REQUESTS = [
    ("Permohonan informasi anggaran", "mohon informasi rincian anggaran untuk {x} tahun ini"),
    ("Permohonan informasi jadwal", "mohon informasi jadwal perbaikan {x}"),
    ("Permohonan salinan dokumen", "mohon salinan dokumen perencanaan {x}"),
]
SUBJECTS = ["jalan desa", "saluran air", "puskesmas", "sekolah dasar", "pasar rakyat",
            "lampu jalan", "taman kota", "kantor kelurahan", "jembatan", "posyandu"]


class TextMaker:
    """Titles and texts of reports, from the templates above, drawn with ``rng``."""

    def __init__(self, rng: random.Random, districts: list[str]):
        self.rng = rng
        self.districts = districts

    def place(self, district: str) -> str:
        rng = self.rng
        return rng.choice(PLACES).format(d=district, n=rng.randint(1, 40),
                                         v=rng.choice(VILLAGES), p=rng.choice(ESTATES),
                                         b=rng.choice("ABCDEFGH"), r=rng.randint(1, 9))

    def report(self, category: str, district: str) -> tuple[str, str]:
        rng = self.rng
        short, long = rng.choice(PROBLEMS[category])
        place = self.place(district)
        details = " ".join(d.format(n=rng.randint(2, 8)) for d in
                           rng.sample(DETAILS, rng.randint(2, 5)))
        title = f"{short} di {place}"
        body = f"Di {place}, Kecamatan {district}, {long}. {details}"
        return title[:200], body

    def other(self, templates, district: str) -> tuple[str, str]:
        """An aspiration or an information request."""
        rng = self.rng
        short, long = rng.choice(templates)
        subject = rng.choice(SUBJECTS)
        place = self.place(district)
        title = f"{short} {subject} di {place}"
        body = (f"{long.format(x=subject)} di {place}, Kecamatan {district}. "
                f"{rng.choice(DETAILS).format(n=rng.randint(2, 8))} Terima kasih.")
        return title[:200], body[0].upper() + body[1:]


# ----------------------------------------------------------------------------- the tree
MINISTRIES = [
    "Kementerian Kesehatan", "Kementerian Pendidikan Dasar dan Menengah",
    "Kementerian Dalam Negeri", "Kementerian Keuangan", "Kementerian Sosial",
    "Kementerian Pekerjaan Umum", "Kementerian Perhubungan", "Kementerian Agama",
    "Kementerian Agraria dan Tata Ruang/BPN", "Kementerian Ketenagakerjaan",
    "Kementerian Lingkungan Hidup", "Kementerian Pertanian", "Kementerian Perdagangan",
    "Kementerian Perindustrian", "Kementerian Energi dan Sumber Daya Mineral",
    "Kementerian Komunikasi dan Digital", "Kementerian Hukum", "Kementerian BUMN",
    "Kementerian Desa dan Pembangunan Daerah Tertinggal", "Kementerian Kelautan dan Perikanan",
    "Kementerian Pariwisata", "Kementerian Koperasi", "Kementerian Kebudayaan",
    "Kementerian Perumahan dan Kawasan Permukiman", "Kementerian Kehutanan",
    "Badan Penyelenggara Jaminan Sosial Kesehatan", "Badan Penyelenggara Jaminan Sosial "
    "Ketenagakerjaan", "Kepolisian Negara Republik Indonesia", "Badan Pertanahan Nasional",
    "PT PLN (Persero)", "PT Pertamina (Persero)", "Badan Pengawas Obat dan Makanan",
    "Badan Kepegawaian Negara", "Direktorat Jenderal Pajak",
]
PROVINCES = [
    "Aceh", "Sumatera Utara", "Sumatera Barat", "Riau", "Kepulauan Riau", "Jambi",
    "Sumatera Selatan", "Kepulauan Bangka Belitung", "Bengkulu", "Lampung", "DKI Jakarta",
    "Jawa Barat", "Banten", "Jawa Tengah", "DI Yogyakarta", "Jawa Timur", "Bali",
    "Nusa Tenggara Barat", "Nusa Tenggara Timur", "Kalimantan Barat", "Kalimantan Tengah",
    "Kalimantan Selatan", "Kalimantan Timur", "Kalimantan Utara", "Sulawesi Utara",
    "Gorontalo", "Sulawesi Tengah", "Sulawesi Barat", "Sulawesi Selatan", "Sulawesi Tenggara",
    "Maluku", "Maluku Utara", "Papua", "Papua Barat", "Papua Barat Daya", "Papua Selatan",
    "Papua Tengah", "Papua Pegunungan",
]
REGENCY_NAMES = [
    "Bogor", "Bekasi", "Bandung", "Garut", "Cianjur", "Sukabumi", "Tasikmalaya", "Ciamis",
    "Cirebon", "Indramayu", "Karawang", "Purwakarta", "Subang", "Sumedang", "Majalengka",
    "Kuningan", "Serang", "Lebak", "Pandeglang", "Cilegon", "Brebes", "Tegal", "Pemalang",
    "Pekalongan", "Batang", "Kendal", "Semarang", "Demak", "Kudus", "Jepara", "Pati",
    "Rembang", "Blora", "Grobogan", "Boyolali", "Klaten", "Sukoharjo", "Wonogiri",
    "Karanganyar", "Sragen", "Magelang", "Temanggung", "Wonosobo", "Purworejo", "Kebumen",
    "Banyumas", "Cilacap", "Purbalingga", "Banjarnegara", "Sleman", "Bantul", "Gunungkidul",
    "Kulon Progo", "Surabaya", "Sidoarjo", "Gresik", "Lamongan", "Tuban", "Bojonegoro",
    "Ngawi", "Madiun", "Magetan", "Ponorogo", "Pacitan", "Trenggalek", "Tulungagung",
    "Blitar", "Kediri", "Nganjuk", "Jombang", "Mojokerto", "Pasuruan", "Probolinggo",
    "Lumajang", "Jember", "Bondowoso", "Situbondo", "Banyuwangi", "Malang", "Batu",
    "Bangkalan", "Sampang", "Pamekasan", "Sumenep", "Badung", "Gianyar", "Tabanan",
    "Buleleng", "Karangasem", "Denpasar", "Lombok Barat", "Lombok Tengah", "Lombok Timur",
    "Sumbawa", "Bima", "Dompu", "Kupang", "Ende", "Sikka", "Manggarai", "Deli Serdang",
    "Langkat", "Karo", "Simalungun", "Asahan", "Labuhanbatu", "Tapanuli Utara", "Medan",
    "Binjai", "Pematangsiantar", "Padang", "Bukittinggi", "Agam", "Tanah Datar",
    "Pesisir Selatan", "Pekanbaru", "Kampar", "Bengkalis", "Siak", "Rokan Hulu", "Dumai",
    "Batam", "Bintan", "Karimun", "Jambi", "Muaro Jambi", "Kerinci", "Palembang", "Ogan Ilir",
    "Muara Enim", "Lahat", "Banyuasin", "Musi Banyuasin", "Bandar Lampung", "Lampung Selatan",
    "Lampung Tengah", "Pringsewu", "Metro", "Pontianak", "Kubu Raya", "Sambas", "Ketapang",
    "Palangka Raya", "Kotawaringin Barat", "Banjarmasin", "Banjarbaru", "Banjar",
    "Balikpapan", "Samarinda", "Kutai Kartanegara", "Berau", "Tarakan", "Manado", "Minahasa",
    "Bitung", "Gorontalo", "Palu", "Donggala", "Poso", "Makassar", "Gowa", "Maros", "Bone",
    "Bulukumba", "Parepare", "Palopo", "Kendari", "Konawe", "Baubau", "Mamuju", "Ambon",
    "Maluku Tengah", "Ternate", "Halmahera Utara", "Jayapura", "Merauke", "Mimika", "Nabire",
    "Manokwari", "Sorong", "Fakfak", "Jayawijaya", "Banda Aceh", "Aceh Besar", "Lhokseumawe",
    "Bireuen", "Pidie", "Bengkulu", "Rejang Lebong", "Pangkalpinang", "Bangka", "Belitung",
    "Depok", "Tangerang Selatan", "Salatiga", "Surakarta", "Yogyakarta", "Probolinggo Kota",
    "Sukabumi Kota", "Mataram",
]
KOTA = {"Surabaya", "Denpasar", "Medan", "Binjai", "Pematangsiantar", "Padang", "Bukittinggi",
        "Pekanbaru", "Dumai", "Batam", "Palembang", "Bandar Lampung", "Metro", "Pontianak",
        "Palangka Raya", "Banjarmasin", "Banjarbaru", "Balikpapan", "Samarinda", "Tarakan",
        "Manado", "Bitung", "Palu", "Makassar", "Parepare", "Palopo", "Kendari", "Baubau",
        "Ambon", "Ternate", "Jayapura", "Sorong", "Banda Aceh", "Lhokseumawe", "Pangkalpinang",
        "Depok", "Tangerang Selatan", "Salatiga", "Surakarta", "Yogyakarta", "Cilegon",
        "Batu", "Mataram", "Probolinggo Kota", "Sukabumi Kota"}
MINISTRY_UNITS = ["Sekretariat Jenderal", "Inspektorat Jenderal", "Direktorat Jenderal "
                  "Pelayanan", "Direktorat Jenderal Perencanaan", "Direktorat Pengaduan",
                  "Direktorat Jenderal Pembinaan", "Biro Hukum", "Biro Hubungan Masyarakat"]
DINAS = ["Dinas Kependudukan dan Pencatatan Sipil", "Dinas Perhubungan",
         "Dinas Lingkungan Hidup", "Dinas Pekerjaan Umum dan Penataan Ruang", "Dinas Kesehatan",
         "Dinas Pendidikan", "Dinas Sosial", "Dinas Perumahan Rakyat", "Satuan Polisi Pamong "
         "Praja", "Dinas Penanaman Modal dan PTSP", "Badan Pendapatan Daerah",
         "Dinas Tenaga Kerja", "RSUD", "Dinas Komunikasi dan Informatika"]
SYLLABLES = ["su", "ka", "ma", "ja", "ya", "ta", "ra", "ng", "ba", "si", "lo", "wa", "di",
             "pa", "ri", "ke", "mu", "go", "an", "la", "sa", "ti", "ne", "bo"]
DISTRICT_PREFIX = ["", "", "", "Sungai ", "Tanjung ", "Pasir ", "Bukit ", "Muara ", "Kota ",
                   "Rawa ", "Teluk ", "Padang "]
FIRST_NAMES = ["Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Andi", "Nur", "Joko", "Rina",
               "Ahmad", "Fitri", "Hendra", "Yuni", "Bambang", "Lestari", "Eko", "Wati", "Dedi",
               "Ratna", "Irfan", "Putri", "Made", "Komang", "Yohanes", "Maria", "Teguh",
               "Indah", "Rizky", "Ayu", "Fajar", "Nanda", "Wahyu", "Kartika", "Arif", "Lina"]
LAST_NAMES = ["Santoso", "Wijaya", "Saputra", "Hidayat", "Kurniawan", "Pratama", "Siregar",
              "Nasution", "Lubis", "Harahap", "Simanjuntak", "Wibowo", "Setiawan", "Susanto",
              "Gunawan", "Sihombing", "Rahman", "Hakim", "Purba", "Tanjung", "Putra", "Utami",
              "Rahayu", "Permana", "Nugroho", "Halim", "Manurung", "Pangaribuan", ""]

KIND_WEIGHTS = (("complaint", 82), ("aspiration", 13), ("information_request", 5))
CHANNEL_WEIGHTS = (("web", 40), ("mobile_app", 27), ("sms", 10), ("social_media", 9),
                   ("whatsapp", 7), ("email", 3), ("phone", 2), ("walk_in", 2))
ANONYMOUS_SHARE = 0.12
CONFIDENTIAL_SHARE = 0.06
PII_SHARE = 0.04  # texts that give a phone number or NIK (masked in public)
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (40, 25, 15, 8, 12)
ARCHIVE_REASONS = (("not_actionable", 35), ("too_general", 25), ("irrelevant", 15),
                   ("duplicate", 25))
# Status by age of the report (days): (upper bound of age, [(status, weight), ...]).
STATUS_BY_AGE = (
    (2, (("submitted", 55), ("verified", 15), ("dispositioned", 20), ("in_progress", 5),
         ("archived", 5))),
    (10, (("submitted", 10), ("verified", 8), ("dispositioned", 25), ("in_progress", 25),
          ("answered", 17), ("completed", 7), ("archived", 8))),
    (30, (("submitted", 3), ("verified", 4), ("dispositioned", 10), ("in_progress", 18),
          ("answered", 10), ("completed", 43), ("archived", 12))),
    (60, (("verified", 1), ("dispositioned", 4), ("in_progress", 8), ("answered", 4),
          ("completed", 70), ("archived", 13))),
    (None, (("dispositioned", 1), ("in_progress", 2), ("completed", 82), ("archived", 15))),
)
DEFAULT_DAYS = {"verification": 3, "follow_up": 5, "urgent": 2, "information_answer": 10,
                "extension": 7}

REPORT_COLUMNS = (
    "id", "public_number", "tracking_code_hash", "kind", "title", "body", "category_id",
    "district_id", "village", "address", "event_date", "channel", "is_anonymous",
    "is_confidential", "status", "current_institution_id", "current_unit_id",
    "assigned_operator_id", "archive_reason", "first_response_at", "answered_at",
    "completed_at", "due_at", "deadline_kind", "clock_started_at", "clock_days",
    "clock_added_days", "clock_paused_at", "deadline_extended", "created_at", "updated_at",
    "text_hash", "duplicate_of_id", "version", "support_count",
)
EVENT_COLUMNS = ("id", "report_id", "kind", "actor_id", "visible_to_reporter", "status_after",
                 "message", "target_institution_id", "target_user_id", "related_report_id",
                 "due_at", "created_at")
IDENTITY_COLUMNS = ("id", "report_id", "user_id", "name", "email", "phone", "nik",
                    "contact_hash", "account_ref")
RATING_COLUMNS = ("id", "report_id", "score", "comment", "created_at")
SUPPORT_COLUMNS = ("id", "report_id", "user_id", "browser_hash", "created_at")
NOTICE_COLUMNS = ("id", "report_id", "kind", "due_at", "sweep", "created_at")
MESSAGES = {
    "follow_up": ["Laporan sudah kami terima dan petugas akan meninjau lokasi minggu ini.",
                  "Terima kasih, laporan sedang kami koordinasikan dengan bidang terkait.",
                  "Tim kami sudah dijadwalkan untuk pengecekan lapangan."],
    "answered": ["Perbaikan sudah dilaksanakan. Terima kasih atas laporannya.",
                 "Petugas sudah menindaklanjuti dan masalah telah diselesaikan.",
                 "Kami sudah berkoordinasi dengan pihak terkait dan masalah sudah ditangani.",
                 "Informasi yang diminta kami lampirkan dalam jawaban ini."],
    "comment": ["Terima kasih, cepat ditangani.", "Sudah diperbaiki tetapi lama sekali.",
                "Belum tuntas sepenuhnya.", "Pelayanan sangat baik."],
}


def tracking_code(seed: int, report_id: int) -> str:
    """The tracking code of generated report ``report_id`` (derived, so benchmarks can use it)."""
    digest = hashlib.sha256(f"lapor-devdata:{seed}:{report_id}".encode()).digest()
    number = int.from_bytes(digest, "big")
    symbols = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        symbols.append(ALPHABET[index])
    text = "".join(symbols)
    return "-".join(text[i:i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


class DatabaseNotEmpty(Exception):
    pass


@dataclass
class Node:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    units: list = field(default_factory=list)  # Node of units
    districts: list = field(default_factory=list)  # (id, name)
    admin_id: int | None = None
    supervisor_id: int | None = None
    liaison_id: int | None = None
    operator_id: int | None = None


@dataclass
class Summary:
    reports: int = 0
    institutions: int = 0
    units: int = 0
    districts: int = 0
    staff: int = 0
    citizens: int = 0
    events: int = 0
    identities: int = 0
    ratings: int = 0
    supports: int = 0
    notices: int = 0
    by_kind: dict = field(default_factory=dict)
    by_status: dict = field(default_factory=dict)
    anonymous: int = 0
    confidential: int = 0
    duplicates: int = 0
    first_id: int = 0
    last_id: int = 0


def _zipf(count: int, exponent: float = 1.0) -> list[float]:
    """Cumulative Zipf weights of ``count`` ranks (for bisect)."""
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(count)))


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


class _Clock:
    """Deadlines on the national calendar, cached per (start date, working days)."""

    def __init__(self):
        self.cache: dict = {}

    def due(self, start: datetime, days: int) -> datetime:
        """``start`` and the result naive UTC."""
        key = ((start + JAKARTA_OFFSET).date(), days)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = end_of_day(add_working_days(key[0], days)).astimezone(
                timezone.utc).replace(tzinfo=None)
        return found


# ----------------------------------------------------------------------------- writing
class _Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, session):
        self.session = session
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"

    def write(self, table: str, columns, rows: list) -> None:
        if not rows:
            return
        if self.postgres:
            raw = self.connection.connection.driver_connection
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            target = sa.table(table, *(sa.column(c) for c in columns))
            self.connection.execute(target.insert(), [dict(zip(columns, _lite(row)))
                                                       for row in rows])

    def write_reports(self, rows: list, search_texts: list[str]) -> None:
        if self.postgres:
            raw = self.connection.connection.driver_connection
            with raw.cursor() as cursor:
                cursor.execute("CREATE TEMP TABLE IF NOT EXISTS devdata_report "
                               "(LIKE report INCLUDING DEFAULTS) ON COMMIT DROP")
                cursor.execute("ALTER TABLE devdata_report ADD COLUMN IF NOT EXISTS "
                               "search_text text")
                cursor.execute("TRUNCATE devdata_report")
                columns = REPORT_COLUMNS + ("search_text",)
                with cursor.copy(f"COPY devdata_report ({', '.join(columns)}) FROM STDIN") \
                        as copy:
                    for row, text in zip(rows, search_texts):
                        copy.write_row(row + (text,))
                # Column names from the REPORT_COLUMNS constant, never from input.
                cursor.execute(
                    f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}, search_document) "
                    f"SELECT {', '.join(REPORT_COLUMNS)}, "
                    "to_tsvector('indonesian', search_text) FROM devdata_report")  # nosec B608
        else:
            target = sa.table("report", *(sa.column(c) for c in REPORT_COLUMNS),
                              sa.column("search_document"))
            self.connection.execute(target.insert(), [
                {**dict(zip(REPORT_COLUMNS, _lite(row))), "search_document": text.lower()}
                for row, text in zip(rows, search_texts)])

    def drop_indexes(self, tables) -> list[str]:
        """PostgreSQL: drop the plain (non-constraint) indexes of ``tables`` for the load and
        return their definitions; building them once afterwards is several times faster than
        keeping them up to date row by row (the GIN index of the search document most)."""
        if not self.postgres:
            return []
        rows = self.connection.exec_driver_sql(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
            "current_schema() AND i.tablename = ANY(%(tables)s) AND NOT EXISTS (SELECT 1 "
            "FROM pg_constraint c WHERE c.conname = i.indexname)",
            {"tables": list(tables)}).all()
        for name, _ in rows:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
        return [definition for _, definition in rows]

    def skip_foreign_key_checks(self) -> None:
        """PostgreSQL, as a superuser: no foreign-key trigger per row for the rest of the
        transaction (the generator writes consistent ids; checking them costs more than
        writing the rows). Without the privilege, the checks stay."""
        if not self.postgres:
            return
        self.connection.exec_driver_sql("SAVEPOINT devdata_replica")
        try:
            self.connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except Exception:  # not a superuser
            self.connection.exec_driver_sql("ROLLBACK TO SAVEPOINT devdata_replica")
        else:
            self.connection.exec_driver_sql("RELEASE SAVEPOINT devdata_replica")

    def create_indexes(self, definitions: list[str]) -> None:
        for definition in definitions:
            self.connection.exec_driver_sql(definition)

    def reset_sequences(self, tables) -> None:
        if not self.postgres:
            return
        for table in tables:
            # Table names from this module's own list, never from input.
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")


_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _lite(row):
    """Values as SQLAlchemy's SQLite dialect stores them (naive UTC text with microseconds)."""
    out = []
    for value in row:
        if isinstance(value, datetime):  # naive UTC, as everywhere in the generator
            value = value.strftime(_SQLITE_TIME)
        elif isinstance(value, date):
            value = value.isoformat()
        out.append(value)
    return out


def _next_id(session, table: str) -> int:
    # ``table`` is one of this module's table names, never input.
    query = f"SELECT coalesce(max(id), 0) + 1 FROM {table}"  # nosec B608
    return session.execute(sa.text(query)).scalar()


# ----------------------------------------------------------------------------- the generator
class Generator:
    def __init__(self, session, *, reports: int, seed: int, now: datetime, progress=None):
        self.session = session
        self.n = reports
        self.seed = seed
        # Naive UTC inside (as the columns store it): no conversion per value on the way out.
        self.now = now.astimezone(timezone.utc).replace(tzinfo=None)
        self.rng = random.Random(seed)
        self.progress = progress
        self.writer = _Writer(session)
        self.clock = _Clock()
        self.summary = Summary()
        self.ids: dict[str, int] = {}

    # -- ids
    def _take(self, table: str, count: int = 1) -> int:
        if table not in self.ids:
            self.ids[table] = _next_id(self.session, table)
        first = self.ids[table]
        self.ids[table] += count
        return first

    # -- reference data
    def build_tree(self) -> None:
        from portal.demo import DEMO_PASSWORD, NATIONAL, REGENCY, load_demo_data
        from portal.models import Category, District, Institution, Membership, User

        load_demo_data()
        self.session.flush()
        rng = self.rng
        national = self.session.scalar(sa.select(Institution).where(
            Institution.code == NATIONAL[0]))
        demo = self.session.scalar(sa.select(Institution).where(Institution.code == REGENCY[0]))
        self.national_id = national.id
        demo_user = self.session.scalar(sa.select(User).where(User.is_staff))
        self.password_hash = demo_user.password_hash  # the demo password, one hash for all
        self.demo_password = DEMO_PASSWORD
        self.categories = {c.code: (c.id, c.is_urgent) for c in
                           self.session.scalars(sa.select(Category))}
        self.category_codes = [c for c in CATEGORY_WEIGHTS if c in self.categories]
        self.category_cumulative = list(itertools.accumulate(
            CATEGORY_WEIGHTS[c] for c in self.category_codes))

        institutions, units, districts, users, memberships = [], [], [], [], []
        nodes: list[Node] = []

        def add_institution(code, name, unit_names, district_count):
            node = Node(self._take("institution"), code, name, "institution", national.id)
            institutions.append((node.id, "institution", code, name[:200], national.id))
            for number, unit_name in enumerate(unit_names, start=1):
                unit = Node(self._take("institution"), f"{code}-U{number:02d}",
                            f"{unit_name} {name}"[:200], "unit", node.id)
                units.append((unit.id, "unit", unit.code, unit.name, node.id))
                node.units.append(unit)
            seen = set()
            while len(node.districts) < district_count:
                name_ = (rng.choice(DISTRICT_PREFIX) + "".join(
                    rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize())
                if name_ in seen:
                    continue
                seen.add(name_)
                node.districts.append((self._take("district"), name_))
                districts.append((node.districts[-1][0], node.id, name_))
            nodes.append(node)
            return node

        for number, name in enumerate(MINISTRIES, start=1):
            add_institution(f"GEN-K{number:02d}", name,
                            rng.sample(MINISTRY_UNITS, rng.randint(5, len(MINISTRY_UNITS))), 0)
        for number, name in enumerate(PROVINCES, start=1):
            add_institution(f"GEN-P{number:02d}", f"Pemerintah Provinsi {name}",
                            rng.sample(DINAS, rng.randint(8, 12)), 0)
        for number, name in enumerate(REGENCY_NAMES, start=1):
            label = (f"Pemerintah Kota {name.removesuffix(' Kota')}" if name in KOTA
                     else f"Pemerintah Kabupaten {name}")
            unit_names = rng.sample(DINAS, rng.randint(9, 14)) + [
                f"Kecamatan {i}" for i in range(1, rng.randint(2, 6))]
            add_institution(f"GEN-R{number:03d}", label, unit_names, rng.randint(10, 25))

        # The demo regency joins the tree with its units and kecamatan, as a busy regency.
        demo_node = Node(demo.id, demo.code, demo.name, "institution", national.id)
        for child in self.session.scalars(sa.select(Institution).where(
                Institution.parent_id == demo.id).order_by(Institution.id)):
            demo_node.units.append(Node(child.id, child.code, child.name, "unit", demo.id))
        demo_node.districts = [(d.id, d.name) for d in self.session.scalars(
            sa.select(District).where(District.institution_id == demo.id).order_by(District.id))]
        demo_staff = {(m.institution_id, m.role.value): m.user_id for m in self.session.scalars(
            sa.select(Membership))}
        nodes.insert(3, demo_node)  # among the busiest

        def add_staff(node: Node, role: str, attribute: str):
            existing = demo_staff.get((node.id, role))
            if existing is not None:
                setattr(node, attribute, existing)
                return
            user_id = self._take("user_account")
            users.append((user_id, f"{role.replace('_', '.')}.{node.code.lower()}"
                          "@lapor.example.id", f"{role.replace('_', ' ').title()} "
                          f"{node.name}"[:200], self.password_hash, True, True, self.now,
                          0, 1))
            memberships.append((self._take("membership"), user_id, node.id, role))
            setattr(node, attribute, user_id)

        for node in nodes:
            add_staff(node, "institution_admin", "admin_id")
            add_staff(node, "supervisor", "supervisor_id")
            for unit in node.units:
                add_staff(unit, "liaison", "liaison_id")
                add_staff(unit, "operator", "operator_id")

        write = self.writer.write
        write("institution", ("id", "kind", "code", "name", "parent_id"), institutions)
        write("institution", ("id", "kind", "code", "name", "parent_id"), units)
        write("district", ("id", "institution_id", "name"), districts)
        user_columns = ("id", "email", "name", "password_hash", "is_staff",
                        "is_active_account", "created_at", "failed_logins", "session_version")
        write("user_account", user_columns, users)
        write("membership", ("id", "user_id", "institution_id", "role"), memberships)

        # Reporters: a pool of people who file (some more than once); a fifth have an account.
        self.people = max(50, self.n // 3)
        self.accounts = self.people // 5
        citizens = []
        first_citizen = self._take("user_account", self.accounts)
        self.first_citizen = first_citizen
        for person in range(self.accounts):
            name = self._person_name(person)
            citizens.append((first_citizen + person, self._person_email(person), name,
                             self.password_hash, False, True, self.now, 0, 1))
        for start in range(0, len(citizens), BATCH):
            write("user_account", user_columns, citizens[start:start + BATCH])

        self.nodes = nodes
        self.node_cumulative = _zipf(len(nodes))
        self.unit_cumulative = {id(node): _zipf(len(node.units), 0.8) for node in nodes}
        regional = [node for node in nodes if node.districts]
        self.all_districts = [d for node in regional for d in node.districts]
        self.district_cumulative = _zipf(len(self.all_districts), 0.5)
        self.district_cumulative_of = {id(node): _zipf(len(node.districts), 0.9)
                                       for node in regional}
        s = self.summary
        s.institutions = len(institutions) + 1
        s.units = len(units) + len(demo_node.units)
        s.districts = len(districts) + len(demo_node.districts)
        s.staff = len(users)
        s.citizens = len(citizens)
        self.writer.reset_sequences(("institution", "district", "user_account", "membership"))

    def _person_name(self, person: int) -> str:
        digest = hashlib.sha256(b"name%d:%d" % (self.seed, person)).digest()
        first = FIRST_NAMES[digest[0] % len(FIRST_NAMES)]
        last = LAST_NAMES[digest[1] % len(LAST_NAMES)]
        return f"{first} {last}".strip()

    def _person_email(self, person: int) -> str:
        name = self._person_name(person).lower().replace(" ", ".")
        return f"{name}.{person}@contoh.example.id"

    def _identity(self, person: int) -> tuple:
        """(user_id, name, email, phone, nik, contact_hash) of a person: tokens made once."""
        found = self.person_cache.get(person)
        if found is not None:
            return found
        from portal.crypto import encrypt
        from portal.domain.duplicates import contact_hash

        digest = hashlib.sha256(b"person%d:%d" % (self.seed, person)).digest()
        user_id = self.first_citizen + person if person < self.accounts else None
        name = self._person_name(person)
        email = self._person_email(person) if (user_id or digest[2] < 180) else None
        phone = f"08{int.from_bytes(digest[3:8], 'big') % 10**10:010d}" \
            if digest[8] < 128 else None
        nik = f"{int.from_bytes(digest[9:17], 'big') % 10**16:016d}" if digest[17] < 50 else None
        found = (user_id, encrypt(name), encrypt(email) if email else None,
                 encrypt(phone) if phone else None, encrypt(nik) if nik else None,
                 contact_hash(user_id=user_id, email=email, phone=phone), name,
                 encrypt(str(user_id)) if user_id else None)
        if len(self.person_cache) > 200_000:
            self.person_cache.clear()
        self.person_cache[person] = found
        return found

    # -- reports
    def _status(self, age_days: float) -> str:
        rng = self.rng
        for bound, weights in STATUS_BY_AGE:
            if bound is None or age_days < bound:
                roll = rng.random() * sum(w for _, w in weights)
                for status, weight in weights:
                    roll -= weight
                    if roll < 0:
                        return status
                return weights[-1][0]
        raise AssertionError

    def generate_reports(self) -> None:
        from portal.domain.duplicates import text_hash
        from portal.domain.public_feed import search_text

        rng, n, now = self.rng, self.n, self.now
        self.person_cache: dict = {}
        span = YEARS * 365 * 86400
        # More reports in recent months: the density grows linearly over the three years.
        offsets = sorted(span * math.sqrt(rng.random()) for _ in range(n))
        start = now - timedelta(seconds=span)
        first_id = self._take("report", n)
        s = self.summary
        s.first_id, s.last_id, s.reports = first_id, first_id + n - 1, n
        kinds = [k for k, _ in KIND_WEIGHTS]
        kind_cumulative = list(itertools.accumulate(w for _, w in KIND_WEIGHTS))
        channels = [c for c, _ in CHANNEL_WEIGHTS]
        channel_cumulative = list(itertools.accumulate(w for _, w in CHANNEL_WEIGHTS))
        reasons = [r for r, _ in ARCHIVE_REASONS]
        reason_cumulative = list(itertools.accumulate(w for _, w in ARCHIVE_REASONS))
        maker = TextMaker(rng, [])
        recent: list[tuple] = []  # (id, title, body, category, district, node): for duplicates
        person_cumulative = _zipf(self.people, 0.6)
        hour = timedelta(hours=1)
        day = timedelta(days=1)

        self.writer.skip_foreign_key_checks()
        dropped = self.writer.drop_indexes(("report", "report_event", "reporter_identity",
                                            "report_support", "deadline_notice",
                                            "report_rating"))
        for batch_start in range(0, n, BATCH):
            reports, texts, events, identities, ratings, supports, notices = \
                [], [], [], [], [], [], []
            for i in range(batch_start, min(n, batch_start + BATCH)):
                rid = first_id + i
                created = start + timedelta(seconds=offsets[i])
                age = (now - created) / day
                node = self.nodes[_pick(rng, self.node_cumulative)]
                kind = kinds[bisect.bisect_right(kind_cumulative,
                                                 rng.random() * kind_cumulative[-1])]
                code = self.category_codes[bisect.bisect_right(
                    self.category_cumulative, rng.random() * self.category_cumulative[-1])]
                category_id, urgent = self.categories[code]
                if node.districts:
                    district_id, district_name = node.districts[_pick(
                        rng, self.district_cumulative_of[id(node)])]
                else:
                    district_id, district_name = self.all_districts[_pick(
                        rng, self.district_cumulative)]
                status = self._status(age)
                archive_reason = duplicate_of = None
                if status == "archived":
                    archive_reason = reasons[bisect.bisect_right(
                        reason_cumulative, rng.random() * reason_cumulative[-1])]
                    if archive_reason == "duplicate":
                        original = next((r for r in reversed(recent[-200:])
                                         if r[5] is node), None)
                        if original is None:
                            archive_reason = "not_actionable"
                        else:
                            duplicate_of = original[0]
                if duplicate_of is not None:
                    _, title, body, code, district_id, _ = original
                    category_id, urgent = self.categories[code]
                elif kind == "complaint":
                    title, body = maker.report(code, district_name)
                else:
                    title, body = maker.other(ASPIRATIONS if kind == "aspiration"
                                              else INFORMATION_REQUESTS, district_name)
                person = _pick(rng, person_cumulative)
                has_identity = rng.random() < 0.95
                identity = self._identity(person) if has_identity else None
                pii = rng.random() < PII_SHARE and duplicate_of is None
                if pii:
                    if rng.random() < 0.5:
                        body += f" Hubungi saya di 08{rng.randrange(10**9, 10**10)}."
                    else:
                        body += (f" Saya {identity[6] if identity else 'warga'}, NIK "
                                 f"3603{rng.randrange(10**11, 10**12)}.")
                    text = search_text(title, body, [identity[6]] if identity else [])
                else:
                    text = " ".join(f"{title}\n{body}".split())
                if duplicate_of is None:
                    recent.append((rid, title, body, code, district_id, node))
                    if len(recent) > 4000:
                        del recent[:2000]

                # The handling: steps after filing, in order, none after now.
                steps = {}
                reached = ("verified", "dispositioned", "in_progress", "answered",
                           "completed")
                if status in reached:
                    t = created + hour * rng.lognormvariate(2.5, 1.0)
                    steps["verified"] = t
                    if status != "verified":
                        t += hour * rng.lognormvariate(2.0, 1.0)
                        steps["dispositioned"] = t
                    if status in ("in_progress", "answered", "completed"):
                        if status == "in_progress" or rng.random() < 0.7:
                            t += hour * rng.lognormvariate(3.5, 0.8)
                            steps["follow_up"] = t
                        if status != "in_progress":
                            t += hour * rng.lognormvariate(4.2, 0.8)
                            steps["answered"] = t
                        if status == "completed":
                            t += hour * rng.lognormvariate(4.5, 0.8)
                            steps["completed"] = t
                elif status == "archived":
                    steps["archived"] = created + hour * rng.lognormvariate(2.5, 1.0)
                if steps:
                    last = max(steps.values())
                    if status == "answered":
                        # The sweep completes an answer left 10 working days without a reply.
                        target = max(created + (now - created) * 0.5,
                                     now - day * rng.uniform(0, 7))
                    elif last > now:
                        target = created + (now - created) * rng.uniform(0.5, 0.98)
                    else:
                        target = last
                    factor = (target - created) / (last - created)
                    steps = {k: created + (v - created) * factor for k, v in steps.items()}
                unit = operator = None
                if "dispositioned" in steps and node.units:
                    unit = node.units[_pick(rng, self.unit_cumulative[id(node)])]
                    operator = unit.operator_id if rng.random() < 0.6 else None

                # The staff clock.
                deadline_kind = clock_started = clock_days = due = None
                added, extended = 0, False
                info = kind == "information_request"
                if status == "submitted":
                    deadline_kind, clock_started = "verification", created
                    clock_days = DEFAULT_DAYS["verification"]
                elif status in ("verified", "dispositioned", "in_progress") and info:
                    deadline_kind, clock_started = "information_answer", steps["verified"]
                    clock_days = DEFAULT_DAYS["information_answer"]
                    if status != "verified" and rng.random() < 0.1:
                        added, extended = DEFAULT_DAYS["extension"], True
                elif status == "verified":
                    deadline_kind, clock_started = "follow_up", steps["verified"]
                    clock_days = DEFAULT_DAYS["urgent" if urgent else "follow_up"]
                elif status == "dispositioned":
                    deadline_kind, clock_started = "follow_up", steps["dispositioned"]
                    clock_days = DEFAULT_DAYS["urgent" if urgent else "follow_up"]
                if deadline_kind is not None:
                    due = self.clock.due(clock_started, clock_days + added)

                first_response = steps.get("follow_up") or steps.get("answered")
                updated = max(steps.values()) if steps else created
                confidential = rng.random() < CONFIDENTIAL_SHARE
                public = not confidential and status not in ("submitted", "archived")
                support = 0
                if public and rng.random() < 0.2:
                    support = min(500, int(rng.paretovariate(1.5)))
                    for k in range(support):
                        supports.append((self._take("report_support"), rid, None,
                                         hashlib.sha256(b"%d:%d:%d" % (self.seed, rid, k))
                                         .digest(), min(now, created + hour * (k + 1))))
                channel = channels[bisect.bisect_right(
                    channel_cumulative, rng.random() * channel_cumulative[-1])]
                reports.append((
                    rid, f"LPR-{(created + JAKARTA_OFFSET).year}-{rid:07d}",
                    hash_tracking_code(tracking_code(self.seed, rid)), kind, title, body,
                    category_id, district_id, rng.choice(VILLAGES) if rng.random() < 0.6
                    else None, f"RT 0{rng.randint(1, 9)}/RW 0{rng.randint(1, 9)}"
                    if rng.random() < 0.3 else None,
                    (created + JAKARTA_OFFSET - day * rng.randint(0, 10)).date()
                    if rng.random() < 0.6 else None, channel, rng.random() < ANONYMOUS_SHARE,
                    confidential, status, node.id, unit.id if unit else None, operator,
                    archive_reason, first_response, steps.get("answered"),
                    steps.get("completed"), due, deadline_kind, clock_started, clock_days,
                    added, None, extended, created, updated, text_hash(title, body),
                    duplicate_of, 1, support))
                texts.append(text)
                s.by_kind[kind] = s.by_kind.get(kind, 0) + 1
                s.by_status[status] = s.by_status.get(status, 0) + 1
                s.anonymous += reports[-1][12]
                s.confidential += confidential
                if identity is not None:
                    # An anonymous report keeps no plain link to the account (migration
                    # 0014): the contact hash finds it, the account id is kept encrypted.
                    anonymous = reports[-1][12]
                    identities.append((self._take("reporter_identity"), rid,
                                       None if anonymous else identity[0]) + identity[1:6]
                                      + (identity[7] if anonymous else None,))

                # The history.
                def event(kind_, at, actor, status_after, *, visible=True, message=None,
                          target=None, target_user=None, related=None, due_at=None,
                          report_id=rid):
                    events.append((self._take("report_event"), report_id, kind_, actor,
                                   visible, status_after, message, target, target_user,
                                   related, due_at, at))

                event("submitted", created, None, "submitted")
                if "verified" in steps:
                    event("verified", steps["verified"], node.admin_id, "verified")
                if "dispositioned" in steps and unit is not None:
                    if info:
                        unit_due = self.clock.due(steps["verified"],
                                                  DEFAULT_DAYS["information_answer"] + added)
                    else:
                        unit_due = self.clock.due(steps["dispositioned"], DEFAULT_DAYS[
                            "urgent" if urgent else "follow_up"])
                    event("dispositioned", steps["dispositioned"], node.admin_id,
                          "dispositioned", target=unit.id, due_at=unit_due)
                    if operator is not None:
                        event("assigned", steps["dispositioned"] + hour, unit.liaison_id,
                              "dispositioned", visible=False, target_user=operator)
                actor = operator or (unit.operator_id if unit else node.admin_id)
                if "follow_up" in steps:
                    event("follow_up", steps["follow_up"], actor, "in_progress",
                          message=rng.choice(MESSAGES["follow_up"]))
                if "answered" in steps:
                    event("answered", steps["answered"], actor, "answered",
                          message=rng.choice(MESSAGES["answered"]))
                if "completed" in steps:
                    event("completed", steps["completed"], None, "completed")
                    if rng.random() < 0.55:
                        at = min(now, steps["completed"] + hour)
                        score = rng.choices(SCORES, SCORE_WEIGHTS)[0]
                        ratings.append((self._take("report_rating"), rid, score,
                                        rng.choice(MESSAGES["comment"])
                                        if rng.random() < 0.3 else None, at))
                        event("rated", at, None, "completed")
                if "archived" in steps:
                    event("archived", steps["archived"], node.admin_id, "archived",
                          related=duplicate_of)
                    if duplicate_of is not None:
                        s.duplicates += 1
                        event("duplicate_merged", steps["archived"], node.admin_id, None,
                              visible=False, related=rid, report_id=duplicate_of)
                if due is not None and due < now - day:
                    # The sweep has been running: it marked the report red the night it was.
                    notices.append((self._take("deadline_notice"), rid, "overdue", due,
                                    "generated", due))
                    event("overdue", due, None, status, visible=False, due_at=due)

            self.writer.write_reports(reports, texts)
            self.writer.write("report_event", EVENT_COLUMNS, events)
            self.writer.write("reporter_identity", IDENTITY_COLUMNS, identities)
            self.writer.write("report_rating", RATING_COLUMNS, ratings)
            self.writer.write("report_support", SUPPORT_COLUMNS, supports)
            self.writer.write("deadline_notice", NOTICE_COLUMNS, notices)
            s.events += len(events)
            s.identities += len(identities)
            s.ratings += len(ratings)
            s.supports += len(supports)
            s.notices += len(notices)
            if self.progress is not None:
                self.progress(len(reports))
        self.writer.create_indexes(dropped)
        self.writer.reset_sequences(("report", "report_event", "reporter_identity",
                                     "report_rating", "report_support", "deadline_notice"))


def generate(session, *, reports: int, seed: int = 1, now: datetime | None = None,
             progress=None) -> Summary:
    """Fill the database behind ``session`` (holding no report) with generated data. Flushes
    and writes in the session's transaction; the caller commits. ``progress(k)`` is called
    after each batch of k reports."""
    from portal.models.types import utcnow

    if reports < 1:
        raise ValueError("reports must be at least 1")
    if session.execute(sa.text("SELECT 1 FROM report LIMIT 1")).first() is not None:
        raise DatabaseNotEmpty("the database already holds reports")
    now = now or utcnow().replace(microsecond=0)
    generator = Generator(session, reports=reports, seed=seed, now=now, progress=progress)
    generator.build_tree()
    generator.generate_reports()
    return generator.summary


def refresh_statistics(session, now: datetime) -> bool:
    """Rebuild the statistics summary (as the worker would have), if the feature exists."""
    try:
        from portal.domain.statistics import rebuild_summary
    except ImportError:
        return False
    rebuild_summary(now)
    return True
