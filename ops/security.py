"""make security: sqlmap (the Debian package) against the public forms and the APIs of the
local production stack (gunicorn + PostgreSQL on 127.0.0.1).

    python -m ops.security [--level 2] [--risk 1] [--timeout 420] [--only NAME ...] [--write]

Each target is one sqlmap run (--batch, PostgreSQL payloads, boolean/error/union/stacked/time
techniques, a time limit per run); forms are sent with a fresh CSRF token each time
(--csrf-token/--csrf-url); the feed API with a real key. Rate limits are off in this stack, or
the limiter would answer sqlmap with 429 and hide the answers it probes for. A target whose
page does not exist yet (404) is left out and said so.

The verdict per target is read from sqlmap's output: "injectable" (an injection point found:
the run fails), "clean" (sqlmap says no tested parameter appears injectable), or "incomplete"
(time limit or an error: the run fails too). HTTP 500 answers that sqlmap provoked are listed:
a 500 is a bug even when nothing is injectable. ``--write`` records the summary in
docs/DEPLOYMENT.md.
"""
import argparse
import concurrent.futures
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ops.stack import REPO, Stack, write_doc_section

# sqlmap's conclusion after its own false-positive check; a parameter that merely "appears to
# be injectable" and is then rejected ("false positive or unexploitable") is counted apart.
INJECTABLE = re.compile(r"sqlmap identified the following injection point", re.I)
CANDIDATE = re.compile(r"parameter '([^']+)' appears to be '[^']+' injectable", re.I)
FALSE_POSITIVE = re.compile(r"false positive or unexploitable injection point detected", re.I)
CLEAN = re.compile(r"all tested parameters do not appear to be injectable", re.I)
HTTP_ERRORS = re.compile(r"HTTP error codes detected during run:\s*(.+)", re.I)
PARAMETERS = re.compile(r"testing for SQL injection on (?:\(custom\) )?(?:GET|POST|URI|HEADER|"
                        r"Cookie) parameter '([^']+)'", re.I)


@dataclass
class Target:
    name: str
    path: str  # with the query string for GET targets; '*' marks a URI injection point
    data: str | None = None  # POST body
    csrf_page: str | None = None  # the page whose form carries the CSRF token
    headers: list[str] = field(default_factory=list)
    params: str | None = None  # -p: the parameters to test (default: all)
    probe: str | None = None  # the page that must exist for the target to run
    # Answers that are the app refusing the probe, not an error: sqlmap keeps testing.
    ignore: str = "401,404,409,422"
    timeout_factor: float = 1.0  # of --timeout: the filing form tests 12 fields, with CSRF


API_ANSWERS = "400,401,403,404,405,413,422"


def targets(feed_key: str, report_number: str, tracking_code: str) -> list[Target]:
    form = ("kind=complaint&title=Jalan+rusak+di+depan+pasar&body=Lubang+besar+di+jalan+"
            "raya+sudah+dua+minggu+membahayakan&category=1&district=1&village=Talaga&"
            "address=Jl.+Raya&event_date=2026-01-05&name=Siti&email=siti%40example.id&"
            "phone=&nik=")
    feed_body = json.dumps({
        "external_id": "SQLMAP-1", "kind": "pengaduan", "category": "INFRASTRUKTUR",
        "title": "Jalan rusak di depan pasar", "kecamatan": "Cikupa",
        "body": "Lubang besar di jalan raya depan pasar sudah dua minggu.",
        "is_anonymous": "false", "reporter_name": "Siti"})
    return [
        Target("filing form POST /lapor", "/lapor", data=form, csrf_page="/lapor",
               timeout_factor=4),
        Target("tracking POST /lacak", "/lacak", data=f"code={tracking_code}",
               csrf_page="/lacak"),
        Target("similar reports GET /lapor/serupa",
               "/lapor/serupa?title=jalan+rusak&body=lubang+besar&category_id=1&district_id=1"),
        Target("filing form GET /lapor?kind=", "/lapor?kind=complaint"),
        Target("public feed GET /laporan",
               "/laporan?q=jalan&kind=complaint&category=1&unit=1&district=1&status=verified"
               "&from=2026-01-01&to=2026-12-31&sort=newest&after=x", probe="/laporan"),
        Target("public report GET /laporan/<number>", f"/laporan/{report_number}*",
               probe="/laporan"),
        Target("statistics GET /statistik", "/statistik?year=2026&month=1&institution=1"
               "&category=1&district=1&period=month", probe="/statistik"),
        Target("Open311 GET requests.json",
               "/open311/v2/requests.json?service_request_id=1&service_code=INFRASTRUKTUR"
               "&status=open&start_date=2026-01-01T00:00:00Z&end_date=2026-12-31T00:00:00Z"
               "&jurisdiction_id=x", probe="/open311/v2/services.json", ignore=API_ANSWERS),
        Target("Open311 GET request by id", f"/open311/v2/requests/{report_number}*.json",
               probe="/open311/v2/services.json", ignore=API_ANSWERS),
        Target("Open311 GET service by code", "/open311/v2/services/INFRASTRUKTUR*.json",
               probe="/open311/v2/services.json", ignore=API_ANSWERS),
        Target("Open311 POST requests.json (without a key)", "/open311/v2/requests.json",
               data="service_code=INFRASTRUKTUR&description=Jalan+rusak+di+depan+pasar+"
                    "Cikupa&address_string=Cikupa&lat=-6.2&long=106.5&email=warga%40example.id"
                    "&first_name=Siti&api_key=salah",
               probe="/open311/v2/services.json", ignore=API_ANSWERS),
        Target("feed API POST /api/feed/v1/reports (JSON, with a key)",
               "/api/feed/v1/reports", data=feed_body,
               headers=[f"Authorization: Bearer {feed_key}", "Content-Type: application/json"],
               ignore=API_ANSWERS),
        Target("feed API key header", "/api/feed/v1/reports", data=feed_body,
               headers=["Authorization: Bearer *", "Content-Type: application/json"],
               ignore=API_ANSWERS),
        Target("staff sign-in POST /staf/masuk", "/staf/masuk",
               data="email=admin%40tangerangkab.example.id&password=salah", csrf_page="/staf/masuk"),
        Target("citizen sign-in POST /akun/masuk", "/akun/masuk",
               data="email=warga%40example.id&password=salah", csrf_page="/akun/masuk"),
        Target("citizen register POST /akun/daftar", "/akun/daftar",
               # the confirmation differs: an account made by the first request would sign
               # sqlmap in, and the signed-in form redirects away (no token to fetch)
               data="name=Warga&email=warga%40example.id&password=rahasia-123456&"
                    "confirm=lain-sekali-654321", csrf_page="/akun/daftar"),
    ]


