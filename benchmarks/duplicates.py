"""python -m benchmarks.duplicates [--reports N ...] [--lookups 50] [--no-explain]

The duplicate candidates of a new report (``portal.domain.duplicates.find_candidates``, run by
``file_report`` for every report that arrives) over N reports in a throw-away PostgreSQL 15
cluster migrated to head (the same recipe as ``python -m benchmarks``):

* N reports loaded with COPY, spread over three years, in the demo's categories and its 29
  kecamatan with a skew (infrastructure and population administration in a few big
  kecamatan are the busiest: their 30-day blocks hold hundreds of reports, more than the 200
  read), titles and texts written from Indonesian templates (a problem, a place, details), 1%
  of them word for word a report filed before, 2% archived as a duplicate of an earlier one,
  a fifth sent by a national feed with its external id; three in five with a reporter's
  contact hash, a tenth of those from 200 frequent reporters (about 300 reports each at one
  million). Then VACUUM ANALYZE.
* ``--lookups`` new reports filed through ``file_report`` (each in its own transaction,
  rolled back after): a mix of new texts in the busiest blocks, exact re-submissions (certain),
  a second feed sending an external id the first one sent (certain) and frequent reporters
  writing again. The time of each ``find_candidates`` call inside the filing is recorded
  (the real call, not a second warm one); the median is the figure, the goal under 30 ms.
* EXPLAIN (ANALYZE, BUFFERS) of the statements of the slowest lookup.
"""
import argparse
import hashlib
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from benchmarks.pg import ThrowawayPostgres, machine, run_sizes

GOAL_MS = 30.0
YEARS = 3
SECRET_KEY = "benchmark-secret-key"

# ----------------------------------------------------------------------------- texts
# The Indonesian templates live with the data generator (``flask dev generate``).
from portal.devdata import CATEGORY_WEIGHTS, TextMaker  # noqa: E402

# ----------------------------------------------------------------------------- loading
REPORT_COLUMNS = (
    "id", "public_number", "tracking_code_hash", "kind", "title", "body", "category_id",
    "district_id", "channel", "is_anonymous", "is_confidential", "status",
    "current_institution_id", "archive_reason", "duplicate_of_id", "source_id", "external_id",
    "text_hash", "clock_added_days", "deadline_extended", "created_at", "updated_at", "version",
)
IDENTITY_COLUMNS = ("report_id", "name", "email", "contact_hash")
STATUSES_RECENT = ("submitted", "verified", "dispositioned", "in_progress", "answered")


