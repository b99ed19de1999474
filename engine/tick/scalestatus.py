"""What the distributed tick is doing: queue depth, pages in flight, the workers' throughput.

    status = scale_status(store, "redis://...", now=time.time())
    status.queues        # {"arrears.pages": 3, "arrears.delivery": 0}: waiting at the broker (Redis or AMQP)
    status.in_flight     # {"evaluate": 4, "deliver": 0}: pages queued and not finished, all ticks
    status.workers       # [{"worker": "host:pid", "pages": 12, "items": 120000, "last": ...}, ...]

One reading for `/metrics` (arrears_queue_depth, arrears_pages_in_flight,
arrears_worker_pages_total ...) and `arrears status`. The workers are those that finished
a page within `WINDOW` seconds (the `tick_pages` rows say who wrote each), so the figures
hold for workers on any machine, without asking them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from arrears.engine.store import tickpages
from arrears.engine.tick.broker import BrokerError, queue_depth
from arrears.engine.tick.distributed import QUEUES

WINDOW = 3600.0          # seconds: a worker that finished a page within it is listed


@dataclass
class ScaleStatus:
    """One reading of the distributed tick (see the module docstring)."""

    broker: str | None
    queues: dict | None = None
    queue_error: str | None = None           # the broker could not be reached
    in_flight: dict = field(default_factory=dict)
    workers: list = field(default_factory=list)
    window: float = WINDOW

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"broker": self.broker, "queues": self.queues, "queue_error": self.queue_error,
                "pages_in_flight": self.in_flight, "workers": self.workers, "window_seconds": self.window}


def scale_status(store, broker_url: str | None, *, now: float | None = None, window: float = WINDOW) -> ScaleStatus:
    """Read the broker's queues (when `broker_url` is set), the pages in flight and the
    workers of the last `window` seconds. Never raises for an unreachable broker (the
    reading says so); a database error is a `StoreError`."""
    from arrears.engine.store import safe_url
    now = time.time() if now is None else now
    status = ScaleStatus(broker=None if broker_url is None else safe_url(broker_url), window=window)
    if broker_url:
        try:
            status.queues = queue_depth(broker_url, QUEUES)
        except BrokerError as exc:
            status.queue_error = str(exc)
    status.in_flight = tickpages.in_flight(store.engine)
    status.workers = tickpages.workers(store.engine, now - window)
    return status


def metric_lines(status: ScaleStatus) -> list[str]:
    """Prometheus exposition lines of `status` (HELP and TYPE included)."""
    def esc(value) -> str:
        return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    lines = ["# HELP arrears_pages_in_flight Pages of distributed ticks queued and not finished, by kind.",
             "# TYPE arrears_pages_in_flight gauge"]
    lines += [f'arrears_pages_in_flight{{kind="{k}"}} {n}' for k, n in sorted(status.in_flight.items())]
    if status.queues is not None:
        lines += ["# HELP arrears_queue_depth Tasks waiting in the broker, by queue.",
                  "# TYPE arrears_queue_depth gauge"]
        lines += [f'arrears_queue_depth{{queue="{esc(q)}"}} {n}' for q, n in sorted(status.queues.items())]
    lines += ["# HELP arrears_broker_up Whether the broker answered (1) or not (0).",
              "# TYPE arrears_broker_up gauge", f"arrears_broker_up {0 if status.queue_error else 1}"]
    lines += [f"# HELP arrears_worker_pages_total Pages a worker finished in the last {status.window:g} s.",
              "# TYPE arrears_worker_pages_total gauge"]
    lines += [f'arrears_worker_pages_total{{worker="{esc(w["worker"])}"}} {w["pages"]}' for w in status.workers]
    lines += [f"# HELP arrears_worker_items_total Accounts and contacts a worker handled in the last {status.window:g} s.",
              "# TYPE arrears_worker_items_total gauge"]
    lines += [f'arrears_worker_items_total{{worker="{esc(w["worker"])}"}} {w["items"]}' for w in status.workers]
    return lines
