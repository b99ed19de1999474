"""A real RabbitMQ node for the AMQP tests: the one you name, or a throwaway one.

Where the node comes from (first match wins):

1. `ARREARS_TEST_AMQP_URL`, a broker you run, e.g. `amqp://guest:guest@127.0.0.1:5672//`
   (used only when the tests run in one process, `-n 0`: see `amqp_admin_url` in
   tests/conftest.py). The tests delete the queues `arrears.pages` and `arrears.delivery`
   before each use: give them a virtual host of their own.
2. RabbitMQ's server (Debian's `rabbitmq-server` package: `/usr/lib/rabbitmq/bin/rabbitmq-server`,
   or `rabbitmq-server` on PATH) and Erlang's `epmd`: a new node as a normal process, with its
   data, logs, config and Erlang cookie in a temporary directory and a unique node name.
   It listens on 127.0.0.1 only, on free ports it picks (AMQP, Erlang distribution, and an
   `epmd` of its own, started and stopped with it), so neither a system-wide RabbitMQ nor a
   second test worker's node can clash with it. It starts once per test session and is removed
   at its end, epmd included; if the session is killed, the node and its epmd die with it (Linux).
   Stopped and started again (`stop(remove=False)`, `start()`) it is the same node: its durable
   queues keep their persistent messages.
3. Neither: the AMQP tests skip, saying so (under ARREARS_TEST_STRICT=1 a skip fails).

A developer can keep a node running across runs, through this module:

    python -m tests.amqpserver start DIR    # prints its URL; the node keeps running
    python -m tests.amqpserver stop DIR     # stops it and its epmd, and removes DIR
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.pgcluster import _PRCTL, _running, service_main, throwaway
from tests.serving import unused_ports

URL_ENV = "ARREARS_TEST_AMQP_URL"
MISSING = ("no RabbitMQ for the AMQP tests: install RabbitMQ's server "
           "(Debian: apt-get install rabbitmq-server) or set ARREARS_TEST_AMQP_URL")
DEBIAN_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")    # /usr/sbin's wrapper su's to `rabbitmq`
# A throwaway node: loopback only, no plugins, quiet logs, and no alarm from a shared disk
# that is nearly full (a low-disk alarm would block every publisher).
NODE_CONFIG = """\
listeners.tcp.default = 127.0.0.1:{port}
loopback_users.guest = true
disk_free_limit.absolute = 1MB
log.console = false
log.file.level = warning
"""


def find_binaries() -> tuple[str, str] | None:
    """RabbitMQ's `rabbitmq-server` script and Erlang's `epmd` (None when either is missing)."""
    server = str(DEBIAN_SERVER) if DEBIAN_SERVER.exists() else shutil.which("rabbitmq-server")
    epmd = shutil.which("epmd") or next((str(p) for p in Path("/usr/lib/erlang").glob("erts-*/bin/epmd")), None)
    return (server, epmd) if server and epmd else None


def _die_with_parent() -> None:
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)       # PR_SET_PDEATHSIG: a killed session leaves no node


class RabbitServer:
    """A RabbitMQ node and its epmd in `root` (data, logs, config, cookie), started by `start()`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.state = self.root / "node.json"        # names, ports and pids, for `stop` from another process
        self.log = self.root / "server.log"
        self._procs: dict[str, subprocess.Popen] = {}
        self.node = self.ports = None
        if self.state.exists():
            saved = json.loads(self.state.read_text())
            self.node, self.ports = saved["node"], saved["ports"]

    @property
    def url(self) -> str:
        """The node's URL for Celery (kombu) and for `arrears --broker`: the default virtual host."""
        return f"amqp://guest:guest@127.0.0.1:{self.ports['amqp']}//"

    def start(self, *, detach: bool = False, timeout: float = 90.0) -> str:
        """Start epmd and the node; return its URL. `detach`: they outlive this process."""
        binaries = find_binaries()
        if binaries is None:
            raise RuntimeError(MISSING)
        server, epmd = binaries
        first = self.node is None
        if first:
            amqp, dist, epmd_port = unused_ports(3)
            self.node = f"arrears-{uuid.uuid4().hex[:12]}@localhost"
            self.ports = {"amqp": amqp, "dist": dist, "epmd": epmd_port}
        self._write_files(first)
        env = self._environment()
        guard = None if detach or _PRCTL is None else _die_with_parent
        with open(self.log, "ab") as log:
            common = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": subprocess.STDOUT, "cwd": self.root,
                      "env": env, "start_new_session": True, "preexec_fn": guard}
            self._procs["epmd"] = subprocess.Popen(  # noqa: PLW1509
                [epmd, "-port", str(self.ports["epmd"]), "-address", "127.0.0.1"], **common)
            self._procs["server"] = subprocess.Popen([server], **common)  # noqa: PLW1509
        self._save()
        self._wait_ready(timeout)
        return self.url

    def _write_files(self, first: bool) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq.conf").write_text(NODE_CONFIG.format(port=self.ports["amqp"]))
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq-env.conf").write_text("")         # not /etc/rabbitmq's
        cookie = self.root / ".erlang.cookie"
        if first or not cookie.exists():
            cookie.unlink(missing_ok=True)
            cookie.write_text(uuid.uuid4().hex.upper())
            cookie.chmod(0o400)

    def _environment(self) -> dict:
        root = self.root
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        return env | {
            "HOME": str(root),                      # the Erlang cookie: ours, not ~/.erlang.cookie
            "ERL_EPMD_PORT": str(self.ports["epmd"]), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.node, "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.ports["amqp"]),
            "RABBITMQ_DIST_PORT": str(self.ports["dist"]),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"), "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(root / "plugins-expand"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(root / "feature_flags"),
            "RABBITMQ_PID_FILE": str(root / "rabbit.pid"),
        }

    def _save(self) -> None:
        pids = {name: proc.pid for name, proc in self._procs.items()}
        self.state.write_text(json.dumps({"node": self.node, "ports": self.ports, "pids": pids}))

    def _wait_ready(self, timeout: float) -> None:
        import amqp

        from tests.waiting import wait_until

        def ready() -> bool:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"RabbitMQ's {name} exited with status {proc.returncode}:\n{self._log_tail()}")
            with amqp.Connection(f"127.0.0.1:{self.ports['amqp']}", userid="guest", password="guest",
                                 connect_timeout=2) as conn:
                conn.connect()
                return True

        try:
            wait_until(ready, timeout, 0.1, what=f"RabbitMQ in {self.root} to accept AMQP connections",
                       ignore=(OSError, amqp.exceptions.AMQPError))
        except BaseException:
            self.stop(remove=False)
            raise

    def _log_tail(self) -> str:
        texts = []
        for path in [self.log, *sorted((self.root / "log").glob("*.log"))]:
            try:
                texts.append(path.read_text(errors="replace")[-2000:])
            except OSError:
                pass
        return "\n".join(texts)

    def pids(self) -> dict[str, int]:
        """The running processes: `server` (the start script), `beam` (the Erlang VM), `epmd`."""
        found = {}
        try:
            found.update(json.loads(self.state.read_text())["pids"])
        except (OSError, ValueError, KeyError):
            pass
        try:
            found["beam"] = int((self.root / "rabbit.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        return {name: pid for name, pid in found.items() if self._alive(name, pid)}

    def _alive(self, name: str, pid: int) -> bool:
        proc = self._procs.get(name)
        if proc is not None and proc.pid == pid:
            return proc.poll() is None
        return _running(pid)

    def stop(self, *, remove: bool = True, timeout: float = 60.0) -> None:
        """Stop the node (SIGTERM: a clean shutdown that keeps durable queues; then SIGKILL),
        then its epmd; remove `root` unless `remove` is False."""
        for names in (("server", "beam"), ("epmd",)):
            for sig, grace in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
                left = {n: p for n, p in self.pids().items() if n in names}
                if not left:
                    break
                for pid in left.values():
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline and any(n in names for n in self.pids()):
                    time.sleep(0.05)
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.wait(10)
        self._procs.clear()
        (self.root / "rabbit.pid").unlink(missing_ok=True)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)


def session_server() -> RabbitServer | None:
    """A started throwaway node in a new temporary directory, or None without RabbitMQ."""
    return throwaway(RabbitServer, "arrears-amqp-") if find_binaries() is not None else None


def main(argv: list[str]) -> int:
    return service_main(argv, RabbitServer, "RabbitMQ", __doc__.split("\n\n")[-1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
