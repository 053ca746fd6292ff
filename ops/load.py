"""make load: many citizens filing and tracking while staff work, against the local production
stack (gunicorn + PostgreSQL on 127.0.0.1), for a bounded time; then every accepted submission
is looked up in the database.

    python -m ops.load [--citizens 40] [--staff 4] [--seconds 60] [--workers N] [--write]

Citizens: open the form, file a report (a 302 to the receipt), read the receipt (public number
and tracking code), look the code up on /lacak and open their report; between rounds some read
the home page (and the public feed /laporan and /statistik if they exist). Staff: sign in, open
the inbox, open a report from it, now and then sign in again. Each virtual user is a thread with
its own cookies (requests.Session). Rate limits are off in this stack: every "citizen" comes
from 127.0.0.1, which in production would be thousands of addresses.

Printed: requests per second, p50/p95/p99 per kind of request and overall, errors (any status
>= 500 or a connection error; 4xx other than expected ones also count), and the count: accepted
submissions found in the database, missing, extra. ``--write`` replaces the "Load" section of
docs/PERFORMANCE.md.
"""
import argparse
import datetime as dt
import random
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict

import requests

from benchmarks.pg import machine
from ops.stack import REPO, Stack, write_doc_section

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
OPTION = re.compile(r'<option value="(\d+)"')
SELECT = re.compile(r'<select[^>]*name="(category|district)"[^>]*>(.*?)</select>', re.S)
NUMBER = re.compile(r'class="public-number">([^<]+)<')
CODE = re.compile(r'id="tracking-code"[^>]*>([^<]+)<')
STAFF_LINK = re.compile(r'href="(/staf/laporan/[^"/?#]+)"')
STAFF_ACCOUNTS = (
    "admin@tangerangkab.example.id",
    "penghubung.disdukcapil@tangerangkab.example.id",
    "operator.disdukcapil@tangerangkab.example.id",
    "inspektorat@tangerangkab.example.id",
)
PASSWORD = "lapor-demo-2026"
TITLES = ("Jalan berlubang di depan pasar", "Lampu jalan mati sejak seminggu",
          "Antrean KTP elektronik sangat panjang", "Sampah menumpuk di pinggir sungai",
          "Puskesmas tutup pada jam layanan")
