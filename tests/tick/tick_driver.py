"""A ticking process for the kill and concurrency tests (run as a script, not collected).

    python tick_driver.py DB_URL SERVER_URL CLOCK_FILE loop       # tick forever
    python tick_driver.py DB_URL SERVER_URL CLOCK_FILE settle AT  # tick at AT until one changes nothing

Simulated time: CLOCK_FILE holds {"base": epoch s, "t0": wall epoch s, "speed": sim s per
wall s}, so every process, however often restarted, agrees on the simulated `now`. Each
tick prints its summary as one JSON line (flushed: the process may be SIGKILLed any time).
"""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))    # the checkout, for `tests`

from arrears.engine.policy.load import load_policy  # noqa: E402
from arrears.engine.store import Store  # noqa: E402
from arrears.engine.tick import run_tick  # noqa: E402
from arrears.plugins.dispatch import Dispatcher  # noqa: E402
from arrears.plugins.testing import plugin_manager  # noqa: E402
from arrears.policies import DEFAULT_POLICY  # noqa: E402
from tests.tick.tickkit import busy, dispatcher_config  # noqa: E402

LEASE_TTL = 1.0


def sim_now(clock: dict) -> datetime:
    return datetime.fromtimestamp(clock["base"] + (time.time() - clock["t0"]) * clock["speed"], timezone.utc)


def main(argv: list[str]) -> int:
    url, server, clock_file, mode = argv[:4]
    clock = json.loads(Path(clock_file).read_text())
    store = Store(url)
    policy = load_policy(DEFAULT_POLICY)
    dispatcher = Dispatcher(plugin_manager(), dispatcher_config(server))

    def tick(now):
        summary = run_tick(store, policy, now, dispatcher=dispatcher, batch_size=40, horizon=3600,
                           lease_ttl=LEASE_TTL)
        print(json.dumps({**summary.to_dict(), "ran": summary.ran}), flush=True)
        return summary

    if mode == "loop":
        while True:
            tick(sim_now(clock))
    at = datetime.fromtimestamp(float(argv[4]), timezone.utc)
    for _ in range(60):
        summary = tick(at)
        if not summary.ran:
            time.sleep(LEASE_TTL / 2)          # a killed process's lease is expiring
        elif not busy(summary):
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
