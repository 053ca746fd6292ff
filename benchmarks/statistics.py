"""python -m benchmarks.statistics [--reports N ...] [--runs 5]

For each N: a fresh database in a throw-away PostgreSQL 15 cluster, migrated to head, the demo
data, N reports loaded with COPY (three years back from now, skewed over the demo's units,
categories, 29 kecamatan, kinds and channels; statuses, first responses, completions, ratings
and red deadlines in realistic shares), VACUUM ANALYZE; then the wall-clock time of

* the figures of the public page (the whole portal, the last 12 months) and of the staff page
  (the regency, with the per-unit medians), each read live from the report table and from the
  monthly summary; also the whole public page and staff page through the test client;
* ``rebuild_summary`` (``flask statistics rebuild``) and ``refresh_summary`` in the steady
  state (the worker's call after a sweep: the current month and the months of the reports
  updated since the last refresh; here 200 reports of other months are touched first).

Each figure is the median of ``--runs`` runs. Prints a Markdown table for docs/PERFORMANCE.md.
"""
import argparse
import hashlib
import random
import statistics as stats_module
import sys
import time
from datetime import datetime, timedelta, timezone

from benchmarks.pg import machine, run_sizes

GOAL_MS = 50.0
YEARS = 3
SECRET_KEY = "benchmark-secret-key"
COLUMNS = ("id", "public_number", "tracking_code_hash", "kind", "title", "body", "category_id",
           "district_id", "channel", "is_anonymous", "is_confidential", "status",
           "current_institution_id", "current_unit_id", "archive_reason", "first_response_at",
           "answered_at", "completed_at", "due_at", "deadline_kind", "clock_started_at",
           "clock_days", "clock_added_days", "deadline_extended", "created_at", "updated_at",
           "version", "support_count")
KINDS = (("complaint", 70), ("aspiration", 20), ("information_request", 10))
CHANNELS = (("web", 55), ("whatsapp", 12), ("sms", 8), ("social_media", 8), ("mobile_app", 7),
            ("national_feed", 5), ("phone", 3), ("email", 1), ("walk_in", 1))


