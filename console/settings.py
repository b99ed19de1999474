"""The console's settings: `console:` in the config file, else the environment, else defaults.

    console:
      secure_cookie: true      # send the session cookie over HTTPS only (set it behind TLS)
      session_hours: 8         # a session ends this long after its last request
      min_password_length: 12
      dashboard_minutes: 60    # how often `arrears serve` computes the dashboard again

Environment: `ARREARS_CONSOLE_SECURE_COOKIE=1`, `ARREARS_SECRET_KEY` (the key that signs session
cookies; without it a random key is made once and kept in the database, so sessions survive
restarts and every server process on the database agrees).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from arrears.engine.domain.errors import ArrearsError

SECURE_ENV = "ARREARS_CONSOLE_SECURE_COOKIE"
SECRET_ENV = "ARREARS_SECRET_KEY"


class ConsoleConfigError(ArrearsError):
    """The console's settings are unusable."""


@dataclass(frozen=True)
class ConsoleSettings:
    """What the console's pages and sessions need."""

    secure_cookie: bool = False
    session_hours: float = 8.0
    min_password_length: int = 12
    dashboard_minutes: float = 60.0
    secret_key: str | None = None


def load(config: dict | None, environ=None) -> ConsoleSettings:
    """Settings from `config` (the `console:` mapping), the environment and defaults."""
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    known = {"secure_cookie", "session_hours", "min_password_length", "dashboard_minutes"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ConsoleConfigError(f"unknown console setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    secure = config.get("secure_cookie", environ.get(SECURE_ENV, "") in ("1", "true", "yes"))
    hours = config.get("session_hours", 8.0)
    length = config.get("min_password_length", 12)
    if not isinstance(secure, bool):
        raise ConsoleConfigError("console.secure_cookie must be true or false")
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
        raise ConsoleConfigError("console.session_hours must be a number of hours between 0 and 720")
    if isinstance(length, bool) or not isinstance(length, int) or not 8 <= length <= 128:
        raise ConsoleConfigError("console.min_password_length must be a whole number from 8 to 128")
    minutes = config.get("dashboard_minutes", 60.0)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 1 <= minutes <= 7 * 24 * 60:
        raise ConsoleConfigError("console.dashboard_minutes must be a number of minutes between 1 and 10080")
    secret = environ.get(SECRET_ENV) or None
    if secret is not None and len(secret) < 32:
        raise ConsoleConfigError(f"{SECRET_ENV} must be at least 32 characters")
    return ConsoleSettings(secure_cookie=secure, session_hours=float(hours), min_password_length=length,
                           dashboard_minutes=float(minutes), secret_key=secret)
