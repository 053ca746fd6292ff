"""python -m benchmarks.throughput [--reports 100000] [--seconds 20] [--clients 8] [--workers 2]

Throughput and latency of filing and of tracking under gunicorn (gunicorn.conf.py: gthread,
``--workers`` processes of 4 threads) on a PostgreSQL holding ``--reports`` generated reports
(``flask dev generate``), next to a bare Flask route (benchmarks/bare_app.py) served by the same
gunicorn settings in the same run: the framework's own limit on this machine.

The client: ``--clients`` threads on the same machine (loopback only), each a closed loop with
its own cookies (requests.Session), for ``--seconds`` per phase:

* bare: GET / of the bare app;
* filing, the real thing: GET /lapor (the form and its CSRF token), then POST /lapor (a
  complaint, 302 to the receipt); a filing is the pair;
* tracking: GET /lacak (token), then POST /lacak with the code of a generated report (302).

Printed: operations per second, HTTP requests per second, p50 and p95 latency of an operation
and of its POST alone, errors; the ratios of filing and tracking requests per second to the bare
route's. Rate limits are off (every "citizen" is 127.0.0.1). The servers and the cluster are
stopped at the end (by their process ids), also on error. The client shares the 2 CPUs with the
servers: the bare route's figure is bounded by the client too (see docs/PERFORMANCE.md).
"""
import argparse
import random
import re
import sys
import threading
import time
import urllib.request
from datetime import datetime

import requests

