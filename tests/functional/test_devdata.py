"""``flask dev generate`` (portal/devdata.py) on both databases, with a small N: the rows obey
every constraint (the inserts would fail otherwise; foreign keys are checked here, since the
PostgreSQL load skips their triggers), the mix is roughly right, the same seed gives the same
data, the search document is the public feed's, and the app reads what was generated."""
import hashlib
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal import devdata
from portal.domain.public_feed import search_text
from portal.extensions import db
from portal.models import Report, ReporterIdentity

NOW = datetime(2026, 11, 20, 5, 30, tzinfo=timezone.utc)
N = 400
# Tables and the columns whose values are random by design (Fernet tokens are compared
# decrypted, password hashes have a random salt).
DIGESTED = ("institution", "district", "user_account", "membership", "category", "report",
            "report_event", "report_rating", "report_support", "deadline_notice")


def _digest() -> dict[str, str]:
    digests = {}
    metadata = db.metadata
    for name in DIGESTED:
        digest = hashlib.sha256()
        table = metadata.tables[name]
        # The demo accounts' creation time is the real clock's (portal/demo.py).
        columns = [c for c in table.columns if c.name not in ("password_hash", "created_at")
                   or name != "user_account"]
        for row in db.session.execute(sa.select(*columns).order_by(table.c.id)):
            digest.update(repr(tuple(row)).encode())
        digests[name] = digest.hexdigest()
    digest = hashlib.sha256()
    for row in db.session.execute(sa.select(
            ReporterIdentity.id, ReporterIdentity.report_id, ReporterIdentity.user_id,
            ReporterIdentity.name, ReporterIdentity.email, ReporterIdentity.phone,
            ReporterIdentity.nik, ReporterIdentity.contact_hash, ReporterIdentity.account_ref)
            .order_by(ReporterIdentity.id)):
        digest.update(repr(tuple(row)).encode())
    digests["reporter_identity"] = digest.hexdigest()
    return digests


def _empty() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.commit()


def _generate(seed: int = 7):
    summary = devdata.generate(db.session, reports=N, seed=seed, now=NOW)
    db.session.commit()
    return summary


