"""Daily contact capacity per delivery channel kind, and contacts counted per calendar day.

A simulation compares how many contacts each policy would send per channel and day with
what the people and systems behind the channels can take. Capacities are configuration,
not policy, so both sides of a simulation are measured against the same ones:

- `from_delivery_config(config)`: the delivery configuration the tick uses (the config
  file's `channels` tables and `routes`). A channel kind has a daily capacity when its
  table sets `daily_capacity` (the built-in `call` and `task` queue channels require it,
  see `plugins/channels/queue.py`); its days are counted in that table's `timezone`
  (default UTC), as the queue channel counts them. A policy channel is delivered by the
  kind its route names, else by its own kind (`arrears.plugins.dispatch.Dispatcher.transport`).
- `from_work_queue(limits)`: the API's `api.work_queue_capacity` (per channel kind, UTC
  days), the same figure `GET /v1/work-queue` cuts the call list to.

Every other kind is unlimited.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.errors import ArrearsError
from arrears.engine.domain.tzutil import local_days

UTC = "UTC"


class CapacityError(ArrearsError):
    """A capacity setting is unusable (names the setting and what is wrong)."""


@dataclass(frozen=True)
class Capacity:
    """Contacts per day each delivery kind can take; kinds not listed are unlimited."""

    limits: Mapping[str, int] = field(default_factory=dict)   # delivery kind -> contacts per day
    zones: Mapping[str, str] = field(default_factory=dict)    # delivery kind -> zone of its days
    routes: Mapping[str, str] = field(default_factory=dict)   # policy channel -> delivery kind
    source: str = "none"                                       # where the limits came from

    def transport(self, channel: str, kind: str) -> str:
        """The kind of channel that delivers the policy channel `channel` of kind `kind`."""
        return self.routes.get(channel, kind)

    def limit(self, kind: str) -> int | None:
        """Contacts per day `kind` can take (None: unlimited)."""
        return self.limits.get(kind)

    def zone(self, kind: str) -> str:
        """The IANA zone whose calendar days `kind`'s capacity counts in."""
        return self.zones.get(kind, UTC)

    def overridden(self, limits: Mapping[str, int]) -> Capacity:
        """These limits replace the configured ones (kind by kind), e.g. from `--capacity`."""
        return replace(self, limits={**self.limits, **_checked(limits, "capacity {}")},
                       source=f"{self.source} with overrides" if self.source != "none" else "overrides")


def from_delivery_config(config: Mapping | None) -> Capacity:
    """Capacities from the tick's delivery configuration (see the module docstring)."""
    config = config or {}
    channels = config.get("channels") or {}
    if not isinstance(channels, Mapping):
        raise CapacityError("channels: expected a table of channel kinds")
    limits, zones = {}, {}
    for kind, table in channels.items():
        if not isinstance(table, Mapping) or table.get("daily_capacity") is None:
            continue
        limits[str(kind)] = table["daily_capacity"]
        zone = table.get("timezone") or UTC
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise CapacityError(f"channels.{kind}.timezone: {zone!r} is not an IANA time zone") from None
        zones[str(kind)] = str(zone)
    routes = config.get("routes") or {}
    if not isinstance(routes, Mapping):
        raise CapacityError("routes: expected a table of policy channel -> channel kind")
    return Capacity(_checked(limits, "channels.{}.daily_capacity"), zones,
                    {str(k): str(v) for k, v in routes.items()}, "delivery configuration")


def from_work_queue(limits: Mapping[str, int]) -> Capacity:
    """Capacities from the API's `api.work_queue_capacity` (UTC days)."""
    return Capacity(_checked(limits, "api.work_queue_capacity.{}"), source="api.work_queue_capacity")


def _checked(limits: Mapping, where: str) -> dict[str, int]:
    out = {}
    for kind, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CapacityError(f"{where.format(kind)}: expected a whole number >= 0, got {value!r}")
        out[str(kind)] = value
    return out


def contact_days(capacity: Capacity, channels: np.ndarray, kinds: np.ndarray,
                 not_before: np.ndarray) -> tuple[list[str], list[str]]:
    """(delivery kind, ISO day) of each contact: the day its `not_before` falls on in the
    zone its delivery kind counts capacity in."""
    transports = [capacity.transport(c, k) for c, k in zip(channels.tolist(), kinds.tolist())]
    if not transports:
        return [], []
    zone_names = sorted({capacity.zone(t) for t in transports})
    codes = np.asarray([zone_names.index(capacity.zone(t)) for t in transports], dtype=np.int32)
    days = local_days(zone_names, codes, np.asarray(not_before, dtype=np.int64))
    iso: dict[int, str] = {}
    out = [iso.get(d) or iso.setdefault(d, day_to_date(d).isoformat()) for d in days.tolist()]
    return transports, out