def run_sqlmap(stack_url: str, target: Target, args, out_dir: Path) -> dict:
    own_dir = out_dir / re.sub(r"\W+", "_", target.name)  # sqlmap keeps a session per host
    own_dir.mkdir()
    command = ["sqlmap", "--batch", "--disable-coloring", "--flush-session",
               f"--output-dir={own_dir}", "--dbms=PostgreSQL", f"--level={args.level}",
               f"--risk={args.risk}", "--technique=BEUST", "--time-sec=2",
               "--timeout=15", "--retries=1", "-u", stack_url + target.path]
    command += [f"--ignore-code={target.ignore}"]
    data = target.data
    if target.csrf_page:  # sqlmap fetches a token per request, one request at a time
        data = (data + "&" if data else "") + "csrf_token=fetched"
        command += ["--csrf-token=csrf_token", f"--csrf-url={stack_url}{target.csrf_page}"]
    else:
        command += ["--threads=2"]
    if data is not None:
        command += ["--data", data]
    for header in target.headers:
        command += ["-H", header]
    if target.params:
        command += ["-p", target.params]
    started = time.monotonic()
    try:
        completed = subprocess.run(command, capture_output=True, text=True,
                                   timeout=args.timeout * target.timeout_factor,
                                   stdin=subprocess.DEVNULL)
        output, finished = completed.stdout + completed.stderr, True
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
        finished = False
    seconds = time.monotonic() - started
    (out_dir / (re.sub(r"\W+", "_", target.name) + ".log")).write_text(output)
    refused = re.search(r"400 \(Bad Request\) - (\d+) times", output)
    if INJECTABLE.search(output):
        verdict = "injectable"
    elif re.search(r"\b50\d \(", " ".join(HTTP_ERRORS.findall(output))):
        verdict = "server error"  # not injectable, but the probes made the app fail: a bug
    elif target.csrf_page and refused and int(refused.group(1)) > 5:
        verdict = "incomplete"  # the CSRF check refused the probes: nothing was tested
    elif CLEAN.search(output) and finished:
        verdict = "clean"
    else:
        verdict = "incomplete"
    http_errors = HTTP_ERRORS.findall(output)
    tested = sorted(set(PARAMETERS.findall(output)))
    rejected = len(FALSE_POSITIVE.findall(output)) if CANDIDATE.search(output) else 0
    return {"target": target, "verdict": verdict, "seconds": seconds, "tested": tested,
            "rejected": rejected,
            "http_errors": http_errors,
            "tail": "\n".join(output.strip().splitlines()[-8:]) if verdict != "clean" else ""}