def _naive(value):
    return None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def load(conn, n: int, *, now: datetime, institution_id: int, units: list[int],
         categories: list[int], districts: list[int], seed: int = 20261129) -> None:
    rng = random.Random(seed)
    start = now - timedelta(days=365 * YEARS)
    span = (now - start).total_seconds()
    cat_weights = [1 / (i + 1) for i in range(len(categories))]
    dist_weights = [1 / (i + 1) ** 0.7 for i in range(len(districts))]
    kinds, kind_w = zip(*KINDS)
    channels, channel_w = zip(*CHANNELS)
    ratings = []
    with conn.cursor() as cur:
        with cur.copy(f"COPY report ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(1, n + 1):
                # More reports lately: the square root skews filing towards now.
                created = start + timedelta(seconds=span * rng.random() ** 0.7)
                age = (now - created).days
                unit = rng.choice(units + [None]) if rng.random() < 0.95 else None
                roll = rng.random()
                status, archive, first, completed, due = "in_progress", None, None, None, None
                if roll < 0.03:
                    status = "submitted"
                elif roll < 0.07:
                    status, archive = "archived", "not_actionable"
                else:
                    if rng.random() < 0.992 or age > 30:
                        first = created + timedelta(minutes=rng.lognormvariate(7.5, 1.0))
                    if age > 14 and rng.random() < 0.85:
                        status = "completed"
                        completed = created + timedelta(hours=rng.lognormvariate(4.8, 0.9))
                        if rng.random() < 0.4:
                            ratings.append((i, rng.choices((1, 2, 3, 4, 5),
                                                           (5, 5, 15, 40, 35))[0],
                                            _naive(completed + timedelta(days=1))))
                    elif rng.random() < 0.5:
                        due = now + timedelta(days=rng.uniform(-5, 10))  # ~1/3 red
                if completed and completed > now:
                    completed, status = None, "in_progress"
                if first and first > now:
                    first = None
                copy.write_row((
                    i, f"BENCH-{i:08d}", hashlib.sha256(str(i).encode()).digest(),
                    rng.choices(kinds, kind_w)[0], "Laporan", "Isi laporan.",
                    rng.choices(categories, cat_weights)[0] if rng.random() < 0.97 else None,
                    rng.choices(districts, dist_weights)[0] if rng.random() < 0.9 else None,
                    rng.choices(channels, channel_w)[0], rng.random() < 0.1,
                    rng.random() < 0.05, status, institution_id, unit, archive,
                    _naive(first), _naive(completed), _naive(completed), _naive(due),
                    "follow_up" if due else None, _naive(created) if due else None,
                    5 if due else None, 0, False, _naive(created),
                    _naive(max(c for c in (created, first, completed) if c is not None)),
                    1, 0))
        with cur.copy("COPY report_rating (report_id, score, created_at) FROM STDIN") as copy:
            for row in ratings:
                copy.write_row(row)
        cur.execute("SELECT setval('report_id_seq', %s)", (n,))


def _median_ms(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return stats_module.median(times)


def _profile(db, function) -> None:
    """Each statement of one run with its time, and the plan of the slowest."""
    from sqlalchemy import event

    log = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        log.append(((time.perf_counter() - conn.info["bench_t0"]) * 1000, statement,
                    parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        started = time.perf_counter()
        function()
        total = (time.perf_counter() - started) * 1000
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    print(f"  one run: {total:.1f} ms, {len(log)} statements, "
          f"{sum(t for t, _, _ in log):.1f} ms in SQL", flush=True)
    for ms, statement, _ in sorted(log, key=lambda item: -item[0])[:5]:
        print(f"    {ms:6.1f} ms  {' '.join(statement.split())[:150]}", flush=True)
    slowest = max(log, key=lambda item: item[0])
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1], slowest[2])
            for (line,) in cursor.fetchall():
                print(f"      {line}", flush=True)
    db.session.rollback()


def bench_size(server, n: int, runs: int, profile: bool = False) -> dict:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from portal import create_app
    from portal.demo import load_demo_data
    from portal.domain.statistics import (
        LIVE,
        SUMMARY,
        compute_statistics,
        default_period,
        rebuild_summary,
        refresh_summary,
    )
    from portal.extensions import db
    from portal.models import Category, District, Institution, InstitutionKind
    from portal.models.types import utcnow

    name = f"bench_stat_{n}"
    url = server.create_database(name)
    result = {"n": n}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                      "RATELIMIT_STORAGE_URI": "memory://", "OUTBOX_SEND_AFTER_REQUEST": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        load_demo_data()
        db.session.commit()
        regency = db.session.scalar(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id))
        units = list(db.session.scalars(select(Institution.id).where(
            Institution.kind == InstitutionKind.UNIT).order_by(Institution.id)))
        categories = list(db.session.scalars(select(Category.id).order_by(Category.id)))
        districts = list(db.session.scalars(select(District.id).order_by(District.id)))
        now = utcnow()
        started = time.perf_counter()
        with psycopg.connect(server.conninfo(name)) as conn:
            load(conn, n, now=now, institution_id=regency.id, units=units,
                 categories=categories, districts=districts)
            conn.commit()
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        result["load_s"] = time.perf_counter() - started
        print(f"  loaded in {result['load_s']:.0f} s", flush=True)
        period = default_period(now)

        def figures(scope, source):
            return lambda: compute_statistics(scope, period, now=utcnow(), source=source)

        with app.test_request_context():
            for source in (LIVE, SUMMARY):
                if source == SUMMARY:
                    started = time.perf_counter()
                    result["months"] = rebuild_summary(utcnow())
                    db.session.commit()
                    result["rebuild_s"] = time.perf_counter() - started
                    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
                        conn.execute("VACUUM ANALYZE stat_month_summary")
                        conn.execute("VACUUM ANALYZE stat_month_duration")
                    result["summary_rows"] = db.session.scalar(text(
                        "SELECT (SELECT count(*) FROM stat_month_summary)"
                        " + (SELECT count(*) FROM stat_month_duration)"))
                figures(None, source)()  # warm the cache
                result[f"public_{source}_ms"] = _median_ms(figures(None, source), runs)
                result[f"staff_{source}_ms"] = _median_ms(figures(regency, source), runs)
                db.session.rollback()
            print(f"  figures: {result}", flush=True)
            if profile:
                _profile(db, figures(regency, SUMMARY))

        # The worker's refresh right after the rebuild (the months of the reports updated in
        # the last minutes: the recent ones), then after 200 reports of any month were touched.
        with app.test_request_context():
            started = time.perf_counter()
            result["refresh_steady_months"] = refresh_summary(utcnow())
            db.session.commit()
            result["refresh_steady_s"] = time.perf_counter() - started
        db.session.execute(text(
            "UPDATE report SET updated_at = now() AT TIME ZONE 'UTC' WHERE id IN "
            "(SELECT id FROM report ORDER BY id LIMIT 200 OFFSET 5000)"))
        db.session.commit()
        with app.test_request_context():
            started = time.perf_counter()
            result["refresh_months"] = refresh_summary(utcnow())
            db.session.commit()
            result["refresh_s"] = time.perf_counter() - started

        client = app.test_client()
        client.get("/statistik")
        result["public_page_ms"] = _median_ms(lambda: client.get("/statistik"), runs)
        print(f"  result: {result}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, action="append",
                        help="reports to load (repeatable; default 1000000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="print the statements of one staff-figures run from the summary "
                             "and the plan of the slowest")
    args = parser.parse_args(argv)
    sizes = args.reports or [1_000_000]
    version, results = run_sizes(sizes, "reports",
                                 lambda server, n: bench_size(server, n, args.runs,
                                                              args.profile))
    print()
    print(f"Machine: {machine()}; PostgreSQL {version}; "
          f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Command: python -m benchmarks.statistics "
          f"{' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    print()
    print("| reports | public figures, live | staff figures, live | public figures, summary "
          "| staff figures, summary | public page (whole request) | summary rows | rebuild "
          "| refresh after the rebuild | refresh (200 reports of any month touched) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['n']:,} | {r['public_live_ms']:.0f} ms | {r['staff_live_ms']:.0f} ms | "
              f"{r['public_summary_ms']:.1f} ms | {r['staff_summary_ms']:.1f} ms | "
              f"{r['public_page_ms']:.1f} ms | {r['summary_rows']:,} | "
              f"{r['rebuild_s']:.1f} s ({r['months']} months) | {r['refresh_steady_s']:.2f} s "
              f"({r['refresh_steady_months']} months) | {r['refresh_s']:.2f} s "
              f"({r['refresh_months']} months) |")
    missed = [r for r in results if r["public_page_ms"] > GOAL_MS
              or r["staff_summary_ms"] > GOAL_MS]
    if missed:
        print(f"\nGoal missed (over {GOAL_MS:.0f} ms) at: "
              + ", ".join(f"{r['n']:,}" for r in missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
