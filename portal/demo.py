"""Demo data: the Kabupaten Tangerang tree from the brief, its categories, and one staff account
per role. Loading twice changes nothing."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Category,
    District,
    Institution,
    InstitutionKind,
    Membership,
    Role,
    User,
)

DEMO_PASSWORD = "lapor-demo-2026"

NATIONAL = ("KEMENPANRB", "Kementerian PANRB (Admin Nasional)")
REGENCY = ("KAB-TANGERANG", "Pemerintah Kabupaten Tangerang")
UNITS = [
    ("TNG-DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("TNG-DISHUB", "Dinas Perhubungan"),
    ("TNG-DLHK", "Dinas Lingkungan Hidup dan Kebersihan"),
    ("TNG-DBMSDA", "Dinas Bina Marga dan Sumber Daya Air"),
    ("TNG-DINKES", "Dinas Kesehatan"),
    ("TNG-DISDIK", "Dinas Pendidikan"),
    ("TNG-KEC-CIKUPA", "Kecamatan Cikupa"),
    ("TNG-KEC-BALARAJA", "Kecamatan Balaraja"),
    ("TNG-KEC-TIGARAKSA", "Kecamatan Tigaraksa"),
]
# (code, Indonesian, English, default unit, urgent)
CATEGORIES = [
    ("ADMINDUK", "Administrasi Kependudukan (KTP, KK)", "Population administration (ID card, family card)",
     "TNG-DISDUKCAPIL", False),
    ("PERHUBUNGAN", "Perhubungan (jam operasional truk, angkutan)", "Transport (truck hours, public transport)",
     "TNG-DISHUB", False),
    ("LINGKUNGAN", "Lingkungan Hidup (limbah B3, sampah)", "Environment (hazardous waste, rubbish)",
     "TNG-DLHK", False),
    ("INFRASTRUKTUR", "Infrastruktur (jalan rusak, drainase)", "Infrastructure (damaged roads, drainage)",
     "TNG-DBMSDA", False),
    ("KESEHATAN", "Kesehatan (pelayanan puskesmas)", "Health (community health centre service)",
     "TNG-DINKES", False),
    ("KEDARURATAN-KESEHATAN", "Kedaruratan Kesehatan (wabah, COVID-19)",
     "Health emergency (outbreak, COVID-19)", "TNG-DINKES", True),
    ("PENDIDIKAN", "Pendidikan (sekolah, PPDB)", "Education (schools, admissions)", "TNG-DISDIK", False),
    ("KETERTIBAN", "Ketertiban Umum", "Public order", "TNG-KEC-CIKUPA", False),
    ("LAINNYA", "Lainnya", "Other", None, False),
]
DISTRICTS = [
    "Balaraja", "Cikupa", "Cisauk", "Cisoka", "Curug", "Gunung Kaler", "Jambe", "Jayanti",
    "Kelapa Dua", "Kemiri", "Kosambi", "Kresek", "Kronjo", "Legok", "Mauk", "Mekar Baru",
    "Pagedangan", "Pakuhaji", "Panongan", "Pasar Kemis", "Rajeg", "Sepatan", "Sepatan Timur",
    "Sindang Jaya", "Solear", "Sukadiri", "Sukamulya", "Teluknaga", "Tigaraksa",
]
# (e-mail, name, node code, role)
STAFF = [
    ("admin.nasional@lapor.example.id", "Admin Nasional KemenPANRB", NATIONAL[0], Role.NATIONAL_ADMIN),
    ("admin@tangerangkab.example.id", "Admin Utama Diskominfo", REGENCY[0], Role.INSTITUTION_ADMIN),
    ("penghubung.disdukcapil@tangerangkab.example.id", "Pejabat Penghubung Disdukcapil",
     "TNG-DISDUKCAPIL", Role.LIAISON),
    ("operator.disdukcapil@tangerangkab.example.id", "Operator Disdukcapil", "TNG-DISDUKCAPIL",
     Role.OPERATOR),
    ("inspektorat@tangerangkab.example.id", "Inspektorat Kabupaten Tangerang", REGENCY[0],
     Role.SUPERVISOR),
]


class _Counter:
    def __init__(self):
        self.created = 0
        self.existing = 0


def _institution(counter, code, name, kind, parent) -> Institution:
    node = db.session.scalar(select(Institution).where(Institution.code == code))
    if node is None:
        node = Institution(code=code, name=name, kind=kind, parent=parent)
        db.session.add(node)
        counter.created += 1
    else:
        counter.existing += 1
    return node


def load_demo_data() -> dict:
    """Create what is missing; never change or duplicate what is there. Flushes, never commits."""
    counter = _Counter()
    national = _institution(counter, *NATIONAL, InstitutionKind.NATIONAL, None)
    regency = _institution(counter, *REGENCY, InstitutionKind.INSTITUTION, national)
    units = {code: _institution(counter, code, name, InstitutionKind.UNIT, regency)
             for code, name in UNITS}
    db.session.flush()

    existing_districts = set(db.session.scalars(
        select(District.name).where(District.institution_id == regency.id)))
    for name in DISTRICTS:
        if name in existing_districts:
            counter.existing += 1
        else:
            db.session.add(District(institution=regency, name=name))
            counter.created += 1

    for code, name_id, name_en, unit_code, urgent in CATEGORIES:
        if db.session.scalar(select(Category).where(Category.code == code)):
            counter.existing += 1
            continue
        db.session.add(Category(code=code, name_id=name_id, name_en=name_en, is_urgent=urgent,
                                default_unit=units.get(unit_code)))
        counter.created += 1

    nodes = {national.code: national, regency.code: regency, **units}
    shared_hash = None
    for email, name, node_code, role in STAFF:
        if db.session.scalar(select(User).where(User.email == email)):
            counter.existing += 1
            continue
        user = User(email=email, name=name, is_staff=True)
        if shared_hash is None:  # one slow hash for all demo accounts: they share a password
            user.set_password(DEMO_PASSWORD)
            shared_hash = user.password_hash
        user.password_hash = shared_hash
        user.memberships.append(Membership(institution=nodes[node_code], role=role))
        db.session.add(user)
        counter.created += 1
    db.session.flush()
    return {"created": counter.created, "existing": counter.existing}
