"""python -m benchmarks.public_feed [--reports N ...] [--runs 7] [--no-explain]

The public feed's pages over N reports in a throw-away PostgreSQL 15 cluster migrated to head:

* N reports loaded with COPY by ``benchmarks.duplicates.load`` (Indonesian texts from
  templates, three years, skewed categories and kecamatan, old reports completed, recent ones
  in every open state and some waiting for verification, 2% archived as duplicates, a tenth
  anonymous, three in five with an identity), then: one in twenty confidential, support
  counts with a long tail (most 0, a few hundreds), the identities' names encrypted as the
  portal stores them, every search document built in SQL (``to_tsvector('indonesian', ...)``
  of title and body: the generated texts hold no personal data, so masking them would change
  nothing), VACUUM ANALYZE.
* Each page requested through the application (Flask's test client: routing, the domain's
  queries, the template), ``--runs`` times; the figure is the median server time of the
  request: the feed's first page, a deep page (after following "next page" 50 times), a
  search, a filtered page (category and kecamatan), sorted by support, a report's page.
  The goal (issue 9): each under 50 ms.
* EXPLAIN (ANALYZE, BUFFERS) of the statements of the slowest page.
"""
import argparse
import re
import statistics
import sys
import time
from datetime import datetime, timedelta
from html import unescape

from benchmarks.pg import machine, run_sizes

GOAL_MS = 50.0
SECRET_KEY = "benchmark-secret-key"
NEXT = re.compile(r'<a href="([^"]+)"[^>]*id="next-page"')
NUMBER = re.compile(r'id="report-([A-Z0-9-]+)"')


def _database_ms(db, log) -> float:
    """The time PostgreSQL itself spends on a page's statements (planning and execution, as
    EXPLAIN ANALYZE reports them): the part of the page that grows with the data, apart from
    the Python work and from other processes competing for the machine's CPUs."""
    total = 0.0
    for _, statement, params in log:
        if not isinstance(params, dict) or not statement.lstrip().upper().startswith("SELECT"):
            continue
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).scalar()
        total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
    db.session.rollback()
    return total


