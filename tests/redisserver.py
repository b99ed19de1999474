"""A real Redis server for the distributed tests: the one you name, or a throwaway one.

Where the server comes from (first match wins):

1. `ARREARS_TEST_REDIS_URL`, a server you run (or `.ci/run` started), e.g.
   `redis+socket:///run/redis/redis.sock` or `redis://127.0.0.1:6379/0`. The tests empty
   it (FLUSHDB) before each use: give them a database of their own.
2. `redis-server` on PATH (Debian's `redis-server` package): a new server in a temporary
   directory, listening only on a Unix socket inside it (no TCP port, so parallel runs never
   collide), persisting nothing. It starts once per test session and is removed at its end;
   if the session is killed, the server dies with it (Linux).
3. Neither: the distributed tests skip, saying so (under ARREARS_TEST_STRICT=1 a skip fails).

`.ci/run` starts one server for the whole run, through this module:

    python -m tests.redisserver start DIR    # prints its URL; the server keeps running
    python -m tests.redisserver stop DIR     # stops it and removes DIR
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pgcluster import _PRCTL, _running, service_main, throwaway

URL_ENV = "ARREARS_TEST_REDIS_URL"
MISSING = ("no Redis for the distributed tests: install Redis's server "
           "(Debian: apt-get install redis-server) or set ARREARS_TEST_REDIS_URL")
# A throwaway server: no TCP, no snapshots, no append-only file, nothing written but its log.
SERVER_SETTINGS = {"port": "0", "save": "", "appendonly": "no", "unixsocketperm": "700",
                   "daemonize": "no", "databases": "4"}


def find_binary() -> str | None:
    """The `redis-server` program (None when it is not installed)."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _die_with_parent() -> None:
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)       # PR_SET_PDEATHSIG: a killed session leaves no server


class RedisServer:
    """A Redis server in `root` (socket, pid file and log), started by `start()`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.socket, self.log, self.pidfile = self.root / "redis.sock", self.root / "server.log", \
            self.root / "redis.pid"

    @property
    def url(self) -> str:
        """The server's URL for Celery (kombu) and for `arrears --broker`: its Unix socket."""
        return f"redis+socket://{self.socket}"

    def start(self, *, detach: bool = False, timeout: float = 30.0) -> str:
        """Start the server; return its URL. `detach`: it outlives this process (for .ci/run)."""
        binary = find_binary()
        if binary is None:
            raise RuntimeError(MISSING)
        self.root.mkdir(parents=True, exist_ok=True)
        args = [binary, "--dir", str(self.root), "--unixsocket", str(self.socket),
                "--pidfile", str(self.pidfile), "--logfile", str(self.log)]
        for name, value in SERVER_SETTINGS.items():
            args += [f"--{name}", value]
        guard = None if detach or _PRCTL is None else _die_with_parent
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT, cwd=self.root, start_new_session=detach,
                                      preexec_fn=guard)  # noqa: PLW1509
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        import redis

        from tests.waiting import wait_until

        def ready() -> bool:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._proc.returncode}:\n{self._log_tail()}")
            with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5) as client:
                return client.ping()

        try:
            wait_until(ready, timeout, 0.05, what=f"Redis in {self.root} to answer PING",
                       ignore=(redis.exceptions.ConnectionError, FileNotFoundError))
        except BaseException:
            self.stop(remove=False)
            raise

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def pid(self) -> int | None:
        """The server's process id (None when it is not running)."""
        proc = getattr(self, "_proc", None)
        if proc is not None:
            return proc.pid if proc.poll() is None else None
        try:
            return int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, *, remove: bool = True, timeout: float = 20.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove `root`."""
        pid = self.pid()
        if pid is not None:
            for sig, grace in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + grace
                proc = getattr(self, "_proc", None)
                while time.monotonic() < deadline and (proc.poll() is None if proc else _running(pid)):
                    time.sleep(0.05)
                if not (proc.poll() is None if proc else _running(pid)):
                    break
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def session_server() -> RedisServer | None:
    """A started throwaway server in a new temporary directory, or None without Redis."""
    return throwaway(RedisServer, "arrears-redis-") if find_binary() is not None else None


def main(argv: list[str]) -> int:
    return service_main(argv, RedisServer, "Redis", __doc__.split("\n\n")[-1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
