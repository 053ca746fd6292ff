"""The kecamatan (districts) a report can name, cheaply at any scale.

A regency's portal has a few dozen kecamatan: the forms offer them in one <select>, as always.
The national portal has thousands (3,545 in ``flask dev generate``): listing them all made every
filing page 150 KB and every POST build the whole list again to check the choice. Above
``DISTRICT_SELECT_MAX`` the forms ask for the kecamatan's name as text (and, optionally, the
regency or city) and :func:`resolve_district` finds it with one indexed query
(ix_district_name_lower, migration 0016): one match is taken, several come back as a short
choice labelled with their regency, none gets a message.
"""
import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import District, Institution

DISTRICT_SELECT_MAX = 150  # at most this many kecamatan: a plain <select>
MAX_MATCHES = 50  # the same name in more regencies than this is not a real case
SUGGESTIONS = 20  # names offered to the type-ahead list

_PREFIX = re.compile(r"^(kecamatan|kec\.?)\s+", re.IGNORECASE)


def select_max() -> int:
    return int(current_app.config.get("DISTRICT_SELECT_MAX", DISTRICT_SELECT_MAX))


def district_key(text: str | None) -> str:
    """A typed name as compared: case and spaces ignored, a leading "Kec."/"Kecamatan" dropped."""
    words = " ".join((text or "").split())
    return _PREFIX.sub("", words).lower()


def district_options() -> list | None:
    """Every kecamatan (rows of id, name) by name when there are at most ``select_max()``; None when
    there are more (the forms then ask for the name as text). One statement, at most
    ``select_max() + 1`` rows, whatever the size of the country."""
    cap = select_max()
    rows = db.session.execute(select(District.id, District.name).limit(cap + 1)).all()
    if len(rows) > cap:
        return None
    return sorted(rows, key=lambda row: (row.name, row.id))


def regency_options() -> list[str] | None:
    """The names of the regencies and cities that have kecamatan, when there are at most
    ``select_max()`` of them (an optional <select> next to the typed kecamatan); else None."""
    cap = select_max()
    names = db.session.scalars(
        select(Institution.name)
        .where(Institution.id.in_(select(District.institution_id).distinct()))
        .limit(cap + 1)).all()
    return None if len(names) > cap else sorted(names)


@dataclass(frozen=True)
class PlaceOption:
    id: int
    name: str
    regency: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.regency})"


def match_districts(name: str | None) -> list[PlaceOption]:
    """The kecamatan called ``name`` (see :func:`district_key`), with their regency: one
    index lookup on lower(name)."""
    key = district_key(name)
    if not key:
        return []
    rows = db.session.execute(
        select(District.id, District.name, Institution.name)
        .join(Institution, District.institution_id == Institution.id)
        .where(func.lower(District.name).in_([key, f"kecamatan {key}"]))
        .order_by(Institution.name, District.id)
        .limit(MAX_MATCHES)).all()
    return [PlaceOption(*row) for row in rows]


def suggest_districts(prefix: str | None) -> list[str]:
    """At most ``SUGGESTIONS`` distinct kecamatan names starting with ``prefix`` (two letters
    at least), for the form's type-ahead list."""
    key = district_key(prefix)
    if len(key) < 2:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.scalars(
        select(District.name).where(func.lower(District.name).like(f"{escaped}%", escape="\\"))
        .distinct().order_by(District.name).limit(SUGGESTIONS)))


def _in_regency(option: PlaceOption, regency: str) -> bool:
    return regency in " ".join(option.regency.split()).lower()


@dataclass
class DistrictResolution:
    """What a typed kecamatan came to: the id (or None), a short list to choose from when the
    name is not enough, and the message to show next to the field."""

    district_id: int | None = None
    matches: list[PlaceOption] = field(default_factory=list)
    message: object | None = None


def resolve_district(name: str | None, regency: str | None = None,
                     chosen_id: int | None = None) -> DistrictResolution:
    """The kecamatan a visitor typed. ``regency`` (optional, any part of its name) narrows
    a name shared by several regencies; ``chosen_id`` is the choice made in the short list
    shown the previous time (kept only if it is still one of the matches)."""
    if not district_key(name):
        return DistrictResolution()
    matches = match_districts(name)
    if not matches:
        return DistrictResolution(message=_l(
            "No kecamatan is called “%(name)s”. Check the spelling and type the name only, "
            "for example Cikupa.", name=" ".join(name.split())))
    for option in matches:
        if option.id == chosen_id:
            return DistrictResolution(district_id=option.id)
    regency_key = " ".join((regency or "").split()).lower()
    narrowed = matches
    if regency_key:
        exact = [m for m in matches if " ".join(m.regency.split()).lower() == regency_key]
        narrowed = exact or [m for m in matches if _in_regency(m, regency_key)]
    if len(narrowed) == 1:
        return DistrictResolution(district_id=narrowed[0].id)
    if not narrowed:
        return DistrictResolution(matches=matches, message=_l(
            "There is no kecamatan “%(name)s” in “%(regency)s”. Choose one of these.",
            name=matches[0].name, regency=" ".join(regency.split())))
    return DistrictResolution(matches=narrowed, message=_l(
        "Several regencies or cities have a kecamatan called “%(name)s”. Choose yours.",
        name=narrowed[0].name))
