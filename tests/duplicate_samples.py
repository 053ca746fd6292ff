"""A hand-made set of Indonesian report pairs for the duplicate candidates
(tests/unit/test_duplicates.py and the thresholds in portal/domain/duplicates.py).

Each pair is an earlier report and a later one, with what a careful administrator would say:
``True`` (the later one repeats the earlier one: the same problem at the same place) or
``False`` (a near miss: the same street with another problem, the same problem in another
kecamatan, the same reporter writing about something else). ``rule`` says which rule should
find (or must not flag) it: "place" (same category and kecamatan), "reporter" (same
reporter, maybe another category or no kecamatan) or "elsewhere" (another kecamatan, another
reporter: no rule may flag it).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    title: str
    body: str
    category: str  # Category.code of the demo data
    district: str | None  # a demo kecamatan, or None (left empty)


@dataclass(frozen=True)
class Pair:
    name: str
    earlier: Sample
    later: Sample
    duplicate: bool
    rule: str  # "place", "reporter" or "elsewhere"


S = Sample
INFRA, ENV, TRANSPORT, POP, HEALTH, EDU, ORDER, OTHER = (
    "INFRASTRUKTUR", "LINGKUNGAN", "PERHUBUNGAN", "ADMINDUK", "KESEHATAN", "PENDIDIKAN",
    "KETERTIBAN", "LAINNYA")

POTHOLE = S("Jalan rusak parah di Jl. Raya Serang KM 24 Cikupa",
            "Jalan di Jl. Raya Serang km 24 dekat Pasar Cikupa rusak parah, banyak lubang besar "
            "dan sudah dua bulan tidak diperbaiki. Pengendara motor sering jatuh.", INFRA,
            "Cikupa")
STREET_LIGHT = S("Lampu penerangan jalan mati di Jl. Raya Serang KM 24 Cikupa",
                 "Sudah seminggu lampu PJU di Jl. Raya Serang km 24 dekat Pasar Cikupa mati "
                 "semua, jalan gelap gulita pada malam hari dan rawan begal.", INFRA, "Cikupa")
B3_WASTE = S("Pabrik membuang limbah B3 ke Kali Dadap",
             "Setiap malam pabrik di Desa Salembaran Jaya, Kosambi, membuang limbah cair berwarna "
             "hitam ke Kali Dadap. Airnya bau menyengat dan ikan-ikan mati.", ENV, "Kosambi")
TRUCKS = S("Truk tanah melintas di luar jam operasional di Balaraja",
           "Truk pengangkut tanah tetap melintas di Jalan Raya Balaraja pada siang hari, padahal "
           "jam operasional truk hanya pukul 22.00 sampai 05.00. Jalan macet dan berdebu.",
           TRANSPORT, "Balaraja")
BLANKS = S("Blangko KTP elektronik habis di Disdukcapil",
           "Sudah tiga minggu blangko KTP-el di kantor Disdukcapil Tigaraksa habis. Warga "
           "disuruh pulang tanpa kepastian kapan KTP bisa dicetak.", POP, "Tigaraksa")
QUEUE = S("Antrean Puskesmas Pasar Kemis sangat panjang",
          "Pasien di Puskesmas Pasar Kemis harus antre dari jam 6 pagi, dokter baru datang jam "
          "11 siang. Banyak lansia menunggu berjam-jam tanpa kepastian.", HEALTH, "Pasar Kemis")
RUBBISH = S("Sampah menumpuk di TPS Curug tidak diangkut",
            "Sampah di TPS dekat Pasar Curug sudah dua minggu tidak diangkut truk DLHK, "
            "menumpuk sampai ke jalan dan baunya menyebar ke permukiman.", ENV, "Curug")
DRAIN = S("Saluran air tersumbat, Perumahan Sepatan banjir",
          "Drainase di Perumahan Taman Sepatan tersumbat lumpur dan sampah, setiap hujan "
          "rumah warga kebanjiran setinggi lutut.", INFRA, "Sepatan")
UNIFORM = S("Pungutan uang seragam di SMPN 1 Legok",
            "Sekolah meminta orang tua murid baru membayar Rp 1.200.000 untuk seragam dan buku, "
            "tanpa kuitansi resmi. Padahal katanya sekolah gratis.", EDU, "Legok")
BRIDGE = S("Jembatan penghubung Desa Tanjung Burung ambrol",
           "Jembatan kayu yang menghubungkan Desa Tanjung Burung dengan jalan raya di "
           "Teluknaga ambrol sejak minggu lalu. Anak sekolah harus memutar 5 km.", INFRA,
           "Teluknaga")
PARKING = S("Parkir liar di depan Stasiun Cikupa",
            "Juru parkir liar menguasai bahu jalan di depan Stasiun Cikupa, memungut Rp 5.000 "
            "dan membuat kemacetan setiap pagi dan sore.", ORDER, "Cikupa")
FAMILY_CARD = S("Kartu Keluarga belum jadi setelah 2 bulan",
                "Saya mengurus perubahan Kartu Keluarga di Kecamatan Cikupa sejak dua bulan lalu "
                "tetapi sampai sekarang KK belum jadi, setiap ditanya petugas bilang sistem "
                "error.", POP, "Cikupa")
LAMP_HOME = S("Lampu jalan mati di Perumahan Citra Raya blok F",
              "Lampu jalan di blok F Perumahan Citra Raya mati sudah dua minggu, warga takut "
              "keluar malam.", INFRA, "Panongan")
MEDICINE = S("Obat di Puskesmas Pasar Kemis sering kosong",
             "Setiap berobat ke Puskesmas Pasar Kemis, apotek bilang obat hipertensi kosong dan "
             "pasien disuruh membeli sendiri di apotek luar.", HEALTH, "Pasar Kemis")

PAIRS: tuple[Pair, ...] = (
    # ---------------------------------------------------------------- the same problem again
    Pair("pothole, another citizen", POTHOLE, S(
        "Lubang besar di Jl Raya Serang km 24 Cikupa",
        "Mohon segera diperbaiki, Jalan Raya Serang km 24 depan Pasar Cikupa berlubang besar dan "
        "sering membuat motor jatuh, sudah lama dibiarkan.", INFRA, "Cikupa"), True, "place"),
    Pair("B3 waste, another villager", B3_WASTE, S(
        "Limbah pabrik dibuang ke Kali Dadap, ikan mati",
        "Kali Dadap di Salembaran Jaya tercemar limbah hitam dari pabrik, dibuang malam hari. "
        "Bau menyengat dan banyak ikan mati.", ENV, "Kosambi"), True, "place"),
    Pair("trucks, a driver", TRUCKS, S(
        "Truk tanah siang hari di Jalan Raya Balaraja",
        "Mohon ditertibkan truk tanah yang melintas siang hari di Jalan Raya Balaraja, "
        "melanggar jam operasional truk. Macet dan debu di mana-mana.", TRANSPORT, "Balaraja"),
         True, "place"),
    Pair("ID card blanks, from the feed", BLANKS, S(
        "KTP-el tidak bisa dicetak, blangko habis",
        "Warga Tigaraksa tidak bisa mencetak KTP elektronik karena blangko habis di kantor "
        "Disdukcapil sudah tiga minggu, tidak ada kepastian.", POP, "Tigaraksa"), True, "place"),
    Pair("puskesmas queue, another patient", QUEUE, S(
        "Dokter Puskesmas Pasar Kemis datang terlambat, antre berjam-jam",
        "Kami antre di Puskesmas Pasar Kemis sejak pagi tetapi dokter baru datang siang, lansia "
        "menunggu berjam-jam.", HEALTH, "Pasar Kemis"), True, "place"),
    Pair("rubbish, a shopkeeper", RUBBISH, S(
        "TPS Pasar Curug penuh sampah",
        "Sampah di TPS Pasar Curug tidak diangkut dua minggu, menumpuk sampai jalan dan bau "
        "sampai ke rumah warga.", ENV, "Curug"), True, "place"),
    Pair("drain, a neighbour", DRAIN, S(
        "Banjir di Perumahan Taman Sepatan karena drainase tersumbat",
        "Setiap hujan Perumahan Taman Sepatan banjir setinggi lutut karena saluran drainase "
        "tersumbat lumpur dan sampah.", INFRA, "Sepatan"), True, "place"),
    Pair("uniform fee, another parent", UNIFORM, S(
        "SMPN 1 Legok minta uang seragam 1,2 juta",
        "Orang tua murid baru di SMPN 1 Legok diminta bayar Rp 1.200.000 untuk seragam dan buku "
        "tanpa kuitansi.", EDU, "Legok"), True, "place"),
    Pair("bridge, the village head", BRIDGE, S(
        "Jembatan Tanjung Burung ambruk",
        "Jembatan kayu Desa Tanjung Burung di Teluknaga ambruk, anak-anak sekolah terpaksa "
        "memutar jauh lewat jalan lain.", INFRA, "Teluknaga"), True, "place"),
    Pair("illegal parking, a commuter", PARKING, S(
        "Juru parkir liar Stasiun Cikupa bikin macet",
        "Bahu jalan depan Stasiun Cikupa dikuasai juru parkir liar yang memungut Rp 5.000, jalan "
        "macet setiap pagi dan sore.", ORDER, "Cikupa"), True, "place"),
    # The same reporter, writing again: another category, or no kecamatan this time.
    Pair("family card, asked again", FAMILY_CARD, S(
        "KK saya belum selesai juga",
        "Sudah dua bulan saya menunggu Kartu Keluarga yang diurus di Kecamatan Cikupa, belum "
        "jadi juga. Petugas hanya bilang sistem error. Mohon dibantu.", OTHER, None), True,
     "reporter"),
    Pair("puskesmas queue, the same patient again", QUEUE, S(
        "Masih antre lama di Puskesmas Pasar Kemis",
        "Laporan saya sebelumnya belum ditanggapi. Hari ini antre lagi dari pagi di Puskesmas "
        "Pasar Kemis, dokter baru datang jam 11.", HEALTH, None), True, "reporter"),
    Pair("street lamp, the same resident again", LAMP_HOME, S(
        "Lampu PJU blok F Citra Raya masih mati",
        "Lampu penerangan jalan di blok F Citra Raya masih mati, sudah dua minggu. Warga takut "
        "keluar malam.", OTHER, "Panongan"), True, "reporter"),
    # ---------------------------------------------------------------- near misses
    Pair("same street, street light instead of potholes", POTHOLE, STREET_LIGHT, False,
         "place"),
    Pair("same street, a blocked drain", POTHOLE, S(
        "Got tersumbat di Jl. Raya Serang KM 24 Cikupa",
        "Saluran air di pinggir Jl. Raya Serang km 24 dekat Pasar Cikupa tersumbat sampah, air "
        "meluap ke jalan setiap hujan.", INFRA, "Cikupa"), False, "place"),
    Pair("Kosambi, rubbish instead of B3 waste", B3_WASTE, S(
        "Sampah tidak diangkut di Salembaran Jaya",
        "Sampah rumah tangga di Desa Salembaran Jaya, Kosambi, tidak diangkut sejak sebulan, "
        "warga terpaksa membakar sampah.", ENV, "Kosambi"), False, "place"),
    Pair("Disdukcapil, extortion for the family card", BLANKS, S(
        "Pungli pengurusan KK di Disdukcapil Tigaraksa",
        "Petugas loket Disdukcapil Tigaraksa meminta uang Rp 100.000 agar Kartu Keluarga cepat "
        "jadi, tanpa kuitansi.", POP, "Tigaraksa"), False, "place"),
    Pair("the same puskesmas, medicine instead of the queue", QUEUE, MEDICINE, False, "place"),
    Pair("Balaraja, minibuses instead of trucks", TRUCKS, S(
        "Angkot ngetem sembarangan di Jalan Raya Balaraja",
        "Angkot berhenti lama menunggu penumpang di tengah Jalan Raya Balaraja dekat pasar, "
        "menyebabkan macet pada jam sibuk.", TRANSPORT, "Balaraja"), False, "place"),
    Pair("SMPN 1 Legok, admissions website instead of fees", UNIFORM, S(
        "Situs PPDB SMPN 1 Legok error",
        "Saat pendaftaran PPDB, situs SMPN 1 Legok tidak bisa dibuka sejak pagi, orang tua "
        "khawatir anaknya tidak mendapat kursi.", EDU, "Legok"), False, "place"),
    Pair("the same reporter, another problem", FAMILY_CARD, S(
        "Jalan rusak di depan Kantor Kecamatan Cikupa",
        "Jalan di depan kantor kecamatan Cikupa rusak dan berlubang, saya hampir jatuh saat ke "
        "sana mengurus KK.", INFRA, "Cikupa"), False, "reporter"),
    Pair("the same patient, medicine instead of the queue", QUEUE, MEDICINE, False,
         "reporter"),
    Pair("potholes on another road in Balaraja", POTHOLE, S(
        "Jalan rusak parah di Jl. Raya Balaraja",
        "Jalan di Jl. Raya Balaraja dekat pasar rusak parah, banyak lubang besar dan sudah dua "
        "bulan tidak diperbaiki. Pengendara motor sering jatuh.", INFRA, "Balaraja"), False,
         "elsewhere"),
    Pair("blanks run out at another kecamatan", BLANKS, S(
        "Blangko KTP elektronik habis di Kecamatan Balaraja",
        "Sudah tiga minggu blangko KTP-el di kantor Kecamatan Balaraja habis. Warga disuruh "
        "pulang tanpa kepastian kapan KTP bisa dicetak.", POP, "Balaraja"), False, "elsewhere"),
)
