"""The translation catalogs keep up with the code.

A text wrapped in ``_()``, ``_l()`` or ``ngettext`` that is not in the committed catalogs fails
here with its msgid; ``flask translate update`` and a translation in the id catalog fix it.
"""
import io
import re

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.cli import MESSAGES_POT, TRANSLATIONS_DIR, extract_messages

FIX = ("Run `flask translate update`, translate the new entries in "
       "portal/translations/id/LC_MESSAGES/messages.po and commit the .pot and both .po files.")

# A printf conversion: %(name)s, %(num)d, %s, %5.1f ... and the escaped %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")


def read_catalog(path, locale=None):
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def msgids(catalog) -> set:
    return {message.id for message in catalog if message.id}


def catalog_path(locale: str):
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"


def placeholders(text: str) -> set:
    return set(PLACEHOLDER.findall(text))


def show(ids) -> str:
    return "\n".join(f"  {msgid!r}" for msgid in sorted(ids, key=str))


@pytest.fixture(scope="module")
def template():
    return read_catalog(MESSAGES_POT)


def test_committed_template_is_up_to_date(tmp_path, template):
    fresh_path = tmp_path / "messages.pot"
    extract_messages(fresh_path)
    fresh, committed = msgids(read_catalog(fresh_path)), msgids(template)

    missing, stale = fresh - committed, committed - fresh
    assert not (missing or stale), (
        f"texts in the code that the catalogs lack:\n{show(missing)}\n"
        f"texts in the catalogs that the code no longer uses:\n{show(stale)}\n{FIX}"
    )


def test_extraction_reads_every_template_folder(template):
    # pybabel skips folders starting with "_" unless told otherwise (templates/_macros).
    assert "Please check the form" in msgids(template)


def test_indonesian_catalog_translates_every_text(template):
    catalog = read_catalog(catalog_path("id"), locale="id")
    assert catalog.num_plurals == 1 and catalog.plural_expr == "0"

    messages = {message.id: message for message in catalog if message.id}
    missing = msgids(template) - set(messages)
    fuzzy = {m.id for m in messages.values() if m.fuzzy}
    untranslated = {m.id for m in messages.values()
                    if not m.string or (m.pluralizable and not all(m.string))}
    assert not (missing or fuzzy or untranslated), (
        f"msgids without an entry in the id catalog:\n{show(missing)}\n"
        f"fuzzy entries (check the translation, then remove '#, fuzzy'):\n{show(fuzzy)}\n"
        f"entries with an empty msgstr:\n{show(untranslated)}\n{FIX}"
    )
    assert len(msgids(template)) > 100


def test_indonesian_placeholders_match_the_english(template):
    catalog = read_catalog(catalog_path("id"), locale="id")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        source = message.id[-1] if message.pluralizable else message.id
        strings = message.string if message.pluralizable else (message.string,)
        for string in strings:
            if placeholders(string) != placeholders(source):
                wrong.append(f"{source!r} -> {string!r}")
            # Jinja's newstyle gettext %-formats every text: a lone % would break the page.
            if "%" in PLACEHOLDER.sub("", string):
                wrong.append(f"stray % in {string!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)
    errors = [(message.id, errs) for message, errs in catalog.check()]
    assert not errors, f"babel's catalog checks failed: {errors}"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_catalogs_exist_cover_the_template_and_compile(locale, template):
    catalog = read_catalog(catalog_path(locale), locale=locale)
    assert str(catalog.locale) == locale
    missing = msgids(template) - msgids(catalog)
    assert not missing, f"msgids without an entry in the {locale} catalog:\n{show(missing)}\n{FIX}"
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert compiled.getvalue()
