"""A throw-away PostgreSQL cluster for the benchmarks (the same recipe as tests/conftest.py:
initdb + pg_ctl from the PostgreSQL 15 server on the machine, on a free loopback port, with
durability switched off; removed on stop)."""
import os
import platform
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# Settings of every benchmark cluster, besides the durability switched off in start().
# shared_buffers at a quarter of this machine's 24 GB, the usual rule for a database server:
# this VM reclaims its page cache eagerly (about 2 GB stays cached), so with 1 GB the
# 1,000,000-report database was read from disk again between requests and the same page
# measured 326 ms in one run and 644 ms in the next.
PG_SETTINGS = ("shared_buffers=6GB", "work_mem=64MB", "maintenance_work_mem=512MB",
               "max_wal_size=8GB", "checkpoint_timeout=30min")


def machine() -> str:
    """One line about the machine, for the figures' table."""
    with open("/proc/meminfo") as meminfo:
        kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {kb / 1024 / 1024:.0f} GB RAM, {platform.system()} " \
           f"{platform.release()}, Python {platform.python_version()}"


def run_sizes(sizes, label: str, bench) -> tuple[str, list]:
    """Starts a throw-away cluster, prints its version and the machine, calls
    ``bench(server, n)`` for each size (printing "N <label>:" first) and stops the cluster,
    also on error. Returns the server version and the results."""
    server = ThrowawayPostgres()
    results = []
    try:
        server.start(*PG_SETTINGS)
        import psycopg

        with psycopg.connect(server.conninfo()) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version} at {server.root}; {machine()}", flush=True)
        for n in sizes:
            print(f"{n:,} {label}:", flush=True)
            results.append(bench(server, n))
    finally:
        server.stop()
    return version, results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self, root: Path | None = None):
        self.root = root or Path(tempfile.mkdtemp(prefix="portal-bench-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.started = False

    def _run(self, *args) -> None:
        command = [str(a) for a in args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self, *settings: str) -> None:
        if not (PG_BIN / "initdb").exists():
            raise SystemExit(f"PostgreSQL server not installed ({PG_BIN}/initdb missing)")
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
        options = " ".join([f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}",
                            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                            *(f"-c {s}" for s in settings)])
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log",
                  "-w", "start")
        self.started = True

    def stop(self) -> None:
        try:
            if self.started:
                self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            self.started = False
            shutil.rmtree(self.root, ignore_errors=True)

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