def bench_size(server, n: int, runs: int, explain: bool) -> dict:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import event, select

    from benchmarks.duplicates import load
    from portal import create_app
    from portal.crypto import encrypt
    from portal.demo import load_demo_data
    from portal.extensions import db
    from portal.models import Category, District, Institution, InstitutionKind
    from portal.models.types import utcnow

    name = f"bench_public_{n}"
    url = server.create_database(name)
    result = {"n": n}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY,
                      "OUTBOX_SEND_AFTER_REQUEST": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
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
        started = time.perf_counter()
        with psycopg.connect(server.conninfo(name)) as conn:
            stats = load(conn, n, now=utcnow(), institution_id=institution.id,
                         categories=categories, districts=districts, sources=tuple(ids))
            conn.execute("UPDATE report SET is_confidential = (id % 20 = 0),"
                         " support_count = floor(power(random(), 12) * 400)::int,"
                         " search_document = to_tsvector('indonesian', title || ' ' || body)")
            conn.execute("UPDATE reporter_identity SET name = %s, email = %s",
                         (encrypt("Pelapor Benchmark"), encrypt("pelapor@example.id")))
            conn.commit()
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            public = conn.execute(
                "SELECT count(*) FROM report WHERE NOT is_confidential"
                " AND status NOT IN ('submitted', 'archived')").fetchone()[0]
            sample = conn.execute(
                "SELECT public_number FROM report WHERE NOT is_confidential AND status"
                " NOT IN ('submitted', 'archived') ORDER BY id DESC LIMIT 1 OFFSET %s",
                (n // 3,)).fetchone()[0]
            searched = conn.execute(
                "SELECT count(*) FROM report WHERE search_document @@"
                " websearch_to_tsquery('indonesian', 'jembatan retak')").fetchone()[0]
        result["load_s"] = time.perf_counter() - started
        print(f"  loaded {n:,} reports in {result['load_s']:.0f} s: {public:,} public, "
              f"{stats['archived_duplicates']:,} archived as duplicates; 'jembatan retak' "
              f"matches {searched:,}", flush=True)

        client = app.test_client()
        statements: list = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("bench_t0", []).append(time.perf_counter())

        def after(conn, cursor, statement, parameters, context, executemany):
            started = conn.info["bench_t0"].pop()
            statements.append((time.perf_counter() - started, statement, parameters))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)

        def get(path: str) -> str:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response.get_data(as_text=True)

        # The deep page: 50 "next page" links followed, the 51st page is timed.
        path = "/laporan"
        for _ in range(50):
            path = unescape(NEXT.search(get(path)).group(1))
        deep = path
        cikupa, infra = districts["Cikupa"], categories["INFRASTRUKTUR"]
        month_ago = (utcnow() - timedelta(days=30)).date().isoformat()
        pages = {
            "feed, first page": "/laporan",
            "feed, page 51 (cursor)": deep,
            "search 'jembatan retak'": "/laporan?q=jembatan+retak",
            "search 'lampu mati' in Cikupa, by support":
                f"/laporan?q=lampu+mati&district={cikupa}&sort=support",
            "filtered: category and kecamatan": f"/laporan?category={infra}&district={cikupa}",
            "filtered: kind, status and the last 30 days":
                f"/laporan?kind=complaint&status=in_progress&from={month_ago}",
            "sorted by support": "/laporan?sort=support",
            "sorted by support, page 2": None,
            "a report's page": f"/laporan/{sample}",
        }
        support_html = get("/laporan?sort=support")
        pages["sorted by support, page 2"] = unescape(NEXT.search(support_html).group(1))
        figures = {}
        for label, page in pages.items():
            get(page)  # warm: plans, caches
            times, logs = [], []
            for _ in range(runs):
                statements.clear()
                t0 = time.perf_counter()
                html = get(page)
                times.append((time.perf_counter() - t0) * 1000)
                logs.append(list(statements))
            median = statistics.median(times)
            sql = statistics.median(sum(s for s, _, _ in log) * 1000 for log in logs)
            server_ms = statistics.median(_database_ms(db, logs[0]) for _ in range(runs))
            figures[label] = (median, sql, len(logs[0]), len(NUMBER.findall(html)), logs[0],
                              server_ms)
            print(f"  {label}: median {median:.1f} ms (SQL seen by the app {sql:.1f} ms, "
                  f"in PostgreSQL {server_ms:.1f} ms; {len(logs[0])} statements, "
                  f"{len(NUMBER.findall(html))} reports listed); "
                  f"runs {[round(t, 1) for t in times]}", flush=True)
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        result["figures"] = figures

        if explain:
            slowest = max(figures, key=lambda k: figures[k][5])
            shown = [("the slowest page, " + slowest, slowest, 3)] + [
                (label, label, 1) for label in ("feed, first page", "feed, page 51 (cursor)",
                                                "sorted by support, page 2")
                if label != slowest]
            for title, label, count in shown:
                _explain(db, title, figures[label][4], count)
        db.session.remove()
        db.engine.dispose()
    return result


def _explain(db, title: str, log, count: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the ``count`` slowest statements of a page."""
    print(f"  EXPLAIN (ANALYZE, BUFFERS) of {title}:")
    for seconds, statement, params in sorted(log, key=lambda e: e[0], reverse=True)[:count]:
        print(f"    -- {seconds * 1000:.1f} ms: {' '.join(statement.split())[:600]}")
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars().all()
        db.session.rollback()
        print("\n".join(f"    {line}" for line in plan), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.public_feed",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, action="append",
                        help="reports to load (repeatable; default 1000000)")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page (median)")
    parser.add_argument("--no-explain", action="store_true",
                        help="skip EXPLAIN ANALYZE of the slowest page")
    args = parser.parse_args(argv)
    sizes = args.reports or [1_000_000]
    version, results = run_sizes(sizes, "reports", lambda server, n: bench_size(
        server, n, args.runs, not args.no_explain))
    print()
    print(f"Machine: {machine()}; PostgreSQL {version}; "
          f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Command: python -m benchmarks.public_feed "
          f"{' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    for r in results:
        print()
        print(f"{r['n']:,} reports (load: {r['load_s']:.0f} s)")
        print()
        print("| page | in PostgreSQL (median) | whole request (median) | SQL seen by the app "
              "| statements | reports listed |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, (median, sql, count, listed, _, server_ms) in r["figures"].items():
            print(f"| {label} | {server_ms:.1f} ms | {median:.1f} ms | {sql:.1f} ms | {count} "
                  f"| {listed} |")
    missed = [(r["n"], label) for r in results for label, f in r["figures"].items()
              if f[0] > GOAL_MS]
    if missed:
        print("\nGoal missed (over 50 ms): " + "; ".join(f"{n:,}: {label}"
                                                          for n, label in missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