def test_generated_data_is_consistent_realistic_and_reproducible(app):
    summary = _generate()
    s = db.session

    # Foreign keys: every reference of every table points at a row.
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            column = fk.parent
            target = fk.column.table.alias("target").c[fk.column.name]
            missing = s.scalar(sa.select(sa.func.count()).select_from(table).where(
                column.is_not(None), ~sa.exists().where(target == column)))
            assert missing == 0, f"{table.name}.{column.name}: {missing} dangling"

    # The tree: hundreds of institutions, thousands of units, staff for each.
    kinds = dict(s.execute(sa.text("SELECT kind, count(*) FROM institution GROUP BY kind")).all())
    assert kinds["institution"] >= 250 and kinds["unit"] >= 2000
    assert s.scalar(sa.text("SELECT count(*) FROM district")) >= 2000

    # The mix.
    assert s.scalar(sa.text("SELECT count(*) FROM report")) == N == summary.reports
    by_kind = dict(s.execute(sa.text("SELECT kind, count(*) FROM report GROUP BY kind")).all())
    assert 0.70 * N < by_kind["complaint"] < 0.92 * N
    assert by_kind["aspiration"] > 0.05 * N and by_kind["information_request"] > 0.01 * N
    by_status = dict(s.execute(sa.text(
        "SELECT status, count(*) FROM report GROUP BY status")).all())
    assert by_status["completed"] > 0.5 * N and by_status["archived"] > 0.05 * N
    assert set(by_status) >= {"submitted", "dispositioned", "in_progress", "completed",
                              "archived"}
    anonymous = s.scalar(sa.text("SELECT count(*) FROM report WHERE is_anonymous"))
    confidential = s.scalar(sa.text("SELECT count(*) FROM report WHERE is_confidential"))
    assert 0.04 * N < anonymous < 0.25 * N and 0 < confidential < 0.15 * N
    # Anonymous reports keep no link to an account (migration 0014); others may have one.
    assert s.scalar(sa.text(
        "SELECT count(*) FROM reporter_identity i JOIN report r ON r.id = i.report_id "
        "WHERE r.is_anonymous AND i.user_id IS NOT NULL")) == 0
    assert s.scalar(sa.text("SELECT count(*) FROM reporter_identity WHERE user_id IS NOT NULL"))
    # ... but the national admin's view still names the account (account_ref, encrypted).
    hidden = s.scalars(sa.select(ReporterIdentity).join(Report).where(
        Report.is_anonymous, ReporterIdentity.account_ref.is_not(None))).all()
    assert hidden and all(i.account is not None and i.user_id is None for i in hidden)
    assert s.scalar(sa.text("SELECT count(*) FROM report WHERE duplicate_of_id IS NOT NULL")) > 0

    # Times in order, clocks where the workflow keeps them, support counts equal to rows.
    reports = s.scalars(sa.select(Report)).all()
    for r in reports:
        assert r.created_at <= r.updated_at <= NOW
        if r.first_response_at:
            assert r.created_at <= r.first_response_at
        if r.answered_at:
            assert r.first_response_at and r.first_response_at <= r.answered_at
        if r.completed_at:
            assert r.answered_at and r.answered_at <= r.completed_at
        if r.status.value == "submitted":
            assert r.deadline_kind.value == "verification" and r.due_at > r.created_at
        if r.status.value in ("answered", "completed", "archived"):
            assert r.due_at is None and r.deadline_kind is None
        assert r.public_number.startswith("LPR-")
    supports = dict(s.execute(sa.text(
        "SELECT report_id, count(*) FROM report_support GROUP BY report_id")).all())
    assert {r.id: r.support_count for r in reports if r.support_count} == supports
    events = dict(s.execute(sa.text(
        "SELECT kind, count(*) FROM report_event GROUP BY kind")).all())
    assert events["submitted"] == N
    assert {"verified", "dispositioned", "follow_up", "answered", "completed"} <= set(events)

    # Identities: encrypted in the table, readable through the model.
    raw = s.execute(sa.text("SELECT name FROM reporter_identity WHERE name IS NOT NULL")).first()
    assert raw[0].startswith("gAAAA")
    identity = s.scalar(sa.select(ReporterIdentity).where(ReporterIdentity.name.is_not(None)))
    assert identity.name and not identity.name.startswith("gAAAA")

    # The search document, as the public feed builds it (masked text, reporter's name).
    names = dict(s.execute(sa.select(ReporterIdentity.report_id, ReporterIdentity.name)).all())
    with_pii = 0
    for r in reports:
        expected = search_text(r.title, r.body, [names.get(r.id)])
        with_pii += expected != " ".join(f"{r.title}\n{r.body}".split())
        if db.engine.dialect.name == "postgresql":
            same = s.scalar(sa.text(
                "SELECT search_document = to_tsvector('indonesian', :text) FROM report "
                "WHERE id = :id"), {"text": expected, "id": r.id})
            assert same, r.id
        else:
            assert r.search_document == expected.lower()
    assert with_pii > 0  # some texts name a phone number or NIK, masked out of the document

    # The same seed gives the same data; another seed does not.
    first = _digest()
    _empty()
    _generate()
    assert _digest() == first
    _empty()
    _generate(seed=8)
    assert _digest() != first


def test_generate_refuses_a_database_with_reports(app):
    _generate()
    with pytest.raises(devdata.DatabaseNotEmpty):
        devdata.generate(db.session, reports=10, seed=1, now=NOW)


def test_command_and_pages_on_generated_data(app, runner):
    result = runner.invoke(args=["dev", "generate", "--reports", "60", "--seed", "3",
                                 "--now", "2026-11-20T05:30:00"])
    assert result.exit_code == 0, result.output
    assert "60 reports" in result.output
    again = runner.invoke(args=["dev", "generate", "--reports", "5"])
    assert again.exit_code != 0 and "already holds reports" in again.output

    # A derived tracking code finds its report.
    report = db.session.scalar(sa.select(Report).order_by(Report.id.desc()).limit(1))
    found = db.session.scalar(sa.select(Report).where(
        Report.tracking_code_hash == devdata.hash_tracking_code(
            devdata.tracking_code(3, report.id))))
    assert found.id == report.id
    # A generated institution admin signs in with the demo password and sees the inbox.
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/staf/masuk", data={"email": "institution.admin.gen-r001@lapor.example.id",
                                           "password": "lapor-demo-2026"})
    assert page.status_code == 302
    assert client.get("/staf/").status_code == 200