def summary(results: list[dict], skipped: list[str], args) -> str:
    version = subprocess.run(["sqlmap", "--version"], capture_output=True,
                             text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "## sqlmap (`make security`)",
        "",
        f"Run {dt.date.today().isoformat()} at commit `{commit}` with sqlmap {version} against "
        "gunicorn + PostgreSQL 15 on 127.0.0.1 (`ops/security.py`): `--batch --dbms=PostgreSQL "
        f"--level={args.level} --risk={args.risk} --technique=BEUST --time-sec=2`, a fresh CSRF "
        "token per request on the forms, a real API key on the feed API, rate limits off, at "
        f"most {args.timeout} s per target (the filing form: 4 times that).",
        "",
        "| target | parameters tested | verdict | answers other than 200/302 | time |",
        "|---|---|---|---|---:|",
    ]
    for result in results:
        errors = "; ".join(result["http_errors"]) or "none"
        verdict = f"**{result['verdict']}**"
        if result["rejected"]:
            verdict += f" ({result['rejected']} candidate(s) rejected by sqlmap as false positive)"
        lines.append(f"| {result['target'].name} | {', '.join(result['tested']) or '-'} | "
                     f"{verdict} | {errors} | {result['seconds']:.0f} s |")
    for name in skipped:
        lines.append(f"| {name} | - | not run (the page does not exist yet) | - | - |")
    injectable = [r for r in results if r["verdict"] == "injectable"]
    incomplete = [r for r in results if r["verdict"] == "incomplete"]
    lines += ["", f"Injectable: {len(injectable)}; incomplete: {len(incomplete)}; clean: "
              f"{sum(r['verdict'] == 'clean' for r in results)} of {len(results)}.", ""]
    return "\n".join(lines)


def write_section(text: str) -> None:
    write_doc_section("DEPLOYMENT.md", "## sqlmap", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--level", type=int, default=2)
    parser.add_argument("--risk", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=420, help="seconds per target")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="run the targets whose name contains these")
    parser.add_argument("--write", action="store_true", help="update docs/DEPLOYMENT.md")
    args = parser.parse_args(argv)
    if shutil.which("sqlmap") is None:
        print("sqlmap is not installed (apt-get install sqlmap)", file=sys.stderr)
        return 2
    overrides = {"RATELIMIT_ENABLED": False, "OUTBOX_SEND_AFTER_REQUEST": False}
    out_dir = Path(tempfile.mkdtemp(prefix="portal-sqlmap-"))
    with Stack(overrides=overrides, workers=3) as stack:
        stack.flask("feed", "source-add", "SQLMAP", "sqlmap scan")  # prints the key on stdout
        feed_key = stack.flask("feed", "source-key", "SQLMAP").strip().splitlines()[-1]
        number, code = _file_one_report(stack)
        chosen, skipped = [], []
        for target in targets(feed_key, number, code):
            if args.only and not any(word.lower() in target.name.lower() for word in args.only):
                continue
            if target.probe and requests.get(stack.url + target.probe,
                                             timeout=10).status_code == 404:
                skipped.append(target.name)
                continue
            chosen.append(target)
        print(f"sqlmap: {len(chosen)} targets against {stack.url}, {args.parallel} at a time, "
              f"logs in {out_dir}", flush=True)
        with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
            results = []
            for result in pool.map(lambda t: run_sqlmap(stack.url, t, args, out_dir), chosen):
                print(f"  {result['verdict']:>10}  {result['seconds']:4.0f} s  "
                      f"{result['target'].name}  {', '.join(result['http_errors'])}", flush=True)
                if result["tail"]:
                    print("      " + result["tail"].replace("\n", "\n      "))
                results.append(result)
        server_errors = stack.log("gunicorn").count("Traceback")
    text = summary(results, skipped, args)
    print(text)
    print(f"gunicorn log: {server_errors} tracebacks")
    if args.write:
        write_section(text)
        print("docs/DEPLOYMENT.md updated")
    bad = [r for r in results if r["verdict"] != "clean"]
    print("security: OK, nothing injectable" if not bad
          else f"security: FAILED ({len(bad)} targets injectable or incomplete)")
    return 1 if bad else 0


def _file_one_report(stack: Stack) -> tuple[str, str]:
    """A real report, so that path targets have a number to start from."""
    session = requests.Session()
    html = session.get(stack.url + "/lapor", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    category = re.search(r'<select[^>]*name="category"[^>]*>.*?<option value="(\d+)"', html,
                         re.S).group(1)
    response = session.post(stack.url + "/lapor", data={
        "csrf_token": token, "kind": "complaint", "title": "Jalan rusak di depan pasar",
        "body": "Lubang besar di jalan raya depan pasar sudah dua minggu membahayakan.",
        "category": category, "name": "Siti", "email": "siti@example.id"},
        allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.status_code
    receipt = session.get(stack.url + "/lapor/terkirim", timeout=10).text
    number = re.search(r'class="public-number">([^<]+)<', receipt).group(1).strip()
    code = re.search(r'id="tracking-code"[^>]*>([^<]+)<', receipt).group(1).strip()
    # Verified, so that its public page and its Open311 record exist for the path targets.
    stack.sql("UPDATE report SET status = 'verified' WHERE public_number = %s RETURNING id",
              number)
    return number, code


if __name__ == "__main__":
    sys.exit(main())