BODIES = ("Sudah dua minggu lubang besar ini membahayakan pengendara motor, mohon segera "
          "diperbaiki sebelum ada korban.",
          "Warga sudah melapor ke kelurahan tetapi belum ada tindak lanjut. Mohon bantuan "
          "dinas terkait untuk memeriksa lokasi.",
          "Kami datang sejak pukul enam pagi dan nomor antrean sudah habis. Mohon ditambah "
          "petugas pelayanan.")


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)  # name -> seconds
        self.errors = defaultdict(int)  # name -> count
        self.error_samples = []
        self.accepted = []  # public numbers on receipts
        self.statuses = defaultdict(int)

    def request(self, session, name, method, url, expect=(200, 302), **kwargs):
        start = time.perf_counter()
        try:
            response = session.request(method, url, allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException as exc:
            elapsed = time.perf_counter() - start
            with self.lock:
                self.times[name].append(elapsed)
                self.errors[name] += 1
                self.statuses["conn-error"] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.times[name].append(elapsed)
            self.statuses[response.status_code] += 1
            if response.status_code not in expect:
                self.errors[name] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{name}: HTTP {response.status_code}")
        return response if response.status_code in expect else None


def _form_choices(html: str) -> dict:
    return {name: OPTION.findall(body) for name, body in SELECT.findall(html)}


def citizen(base: str, rec: Recorder, stop: threading.Event, extra_pages: list[str]) -> None:
    rnd = random.Random()
    while not stop.is_set():
        session = requests.Session()
        page = rec.request(session, "GET /lapor", "GET", base + "/lapor")
        if page is None:
            time.sleep(0.5)
            continue
        html = page.text
        token = CSRF.search(html).group(1)
        choices = _form_choices(html)
        data = {
            "csrf_token": token, "kind": rnd.choice(["complaint", "aspiration"]),
            "title": rnd.choice(TITLES) + f" {rnd.randrange(10**6)}",
            "body": rnd.choice(BODIES), "category": rnd.choice(choices.get("category") or [""]),
            "district": rnd.choice(choices.get("district") or [""]), "village": "Talaga",
            "address": "Jl. Raya Serang km 24", "event_date": "",
            "name": "Warga Uji", "email": "", "phone": "0812" + str(rnd.randrange(10**7, 10**8)),
            "nik": "",
        }
        if rnd.random() < 0.3:
            data["is_anonymous"] = "y"
        filed = rec.request(session, "POST /lapor", "POST", base + "/lapor", data=data,
                            expect=(302,))
        if filed is None:
            continue
        receipt = rec.request(session, "GET /lapor/terkirim", "GET", base + "/lapor/terkirim")
        if receipt is None:
            continue
        number, code = NUMBER.search(receipt.text), CODE.search(receipt.text)
        if not (number and code):
            with rec.lock:
                rec.errors["GET /lapor/terkirim"] += 1
                rec.error_samples.append("receipt without number or code")
            continue
        with rec.lock:
            rec.accepted.append(number.group(1).strip())
        for _ in range(rnd.randint(1, 2)):  # the reporter comes back with the code
            session = requests.Session()
            form = rec.request(session, "GET /lacak", "GET", base + "/lacak")
            if form is None:
                break
            found = rec.request(session, "POST /lacak", "POST", base + "/lacak",
                                data={"csrf_token": CSRF.search(form.text).group(1),
                                      "code": code.group(1).strip()}, expect=(302,))
            if found is None:
                break
            rec.request(session, "GET /lacak/<number>", "GET",
                        base + found.headers["Location"].replace(base, ""))
        rec.request(session, "GET /", "GET", base + "/")
        for path in extra_pages:
            if rnd.random() < 0.3:
                rec.request(session, f"GET {path}", "GET", base + path)


def staff(base: str, rec: Recorder, stop: threading.Event, email: str) -> None:
    rnd = random.Random()
    while not stop.is_set():
        session = requests.Session()
        form = rec.request(session, "GET /staf/masuk", "GET", base + "/staf/masuk")
        if form is None:
            time.sleep(0.5)
            continue
        signed_in = rec.request(session, "POST /staf/masuk", "POST", base + "/staf/masuk",
                                data={"csrf_token": CSRF.search(form.text).group(1),
                                      "email": email, "password": PASSWORD}, expect=(302,))
        if signed_in is None:
            time.sleep(0.5)
            continue
        for _ in range(10):  # a working session: the inbox, a report, the inbox again ...
            if stop.is_set():
                return
            inbox = rec.request(session, "GET /staf/ (inbox)", "GET", base + "/staf/")
            if inbox is None:
                break
            links = STAFF_LINK.findall(inbox.text)
            if links:
                rec.request(session, "GET /staf/laporan/<number>", "GET",
                            base + rnd.choice(links[:20]))
            time.sleep(rnd.uniform(0.1, 0.5))  # reading


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(args) -> dict:
    overrides = {"RATELIMIT_ENABLED": False, "OUTBOX_SEND_AFTER_REQUEST": False}
    with Stack(workers=args.workers, threads=args.threads, overrides=overrides,
               mail=True, worker=True) as stack:
        before = {row[0] for row in stack.sql("SELECT public_number FROM report")}
        extra_pages = [p for p in ("/laporan", "/statistik")
                       if requests.get(stack.url + p, timeout=10).status_code == 200]
        rec, stop = Recorder(), threading.Event()
        threads = [threading.Thread(target=citizen, args=(stack.url, rec, stop, extra_pages),
                                    daemon=True) for _ in range(args.citizens)]
        threads += [threading.Thread(target=staff, daemon=True,
                                     args=(stack.url, rec, stop,
                                           STAFF_ACCOUNTS[i % len(STAFF_ACCOUNTS)]))
                    for i in range(args.staff)]
        print(f"load: {args.citizens} citizens and {args.staff} staff for {args.seconds} s "
              f"against {stack.url} ({stack.workers} workers x {stack.threads} threads)",
              flush=True)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        elapsed = time.monotonic() - started
        after = {row[0] for row in stack.sql("SELECT public_number FROM report")}
        attachments_without_report = stack.sql(
            "SELECT count(*) FROM attachment a LEFT JOIN report r ON r.id = a.report_id "
            "WHERE r.id IS NULL")[0][0]
        reports_without_identity = stack.sql(
            "SELECT count(*) FROM report r WHERE NOT r.is_anonymous AND NOT EXISTS "
            "(SELECT 1 FROM reporter_identity i WHERE i.report_id = r.id)")[0][0] \
            if _has_table(stack, "reporter_identity") else 0
        workers = stack.workers
        threads_per = stack.threads
    new = after - before
    accepted = set(rec.accepted)
    all_times = [t for values in rec.times.values() for t in values]
    total = len(all_times)
    result = {
        "seconds": elapsed, "requests": total, "rps": total / elapsed,
        "p50": percentile(all_times, 0.50), "p95": percentile(all_times, 0.95),
        "p99": percentile(all_times, 0.99), "errors": sum(rec.errors.values()),
        "per_name": {name: (len(v), percentile(v, .5), percentile(v, .95), percentile(v, .99),
                            rec.errors[name]) for name, v in sorted(rec.times.items())},
        "accepted": len(accepted), "duplicate_receipts": len(rec.accepted) - len(accepted),
        "in_db": len(accepted & new), "missing": len(accepted - new),
        "extra": len(new - accepted), "orphan_attachments": attachments_without_report,
        "reports_without_identity": reports_without_identity,
        "statuses": dict(rec.statuses), "samples": rec.error_samples,
        "workers": workers, "threads": threads_per, "citizens": args.citizens,
        "staff": args.staff,
    }
    return result


def _has_table(stack: Stack, name: str) -> bool:
    return bool(stack.sql("SELECT 1 FROM information_schema.tables WHERE table_name = %s", name))


def markdown(result: dict) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    ms = lambda s: f"{s * 1000:.0f}"  # noqa: E731
    lines = [
        "## Load: citizens filing and tracking while staff work (`make load`)",
        "",
        f"Measured {dt.date.today().isoformat()} at commit `{commit}` on {machine()}; the load "
        "generator runs on the same machine (it takes part of the CPU). gunicorn "
        f"(`gunicorn.conf.py`, gthread) with {result['workers']} workers x {result['threads']} "
        "threads, PostgreSQL 15 on 127.0.0.1 (durable: fsync on), the outbox worker sending "
        "the receipts to an SMTP sink meanwhile. "
        f"{result['citizens']} citizens (each: the form, a filing, the receipt, one or two "
        f"look-ups of the code and the report page, the home page) and {result['staff']} staff "
        "(sign in, inbox, a report from the inbox, in a loop) for "
        f"{result['seconds']:.0f} s; rate limits off (all users come from 127.0.0.1).",
        "",
        f"**{result['rps']:.0f} requests/s** ({result['requests']} requests), "
        f"p50 {ms(result['p50'])} ms, p95 {ms(result['p95'])} ms, p99 {ms(result['p99'])} ms, "
        f"**{result['errors']} errors**.",
        "",
        "| request | count | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (count, p50, p95, p99, errors) in result["per_name"].items():
        lines.append(f"| `{name}` | {count} | {ms(p50)} | {ms(p95)} | {ms(p99)} | {errors} |")
    lines += [
        "",
        f"Counted afterwards in PostgreSQL: {result['accepted']} submissions accepted (a 302 to "
        f"the receipt with a public number), **{result['in_db']} in the database, "
        f"{result['missing']} missing, {result['extra']} extra**; "
        f"{result['orphan_attachments']} attachment rows without their report, "
        f"{result['reports_without_identity']} named reports without their identity.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    write_doc_section("PERFORMANCE.md", "## Load: ", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=40)
    parser.add_argument("--staff", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    result = run(args)
    text = markdown(result)
    print(text)
    print("statuses:", result["statuses"])
    for sample in result["samples"]:
        print("  ", sample)
    if args.write:
        write_section(text)
        print("docs/PERFORMANCE.md updated")
    ok = result["errors"] == 0 and result["missing"] == 0 and result["extra"] == 0 \
        and result["orphan_attachments"] == 0 and result["reports_without_identity"] == 0
    print("load: OK" if ok else "load: FAILED (errors, or submissions missing/extra)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