from benchmarks.pg import machine

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
GOAL_RATIO = 0.40


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def run_phase(name: str, operation, clients: int, seconds: float) -> dict:
    stop = threading.Event()
    lock = threading.Lock()
    ops, posts, errors, requests_done = [], [], [0], [0]

    def loop(number):
        rng = random.Random(number)
        session = requests.Session()
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                count, post_seconds = operation(session, rng)
            except Exception:  # a refused or failed request: counted, the loop goes on
                with lock:
                    errors[0] += 1
                session = requests.Session()
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                ops.append(elapsed)
                requests_done[0] += count
                if post_seconds is not None:
                    posts.append(post_seconds)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    wall = time.perf_counter() - started
    result = {"name": name, "ops_s": len(ops) / wall, "req_s": requests_done[0] / wall,
              "p50_ms": percentile(ops, 0.5) * 1000, "p95_ms": percentile(ops, 0.95) * 1000,
              "post_p50_ms": percentile(posts, 0.5) * 1000 if posts else None,
              "post_p95_ms": percentile(posts, 0.95) * 1000 if posts else None,
              "errors": errors[0], "ops": len(ops)}
    post = (f", POST p50 {result['post_p50_ms']:.0f} ms p95 {result['post_p95_ms']:.0f} ms"
            if posts else "")
    print(f"  {name}: {result['ops_s']:.1f} operations/s, {result['req_s']:.1f} requests/s, "
          f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms{post}; "
          f"{result['ops']} operations, {errors[0]} errors", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args(argv)

    from ops.stack import VENV_BIN, REPO, Stack, free_port

    from portal.devdata import tracking_code

    stack = Stack(workers=args.workers, threads=4, overrides={"RATELIMIT_ENABLED": False})
    results = {}
    try:
        stack.pg.start()
        stack.database_url = stack.pg.create_database("portal")
        stack.flask("db", "upgrade")
        t0 = time.perf_counter()
        stack.extra_env = {"PORTAL_ENV": "development"}  # generating is refused in production
        stack.flask("dev", "generate", "--reports", str(args.reports), "--seed", "1",
                    "--no-statistics")
        stack.extra_env = {}
        print(f"{args.reports:,} reports generated in {time.perf_counter() - t0:.0f} s; "
              f"{machine()}", flush=True)

        # The bare app, same gunicorn settings, its own port; stopped before the portal starts.
        bare_port = free_port()
        stack.extra_env = {"GUNICORN_BIND": f"127.0.0.1:{bare_port}"}
        bare = stack._spawn("bare", [str(VENV_BIN / "gunicorn"), "-c",
                                     str(REPO / "gunicorn.conf.py"), "benchmarks.bare_app:app"])
        stack.extra_env = {}
        bare_url = f"http://127.0.0.1:{bare_port}/"
        for _ in range(300):
            try:
                urllib.request.urlopen(bare_url, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)

        def bare_get(session, rng):
            response = session.get(bare_url, timeout=30)
            response.raise_for_status()
            return 1, None

        results["bare"] = run_phase("bare Flask route", bare_get, args.clients, args.seconds)
        bare.terminate()
        bare.wait(timeout=30)
        del stack.processes["bare"]

        stack.start_gunicorn()
        base = stack.url
        page = requests.get(base + "/lapor", timeout=30).text
        options = {name: re.findall(r'<option value="(\d+)"', body) for name, body in
                   re.findall(r'<select[^>]*name="(category|district)"[^>]*>(.*?)</select>',
                              page, re.S)}
        # With many kecamatan the form asks for the name (portal/domain/places.py): type
        # names that one regency alone has.
        typed = [] if options.get("district") else [row[0] for row in stack.sql(
            "SELECT name FROM district GROUP BY name HAVING count(*) = 1 LIMIT 200")]

        def file(session, rng):
            form = session.get(base + "/lapor", timeout=30)
            form.raise_for_status()
            data = {"csrf_token": CSRF.search(form.text).group(1), "kind": "complaint",
                    "title": f"Jalan rusak di depan pasar {rng.randrange(10**6)}",
                    "body": "Jalan berlubang besar di depan pasar, sudah dua minggu belum "
                            "diperbaiki dan motor sering jatuh.",
                    "category": rng.choice(options.get("category") or [""]),
                    "district": rng.choice(options.get("district") or [""]),
                    "district_name": rng.choice(typed) if typed else "",
                    "village": "Talaga", "address": "", "event_date": "",
                    "name": "Warga Uji", "email": "",
                    "phone": f"0812{rng.randrange(10**7, 10**8)}", "nik": ""}
            t0 = time.perf_counter()
            response = session.post(base + "/lapor", data=data, allow_redirects=False,
                                    timeout=30)
            if response.status_code != 302:
                raise RuntimeError(f"POST /lapor: {response.status_code}")
            return 2, time.perf_counter() - t0

        def track(session, rng):
            form = session.get(base + "/lacak", timeout=30)
            form.raise_for_status()
            code = tracking_code(1, rng.randrange(1, args.reports + 1))
            t0 = time.perf_counter()
            response = session.post(base + "/lacak", allow_redirects=False, timeout=30,
                                    data={"csrf_token": CSRF.search(form.text).group(1),
                                          "code": code})
            if response.status_code != 302:
                raise RuntimeError(f"POST /lacak: {response.status_code}")
            return 2, time.perf_counter() - t0

        for _ in range(3):  # warm the workers
            file(requests.Session(), random.Random(0))
        results["filing"] = run_phase("filing (GET /lapor + POST /lapor)", file, args.clients,
                                      args.seconds)
        results["tracking"] = run_phase("tracking (GET /lacak + POST /lacak)", track,
                                        args.clients, args.seconds)
        filed = stack.sql("SELECT count(*) FROM report")[0][0] - args.reports
        print(f"  reports filed during the run, counted in the database: {filed:,} "
              f"(operations counted: {results['filing']['ops']:,})")
    finally:
        stack.stop()

    bare_rate = results["bare"]["req_s"]
    print()
    print(f"Machine: {machine()}; {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"Command: python -m benchmarks.throughput "
          f"{' '.join(sys.argv[1:]) if argv is None else ' '.join(argv)}")
    print()
    print("| phase | operations/s | HTTP requests/s | ratio to the bare route (requests/s) "
          "| p50 | p95 | POST p50 / p95 | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in ("bare", "filing", "tracking"):
        r = results[key]
        post = (f"{r['post_p50_ms']:.0f} / {r['post_p95_ms']:.0f} ms"
                if r["post_p50_ms"] is not None else "–")
        print(f"| {r['name']} | {r['ops_s']:.1f} | {r['req_s']:.1f} | "
              f"{r['req_s'] / bare_rate:.0%} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | "
              f"{post} | {r['errors']} |")
    ratio = results["filing"]["req_s"] / bare_rate
    print(f"\nFiling: {ratio:.0%} of the bare route's requests per second "
          f"(goal ≥ {GOAL_RATIO:.0%}): {'met' if ratio >= GOAL_RATIO else 'MISSED'}")
    return 0 if ratio >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
