"""Regenerate the README screenshots under docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--lang id|en] [--out docs/screenshots]

Starts the portal on a throw-away SQLite database with the demo data, serves it from a thread on
a free loopback port, and drives Chromium (``CHROMIUM``, default /usr/bin/chromium) through the
citizen's way at a mobile (390x844) and a desktop (1280x900) size: home, the filing form, the
receipt with its tracking code, and the tracked report; the staff inbox and report page; once
the report is verified, the public feed and the statistics page. Nothing outside the temporary directory
and the output folder is touched.
"""
import argparse
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal import create_app  # noqa: E402
from portal.demo import CATEGORIES, load_demo_data  # noqa: E402
from portal.extensions import db  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars"]
VIEWPORTS = {
    "mobile": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
CATEGORY_LABEL = next(name_id for code, name_id, *_ in CATEGORIES if code == "INFRASTRUKTUR")
EXAMPLE = {
    "title": "Jalan berlubang di depan Pasar Cikupa",
    "body": ("Lubang besar di Jalan Raya Serang km 24, tepat di depan Pasar Cikupa, sudah dua "
             "minggu tidak diperbaiki. Sudah ada dua pengendara motor yang jatuh pada malam hari. "
             "Mohon segera ditambal dan diberi rambu peringatan."),
    "village": "Talaga",
    "address": "Jl. Raya Serang km 24, depan Pasar Cikupa",
}


def build_app(workdir: Path):
    from flask_migrate import upgrade

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'portal.db'}",
        "SECRET_KEY": os.urandom(16).hex(),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "OUTBOX_SEND_AFTER_REQUEST": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,
        "WTF_CSRF_SSL_STRICT": False,
    })
    with app.app_context():
        upgrade()
        load_demo_data()
        db.session.commit()
    return app


def example_photo(workdir: Path) -> Path:
    path = workdir / "jalan-rusak.jpg"
    Image.new("RGB", (800, 600), (120, 110, 100)).save(path, "JPEG", quality=80)
    return path


def verify(app, number: str) -> None:
    """The institution admin verifies the filed report, so that it is public."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from portal.domain.workflow import Action, perform
    from portal.models import Report, User

    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.public_number == number))
        admin = db.session.scalar(select(User).where(User.email == "admin@tangerangkab.example.id"))
        perform(report, Action.VERIFY, actor=admin, now=datetime.now(timezone.utc),
                expected_version=report.version)
        db.session.commit()


def shoot(browser, base: str, size: str, lang: str, out: Path, photo: Path,
          whole: bool = False, app=None) -> list[Path]:
    context = browser.new_context(**VIEWPORTS[size], locale="id-ID" if lang == "id" else "en-US",
                                  color_scheme="light", reduced_motion="reduce")
    page = context.new_page()
    saved = []

    def save(name: str, full_page: bool = False) -> None:
        path = out / f"{name}-{size}.png"
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.screenshot(path=str(path), full_page=full_page or whole, animations="disabled")
        saved.append(path)

    page.goto(f"{base}/bahasa/{lang}?next=/")
    expect(page.locator(".kind-card").first).to_be_visible()
    save("home")

    page.locator('a.kind-card[href$="kind=complaint"]').click()
    page.locator("#title").fill(EXAMPLE["title"])
    page.locator("#body").fill(EXAMPLE["body"])
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#district").select_option(label="Cikupa")
    page.locator("#village").fill(EXAMPLE["village"])
    page.locator("#address").fill(EXAMPLE["address"])
    page.locator("#attachments").set_input_files(photo)
    page.locator("#is_anonymous").check()
    page.locator("h1").scroll_into_view_if_needed()
    save("form")

    page.locator("form.report-form button[type=submit]").click()
    page.wait_for_url("**/lapor/terkirim")
    code = page.locator("#tracking-code").inner_text().strip()
    save("receipt", full_page=True)

    page.locator('.receipt a[href$="/lacak"]').click()
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    page.wait_for_url("**/lacak/LPR-*")
    number = page.url.rsplit("/", 1)[-1]
    save("report", full_page=True)
    context.close()

    # The institution admin's side: the inbox and the report page with its actions.
    context = browser.new_context(**VIEWPORTS[size], locale="id-ID" if lang == "id" else "en-US",
                                  color_scheme="light", reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{base}/bahasa/{lang}?next=/staf/masuk")
    page.locator("#email").fill("admin@tangerangkab.example.id")
    page.locator("#password").fill("lapor-demo-2026")
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staf/")
    save("staff-inbox")
    page.goto(f"{base}/staf/laporan/{number}")
    save("staff-report", full_page=True)
    context.close()

    # Once verified, the report is public: the feed and the statistics.
    verify(app, number)
    context = browser.new_context(**VIEWPORTS[size], locale="id-ID" if lang == "id" else "en-US",
                                  color_scheme="light", reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{base}/bahasa/{lang}?next=/laporan")
    save("public-feed")
    page.goto(f"{base}/statistik")
    save("statistics")
    context.close()
    return saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["id", "en"], default="id",
                        help="interface language (default: id, the portal's default)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--full-page", action="store_true",
                        help="capture whole pages, not just the first screen (for reviewing)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (set CHROMIUM=...)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="portal-shots-") as tmp:
        workdir = Path(tmp)
        logging.disable(logging.INFO)  # alembic's env.py sets up its own INFO logging
        try:
            app = build_app(workdir)
        finally:
            logging.disable(logging.NOTSET)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                photo = example_photo(workdir)
                for size in VIEWPORTS:
                    for path in shoot(browser, base, size, args.lang, args.out, photo,
                                      whole=args.full_page, app=app):
                        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
