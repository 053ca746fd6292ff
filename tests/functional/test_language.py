"""Bahasa Indonesia by default, English on request, and a language switch that stays on site."""
import os
import re
from urllib.parse import urljoin, urlsplit

import flask_babel
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.cli import TRANSLATIONS_DIR
from portal.extensions import babel
from tests.helpers import csrf_token

HTML_LANG = re.compile(r'<html lang="([^"]+)">')


def compile_stale_catalogs() -> bool:
    """Compile every .po whose .mo is missing or older (what `make translations` does)."""
    compiled = False
    for po_path in sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        partial = mo_path.with_name(f".messages-{os.getpid()}.mo")  # git-ignored like *.mo
        with open(partial, "wb") as handle:
            write_mo(handle, catalog)
        os.replace(partial, mo_path)
        compiled = True
    return compiled


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    if compile_stale_catalogs():
        # Flask-Babel keeps loaded catalogs for the life of the process, on the one Babel
        # object every test app shares: forget any that were loaded before the .mo existed.
        babel.domain_instance.cache.clear()


@pytest.fixture(autouse=True)
def locale_chosen_per_request(app):
    """Choose the locale afresh on every request, as a deployed portal does.

    The ``app`` fixture keeps one app context pushed for the whole test and the test client's
    requests reuse it, so ``g`` (where Flask-Babel caches the locale) outlives a request.
    """
    app.before_request(flask_babel.refresh)


def page_language(html: str) -> str:
    match = HTML_LANG.search(html)
    assert match, "no <html lang=...> on the page"
    return match.group(1)


def test_home_page_is_indonesian_by_default(demo, client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page_language(html) == "id"
    assert "Sampaikan kepada pemerintah apa yang perlu diperbaiki" in html
    assert "Identitas Anda terlindungi" in html
    assert "Pengaduan" in html and "Permintaan informasi" in html  # lazy labels too
    assert "Tell the government what needs to be better" not in html
    # The switch offers English and brings the visitor back to the same page.
    assert 'href="/bahasa/en?next=/"' in html


def test_switching_to_english_returns_to_the_page(demo, client):
    response = client.get("/bahasa/en?next=/lapor")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/lapor"
    assert not urlsplit(response.headers["Location"]).netloc

    html = client.get("/lapor").get_data(as_text=True)
    assert page_language(html) == "en"
    assert "Send a report" in html
    assert "— choose a category —" in html
    assert "Kirim laporan" not in html

    client.get("/bahasa/id?next=/lapor")
    html = client.get("/lapor").get_data(as_text=True)
    assert page_language(html) == "id"
    assert "— pilih kategori —" in html


def test_unknown_language_keeps_indonesian(demo, client):
    response = client.get("/bahasa/xx?next=/")
    assert response.status_code == 302
    assert page_language(client.get("/").get_data(as_text=True)) == "id"


def test_form_errors_are_in_the_chosen_language(demo, client):
    response = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                           "code": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Mohon periksa kembali formulir Anda" in html
    assert "Ketik kode pelacakan yang Anda terima." in html

    client.get("/bahasa/en?next=/")
    response = client.post("/lacak", data={"csrf_token": csrf_token(client, "/lacak"),
                                           "code": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please check the form" in html
    assert "Type the tracking code you received." in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example",
                                    "javascript:alert(1)", "///evil.example", "evil.example"])
def test_off_site_next_goes_to_the_home_page(demo, client, target):
    response = client.get("/bahasa/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")
    # The language is still switched.
    assert page_language(client.get("/").get_data(as_text=True)) == "en"


@pytest.mark.parametrize("target", ["/\\evil.example", "/\t/evil.example", " //evil.example"])
def test_tricky_next_stays_on_this_site(demo, client, target):
    response = client.get("/bahasa/en", query_string={"next": target})
    assert response.status_code == 302
    assert urlsplit(urljoin("http://localhost/", response.headers["Location"])).netloc == \
        "localhost"
