"""make faults: fault drills against the local production stack (gunicorn + PostgreSQL on
127.0.0.1). Each drill prints what it saw and fails loudly if the promise does not hold.

    python -m ops.faults [--only postgres|kill-commit|kill-upload] [--write]

1. postgres: citizens file and track (ops/load.py's citizens) while PostgreSQL is stopped
   (fast: open connections cut) for a few seconds and started again. Promise: while it is down,
   answers are 503 pages in Bahasa Indonesia with Retry-After (no traceback, no other 5xx); the
   same gunicorn workers serve again afterwards (pool pre-ping, no restart); every accepted
   filing is in the database.
2. kill-commit: one worker; a filing with a photo waits right before its commit (the stack's
   X-Fault-Delay hook: rows flushed, file written) and the worker is killed with SIGKILL.
   Promise: no report, identity or attachment row; the file written is an orphan that
   `flask uploads sweep` removes; the master starts a new worker, which files the next report.
3. kill-upload: the worker is killed while a client is still sending a filing's body slowly.
   Promise: nothing saved, no file.

(SMTP down for a while and two outbox workers at once are tests in the suite:
tests/functional/test_outbox_reliability.py.) ``--write`` records the results in
docs/DEPLOYMENT.md.
"""
import argparse
import datetime as dt
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import requests
from PIL import Image

from ops.load import CSRF, Recorder, citizen
from ops.stack import REPO, Stack, write_doc_section

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    print(f"  [{'ok' if ok else 'FAILED'}] {name}: {detail}", flush=True)


def _counts(stack: Stack) -> dict:
    return {table: stack.sql(f"SELECT count(*) FROM {table}")[0][0]
            for table in ("report", "reporter_identity", "attachment")}


def _category(stack: Stack) -> str:
    return str(stack.sql("SELECT id FROM category WHERE code = 'INFRASTRUKTUR'")[0][0])


def _filing(session: requests.Session, stack: Stack) -> dict:
    token = CSRF.search(session.get(stack.url + "/lapor", timeout=10).text).group(1)
    return {"csrf_token": token, "kind": "complaint", "title": "Jalan rusak di depan pasar",
            "body": "Lubang besar di jalan raya depan pasar sudah dua minggu membahayakan.",
            "category": _category(stack), "name": "Siti", "phone": "081234567890"}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


