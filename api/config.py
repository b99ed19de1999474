"""The API's settings: from the mapping given to `create_app`, then the environment, then defaults.

    create_app({"database_url": "sqlite:///arrears.db", "policy": "policies/default.yaml",
                "api": {"keys": {"<key>": "integrator"}, "max_batch_items": 100}})

Top-level `database_url`, `policy` and `kpis` (`kpis.costs`: unit costs for GET /v1/kpis, see
engine/kpis/costs.py) are shared with the tick's config file; API settings live under `api`. A setting missing from the mapping comes from the
environment (`ARREARS_DATABASE_URL`, `ARREARS_POLICY`, `ARREARS_API_KEYS`), else its default.
Top-level `goals` names the goals file of GET /v1/goals (else `ARREARS_GOALS`, else the shipped
policies/goals.yaml). Top-level `profiles` names a directory of the company's own stricter
jurisdiction profiles, applied besides the shipped ones (else `ARREARS_PROFILES`, else none).
Top-level `broker_url` (else `ARREARS_BROKER_URL`): the distributed tick's broker, whose queues
`/metrics` shows and through which a tick on request runs (docs/scale-out.md).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from arrears.api.auth import parse_env_keys
from arrears.engine.domain.errors import ArrearsError
from arrears.engine.goals import DEFAULT_GOALS, GOALS_ENV
from arrears.engine.kpis.costs import CostConfigError, CostModel, parse_costs
from arrears.engine.store.db import DEFAULT_URL, URL_ENV
from arrears.policies import DEFAULT_POLICY

KEYS_ENV = "ARREARS_API_KEYS"
POLICY_ENV = "ARREARS_POLICY"
PROFILES_ENV = "ARREARS_PROFILES"


class ConfigError(ArrearsError):
    """The API configuration is unusable."""


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs. Limits are per request unless said otherwise."""

    database_url: str = DEFAULT_URL
    policy_path: Path = DEFAULT_POLICY
    profiles_path: Path | None = None              # top-level `profiles`: the company's own profiles
    keys: dict = field(default_factory=dict)       # key -> role (hashed by KeyRing at start)
    max_body_bytes: int = 4 * 1024 * 1024          # Flask MAX_CONTENT_LENGTH: larger bodies get 413
    max_batch_items: int = 100                     # POST /v1/decide {"items": [...]}
    max_batch_accounts: int = 1000                 # POST /v1/accounts:batch
    max_batch_events: int = 1000                   # POST /v1/accounts/{id}/events {"events": [...]}
    max_bulk_events: int = 5000                    # POST /v1/events:batch {"items": [...]}, across accounts
    page_size: int = 50                            # default `limit` of paged lists
    max_page_size: int = 500
    work_queue_capacity: dict = field(default_factory=lambda: {"call": 100})   # per channel kind
    work_queue_scan: int = 10_000                  # accounts decided when no tick data exists
    batcher_max_batch: int = 64                    # micro-batching of single decisions
    batcher_max_wait_ms: float = 2.0
    batcher_enabled: bool = True
    policy_refresh_seconds: float = 1.0            # how stale the active policy may be (replicas)
    kpi_costs: CostModel = field(default_factory=CostModel)   # top-level `kpis.costs` (GET /v1/kpis)
    goals_path: Path = DEFAULT_GOALS               # top-level `goals`, else $ARREARS_GOALS (GET /v1/goals)
    broker_url: str | None = None                  # top-level `broker_url`, else $ARREARS_BROKER_URL: the distributed tick

    @property
    def batcher_max_wait(self) -> float:
        """Seconds a micro-batch may wait for company."""
        return self.batcher_max_wait_ms / 1000.0


_API_KEYS = {f.name for f in fields(Settings)} - {"database_url", "policy_path", "kpi_costs", "goals_path",
                                                  "profiles_path", "broker_url"}
BROKER_ENV = "ARREARS_BROKER_URL"


def load(config: dict | None = None, environ=None) -> Settings:
    """Settings from `config` (see the module docstring), the environment and defaults."""
    config = dict(config or {})
    environ = os.environ if environ is None else environ
    api = dict(config.get("api") or {})
    unknown = sorted(set(api) - _API_KEYS)
    if unknown:
        raise ConfigError(f"unknown api setting(s): {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(_API_KEYS))}")
    if "keys" not in api:
        api["keys"] = parse_env_keys(environ.get(KEYS_ENV, ""))
    if not isinstance(api["keys"], dict):
        raise ConfigError("api.keys must be a mapping of key to role")
    capacity = api.get("work_queue_capacity")
    if isinstance(capacity, int):
        api["work_queue_capacity"] = {"call": capacity}
    policy = config.get("policy") or environ.get(POLICY_ENV) or DEFAULT_POLICY
    url = config.get("database_url") or environ.get(URL_ENV) or DEFAULT_URL
    kpis = config.get("kpis") or {}
    unknown = sorted(set(kpis) - {"costs"}) if isinstance(kpis, dict) else ["(not a table)"]
    if unknown:
        raise ConfigError(f"unknown kpis setting(s): {', '.join(unknown)}; known: costs")
    try:
        costs = parse_costs(kpis.get("costs"))
    except CostConfigError as exc:
        raise ConfigError(str(exc)) from None
    goals = config.get("goals") or environ.get(GOALS_ENV) or DEFAULT_GOALS
    profiles = config.get("profiles") or environ.get(PROFILES_ENV) or None
    if profiles is not None and not Path(profiles).is_dir():
        raise ConfigError(f"profiles: no such directory: {profiles}")
    broker = config.get("broker_url") or environ.get(BROKER_ENV) or None
    settings = Settings(database_url=url, policy_path=Path(policy), kpi_costs=costs, goals_path=Path(goals),
                        profiles_path=None if profiles is None else Path(profiles), broker_url=broker, **api)
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    positive = ("max_body_bytes", "max_batch_items", "max_batch_accounts", "max_batch_events",
                "max_bulk_events", "page_size", "max_page_size", "work_queue_scan", "batcher_max_batch")
    bad = [name for name in positive
           if not isinstance(getattr(s, name), int) or isinstance(getattr(s, name), bool)
           or getattr(s, name) < 1]
    if bad:
        raise ConfigError(f"api settings must be positive whole numbers: {', '.join(bad)}")
    if s.page_size > s.max_page_size:
        raise ConfigError("api.page_size must not exceed api.max_page_size")
    if not all(isinstance(v, int) and v >= 0 for v in s.work_queue_capacity.values()):
        raise ConfigError("api.work_queue_capacity values must be whole numbers >= 0")