def _naive_utc(value: datetime):
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def load(conn, n: int, *, now: datetime, institution_id: int, categories: dict[str, int],
         districts: dict[str, int], sources: tuple[int, int], seed: int = 20261124) -> dict:
    """COPY ``n`` reports and their identities. Returns what a lookup needs to know."""
    from portal.domain.duplicates import contact_hash, text_hash

    rng = random.Random(seed)
    maker = TextMaker(rng, list(districts))
    cat_codes = list(CATEGORY_WEIGHTS)
    cat_weights = [CATEGORY_WEIGHTS[c] for c in cat_codes]
    names = list(districts)
    # A few big kecamatan: Pareto weights, the same every run.
    dist_weights = [1 / (i + 1) ** 0.9 for i in range(len(names))]
    frequent = [contact_hash(email=f"sering{i}@example.id") for i in range(200)]
    start_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM report").fetchone()[0]
    created = sorted(now - timedelta(seconds=rng.uniform(0, YEARS * 365 * 86400))
                     for _ in range(n))
    texts: list[tuple[str, str]] = []  # kept to re-submit word for word
    stats = {"copies": 0, "archived_duplicates": 0, "feed": 0, "with_contact": 0}
    with conn.cursor() as cur:
        with cur.copy(f"COPY report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
            identities = []
            for i in range(n):
                rid = start_id + i
                category = rng.choices(cat_codes, cat_weights)[0]
                district = rng.choices(names, dist_weights)[0]
                if texts and rng.random() < 0.01:
                    title, body = rng.choice(texts)
                    stats["copies"] += 1
                else:
                    title, body = maker.report(category, district)
                if len(texts) < 50_000:
                    texts.append((title, body))
                elif rng.random() < 0.05:
                    texts[rng.randrange(len(texts))] = (title, body)
                at = created[i]
                old = now - at > timedelta(days=60)
                status = "completed" if old else rng.choice(STATUSES_RECENT)
                archive_reason = duplicate_of = None
                if i > 1000 and rng.random() < 0.02:
                    status, archive_reason = "archived", "duplicate"
                    duplicate_of = start_id + rng.randrange(i - 1000, i)
                    stats["archived_duplicates"] += 1
                source_id = external_id = None
                channel = "web"
                if rng.random() < 0.2:
                    source_id, external_id, channel = sources[0], f"NAS-{rid}", "national_feed"
                    stats["feed"] += 1
                copy.write_row((
                    rid, f"BENCH-{rid:08d}", hashlib.sha256(b"bench%d" % rid).digest(),
                    "complaint", title, body, categories[category], districts[district],
                    channel, rng.random() < 0.1, False, status, institution_id,
                    archive_reason, duplicate_of, source_id, external_id,
                    text_hash(title, body), 0, False, _naive_utc(at), _naive_utc(at), 1))
                roll = rng.random()
                if roll < 0.6:
                    stats["with_contact"] += 1
                    if roll < 0.06:
                        contact = frequent[rng.randrange(len(frequent))]
                    else:
                        contact = hashlib.sha256(b"contact%d" % rng.randrange(n // 3 + 1)).digest()
                    identities.append((rid, f"Pelapor {rid}", f"pelapor{rid}@example.id", contact))
        with cur.copy(f"COPY reporter_identity ({', '.join(IDENTITY_COLUMNS)}) FROM STDIN") \
                as copy:
            for row in identities:
                copy.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('report', 'id'), max(id)) FROM report")
    stats["texts"] = texts
    stats["frequent_emails"] = [f"sering{i}@example.id" for i in range(200)]
    stats["first_id"], stats["last_id"] = start_id, start_id + n - 1
    stats["cat_codes"], stats["cat_weights"] = cat_codes, cat_weights
    stats["dist_names"], stats["dist_weights"] = names, dist_weights
    return stats


# ----------------------------------------------------------------------------- lookups
def _drafts(count: int, stats: dict, categories: dict, districts: dict, sources, rng,
            maker: TextMaker):
    """The new reports: what arrives on a busy day."""
    from portal.domain.filing import ReportDraft
    from portal.models import Channel, ReportKind

    kinds = ["new"] * 40 + ["resubmitted"] * 20 + ["feed again"] * 10 + ["frequent"] * 30
    for i in range(count):
        kind = kinds[i * len(kinds) // count]
        # The busiest blocks: the first categories and kecamatan by weight.
        category = rng.choice(stats["cat_codes"][:2])
        district = rng.choice(stats["dist_names"][:3])
        title, body = maker.report(category, district)
        email = f"baru{i}@example.id"
        extra = {}
        if kind == "resubmitted":
            title, body = rng.choice(stats["texts"])
        elif kind == "feed again":
            rid = rng.randrange(stats["first_id"], stats["last_id"])
            extra = dict(source_id=sources[1], external_id=f"NAS-{rid}",
                         channel=Channel.NATIONAL_FEED)
        elif kind == "frequent":
            email = rng.choice(stats["frequent_emails"])
        yield kind, ReportDraft(kind=ReportKind.COMPLAINT, title=title, body=body,
                                category_id=categories[category],
                                district_id=districts[district], name="Pelapor Baru",
                                email=email, **extra)


def bench_size(server: ThrowawayPostgres, n: int, lookups: int, explain: bool) -> dict:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from portal import create_app
    from portal.demo import load_demo_data
    from portal.domain import duplicates
    from portal.domain.filing import file_report
    from portal.extensions import db
    from portal.models import Category, District, Institution, InstitutionKind
    from portal.models.types import utcnow
    from portal.storage import AttachmentStore

    name = f"bench_dup_{n}"
    url = server.create_database(name)
    result = {"n": n}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "127.0.0.1:5000",
                      "SECRET_KEY": SECRET_KEY, "OUTBOX_SEND_AFTER_REQUEST": False})
    with app.app_context(), app.test_request_context():
        upgrade()
        load_demo_data()
        db.session.commit()
        institution = db.session.scalar(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id))
        categories = {c.code: c.id for c in db.session.scalars(select(Category))}
        districts = {d.name: d.id for d in db.session.scalars(select(District))}
        with psycopg.connect(server.conninfo(name)) as conn:
            ids = [conn.execute(
                "INSERT INTO feed_source (code, name, is_active, created_at) "
                "VALUES (%s, %s, true, now()) RETURNING id", (code, code)).fetchone()[0]
                for code in ("lapor-nasional", "kemendagri")]
            conn.commit()
        now = utcnow()
        started = time.perf_counter()
        with psycopg.connect(server.conninfo(name)) as conn:
            stats = load(conn, n, now=now, institution_id=institution.id,
                         categories=categories, districts=districts, sources=tuple(ids))
            conn.commit()
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        result["load_s"] = time.perf_counter() - started
        print(f"  loaded {n:,} reports in {result['load_s']:.0f} s: "
              f"{stats['copies']:,} word-for-word copies, {stats['archived_duplicates']:,} "
              f"archived as duplicates, {stats['feed']:,} from the feed, "
              f"{stats['with_contact']:,} with a contact hash", flush=True)

        # Time each find_candidates call made inside file_report (the real, first call).
        timings: list[tuple[float, list, int]] = []
        statements: list = []
        original_find = duplicates.find_candidates

        def timed_find(report, when):
            first = len(statements)
            t0 = time.perf_counter()
            found = original_find(report, when)
            timings.append((time.perf_counter() - t0, statements[first:], len(found)))
            return found

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append((time.perf_counter() - conn.info["bench_t0"], statement,
                               parameters))

        rng = random.Random(7)
        maker = TextMaker(rng, list(districts))
        store = AttachmentStore("/tmp/portal-bench-uploads")
        duplicates.find_candidates = timed_find
        engine = db.engine
        per_kind: dict[str, list[float]] = {}
        slowest = None
        try:
            for kind, draft in _drafts(lookups, stats, categories, districts, ids, rng, maker):
                statements.clear()
                event.listen(engine, "before_cursor_execute", before)
                event.listen(engine, "after_cursor_execute", after)
                try:
                    filed = file_report(draft, [], store=store, now=utcnow())
                finally:
                    event.remove(engine, "before_cursor_execute", before)
                    event.remove(engine, "after_cursor_execute", after)
                seconds, lookup_statements, found = timings[-1]
                per_kind.setdefault(kind, []).append(seconds)
                if slowest is None or seconds > slowest[0]:
                    plans = []
                    if explain:
                        for took, statement, params in lookup_statements:
                            if not isinstance(params, dict):
                                continue
                            plan = db.session.connection().exec_driver_sql(
                                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params
                            ).scalars().all()
                            plans.append((took, statement, plan))
                    slowest = (seconds, kind, found, plans, filed.report.public_number)
                db.session.rollback()
        finally:
            duplicates.find_candidates = original_find
        times = [t[0] for t in timings]
        result.update(
            median_ms=statistics.median(times) * 1000,
            p90_ms=sorted(times)[int(len(times) * 0.9) - 1] * 1000,
            max_ms=max(times) * 1000,
            per_kind={k: statistics.median(v) * 1000 for k, v in per_kind.items()},
            found=sum(t[2] for t in timings) / len(timings))
        print(f"  find_candidates over {len(times)} new reports: median "
              f"{result['median_ms']:.1f} ms, 90th percentile {result['p90_ms']:.1f} ms, "
              f"slowest {result['max_ms']:.1f} ms; medians by kind: "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in result["per_kind"].items())
              + f"; {result['found']:.1f} candidates a report on average", flush=True)
        if slowest is not None and slowest[3]:
            seconds, kind, found, plans, _ = slowest
            print(f"  the slowest lookup ({kind}, {seconds * 1000:.1f} ms, {found} candidates), "
                  f"EXPLAIN ANALYZE of its statements:")
            for took, statement, plan in plans:
                print(f"    -- {took * 1000:.2f} ms: {' '.join(statement.split())[:600]}")
                print("\n".join(f"    {line}" for line in plan), flush=True)
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.duplicates", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, action="append",
                        help="reports to load (repeatable; default 100000 and 1000000)")
    parser.add_argument("--lookups", type=int, default=50, help="new reports filed (median)")
    parser.add_argument("--no-explain", action="store_true",
                        help="skip EXPLAIN ANALYZE of the slowest lookup")
    args = parser.parse_args(argv)
    sizes = args.reports or [100_000, 1_000_000]
    version, results = run_sizes(sizes, "reports", lambda server, n: bench_size(
        server, n, args.lookups, not args.no_explain))
    print()
    print(f"Machine: {machine()}; PostgreSQL {version}; "
          f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Command: python -m benchmarks.duplicates "
          f"{' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    print()
    print("| reports | load (COPY + VACUUM ANALYZE) | find_candidates, median | 90th percentile "
          "| slowest |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['n']:,} | {r['load_s']:.0f} s | {r['median_ms']:.1f} ms | "
              f"{r['p90_ms']:.1f} ms | {r['max_ms']:.1f} ms |")
    missed = [r for r in results if r["median_ms"] > GOAL_MS]
    if missed:
        print(f"\nGoal missed (median over {GOAL_MS:.0f} ms) at: "
              + ", ".join(f"{r['n']:,}" for r in missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