# ----------------------------------------------------------------------------- 1. PostgreSQL
def drill_postgres(args) -> None:
    print("drill 1: PostgreSQL restarted under load", flush=True)
    overrides = {"RATELIMIT_ENABLED": False, "OUTBOX_SEND_AFTER_REQUEST": False}
    with Stack(workers=2, overrides=overrides) as stack:
        workers_before = sorted(stack.gunicorn_workers())
        before = {row[0] for row in stack.sql("SELECT public_number FROM report")}
        rec, stop = Recorder(), threading.Event()
        citizens = [threading.Thread(target=citizen, args=(stack.url, rec, stop, []),
                                     daemon=True) for _ in range(8)]
        probes: list[tuple[float, int, str, str]] = []  # (time, status, lang, retry-after)

        def probe():
            session = requests.Session()
            while not stop.is_set():
                try:
                    response = session.get(stack.url + "/lapor", timeout=10)
                    lang = re.search(r'<html lang="([^"]+)"', response.text)
                    probes.append((time.monotonic(), response.status_code,
                                   lang.group(1) if lang else "?",
                                   response.headers.get("Retry-After", "")
                                   + ("|traceback" if "Traceback" in response.text else "")))
                except requests.RequestException as exc:
                    probes.append((time.monotonic(), 0, type(exc).__name__, ""))
                time.sleep(0.1)

        threads = citizens + [threading.Thread(target=probe, daemon=True)]
        for thread in threads:
            thread.start()
        time.sleep(8)
        down_at = time.monotonic()
        stack.pg.restart(down_seconds=args.down)
        up_at = time.monotonic()
        time.sleep(10)
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
        workers_after = sorted(stack.gunicorn_workers())
        after = {row[0] for row in stack.sql("SELECT public_number FROM report")}
        log = stack.log("gunicorn", tail=None)
        with open("/tmp/faults-gunicorn.log", "w") as copy:
            copy.write(log)

    during = [p for p in probes if down_at <= p[0] <= up_at]
    after_up = [p for p in probes if p[0] > up_at + 2]
    statuses_during = Counter(p[1] for p in during)
    bad_during = [p for p in during if p[1] not in (200, 503)]
    check("postgres: answers while down", not bad_during and statuses_during[503] > 0,
          f"{dict(statuses_during)} over {up_at - down_at:.1f} s down "
          f"(probe GET /lapor every 0.1 s)")
    pages_503 = [p for p in probes if p[1] == 503]
    check("postgres: 503 page in Indonesian with Retry-After, no traceback",
          bool(pages_503) and all(p[2] == "id" and p[3].isdigit() for p in pages_503),
          f"{len(pages_503)} pages, languages {sorted({p[2] for p in pages_503})}, "
          f"Retry-After {sorted({p[3] for p in pages_503})}")
    check("postgres: served again without a restart",
          bool(after_up) and all(p[1] == 200 for p in after_up) and
          workers_before == workers_after,
          f"{len(after_up)} probes after it was back, statuses "
          f"{dict(Counter(p[1] for p in after_up))}; gunicorn workers before "
          f"{workers_before}, after {workers_after}")
    other_5xx = {k: v for k, v in rec.statuses.items() if isinstance(k, int) and k >= 500
                 and k != 503}
    check("postgres: citizens saw no 5xx but 503", not other_5xx,
          f"citizen statuses {dict(rec.statuses)}")
    new, accepted = after - before, set(rec.accepted)
    check("postgres: every accepted filing is in the database", not (accepted - new),
          f"{len(accepted)} accepted, {len(accepted & new)} in the database, "
          f"{len(accepted - new)} missing, {len(new - accepted)} saved whose receipt the "
          "citizen did not see (the receipt page or the answer fell into the outage)")
    check("postgres: no request failed unhandled in gunicorn", "Error handling request" not in log,
          f"{log.count('Error handling request')} unhandled; logged: "
          f"{log.count('database unavailable')} 'database unavailable', "
          f"{log.count('a report could not be saved')} 'a report could not be saved'")


