"""A real PostgreSQL server for the tests: the one you name, or a throwaway cluster.

Where the server comes from (first match wins):

1. `ARREARS_TEST_PG_URL`, a server you run, e.g.
   `postgresql+psycopg://user@/postgres?host=/run/postgresql`. The URL names a database
   the user may connect to and create databases from.
2. PostgreSQL's programs (`initdb`, `postgres`) on PATH or in
   `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql` package): a new cluster in a
   temporary directory, listening only on a Unix socket inside it (no TCP port, so runs
   never collide), with fsync off (it is thrown away). It starts once per test session and
   is removed at its end; if the session is killed, the server dies with it (Linux). As
   root it runs as the `postgres` user (or `nobody`): PostgreSQL refuses to run as root.
   The cluster's default collation is a linguistic one (ICU `en-US`) where the server
   supports it, so a query that needs code-point order has to say so.
3. Neither: the PostgreSQL tests skip, saying so (under ARREARS_TEST_STRICT=1 a skip fails).

Each test gets its own database (created from the admin URL, dropped afterwards): see the
`pg_url` fixture in tests/conftest.py.

`.ci/run` starts the cluster once for the whole run, through this module:

    python -m tests.pgcluster start DIR    # prints the admin URL; the server keeps running
    python -m tests.pgcluster stop DIR     # stops it and removes DIR
"""
from __future__ import annotations

import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

URL_ENV = "ARREARS_TEST_PG_URL"
SUPERUSER = "arrears"
MISSING = ("no PostgreSQL for the PostgreSQL tests: install PostgreSQL's server programs "
           "(Debian: apt-get install postgresql) or set ARREARS_TEST_PG_URL")
# Durability is pointless for a cluster that is deleted after the run; these make CREATE
# DATABASE and every commit cheap.
SERVER_SETTINGS = {"listen_addresses": "", "fsync": "off", "synchronous_commit": "off",
                   "full_page_writes": "off", "max_connections": "200", "shared_buffers": "64MB"}


def find_binaries() -> Path | None:
    """The directory holding `initdb` and `postgres`: PATH first, then Debian's layout (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
    for path in map(Path, versions):
        if (path / "initdb").exists() and (path / "postgres").exists():
            return path
    return None


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise RuntimeError("running as root, and there is neither a `postgres` nor a `nobody` user "
                       "to run PostgreSQL as (it refuses to run as root)")


def _run_as(user: pwd.struct_passwd | None) -> dict:
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


try:                                    # resolved here: the forked child only makes the call
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (AttributeError, OSError):       # not Linux: no such guard
    _PRCTL = None


def _die_with_parent() -> None:
    """In the server process (before exec): get SIGQUIT, PostgreSQL's immediate shutdown,
    when the process that started it dies, so a killed test session leaves no server."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGQUIT)       # PR_SET_PDEATHSIG


class Cluster:
    """A PostgreSQL cluster in `root` (data, socket and log), started by `start()`. `settings`
    are server settings over SERVER_SETTINGS (the benchmarks give it a larger `shared_buffers`)."""

    def __init__(self, root: Path, settings: dict | None = None):
        self.root = Path(root)
        self.settings = {**SERVER_SETTINGS, **(settings or {})}
        self.data, self.socket, self.log = self.root / "data", self.root / "run", self.root / "server.log"

    @property
    def url(self) -> str:
        """The admin URL (superuser, database `postgres`) over the cluster's Unix socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/postgres?host={self.socket}"

    def start(self, *, detach: bool = False, timeout: float = 120.0) -> str:
        """Create and start the cluster; return its admin URL.

        `detach`: the server outlives this process (for .ci/run); otherwise it dies with it.
        """
        bindir = find_binaries()
        if bindir is None:
            raise RuntimeError(MISSING)
        user = _server_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket.mkdir(exist_ok=True)
        if user is not None:
            for path in (self.root, self.socket):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.root.chmod(0o755)     # the server user must reach its files through `root`
        self._initdb(bindir, user)
        options = [arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}")]
        with open(self.log, "ab") as log:
            guard = None if detach or _PRCTL is None else _die_with_parent    # one prctl call in the child
            args = [str(bindir / "postgres"), "-D", str(self.data), "-k", str(self.socket), *options]
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.root, start_new_session=detach,
                                    preexec_fn=guard, **_run_as(user))  # noqa: PLW1509
        self._proc = proc
        self._wait_ready(proc, timeout)
        return self.url

    def _initdb(self, bindir: Path, user) -> None:
        base = [str(bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                "--no-sync"]
        icu = ["--locale=C", "--locale-provider=icu", "--icu-locale=en-US"]      # PostgreSQL 15+
        attempts = [base + icu, base + ["--no-locale"]]
        for args in attempts:
            done = subprocess.run(args, cwd=self.root, capture_output=True, text=True, check=False,
                                  **_run_as(user))
            if done.returncode == 0:
                return
            shutil.rmtree(self.data, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({' '.join(args)}):\n{done.stdout}{done.stderr}")

    def _wait_ready(self, proc: subprocess.Popen, timeout: float) -> None:
        import psycopg

        from tests.waiting import wait_until

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with status {proc.returncode}:\n{self._log_tail()}")
            with psycopg.connect(host=str(self.socket), dbname="postgres", user=SUPERUSER, connect_timeout=5):
                return True

        try:
            wait_until(ready, timeout, 0.1, what=f"PostgreSQL in {self.root} to accept connections",
                       ignore=(psycopg.OperationalError,))
        except BaseException:
            self.stop(remove=False)
            raise

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def pid(self) -> int | None:
        """The server's process id, from its pid file (None when it is not running)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, *, remove: bool = True, timeout: float = 60.0) -> None:
        """Stop the server (fast shutdown, then immediate, then SIGKILL) and remove `root`."""
        proc = getattr(self, "_proc", None)
        pid = self.pid() or (proc.pid if proc is not None else None)
        if pid is not None:
            for sig, grace in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0)):
                if self._signal_and_wait(pid, proc, sig, grace):
                    break
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _signal_and_wait(pid: int, proc, sig, grace: float) -> bool:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc is not None and proc.pid == pid:
                if proc.poll() is not None:
                    return True
            elif not _running(pid):
                return True
            time.sleep(0.05)
        return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def session_cluster() -> Cluster | None:
    """A started throwaway cluster in a new temporary directory, or None without PostgreSQL."""
    return throwaway(Cluster, "arrears-pg-") if find_binaries() is not None else None


def throwaway(kind, prefix: str):
    """A started `kind` (Cluster, or tests.redisserver.RedisServer) in a new temporary directory."""
    service = kind(Path(tempfile.mkdtemp(prefix=prefix)))
    try:
        service.start()
    except BaseException:
        shutil.rmtree(service.root, ignore_errors=True)
        raise
    return service


def service_main(argv: list[str], kind, what: str, usage: str) -> int:
    """`python -m tests.pgcluster|tests.redisserver start|stop DIR`, for .ci/run: start prints the
    URL and leaves the service running; stop stops it and removes DIR."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(usage, file=sys.stderr)
        return 2
    service = kind(Path(argv[1]).resolve())
    if argv[0] == "stop":
        service.stop()
        return 0
    if service.root.exists():
        print(f"{service.root} exists: stop that {what} first, or pick another directory", file=sys.stderr)
        return 1
    try:
        print(service.start(detach=True))
    except Exception as exc:   # noqa: BLE001 -- one clear line for .ci/run
        print(f"cannot start {what}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    return service_main(argv, Cluster, "PostgreSQL", __doc__.split("\n\n")[-1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
