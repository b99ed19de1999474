"""Ports for the servers the tests start: read from the log of a server that picks its own, or
chosen where no connection can take them first.

    proc = subprocess.Popen([..., "serve", "--port", "0", ...], stderr=subprocess.PIPE, text=True)
    base, log = read_until_listening(proc)      # "http://127.0.0.1:43817", the lines read

A test that asks the kernel for a free port, lets it go and then starts a server on it races every
other process on the machine for that port: under load (xdist workers, chromium and chromedriver
opening connections, each from an ephemeral port) one of them may take it first, and the server
fails with "address already in use", or the test talks to someone else's server. `arrears serve
--port 0`, `python -m arrears.api.server --port 0` and `arrears.api.server.serve(port=0)` bind a
port of the kernel's choosing themselves and print it ("arrears API on http://HOST:PORT/ ...").

A server that cannot say which port it took (a RabbitMQ node, chromedriver) gets one of
`unused_ports(n)`: free, and outside the kernel's ephemeral range, which every outgoing connection
draws its local port from, so that only an explicit bind can take it.
"""
from __future__ import annotations

import random
import re
import socket
import subprocess
import threading
from pathlib import Path

LISTENING = re.compile(r"arrears API on (http://[^/\s]+)/")
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def read_until_listening(proc: subprocess.Popen, timeout: float = 120) -> tuple[str | None, list[str]]:
    """Read `proc`'s stderr (a text pipe) until it says where it listens, and keep reading it.

    Returns (its base URL, e.g. "http://127.0.0.1:43817", or None when the process closed its
    stderr or `timeout` seconds passed first; its log: the lines read so far, a list that keeps
    growing, for the caller's own findings and for failure messages).

    A thread reads the pipe to its end, so a server that goes on logging never fills it (64 KiB
    unread, and its next write would block it: a served test then hangs on its answers), and a
    server that hangs before saying anything costs `timeout`, not forever. Callers must not read
    `proc.stderr` themselves: the log has everything."""
    log: list[str] = []
    said = threading.Event()
    found: list[str] = []

    def drain() -> None:
        for line in proc.stderr:
            log.append(line)
            match = None if said.is_set() else LISTENING.search(line)
            if match:
                found.append(match[1])
                said.set()
        said.set()                              # closed: nothing more will come

    threading.Thread(target=drain, name=f"stderr-of-{proc.pid}", daemon=True).start()
    said.wait(timeout)
    return (found[0] if found else None), log


def unused_ports(n: int) -> list[int]:
    """`n` distinct TCP ports on 127.0.0.1, free now and outside the kernel's ephemeral range.

    For a server started on them a while later, or again on the same ones after a stop (a RabbitMQ
    node takes seconds to bind): a port of the ephemeral range (which `bind(0)` hands out too)
    could meanwhile become the local port of any connection on the machine (a browser's, another
    test worker's), and the server would fail with "address already in use"."""
    try:
        low, high = (int(p) for p in EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999                # Linux's default
    candidates = [p for p in range(10000, 65536) if not low <= p <= high]
    rng, ports = random.SystemRandom(), []
    while len(ports) < n:
        port = rng.choice(candidates)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:                     # in use (or lingering): another one
                continue
        if port not in ports:
            ports.append(port)
    return ports
