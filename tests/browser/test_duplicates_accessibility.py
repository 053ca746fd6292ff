"""axe-core in real Chromium on the duplicate pages: the "Possible duplicates" panel, marking a
report as a duplicate with the keyboard, the original's list of copies, the queue, and the
copy's tracking page that follows the original. Reflow at 320px included."""
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.domain.filing import ReportDraft, file_report
from portal.domain.uploads import PreparedUpload
from portal.extensions import db
from portal.models import Category, District, ReportKind
from portal.models.types import utcnow
from portal.storage import AttachmentStore
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in
from tests.helpers import jpeg_bytes

pytestmark = pytest.mark.browser
ADMIN = "admin@tangerangkab.example.id"


def _file(app, title: str, body: str, *, when, files=()):
    category = db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR"))
    district = db.session.scalar(select(District.id).where(District.name == "Cikupa"))
    draft = ReportDraft(kind=ReportKind.COMPLAINT, title=title, body=body, category_id=category,
                        district_id=district, name="Warga Cikupa", email="warga@example.id")
    uploads = [PreparedUpload(original_name=name, content_type="image/jpeg", extension="jpg",
                              data=jpeg_bytes()) for name in files]
    filed = file_report(draft, uploads, now=when,
                        store=AttachmentStore(app.config["UPLOAD_FOLDER"]))
    db.session.commit()
    return filed


def test_duplicate_pages(demo, live_server, page: Page):
    now = utcnow()
    original = _file(demo, "Jalan rusak parah di Jl. Raya Serang KM 24 Cikupa",
                     "Jalan di Jl. Raya Serang km 24 dekat Pasar Cikupa rusak parah, banyak "
                     "lubang besar dan sudah dua bulan tidak diperbaiki.",
                     when=now - timedelta(days=1)).report.public_number
    copy = _file(demo, "Lubang besar di Jl Raya Serang km 24 Cikupa",
                 "Jalan Raya Serang km 24 depan Pasar Cikupa berlubang besar dan sudah dua bulan "
                 "dibiarkan, tidak diperbaiki.", when=now, files=["foto.jpg"])
    code, copy = copy.tracking_code, copy.report.public_number
    sign_in(page, live_server.url, ADMIN)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staf/duplikat")
    expect(page.locator("table.duplicate-queue")).to_contain_text(copy)
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staf/laporan/{copy}")
    panel = page.locator("#duplicates")
    expect(panel).to_contain_text(original)
    assert_accessible(page)

    # With the keyboard: focus the button, press Enter.
    page.set_viewport_size({"width": 1280, "height": 800})
    button = panel.get_by_role("button", name=f"Tandai sebagai duplikat laporan ini ({original})")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#duplicates")).to_have_count(0)
    expect(page.locator(".flash-success")).to_be_visible()

    page.goto(f"{live_server.url}/staf/laporan/{original}")
    expect(page.locator("#copies")).to_contain_text(copy)
    assert_accessible(page)

    # The copy's reporter, on their tracking page.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/lacak")
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    expect(page.locator("#followed")).to_contain_text(original)
    assert_accessible(page)
