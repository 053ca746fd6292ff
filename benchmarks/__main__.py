"""python -m benchmarks [--reports N ...] [--runs 5] [--explain] [--profile]

For each N: a fresh database in a throw-away PostgreSQL 15 cluster, migrated to head, the demo
data, N open reports loaded with COPY, VACUUM ANALYZE; then the wall-clock time of

* the deadline sweep (``portal.domain.sweep.run_sweep(now)``, when it exists): the first run
  (everything that is due is new), the repeat runs (the steady state: nothing new is due) and
  one run five minutes after Jakarta midnight of the next working day (the daily peak: a day's
  deadlines turn red, due today and due tomorrow at once);
* the holiday on the next working day, a day inside about a third of the open clocks: the
  admin's request (``add_holiday``: records it, counts the clocks) and the worker's part
  (``apply_calendar_changes``: moves them); rolled back after each run;
* the per-unit open / yellow / red counts.

Each figure but the sweep's first and after-midnight runs is the median of ``--runs`` runs, each with a fresh
``now``; the cluster is stopped at the end, also on error. Prints a Markdown table for
docs/PERFORMANCE.md.
"""
import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from benchmarks.pg import ThrowawayPostgres, machine, run_sizes

GOAL_SECONDS = 5.0


def _median(values):
    return statistics.median(values) if values else None


