"""Reading where a server process listens from its log, so that it can pick its own port.

    proc = subprocess.Popen([..., "serve", "--port", "0", ...], stderr=subprocess.PIPE, text=True)
    base, log = read_until_listening(proc)      # "http://127.0.0.1:43817", the lines read

A test that asks the kernel for a free port, lets it go and then starts a server on it races every
other process on the machine for that port: under load (xdist workers, chromium and chromedriver
opening connections, each from an ephemeral port) one of them may take it first, and the server
fails with "address already in use", or the test talks to someone else's server. `arrears serve
--port 0`, `python -m arrears.api.server --port 0` and `arrears.api.server.serve(port=0)` bind a
port of the kernel's choosing themselves and print it ("arrears API on http://HOST:PORT/ ...").
"""
from __future__ import annotations

import re
import subprocess
import time

LISTENING = re.compile(r"arrears API on (http://[^/\s]+)/")


def read_until_listening(proc: subprocess.Popen, timeout: float = 120) -> tuple[str | None, list[str]]:
    """Read `proc`'s stderr (a text pipe) line by line until it says where it listens.

    Returns (its base URL, e.g. "http://127.0.0.1:43817", or None when the process closed its
    stderr or `timeout` seconds passed first; the lines read, for the caller's own findings and
    for the failure message)."""
    log, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        log.append(line)
        found = LISTENING.search(line)
        if found:
            return found[1], log
    return None, log
