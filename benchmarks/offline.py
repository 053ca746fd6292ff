"""python -m benchmarks.offline [--institutions 500] [--units 10] [--reports 1000000]
[--outbox 1000000] [--runs 5] [--explain]

The offline-unit check the sweep worker runs every minute (``alert_offline_units(now)`` over
all institutions) on a national tree, in a throw-away PostgreSQL 15 cluster migrated to head:

* ``--institutions`` institutions of ``--units`` units each; every unit has a liaison and an
  operator, every institution an admin; one unit in ten idle for a week (offline), the rest
  seen within the hour; one institution in ten with a regional day off on the last working
  day (its own working-time cutoff);
* ``--reports`` reports over all units, three in five of them waiting at their unit;
* ``--outbox`` mails already sent (the alerts' memory is the outbox: its size matters).

Prints the first run (the alerts are queued) and the median of ``--runs`` repeat runs (the
steady state: nothing new), each with its number of SQL statements and time in SQL. Kept apart
from ``python -m benchmarks`` (the sweep and the holiday figures); same cluster recipe.
"""
import argparse
import statistics
import sys
import time
from datetime import timedelta, timezone

from benchmarks.pg import PG_SETTINGS, ThrowawayPostgres, machine

# The tree, the staff and the data, in SQL over generate_series (ids from 1; the tables are
# empty after the migrations). %(name)s are psycopg parameters.
LOAD = [
    ("INSERT INTO institution (id, kind, code, name, parent_id) "
     "VALUES (1, 'national', 'NASIONAL', 'Nasional', NULL)"),
    ("INSERT INTO institution (id, kind, code, name, parent_id) "
     "SELECT 1 + i, 'institution', 'INST-' || i, 'Instansi ' || i, 1 "
     "FROM generate_series(1, %(institutions)s) AS i"),
    # unit k (1..units) of institution i: id 1 + institutions + (i - 1) * units + k
    ("INSERT INTO institution (id, kind, code, name, parent_id) "
     "SELECT 1 + %(institutions)s + (i - 1) * %(units)s + k, 'unit', 'UNIT-' || i || '-' || k, "
     "'Dinas ' || i || '-' || k, 1 + i "
     "FROM generate_series(1, %(institutions)s) AS i, generate_series(1, %(units)s) AS k"),
    "SELECT setval(pg_get_serial_sequence('institution', 'id'), max(id)) FROM institution",
    # Staff: an admin per institution, a liaison and an operator per unit. One unit in ten
    # (k = 1) was last seen a week ago, the others within the hour.
    ("INSERT INTO user_account (email, name, password_hash, is_staff, is_active_account, "
     "created_at, last_seen_at, failed_logins, session_version) "
     "SELECT 'admin' || i || '@bench.example.id', 'Admin ' || i, '!', true, true, "
     "%(now)s, %(now)s, 0, 1 FROM generate_series(1, %(institutions)s) AS i"),
    ("INSERT INTO membership (user_id, institution_id, role) "
     "SELECT u.id, 1 + substring(u.email from 'admin([0-9]+)@')::int, 'institution_admin' "
     "FROM user_account u WHERE u.email LIKE 'admin%%@bench.example.id'"),
    ("INSERT INTO user_account (email, name, password_hash, is_staff, is_active_account, "
     "created_at, last_seen_at, failed_logins, session_version) "
     "SELECT r.role || '.' || n.id || '@bench.example.id', r.role || ' ' || n.code, '!', true, "
     "true, %(now)s, CASE WHEN n.code LIKE 'UNIT-%%-1' THEN %(week_ago)s "
     "ELSE %(now)s - (n.id %% 60) * interval '1 minute' END, 0, 1 "
     "FROM institution n, (VALUES ('liaison'), ('operator')) AS r(role) WHERE n.kind = 'unit'"),
    ("INSERT INTO membership (user_id, institution_id, role) "
     "SELECT u.id, substring(u.email from '\\.([0-9]+)@')::int, "
     "substring(u.email from '^([a-z]+)\\.') "
     "FROM user_account u WHERE u.email ~ '^(liaison|operator)\\.'"),
    # A regional day off for one institution in ten on the last working day: its own cutoff.
    ("INSERT INTO holiday (day, name, institution_id, created_at) "
     "SELECT %(day_off)s, 'Hari jadi', 1 + i, %(now)s "
     "FROM generate_series(1, %(institutions)s) AS i WHERE i %% 10 = 3"),
    # Reports: three in five waiting at their unit, the others answered.
    ("INSERT INTO report (public_number, tracking_code_hash, kind, title, body, channel, "
     "is_anonymous, is_confidential, status, current_institution_id, current_unit_id, "
     "clock_added_days, deadline_extended, created_at, updated_at, version) "
     "SELECT 'OFF-' || r, sha256(int8send(r)), 'complaint', 'Laporan ' || r, 'Isi.', 'web', "
     "false, false, (ARRAY['dispositioned', 'in_progress', 'reopened', 'answered', "
     "'answered'])[1 + (r / (%(institutions)s * %(units)s)) %% 5], 1 + 1 + (r %% (%(institutions)s * %(units)s)) / %(units)s, "
     "1 + %(institutions)s + 1 + r %% (%(institutions)s * %(units)s), 0, false, "
     "%(week_ago)s, %(week_ago)s, 1 FROM generate_series(1, %(reports)s) AS r"),
    # The outbox: mails long sent (bodies wiped), all sorts of subjects.
    ("INSERT INTO outbox_message (state, channel, recipient, subject, attempts, created_at, "
     "next_attempt_at, sent_at) "
     "SELECT 'sent', 'mail', 'staf' || m || '@bench.example.id', "
     "'[LAPOR!] Pengingat tenggat: ' || (m %% 50000) || ' laporan', 1, "
     "%(now)s - (m %% 400) * interval '1 day', %(now)s - (m %% 400) * interval '1 day', "
     "%(now)s - (m %% 400) * interval '1 day' FROM generate_series(1, %(outbox)s) AS m"),
]


