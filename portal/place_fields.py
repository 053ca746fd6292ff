"""The kecamatan fields of the filing and intake forms, at any scale (portal/domain/places.py).

Each form declares ``district`` (a SelectField), ``district_name`` and ``regency`` (text).
With a few kecamatan the form shows the select, as always; with many it shows the text fields
and, after a name shared by several regencies, the select again with those few matches only.
"""
from wtforms.fields.choices import SelectChoice

from portal.domain import places
from portal.i18n import lazy_gettext as _l


def prepare_district_fields(form) -> None:
    """Before the form is shown or checked: the select's choices, or text mode."""
    options = places.district_options()
    form.place_as_text = options is None
    form.regency_options = None
    if options is not None:
        form.district.choices = [SelectChoice("", _l("— choose a kecamatan —"))] + [
            SelectChoice(district_id, name) for district_id, name in options]
        return
    form.regency_options = places.regency_options()
    form.district.choices = []
    form.district.validate_choice = False  # checked by resolve_district_fields


def resolve_district_fields(form, *, messages: bool = True) -> None:
    """In text mode, after ``form.validate()`` (which clears errors): the typed name becomes
    ``form.district.data`` (or None), with a short choice or a message when it is not enough."""
    if not getattr(form, "place_as_text", False):
        return
    chosen = form.district.data if isinstance(form.district.data, int) else None
    found = places.resolve_district(form.district_name.data, form.regency.data, chosen)
    form.district.data = found.district_id
    if found.matches:
        form.district.choices = [SelectChoice("", _l("— choose the kecamatan —"))] + [
            SelectChoice(option.id, option.label) for option in found.matches]
        form.district.label.text = _l("Which kecamatan?")
    if found.message is not None and messages:
        form.district_name.errors = list(form.district_name.errors) + [found.message]
