"""Request and decision metrics in the Prometheus text exposition format (version 0.0.4).

Hand-written (no client library): counters and histograms guarded by one lock, labelled
by the route template (`/v1/accounts/<account_id>`), never by the raw path, so the
number of series stays bounded whatever clients send.
"""
from __future__ import annotations

import threading
import time
from bisect import bisect_left

from flask import Flask, request

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(pairs) -> str:
    def esc(v):
        return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in pairs) + "}" if pairs else ""


class Histogram:
    """Cumulative-bucket histogram per label set."""

    def __init__(self, buckets):
        self.buckets = tuple(buckets)
        self.series: dict[tuple, list] = {}     # labels -> [bucket counts..., sum, count]

    def observe(self, labels: tuple, value: float) -> None:
        """Record one observation (callers hold the registry lock)."""
        row = self.series.setdefault(labels, [0] * len(self.buckets) + [0.0, 0])
        i = bisect_left(self.buckets, value)
        if i < len(self.buckets):
            row[i] += 1
        row[-2] += value
        row[-1] += 1

    def lines(self, name: str) -> list[str]:
        """Exposition lines (`_bucket`, `_sum`, `_count`)."""
        out = []
        for labels, row in sorted(self.series.items()):
            running = 0
            for bound, count in zip(self.buckets, row):
                running += count
                out.append(f"{name}_bucket{_labels(labels + (('le', repr(float(bound))),))} {running}")
            out.append(f'{name}_bucket{_labels(labels + (("le", "+Inf"),))} {row[-1]}')
            out.append(f"{name}_sum{_labels(labels)} {row[-2]!r}")
            out.append(f"{name}_count{_labels(labels)} {row[-1]}")
        return out


class Metrics:
    """The API's metrics registry (one per app)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[tuple, int] = {}
        self.latency = Histogram(LATENCY_BUCKETS)
        self.decisions: dict[tuple, int] = {}
        self.batch_sizes = Histogram(BATCH_BUCKETS)
        self.started = time.time()

    def request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """Count one finished request and its duration."""
        with self._lock:
            key = (("method", method), ("endpoint", endpoint), ("status", str(status)))
            self.requests[key] = self.requests.get(key, 0) + 1
            self.latency.observe((("method", method), ("endpoint", endpoint)), seconds)

    def decided(self, source: str, n: int = 1) -> None:
        """Count `n` decisions made for `source` (decide, decide_batch, stored, work_queue)."""
        with self._lock:
            key = (("source", source),)
            self.decisions[key] = self.decisions.get(key, 0) + n

    def batch(self, size: int) -> None:
        """Record the size of one micro-batch."""
        with self._lock:
            self.batch_sizes.observe((), size)

    def render(self, policy_digest: str | None = None) -> str:
        """The whole registry as exposition text."""
        with self._lock:
            lines = ["# HELP arrears_http_requests_total HTTP requests by route, method and status.",
                     "# TYPE arrears_http_requests_total counter"]
            lines += [f"arrears_http_requests_total{_labels(k)} {v}" for k, v in sorted(self.requests.items())]
            lines += ["# HELP arrears_http_request_duration_seconds Time to answer a request.",
                      "# TYPE arrears_http_request_duration_seconds histogram"]
            lines += self.latency.lines("arrears_http_request_duration_seconds")
            lines += ["# HELP arrears_decisions_total Decisions made by the API.",
                      "# TYPE arrears_decisions_total counter"]
            lines += [f"arrears_decisions_total{_labels(k)} {v}" for k, v in sorted(self.decisions.items())]
            lines += ["# HELP arrears_decide_batch_size Accounts per micro-batched evaluation.",
                      "# TYPE arrears_decide_batch_size histogram"]
            lines += self.batch_sizes.lines("arrears_decide_batch_size")
        lines += ["# HELP arrears_api_start_time_seconds When this process started serving.",
                  "# TYPE arrears_api_start_time_seconds gauge",
                  f"arrears_api_start_time_seconds {self.started!r}"]
        if policy_digest:
            lines += ["# HELP arrears_active_policy_info The active policy (value always 1).",
                      "# TYPE arrears_active_policy_info gauge",
                      f"arrears_active_policy_info{_labels((('digest', policy_digest),))} 1"]
        return "\n".join(lines) + "\n"


def init_app(app: Flask, metrics: Metrics) -> None:
    """Time every request and count it by route template, method and status.

    Done in a wrapper around `app.wsgi_app` rather than in before/after-request hooks,
    whose dispatch costs Flask more than the counting itself. Flask calls the server's
    `start_response` while the request context is still active, so the route the
    request matched is known there.
    """
    inner = app.wsgi_app

    def timed(environ, start_response):
        t0 = time.perf_counter()

        def start(status, headers, exc_info=None):
            try:
                rule = request.url_rule
            except RuntimeError:            # no request context: Flask failed before routing
                rule = None
            metrics.request(environ.get("REQUEST_METHOD", ""), "unmatched" if rule is None else rule.rule,
                            int(status[:3]), time.perf_counter() - t0)
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = timed