def _load(server: ThrowawayPostgres, name: str, now, **sizes) -> float:
    import psycopg

    from portal.domain.calendar import is_working_day, jakarta_date

    day_off = jakarta_date(now) - timedelta(days=1)
    while not is_working_day(day_off):  # a day off on a weekend would change no cutoff
        day_off -= timedelta(days=1)
    naive = now.astimezone(timezone.utc).replace(tzinfo=None)  # the columns hold naive UTC
    params = dict(sizes, now=naive, week_ago=naive - timedelta(days=7), day_off=day_off)
    started = time.perf_counter()
    with psycopg.connect(server.conninfo(name)) as conn:
        for statement in LOAD:
            conn.execute(statement, params)
        conn.commit()
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def bench(server: ThrowawayPostgres, *, institutions: int, units: int, reports: int,
          outbox: int, runs: int, explain: bool) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from benchmarks.__main__ import _explain, statement_log
    from portal import create_app
    from portal.domain.offline import alert_offline_units
    from portal.extensions import db
    from portal.models import OutboxMessage
    from portal.models.types import utcnow

    name = f"bench_offline_{institutions}_{units}_{reports}"
    url = server.create_database(name)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "127.0.0.1:5000",
                      "OUTBOX_SEND_AFTER_REQUEST": False})
    result = {}
    with app.app_context():
        upgrade()
        db.session.remove()
        result["load_s"] = _load(server, name, utcnow(), institutions=institutions, units=units,
                                 reports=reports, outbox=outbox)
        print(f"  loaded {institutions:,} institutions x {units} units, {reports:,} reports, "
              f"{outbox:,} sent mails in {result['load_s']:.0f} s", flush=True)

        def one_run():
            log: list = []
            with statement_log(db.engine, log):
                t0 = time.perf_counter()
                alerted = alert_offline_units(utcnow())
                db.session.commit()
                elapsed = time.perf_counter() - t0
            db.session.expunge_all()
            return elapsed, len(alerted), log

        before = db.session.scalar(select(func.count(OutboxMessage.id)))
        result["first_s"], result["alerted"], first_log = one_run()
        result["mails"] = db.session.scalar(select(func.count(OutboxMessage.id))) - before
        result["first_statements"] = len(first_log)
        result["first_sql_s"] = sum(seconds for seconds, _, _ in first_log)
        print(f"  first run: {result['first_s']:.2f} s, {result['alerted']:,} units alerted, "
              f"{result['mails']:,} mails queued; {len(first_log):,} statements, "
              f"{result['first_sql_s']:.2f} s in SQL", flush=True)
        times, last_log = [], []
        for _ in range(runs):
            elapsed, alerted, last_log = one_run()
            assert alerted == 0, "the repeat run alerted again"
            times.append(elapsed)
        result["repeat_s"] = statistics.median(times)
        result["repeat_statements"] = len(last_log)
        result["repeat_sql_s"] = sum(seconds for seconds, _, _ in last_log)
        print(f"  repeat: median {result['repeat_s']:.3f} s ({[round(t, 3) for t in times]}); "
              f"{len(last_log):,} statements, {result['repeat_sql_s']:.3f} s in SQL", flush=True)
        if explain:
            for seconds, statement, _ in sorted(last_log, key=lambda e: e[0], reverse=True)[:4]:
                print(f"    {seconds:8.3f} s  {' '.join(statement.split())[:160]}")
            _explain(db, last_log, "the last repeat run", top=4)
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.offline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=500)
    parser.add_argument("--units", type=int, default=10, help="units per institution")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--outbox", type=int, default=1_000_000, help="sent mails")
    parser.add_argument("--runs", type=int, default=5, help="repeat runs (median)")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the slowest statements of the last repeat run")
    args = parser.parse_args(argv)

    server = ThrowawayPostgres()
    try:
        server.start(*PG_SETTINGS)
        print(f"PostgreSQL at {server.root}; {machine()}", flush=True)
        r = bench(server, institutions=args.institutions, units=args.units,
                  reports=args.reports, outbox=args.outbox, runs=args.runs,
                  explain=args.explain)
    finally:
        server.stop()
    print()
    print("| institutions | units | reports | sent mails | first run (alerts) | statements | "
          "repeat (median) | statements |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.institutions:,} | {args.institutions * args.units:,} | {args.reports:,} | "
          f"{args.outbox:,} | {r['first_s']:.2f} s ({r['alerted']:,} units, {r['mails']:,} "
          f"mails) | {r['first_statements']:,} | {r['repeat_s']:.3f} s | "
          f"{r['repeat_statements']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
