"""python -m benchmarks.pages [--reports N ...] [--runs 7] [--seed 1] [--explain]

Server time of the portal's pages over N generated reports (``flask dev generate``'s
generator, portal/devdata.py) in a throw-away PostgreSQL 15 cluster (benchmarks/pg.py).

For each N: a fresh database migrated to head, the national tree and N reports generated with
COPY, the statistics summary rebuilt (as the worker keeps it), VACUUM ANALYZE; then each page is
requested in-process through ``app.test_client()`` (no network, no gunicorn: the time of the
Flask request, its SQL and its template), twice to warm the caches (the plan cache, the
database's buffers, Jinja's templates), then ``--runs`` times: the figure is the median. The
SQL statements of a request are counted with an SQLAlchemy event listener.

The pages: the staff inbox of the busiest unit (its operator) and of the busiest institution
(its admin), a report page (the admin), the tracking lookup (POST /lacak with a code derived
from the seed, ``devdata.tracking_code``), the public feed's first page and the page reached by
following "next" 50 times (keyset cursor), a search, the statistics page (public, and staff as
the institution's admin and as the national admin), the weekly report (last week's, kept as
the Monday job keeps it, and the week before, computed); then the deadline sweep
(``run_sweep``: the first run and the median of the repeats) and the duplicate candidates of a new report (``find_candidates`` timed
inside ``file_report``, rolled back; the median over the new reports).

A page whose route does not exist (yet) is skipped, saying so. Goals: every page under 50 ms
at 1,000,000 reports and at most 1.5 times its time at 10,000; the sweep under 5 s; duplicate
candidates under 30 ms.
"""
import argparse
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta

from benchmarks.pg import ThrowawayPostgres, machine, run_sizes

PAGE_GOAL_MS = 50.0
GROWTH_GOAL = 1.5
SWEEP_GOAL_S = 5.0
DUPLICATES_GOAL_MS = 30.0
DEEP_PAGES = 50
NEXT_LINK = re.compile(r'<a href="([^"]+)"[^>]*rel="next"')


