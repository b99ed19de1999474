"""Configuration of `arrears tick` and `arrears serve`: flags, environment, config file.

Precedence: command-line flag > environment variable > config file > default.

| setting | flag | environment | config file | default |
|---|---|---|---|---|
| database | `--db` | `ARREARS_DATABASE_URL` | `database_url` | `sqlite:///arrears.db` |
| policy | `--policy` | `ARREARS_POLICY` | `policy` | the shipped `policies/default.yaml` |
| company profiles | `--profiles` | `ARREARS_PROFILES` | `profiles` | none (the shipped profiles only) |
| config file | `--config` | `ARREARS_CONFIG` | | none |
| interval (s) | `--interval` | `ARREARS_TICK_INTERVAL` | `tick.interval` | 300 |
| cron | `--cron` | `ARREARS_TICK_CRON` | `tick.cron` | none |
| broker (distributed tick) | `--broker` | `ARREARS_BROKER_URL` | `broker_url` | none: the tick runs in-process |

The config file is TOML (`.toml`) or YAML (`.yaml`, `.yml`). Besides `database_url`,
`policy` and the `[tick]` table (interval, cron, batch_size, lease_ttl, horizon,
misfire_grace_time, and `[tick.retry]` base, factor, cap, max_tries), `broker_url` and the
`[scale]` table of the distributed tick (delivery_tasks, page_timeout, visibility_timeout,
resend_after, concurrency, and `[scale.rate_limits]`: messages a second per channel; docs/scale-out.md),
everything in it
(`channels`, `routes`, `templates`, `creditor`, `default_timezone`) goes to the plugins'
`Dispatcher`. A relative `policy` or `profiles` path is relative to the config file.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from arrears.engine.domain.errors import ArrearsError
from arrears.engine.store.db import DEFAULT_URL, URL_ENV
from arrears.engine.tick.dispatch import Backoff
from arrears.policies import DEFAULT_POLICY

OWN_KEYS = ("database_url", "policy", "profiles", "tick", "broker_url", "scale")
BROKER_ENV = "ARREARS_BROKER_URL"
SCALE_KEYS = ("delivery_tasks", "page_timeout", "visibility_timeout", "resend_after", "concurrency", "rate_limits")
TICK_KEYS = ("interval", "cron", "batch_size", "lease_ttl", "horizon", "misfire_grace_time", "retry")
RETRY_KEYS = ("base", "factor", "cap", "max_tries")


class ConfigError(ArrearsError):
    """The configuration is unusable; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ScaleSettings:
    """The distributed tick's settings (the config file's `[scale]` table; docs/scale-out.md)."""

    delivery_tasks: int = 4             # delivery tasks per tick (the due contacts split by debtor)
    page_timeout: float = 600.0         # s without a page finished before the leader gives up the tick
    visibility_timeout: float = 600.0   # s before the broker hands an unacknowledged task to another worker
    resend_after: float = 60.0          # s without a page finished, the broker's queues empty: send the rest again
    concurrency: int = 1                # task processes per `arrears worker`
    rate_limits: dict = field(default_factory=dict)    # channel -> messages a second, over every worker


@dataclass(frozen=True)
class TickSettings:
    """Everything a tick or the scheduler needs to run."""

    database_url: str = DEFAULT_URL
    policy_path: Path = DEFAULT_POLICY
    profiles_path: Path | None = None      # the company's own stricter profiles, besides the shipped
    interval: int = 300
    cron: str | None = None
    batch_size: int = 10_000
    lease_ttl: float = 300.0
    horizon: int = 300
    misfire_grace_time: int = 300
    backoff: Backoff = Backoff()
    dispatcher_config: dict = field(default_factory=dict)
    config_path: Path | None = None
    broker_url: str | None = None          # set: the tick runs on Celery workers (docs/scale-out.md)
    scale: ScaleSettings = ScaleSettings()


