"""The production stack on this machine: a throw-away PostgreSQL 15 cluster on 127.0.0.1,
migrated, with the demo data; gunicorn with gunicorn.conf.py; optionally an SMTP sink and the
outbox worker. Everything listens on loopback only and is removed on stop.

    python -m ops.stack            # make serve: runs until Ctrl-C
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.pg import PG_BIN, ThrowawayPostgres

REPO = Path(__file__).resolve().parent.parent


def write_doc_section(document: str, heading: str, text: str) -> None:
    """Puts ``text`` (a Markdown section starting with ``heading``) into docs/``document``:
    in place of the section that starts with ``heading``, up to the next "## ", or at the end."""
    path = REPO / "docs" / document
    content = path.read_text()
    start = content.find(heading)
    if start == -1:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        end = content.find("\n## ", start + 1)
        content = content[:start] + text + ("" if end == -1 else content[end:])
    path.write_text(content)
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres(ThrowawayPostgres):
    """The benchmarks' cluster, with durability ON (the fault drills restart it and count
    what survived) and a restart."""

    def start(self, *settings: str) -> None:  # same recipe, fsync kept
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(f"PostgreSQL server not installed ({PG_BIN}/initdb missing)")
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
        self._options = " ".join([
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}",
            "-c max_connections=300", "-c shared_buffers=256MB", *(f"-c {s}" for s in settings)])
        self._pg_ctl("start")
        self.started = True

    def _pg_ctl(self, action: str, *extra: str) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", self._options, "-l",
                  self.root / "log", "-w", *extra, action)

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop fast (open connections are cut), stay down a while, start again."""
        self._pg_ctl("stop", "-m", "fast")
        time.sleep(down_seconds)
        self._pg_ctl("start")

    def url(self, database: str = "portal") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "portal") -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Stack:
    """PostgreSQL + gunicorn (+ SMTP sink + outbox worker) for make serve/load/security/faults."""

    def __init__(self, *, workers: int | None = None, threads: int = 4, port: int | None = None,
                 overrides: dict | None = None, mail: bool = False, worker: bool = False,
                 quiet: bool = True, environment: dict | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="portal-stack-"))
        os.chmod(self.root, 0o755)  # the postgres user reaches its cluster inside
        self.pg = Postgres(self.root / "pg")
        self.port = port or free_port()
        self.workers = workers or (os.cpu_count() or 1) * 2 + 1
        self.threads = threads
        self.overrides = {"SESSION_COOKIE_SECURE": False, **(overrides or {})}
        self.mail = mail
        self.worker = worker
        self.quiet = quiet
        self.extra_env = environment or {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.upload_folder = self.root / "uploads"
        self.smtp_port = free_port() if mail else 1
        self.url = f"http://127.0.0.1:{self.port}"
        from cryptography.fernet import Fernet

        self.identity_key = Fernet.generate_key().decode("ascii")

    # ------------------------------------------------------------------ environment
    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "FLASK_APP": "wsgi.py",
            "PORTAL_ENV": "production",
            "SECRET_KEY": "local-stack-" + self.root.name,
            "IDENTITY_KEYS": self.identity_key,
            "DATABASE_URL": self.database_url,
            "UPLOAD_FOLDER": str(self.upload_folder),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp_port),
            "PUBLIC_BASE_URL": self.url,
            "PORTAL_STACK_OVERRIDES": json.dumps(self.overrides),
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "" if self.quiet else "-",
            "GUNICORN_LOG_LEVEL": "warning" if self.quiet else "info",
            "PYTHONPATH": str(REPO),
        })
        env.update(self.extra_env)
        return env

    def flask(self, *args: str) -> str:
        result = subprocess.run([str(VENV_BIN / "flask"), *args], cwd=REPO, env=self.env(),
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Stack":
        try:
            self.pg.start()
            self.database_url = self.pg.create_database("portal")
            self.flask("db", "upgrade")
            self.flask("demo", "load")
            if self.mail:
                self._spawn("smtp", [str(VENV_BIN / "python"), "-m", "aiosmtpd", "-n", "-l",
                                     f"127.0.0.1:{self.smtp_port}"])
            self.start_gunicorn()
            if self.worker:
                self._spawn("worker", [str(VENV_BIN / "flask"), "outbox", "work",
                                       "--interval", "5", "--sweep-interval", "60"])
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")
        process = subprocess.Popen(command, cwd=REPO, env=self.env(), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_gunicorn(self) -> None:
        self._spawn("gunicorn", [str(VENV_BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"),
                                 "ops.stackapp:app"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes["gunicorn"].poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log("gunicorn"))
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s:\n" + self.log("gunicorn"))

    def gunicorn_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of the arbiter)."""
        arbiter = self.processes["gunicorn"].pid
        children = Path(f"/proc/{arbiter}/task/{arbiter}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def log(self, name: str, tail: int | None = 5000) -> str:
        path = self.root / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text[-tail:] if tail else text

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        self.pg.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ database
    def sql(self, query: str, *params):
        import psycopg

        with psycopg.connect(self.pg.conninfo("portal")) as conn:
            return conn.execute(query, params).fetchall()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    stack = Stack(port=args.port, workers=args.workers, mail=True, worker=True, quiet=False)
    print("starting PostgreSQL, migrating, loading the demo data, starting gunicorn ...",
          flush=True)
    stack.start()
    print(f"""
Portal (gunicorn, {stack.workers} workers x {stack.threads} threads): {stack.url}
  staff sign-in: {stack.url}/staf/masuk  (demo accounts in README, password lapor-demo-2026)
PostgreSQL: {stack.database_url}
SMTP sink: 127.0.0.1:{stack.smtp_port} (mail printed to {stack.root}/smtp.log)
Outbox worker and deadline sweep running; logs in {stack.root}
Ctrl-C stops everything and removes the database.""", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    print(f"{name} exited:\n{stack.log(name)}", file=sys.stderr)
                    stopping.append(1)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