class Counter:
    """Counts the SQL statements run on an engine while active."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1

    def close(self):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def measure(engine, client, method: str, path: str, runs: int, data=None,
            expect=(200,)) -> tuple[float, int]:
    """Median milliseconds of ``runs`` requests after two warm-ups; statements of the last.
    Called outside any application context: each request has its own, as under a server."""

    def once():
        if method == "GET":
            return client.get(path)
        return client.post(path, data=data)

    for _ in range(2):
        response = once()
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code}")
    times = []
    counter = Counter(engine)
    try:
        for _ in range(runs):
            counter.count = 0
            t0 = time.perf_counter()
            once()
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        counter.close()
    return statistics.median(times), counter.count


def _route_exists(app, rule: str) -> bool:
    return any(r.rule == rule for r in app.url_map.iter_rules())


def _sign_in(app, email: str):
    client = app.test_client()
    response = client.post("/staf/masuk", data={"email": email, "password": "lapor-demo-2026"})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {email} failed: {response.status_code}")
    return client


def bench_size(server: ThrowawayPostgres, n: int, runs: int, seed: int, explain: bool) -> dict:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app, devdata
    from portal.extensions import db
    from portal.models import Institution, Membership, Report, ReportStatus, Role, User
    from portal.models.types import utcnow

    name = f"bench_pages_{n}"
    url = server.create_database(name)
    result = {"n": n, "pages": {}, "skipped": []}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "OUTBOX_SEND_AFTER_REQUEST": False,
                      # Sign-in and the tracking form without fetching a token first; the
                      # pages' own work is the same. Throughput (benchmarks/throughput.py)
                      # does the real thing.
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    with app.app_context():
        upgrade()
        now = utcnow().replace(microsecond=0)
        t0 = time.perf_counter()
        done = [0]

        def progress(k):
            done[0] += k
            if done[0] % 200_000 < k or done[0] == n:
                print(f"  ... {done[0]:,} reports ({time.perf_counter() - t0:.0f} s)",
                      flush=True)

        summary = devdata.generate(db.session, reports=n, seed=seed, now=now, progress=progress)
        db.session.commit()
        result["generate_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        devdata.refresh_statistics(db.session, now)
        db.session.commit()
        result["statistics_s"] = time.perf_counter() - t1
        # After the summary, as autovacuum would have by the time anyone reads the pages
        # (the visibility map makes the covering indexes' scans index-only).
        t1 = time.perf_counter()
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        result["vacuum_s"] = time.perf_counter() - t1
        print(f"  generated in {result['generate_s']:.0f} s ({summary.events:,} events, "
              f"{summary.identities:,} identities, {summary.supports:,} supports), "
              f"statistics summary {result['statistics_s']:.0f} s, VACUUM ANALYZE "
              f"{result['vacuum_s']:.0f} s; kinds {summary.by_kind}; statuses "
              f"{summary.by_status}", flush=True)

        # Whom to sign in as: the busiest institution's admin, its busiest unit's operator.
        institution_id, in_institution = db.session.execute(
            select(Report.current_institution_id, func.count()).group_by(
                Report.current_institution_id).order_by(func.count().desc()).limit(1)).one()
        unit_id, in_unit = db.session.execute(
            select(Report.current_unit_id, func.count()).where(
                Report.current_institution_id == institution_id,
                Report.current_unit_id.is_not(None)).group_by(Report.current_unit_id)
            .order_by(func.count().desc()).limit(1)).one()

        def staff(node_id, role):
            return db.session.scalar(select(User.email).join(Membership).where(
                Membership.institution_id == node_id, Membership.role == role).limit(1))

        admin_email = staff(institution_id, Role.INSTITUTION_ADMIN)
        national_email = db.session.scalar(select(User.email).join(Membership).where(
            Membership.role == Role.NATIONAL_ADMIN).limit(1))
        operator_email = staff(unit_id, Role.OPERATOR)
        institution = db.session.get(Institution, institution_id)
        number = db.session.scalar(select(Report.public_number).where(
            Report.current_unit_id == unit_id, Report.status == ReportStatus.DISPOSITIONED)
            .order_by(Report.created_at.desc()).limit(1)) or db.session.scalar(
            select(Report.public_number).where(Report.current_unit_id == unit_id).limit(1))
        # Last week's figures kept, as the Monday job (flask reports weekly) keeps them for
        # every institution; the week before is left to be computed, to time both.
        from portal.domain.weekly_report import Week, keep_weekly_reports, last_week

        from portal.domain.statistics import Period, add_months, default_period

        months = default_period(now)
        earlier_months = Period(add_months(months.first, -12), add_months(months.last, -12))
        kept_week = last_week(now)
        earlier = Week.of(kept_week.monday - timedelta(days=7))
        t1 = time.perf_counter()
        keep_weekly_reports(kept_week, now=now,
                            institutions=[db.session.get(Institution, institution_id)])
        db.session.commit()
        result["keep_weekly_ms"] = (time.perf_counter() - t1) * 1000
        tracked_id = summary.first_id + n // 2
        code = devdata.tracking_code(seed, tracked_id)
        print(f"  its weekly figures of {kept_week.code} kept in "
              f"{result['keep_weekly_ms']:.0f} ms", flush=True)
        print(f"  the busiest institution: {institution.name} ({in_institution:,} reports), "
              f"its busiest unit {in_unit:,}; report page {number}", flush=True)
        engine = db.engine
        db.session.remove()

    # Each request in its own application context and database session, as under a server.
    if True:
        admin = _sign_in(app, admin_email)
        operator = _sign_in(app, operator_email)
        national = _sign_in(app, national_email)
        public = app.test_client()

        # The deep page of the feed: follow "next" DEEP_PAGES times.
        deep = None
        if _route_exists(app, "/laporan"):
            path = "/laporan"
            for _ in range(DEEP_PAGES):
                found = NEXT_LINK.search(public.get(path).get_data(as_text=True))
                if not found:
                    break
                path = found.group(1).replace("&amp;", "&")
            deep = path

        pages = [
            ("staff inbox, unit (operator)", operator, "GET", "/staf/", "/staf/", None),
            ("staff inbox, institution (admin)", admin, "GET", "/staf/", "/staf/", None),
            ("report page (admin)", admin, "GET", f"/staf/laporan/{number}",
             "/staf/laporan/<number>", None),
            ("tracking lookup (POST /lacak)", public, "POST", "/lacak", "/lacak",
             {"code": code}),
            ("public feed, first page", public, "GET", "/laporan", "/laporan", None),
            (f"public feed, page {DEEP_PAGES + 1}", public, "GET", deep, "/laporan", None),
            ("public feed, search", public, "GET", "/laporan?q=jalan+rusak", "/laporan", None),
            ("statistics (public)", public, "GET", "/statistik", "/statistik", None),
            ("statistics (staff, admin)", admin, "GET", "/staf/statistik",
             "/staf/statistik", None),
            ("statistics (staff, national admin)", national, "GET", "/staf/statistik",
             "/staf/statistik", None),
            # Any other period is read from the summary (the default one is kept by the
            # refresh): the 12 months before.
            ("statistics (staff, national admin), the 12 months before", national, "GET",
             f"/staf/statistik?start={earlier_months.start_code}&end={earlier_months.end_code}",
             "/staf/statistik", None),
            ("weekly report, last week (kept by the Monday job)", admin, "GET",
             "/staf/laporan-mingguan", "/staf/laporan-mingguan", None),
            ("weekly report, the week before (computed)", admin, "GET",
             f"/staf/laporan-mingguan?week={earlier.code}", "/staf/laporan-mingguan", None),
        ]
        for label, client, method, path, rule, data in pages:
            if path is None or not _route_exists(app, rule):
                print(f"  {label}: skipped (no route {rule} yet)", flush=True)
                result["skipped"].append(label)
                continue
            expect = (302,) if method == "POST" else (200,)
            ms, count = measure(engine, client, method, path, runs, data, expect)
            result["pages"][label] = (ms, count)
            print(f"  {label}: {ms:.1f} ms, {count} statements", flush=True)
            if explain:
                with app.app_context():
                    _explain_page(app, client, method, path, data)

    with app.app_context():
        _bench_sweep(app, result, runs)
        _bench_duplicates(app, result, runs * 3, seed)
        db.session.remove()
        db.engine.dispose()
    return result


def _explain_page(app, client, method, path, data, top: int = 3) -> None:
    """EXPLAIN ANALYZE the slowest statements of one request."""
    from benchmarks.__main__ import statement_log
    from portal.extensions import db

    log: list = []
    with statement_log(db.engine, log):
        client.get(path) if method == "GET" else client.post(path, data=data)
    for seconds, statement, params in sorted(log, key=lambda e: e[0], reverse=True)[:top]:
        print(f"    -- {seconds * 1000:.1f} ms: {' '.join(statement.split())[:300]}")
        if isinstance(params, dict):
            with db.engine.connect() as conn:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                            params).scalars().all()
            print("\n".join(f"    {line}" for line in plan[:25]), flush=True)


def _bench_sweep(app, result: dict, runs: int) -> None:
    from portal.extensions import db
    from portal.models.types import utcnow

    try:
        from portal.domain.sweep import run_sweep
    except ImportError:
        print("  sweep: skipped (portal.domain.sweep.run_sweep missing)")
        return
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        run_sweep(utcnow())
        db.session.commit()
        times.append(time.perf_counter() - t0)
    result["sweep_first_s"], result["sweep_s"] = times[0], statistics.median(times[1:])
    print(f"  sweep: first run {times[0]:.2f} s, repeat median {result['sweep_s']:.2f} s",
          flush=True)


def _bench_duplicates(app, result: dict, lookups: int, seed: int) -> None:
    from sqlalchemy import func, select

    from portal.devdata import TextMaker
    from portal.domain import duplicates
    from portal.domain.filing import ReportDraft, file_report
    from portal.extensions import db
    from portal.models import Category, District, Report, ReportKind
    from portal.models.types import utcnow
    from portal.storage import AttachmentStore

    # The busiest block: the category and kecamatan with the most reports.
    category_id, district_id = db.session.execute(
        select(Report.category_id, Report.district_id).group_by(
            Report.category_id, Report.district_id).order_by(func.count().desc()).limit(1)).one()
    category = db.session.get(Category, category_id)
    district = db.session.get(District, district_id)
    maker = TextMaker(random.Random(seed), [])
    original = duplicates.find_candidates
    timings = []

    def timed(report, when):
        t0 = time.perf_counter()
        found = original(report, when)
        timings.append(time.perf_counter() - t0)
        return found

    duplicates.find_candidates = timed
    store = AttachmentStore("/tmp/portal-bench-uploads")
    try:
        with app.test_request_context():
            for i in range(lookups):
                title, body = maker.report(category.code, district.name)
                draft = ReportDraft(kind=ReportKind.COMPLAINT, title=title, body=body,
                                    category_id=category_id, district_id=district_id,
                                    name="Pelapor Baru", email=f"baru{i}@example.id")
                file_report(draft, [], store=store, now=utcnow())
                db.session.rollback()
    finally:
        duplicates.find_candidates = original
    result["duplicates_ms"] = statistics.median(timings) * 1000
    print(f"  duplicate candidates ({category.code}, {district.name}): median "
          f"{result['duplicates_ms']:.1f} ms over {len(timings)} new reports", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, action="append",
                        help="reports to generate (repeatable; default 10000, 100000, 1000000)")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the slowest statements of each page")
    args = parser.parse_args(argv)
    sizes = args.reports or [10_000, 100_000, 1_000_000]
    version, results = run_sizes(sizes, "reports", lambda server, n: bench_size(
        server, n, args.runs, args.seed, args.explain))

    print()
    print(f"Machine: {machine()}; PostgreSQL {version}; "
          f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Command: python -m benchmarks.pages "
          f"{' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    print()
    labels = []
    for r in results:
        labels += [label for label in r["pages"] if label not in labels]
    print("| page (server time, median, warm; SQL statements) | "
          + " | ".join(f"{r['n']:,} reports" for r in results) + " | goal |")
    print("|---|" + "---:|" * len(results) + "---|")
    missed = []
    first, last = results[0], results[-1]
    for label in labels:
        cells = []
        for r in results:
            found = r["pages"].get(label)
            cells.append("–" if found is None else f"{found[0]:.1f} ms ({found[1]})")
        verdict = ""
        if label in last["pages"]:
            ms = last["pages"][label][0]
            growth = ms / first["pages"][label][0] if label in first["pages"] else None
            ok = ms < PAGE_GOAL_MS and (growth is None or growth <= GROWTH_GOAL)
            verdict = ("met" if ok else "MISSED") + (f", ×{growth:.2f}" if growth else "")
            if not ok:
                missed.append(label)
        print(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    for key, label, unit, goal in (("sweep_s", "deadline sweep, repeat (first run)", "s",
                                    SWEEP_GOAL_S),
                                   ("duplicates_ms", "duplicate candidates of a new report",
                                    "ms", DUPLICATES_GOAL_MS)):
        cells = []
        for r in results:
            if key not in r:
                cells.append("–")
            elif key == "sweep_s":
                cells.append(f"{r[key]:.2f} s ({r['sweep_first_s']:.2f} s)")
            else:
                cells.append(f"{r[key]:.1f} ms")
        ok = key in last and last[key] < goal
        if not ok:
            missed.append(label)
        print(f"| {label} | " + " | ".join(cells) + f" | {'met' if ok else 'MISSED'} "
              f"(< {goal:g} {unit}) |")
    print("| generation (COPY) + statistics summary + VACUUM ANALYZE | " + " | ".join(
        f"{r['generate_s']:.0f} + {r['statistics_s']:.0f} + {r['vacuum_s']:.0f} s"
        for r in results) + " | |")
    skipped = sorted({label for r in results for label in r["skipped"]})
    if skipped:
        print(f"\nSkipped (route missing): {', '.join(skipped)}")
    if missed:
        print(f"\nGoals missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