def read_config_file(path: str | Path) -> dict:
    """Parse a TOML or YAML config file into a dict (ConfigError if unreadable)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file: {exc.strerror}"]) from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            import yaml
            data = yaml.safe_load(text) or {}
        else:
            raise ConfigError([f"{path}: a config file must end in .toml, .yaml or .yml"])
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError([f"{path}: not valid: {exc}"]) from None
    except Exception as exc:   # yaml.YAMLError, without importing yaml for TOML users
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a table of settings at the top level"])
    return data


def load_settings(*, db: str | None = None, policy: str | None = None, config: str | None = None,
                  interval: int | None = None, cron: str | None = None, environ=None,
                  profiles: str | None = None, broker: str | None = None) -> TickSettings:
    """Resolve the settings from flags (the keyword arguments), environment and config file."""
    env = os.environ if environ is None else environ
    config = config or env.get("ARREARS_CONFIG")
    data = read_config_file(config) if config else {}
    base = Path(config).resolve().parent if config else Path.cwd()
    problems: list[str] = []
    tick = data.get("tick") or {}
    if not isinstance(tick, dict):
        problems.append("tick: expected a table")
        tick = {}
    problems += [f"tick.{k}: unknown setting; allowed: {', '.join(TICK_KEYS)}" for k in tick if k not in TICK_KEYS]
    retry = tick.get("retry") or {}
    problems += [f"tick.retry.{k}: unknown setting; allowed: {', '.join(RETRY_KEYS)}"
                 for k in (retry if isinstance(retry, dict) else {}) if k not in RETRY_KEYS]

    def number(name, value, kind=int, minimum=1):
        if value is None:
            return None
        try:
            out = kind(value)
        except (TypeError, ValueError):
            problems.append(f"{name}: expected a number, got {value!r}")
            return None
        if out < minimum:
            problems.append(f"{name}: must be at least {minimum}, got {value!r}")
            return None
        return out

    every = number("interval", interval if interval is not None else
                   env.get("ARREARS_TICK_INTERVAL") or tick.get("interval"))
    cron = cron or env.get("ARREARS_TICK_CRON") or tick.get("cron")
    if cron is not None:
        problems += _cron_problems(cron)
    if policy or env.get("ARREARS_POLICY"):
        policy_path = Path(policy or env["ARREARS_POLICY"])
    elif data.get("policy"):
        policy_path = base / str(data["policy"])      # relative to the config file
    else:
        policy_path = DEFAULT_POLICY
    if profiles or env.get("ARREARS_PROFILES"):
        profiles_path = Path(profiles or env["ARREARS_PROFILES"])
    elif data.get("profiles"):
        profiles_path = base / str(data["profiles"])  # relative to the config file
    else:
        profiles_path = None
    if profiles_path is not None and not profiles_path.is_dir():
        problems.append(f"profiles: no such directory: {profiles_path}")
    database_url = db or env.get(URL_ENV) or data.get("database_url") or DEFAULT_URL
    broker_url = broker or env.get(BROKER_ENV) or data.get("broker_url") or None
    if broker_url is not None:
        problems += _broker_problems(str(broker_url), database_url)
    settings = TickSettings(
        database_url=database_url, broker_url=broker_url, scale=_scale(data.get("scale"), number, problems),
        policy_path=policy_path, profiles_path=profiles_path,
        interval=every or 300,
        cron=cron,
        batch_size=number("tick.batch_size", tick.get("batch_size")) or 10_000,
        lease_ttl=number("tick.lease_ttl", tick.get("lease_ttl"), float, 0.1) or max(300.0, 2.0 * (every or 300)),
        horizon=number("tick.horizon", tick.get("horizon"), int, 0) or every or 300,
        misfire_grace_time=number("tick.misfire_grace_time", tick.get("misfire_grace_time")) or (every or 300),
        backoff=_backoff(retry if isinstance(retry, dict) else {}, number),
        dispatcher_config={k: v for k, v in data.items() if k not in OWN_KEYS},
        config_path=Path(config) if config else None,
    )
    if problems:
        raise ConfigError(problems)
    return settings


def _backoff(retry: dict, number) -> Backoff:
    d = Backoff()
    return Backoff(base=number("tick.retry.base", retry.get("base")) or d.base,
                   factor=number("tick.retry.factor", retry.get("factor"), float, 1.0) or d.factor,
                   cap=number("tick.retry.cap", retry.get("cap")) or d.cap,
                   max_tries=number("tick.retry.max_tries", retry.get("max_tries")) or d.max_tries)


def _broker_problems(url: str, database_url: str) -> list[str]:
    from arrears.engine.tick.broker import BrokerError, broker_kind
    try:
        broker_kind(url)
    except BrokerError as exc:
        return [f"broker_url: {exc}".replace("broker_url: --broker: ", "broker_url: ")]
    if not database_url.startswith("postgresql"):
        return [("broker_url: the distributed tick needs a PostgreSQL database (--db postgresql://...): "
                 "its workers write pages at once, and SQLite has a single writer")]
    return []


def _scale(table, number, problems: list[str]) -> ScaleSettings:
    if table is None:
        return ScaleSettings()
    if not isinstance(table, dict):
        problems.append("scale: expected a table")
        return ScaleSettings()
    problems += [f"scale.{k}: unknown setting; allowed: {', '.join(SCALE_KEYS)}" for k in table if k not in SCALE_KEYS]
    d = ScaleSettings()
    rates = table.get("rate_limits") or {}
    if not isinstance(rates, dict):
        problems.append("scale.rate_limits: expected a table of channel = messages a second")
        rates = {}
    limits = {str(k): number(f"scale.rate_limits.{k}", v, float, 0.001) for k, v in rates.items()}
    scale = ScaleSettings(
        delivery_tasks=number("scale.delivery_tasks", table.get("delivery_tasks")) or d.delivery_tasks,
        page_timeout=number("scale.page_timeout", table.get("page_timeout"), float, 0.1) or d.page_timeout,
        visibility_timeout=number("scale.visibility_timeout", table.get("visibility_timeout"), float, 1.0)
        or d.visibility_timeout,
        resend_after=number("scale.resend_after", table.get("resend_after"), float, 0.1) or d.resend_after,
        concurrency=number("scale.concurrency", table.get("concurrency")) or d.concurrency,
        rate_limits={k: v for k, v in limits.items() if v is not None})
    if scale.resend_after >= scale.page_timeout:
        # The leader fails the tick `page_timeout` after the last page finished: a page the broker
        # lost (a worker killed as it took it, a Redis restarted empty) would never be sent again.
        problems.append(f"scale.resend_after: must be shorter than scale.page_timeout ({scale.page_timeout:g} s), "
                        f"got {scale.resend_after:g}: the tick would fail before sending a lost page again")
    return scale


def _cron_problems(expr) -> list[str]:
    from apscheduler.triggers.cron import CronTrigger
    try:
        CronTrigger.from_crontab(str(expr), timezone="UTC")
    except ValueError as exc:
        return [f"cron: {expr!r} is not a valid crontab expression: {exc}"]
    return []