@contextmanager
def statement_log(engine, sink: list):
    """Record each SQL statement run on ``engine`` with its wall-clock time."""
    from sqlalchemy import event

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["bench_t0"].pop()
        sink.append((time.perf_counter() - started, statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield sink
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _written(db) -> dict:
    """What the sweep has written so far: rows per table."""
    from sqlalchemy import text

    found = {}
    for table, where in (("deadline_notice", ""), ("outbox_message", ""),
                         ("report_event", " WHERE kind IN ('overdue', 'completed')")):
        try:
            found[table] = db.session.execute(text(f"SELECT count(*) FROM {table}{where}")).scalar()
        except Exception:  # a table the sweep does not have (yet)
            db.session.rollback()
    return found


def _explain(db, log: list, what: str, top: int = 3) -> None:
    """EXPLAIN ANALYZE the slowest statements of ``log`` (each rolled back)."""
    print(f"  slowest statements of {what} ({len(log)} in all), EXPLAIN ANALYZE (rolled back):")
    for seconds, statement, params in sorted(log, key=lambda e: e[0], reverse=True)[:top]:
        print(f"    -- {seconds:.3f} s: {' '.join(statement.split())[:400]}")
        if not isinstance(params, dict):
            print("    (executemany: not explained)")
            continue
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars().all()
        db.session.rollback()
        print("\n".join(f"    {line}" for line in plan), flush=True)


def bench_size(server: ThrowawayPostgres, n: int, runs: int, explain: bool,
               profile: bool = False) -> dict:
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.demo import load_demo_data
    from portal.domain import deadlines
    from portal.domain.calendar import jakarta_date
    from portal.extensions import db
    from portal.models import Category, Institution, InstitutionKind, Report
    from portal.models.types import utcnow

    from benchmarks.load import load_reports

    name = f"bench_{n}"
    url = server.create_database(name)
    result = {"n": n}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "127.0.0.1:5000",
                      "OUTBOX_SEND_AFTER_REQUEST": False})
    with app.app_context():
        upgrade()
        load_demo_data()
        db.session.commit()
        institution = db.session.scalar(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id))
        unit_ids = list(db.session.scalars(select(Institution.id).where(
            Institution.parent_id == institution.id, Institution.kind == InstitutionKind.UNIT)))
        categories = [(c.id, c.is_urgent) for c in db.session.scalars(select(Category))]

        started = time.perf_counter()
        with psycopg.connect(server.conninfo(name)) as conn:
            # Institutions with a chat webhook get a webhook message per notice too.
            if conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = "
                            "'institution' AND column_name = 'webhook_url'").fetchone():
                conn.execute("UPDATE institution SET webhook_url = 'http://127.0.0.1:9/hook' "
                             "WHERE kind = 'institution'")
            result["mix"] = load_reports(conn, n, now=utcnow(), institution_id=institution.id,
                                         unit_ids=unit_ids, categories=categories)
            conn.commit()
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        result["load_s"] = time.perf_counter() - started
        print(f"  loaded {n:,} reports in {result['load_s']:.0f} s: {result['mix']}", flush=True)

        # -- the per-unit counts
        def counts(now):
            days_off = deadlines.national_days_off(jakarta_date(now))
            node = func.coalesce(Report.current_unit_id, Report.current_institution_id)
            return db.session.execute(
                select(node, func.count(),
                       func.count().filter(deadlines.yellow_clause(now, days_off)),
                       func.count().filter(deadlines.red_clause(now)))
                .where(Report.deadline_kind.is_not(None)).group_by(node)).all()

        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = counts(utcnow())
            times.append(time.perf_counter() - t0)
            db.session.rollback()
        result["counts_s"] = _median(times)
        result["counts_rows"] = len(rows)
        print(f"  per-unit counts: median {result['counts_s']:.3f} s ({times})", flush=True)

        # -- the holiday: the admin's request records it, the worker moves the deadlines
        from benchmarks.load import _Calendar

        day = _Calendar(jakarta_date(utcnow())).working_day(1)
        request_times, worker_times, moved, will_move = [], [], 0, 0
        request_log, holiday_log = [], []
        for i in range(runs):
            with statement_log(db.engine, request_log if i == 0 else []):
                t0 = time.perf_counter()
                change = deadlines.add_holiday(day, "Benchmark", institution=None, actor=None,
                                               now=utcnow())
                request_times.append(time.perf_counter() - t0)
            with statement_log(db.engine, holiday_log if i == 0 else []):
                t0 = time.perf_counter()
                moved = deadlines.apply_calendar_changes(utcnow())
                worker_times.append(time.perf_counter() - t0)
            will_move = change.will_move
            db.session.rollback()
        result["holiday_request_s"] = _median(request_times)
        result["holiday_s"] = _median(worker_times)
        result["holiday_moved"] = moved
        print(f"  holiday on {day}: the request (add_holiday) median "
              f"{result['holiday_request_s']:.2f} s ({[round(t, 2) for t in request_times]}; "
              f"{len(request_log)} statements), {will_move:,} deadlines counted; the worker (apply_calendar_changes) moved "
              f"{moved:,}, median {result['holiday_s']:.2f} s "
              f"({[round(t, 2) for t in worker_times]}); {len(holiday_log)} statements, "
              f"{sum(e[0] for e in holiday_log):.2f} s in SQL", flush=True)
        if explain:
            _explain(db, holiday_log, "the worker's holiday recompute")

        # -- the sweep
        try:
            from portal.domain.sweep import run_sweep
        except ImportError:
            run_sweep = None
            print("  sweep: portal.domain.sweep.run_sweep does not exist yet", flush=True)
        if run_sweep is not None:
            log: list = []
            last_log: list = []
            first = None
            repeat = []
            for i in range(runs + 1):
                now = utcnow()
                sink = log if i == 0 else []
                profiler = cProfile.Profile() if (profile and i == 0) else None
                with statement_log(db.engine, sink):
                    t0 = time.perf_counter()
                    if profiler is not None:
                        profiler.enable()
                    run_sweep(now)
                    db.session.commit()
                    if profiler is not None:
                        profiler.disable()
                    elapsed = time.perf_counter() - t0
                last_log = sink
                if profiler is not None:
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                    print("  profile of the first sweep (cumulative):")
                    print(out.getvalue())
                if i == 0:
                    result["sweep_first_sql_s"] = sum(seconds for seconds, _, _ in sink)
                if i == 0:
                    first = elapsed
                    result["sweep_outcome"] = _written(db)
                else:
                    repeat.append(elapsed)
            # The daily peak: the first sweep after Jakarta midnight of the next working day,
            # when a whole day's deadlines turn red, due today and due tomorrow together.
            from portal.domain.calendar import next_working_day, start_of_day

            midnight = start_of_day(next_working_day(jakarta_date(utcnow()),
                                                     deadlines.national_days_off()))
            day_log: list = []
            with statement_log(db.engine, day_log):
                t0 = time.perf_counter()
                outcome = run_sweep(midnight + timedelta(minutes=5))
                db.session.commit()
                result["sweep_day_s"] = time.perf_counter() - t0
            result["sweep_day_sql_s"] = sum(seconds for seconds, _, _ in day_log)
            print(f"  sweep after midnight ({midnight:%Y-%m-%d %H:%M} UTC): "
                  f"{result['sweep_day_s']:.2f} s (SQL {result['sweep_day_sql_s']:.2f} s): "
                  f"{outcome.summary()}", flush=True)
            result["sweep_first_s"] = first
            result["sweep_repeat_s"] = _median(repeat)
            result["sweep_repeat_all"] = repeat
            print(f"  sweep: first {first:.2f} s (wrote {result['sweep_outcome']}), repeat median "
                  f"{result['sweep_repeat_s']:.2f} s ({[round(t, 2) for t in repeat]})",
                  flush=True)
            result["sweep_repeat_sql_s"] = sum(seconds for seconds, _, _ in last_log)
            print(f"  time in SQL: first run {result['sweep_first_sql_s']:.2f} s, last repeat "
                  f"{result['sweep_repeat_sql_s']:.2f} s", flush=True)
            if explain:
                print("  slowest statements of the first sweep:")
                for seconds, statement, _ in sorted(log, key=lambda e: e[0], reverse=True)[:8]:
                    print(f"    {seconds:8.3f} s  {' '.join(statement.split())[:300]}")
                _explain(db, last_log, "the last repeat run of the sweep")
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, action="append",
                        help="open reports to load (repeatable; default 100000 and 1000000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--explain", action="store_true",
                        help="list the slowest SQL statements of the sweep, EXPLAIN ANALYZE them")
    parser.add_argument("--profile", action="store_true",
                        help="profile the first sweep in Python (cProfile)")
    args = parser.parse_args(argv)
    sizes = args.reports or [100_000, 1_000_000]

    version, results = run_sizes(sizes, "open reports", lambda server, n: bench_size(
        server, n, args.runs, args.explain, args.profile))

    def fmt(value, digits=2):
        return "–" if value is None else f"{value:.{digits}f}"

    print()
    print(f"Machine: {machine()}; PostgreSQL {version}; "
          f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Command: python -m benchmarks {' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    print()
    print("| open reports | load (COPY + VACUUM ANALYZE) | sweep, first run | sweep, repeat "
          "(median) | sweep after midnight | holiday: request (median) | holiday: worker "
          "(median) | deadlines moved | per-unit counts (median) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['n']:,} | {fmt(r['load_s'], 0)} s | {fmt(r.get('sweep_first_s'))} s "
              f"(SQL {fmt(r.get('sweep_first_sql_s'))} s) | "
              f"{fmt(r.get('sweep_repeat_s'))} s | {fmt(r.get('sweep_day_s'))} s | "
              f"{fmt(r['holiday_request_s'])} s | "
              f"{fmt(r['holiday_s'])} s | "
              f"{r['holiday_moved']:,} | {fmt(r['counts_s'], 3)} s |")
    slow = [r for r in results if max(r.get("sweep_repeat_s") or 0, r.get("sweep_first_s") or 0,
                                      r.get("sweep_day_s") or 0) > GOAL_SECONDS]
    if slow:
        sizes_missed = ", ".join(format(r["n"], ",") for r in slow)
        print(f"\nGoal missed (a sweep over {GOAL_SECONDS:.0f} s) at: {sizes_missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