# ----------------------------------------------------------------------------- 2. kill at commit
def drill_kill_commit(args) -> None:
    print("drill 2: worker killed with SIGKILL in the middle of a filing's transaction",
          flush=True)
    with Stack(workers=1, overrides={"RATELIMIT_ENABLED": False},
               environment={"PORTAL_STACK_FAULTS": "1"}) as stack:
        session = requests.Session()
        data = _filing(session, stack)
        before = _counts(stack)
        [worker] = stack.gunicorn_workers()
        answer = {}

        def post():
            try:
                answer["status"] = session.post(
                    stack.url + "/lapor", data=data, files={"attachments": ("foto.jpg", _jpeg(),
                                                                            "image/jpeg")},
                    headers={"X-Fault-Delay": "20"}, allow_redirects=False,
                    timeout=60).status_code
            except requests.RequestException as exc:
                answer["status"] = type(exc).__name__

        thread = threading.Thread(target=post)
        thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(stack.upload_folder.glob("*.jpg")):
            time.sleep(0.1)
        written = sorted(p.name for p in stack.upload_folder.glob("*"))
        in_transaction = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE state = "
                                   "'idle in transaction'")[0][0]
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=60)
        time.sleep(1)
        after = _counts(stack)
        check("kill-commit: the worker was mid-transaction", bool(written) and in_transaction > 0,
              f"file(s) written {len(written)}, connections idle in transaction "
              f"{in_transaction}; the client got {answer.get('status')}")
        check("kill-commit: no report, identity or attachment row", after == before,
              f"before {before}, after {after}")
        orphans = stack.flask("uploads", "sweep", "--older-than", "0", "--dry-run")
        stack.flask("uploads", "sweep", "--older-than", "0")
        left = sorted(p.name for p in stack.upload_folder.glob("*"))
        check("kill-commit: the orphan file is found and swept", left == [],
              f"{orphans.strip().splitlines()[-1]}; left afterwards: {len(left)}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stack.gunicorn_workers():
            time.sleep(0.2)
        session = requests.Session()
        data = _filing(session, stack)
        status = session.post(stack.url + "/lapor", data=data,
                              files={"attachments": ("foto.jpg", _jpeg(), "image/jpeg")},
                              allow_redirects=False, timeout=30).status_code
        final = _counts(stack)
        check("kill-commit: a new worker files the next report whole",
              status == 302 and final["report"] == before["report"] + 1
              and final["attachment"] == before["attachment"] + 1
              and final["reporter_identity"] == before["reporter_identity"] + 1,
              f"status {status}, counts {final}, new worker {stack.gunicorn_workers()}")


# ----------------------------------------------------------------------------- 3. kill in upload
def drill_kill_upload(args) -> None:
    print("drill 3: worker killed while a filing's body is still arriving", flush=True)
    with Stack(workers=1, overrides={"RATELIMIT_ENABLED": False}) as stack:
        session = requests.Session()
        data = _filing(session, stack)
        before = _counts(stack)
        body, content_type = requests.models.RequestEncodingMixin._encode_files(
            {"attachments": ("foto.jpg", _jpeg() * 20, "image/jpeg")}, data)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        sock = socket.create_connection(("127.0.0.1", stack.port))
        sock.sendall((f"POST /lapor HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
                      f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                      f"Cookie: {cookie}\r\n\r\n").encode())
        half = len(body) // 2
        for start in range(0, half, 4096):  # slowly, the first half only
            sock.sendall(body[start:start + 4096])
            time.sleep(0.01)
        [worker] = stack.gunicorn_workers()
        os.kill(worker, signal.SIGKILL)
        try:
            sock.sendall(body[half:])
            sock.settimeout(10)
            reply = sock.recv(100)
        except OSError as exc:
            reply = type(exc).__name__.encode()
        sock.close()
        time.sleep(1)
        after = _counts(stack)
        files = sorted(p.name for p in stack.upload_folder.glob("*")) \
            if stack.upload_folder.exists() else []
        check("kill-upload: nothing saved, no file", after == before and files == [],
              f"before {before}, after {after}, files {files}; the client got "
              f"{reply[:40]!r}")


def write_section() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    lines = ["## Fault drills (`make faults`): results", "",
             f"Run {dt.date.today().isoformat()} at commit `{commit}` (`ops/faults.py`, gunicorn + "
             "PostgreSQL 15 on 127.0.0.1).", "", "| check | result | what was seen |",
             "|---|---|---|"]
    for name, ok, detail in RESULTS:
        lines.append(f"| {name} | {'passed' if ok else '**FAILED**'} | {detail} |")
    write_doc_section("DEPLOYMENT.md", "## Fault drills (`make faults`): results",
                      "\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["postgres", "kill-commit", "kill-upload"])
    parser.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--write", action="store_true", help="update docs/DEPLOYMENT.md")
    args = parser.parse_args(argv)
    drills = {"postgres": drill_postgres, "kill-commit": drill_kill_commit,
              "kill-upload": drill_kill_upload}
    for name, drill in drills.items():
        if args.only in (None, name):
            drill(args)
    if args.write:
        write_section()
        print("docs/DEPLOYMENT.md updated")
    failed = [r for r in RESULTS if not r[1]]
    print("faults: OK" if not failed else f"faults: FAILED ({len(failed)} checks)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
