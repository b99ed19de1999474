"""The channel contract and the configuration reader every channel uses.

A channel delivers rendered messages of one `kind` (email, sms, letter, call, webhook,
task, or a kind a plugin invents). The host creates it through the `arrears_channels`
hook, calls `configure(settings)` once with the channel's config section, then
`deliver(message)` for each message. `deliver` never raises: every failure is a
`DeliveryResult`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.message import DeliveryResult, Message

_MISSING = object()


class Channel:
    """Base class for channels: subclass it, set `kind` and `name`, implement two methods.

    `clock` returns the current UTC time; tests may replace it.
    """

    kind: str = ""
    name: str = ""

    def __init__(self) -> None:
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.configured = False

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Validate and keep `settings`; raise `ChannelConfigError` listing every problem."""
        self.configured = True

    def deliver(self, message: Message) -> DeliveryResult:
        """Deliver one rendered message and say how it went. Must not raise."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for `arrears plugins`: what this channel does and where it sends."""
        return self.name or self.kind

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r}>"


class Settings:
    """Reads one channel's config section, collecting every problem before raising.

    Usage: ``s = Settings("sms", data); url = s.str("url", required=True); …; s.check()``.
    Secrets may be given inline (`token`) or by environment variable name (`token_env`).
    """

    def __init__(self, kind: str, data: Mapping[str, Any] | None):
        self.kind = kind
        self.data = dict(data or {})
        self.problems: list[str] = []
        self.known: set[str] = set()

    def _raw(self, key, required):
        """The value of `key`, or _MISSING (recording a problem if it is required)."""
        self.known.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(f"{key} is required")
            return _MISSING
        return value

    def str(self, key: str, *, required=False, default=None, choices=None):
        """A non-empty string (optionally one of `choices`)."""
        value = self._raw(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{key} must be a non-empty string, got {value!r}")
            return default
        if choices and value not in choices:
            self.problems.append(f"{key} must be one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def int(self, key: str, *, required=False, default=None, minimum=None, maximum=None):
        """An integer within [minimum, maximum]."""
        value = self._raw(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{key} must be an integer, got {value!r}")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.problems.append(f"{key} must be between {minimum} and {maximum}, got {value}")
            return default
        return value

    def number(self, key: str, *, default=None, minimum=0.0):
        """A positive real number (timeouts, in seconds)."""
        value = self._raw(key, False)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= minimum:
            self.problems.append(f"{key} must be a number greater than {minimum}, got {value!r}")
            return default
        return float(value)

    def bool(self, key: str, *, default=False):
        """true or false."""
        value = self._raw(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problems.append(f"{key} must be true or false, got {value!r}")
            return default
        return value

    def mapping(self, key: str, *, default=None):
        """A table of string keys to string values (extra headers, field names)."""
        value = self._raw(key, False)
        if value is _MISSING:
            return dict(default or {})
        if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            self.problems.append(f"{key} must be a table of strings, got {value!r}")
            return dict(default or {})
        return dict(value)

    def secret(self, key: str, *, required=False, min_bytes: int = 0):
        """A secret given inline as `key` or as the name of an environment variable `key_env`;
        with `min_bytes`, one shorter than that many bytes (UTF-8) is a problem (the secret
        itself is never part of a message)."""
        inline = self.str(key)
        env_name = self.str(f"{key}_env")
        if inline and env_name:
            self.problems.append(f"give {key} or {key}_env, not both")
        where = key
        if env_name:
            inline = os.environ.get(env_name)
            where = f"environment variable {env_name} (from {key}_env)"
            if not inline:
                self.problems.append(f"{where} is not set")
        elif required and not inline:
            self.problems.append(f"{key} (or {key}_env) is required")
        if inline:
            self._long_enough(inline, where, min_bytes)
        return inline

    def strings(self, key: str, *, choices=None) -> list[str] | None:
        """A non-empty list of non-empty strings (each one of `choices`, if given), or None when
        the key is absent; each bad item is a problem naming it."""
        value = self._raw(key, False)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not value:
            self.problems.append(f"{key} must be a non-empty list of strings, got {value!r}")
            return None
        good = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problems.append(f"{key}[{i}] must be a non-empty string, got {item!r}")
            elif choices and item not in choices:
                self.problems.append(f"{key}[{i}]: unknown value {item!r}; allowed: {', '.join(choices)}")
            else:
                good.append(item)
        return good

    def secrets(self, key: str, *, required=False, min_bytes: int = 0) -> list[str]:
        """One secret (`key`, or `key_env`) or several (`<key>s`: a list of secrets, or
        `<key>s_env`: a list of environment variable names), in the order given; only one of
        the four may be set. For rotations: a sender signs with each, a receiver accepts any."""
        many = self.strings(f"{key}s")
        names = self.strings(f"{key}s_env")
        one = self.secret(key, min_bytes=min_bytes)
        given = [self.data.get(key) is not None or self.data.get(f"{key}_env") is not None,
                 many is not None, names is not None]
        if sum(given) > 1:
            self.problems.append(f"give one of {key}, {key}_env, {key}s or {key}s_env")
        out = [one] if one else []
        for i, name in enumerate(names or ()):
            value = os.environ.get(name)
            if not value:
                self.problems.append(f"environment variable {name} (from {key}s_env[{i}]) is not set")
            else:
                out.append(self._long_enough(value, f"environment variable {name} (from {key}s_env[{i}])",
                                             min_bytes))
        for i, value in enumerate(many or ()):
            out.append(self._long_enough(value, f"{key}s[{i}]", min_bytes))
        if required and not any(given):
            self.problems.append(f"{key} (or {key}_env, {key}s, {key}s_env) is required")
        if len(set(out)) < len(out):
            self.problems.append(f"{key}s: the same secret is given twice")
        return out

    def _long_enough(self, value: str, where: str, min_bytes: int) -> str:
        """`value`, recording a problem if it is shorter than `min_bytes` bytes (UTF-8)."""
        size = len(value.encode("utf-8"))
        if min_bytes and size < min_bytes:
            self.problems.append(f"{where} must be at least {min_bytes} bytes long, not {size}; make one "
                                 f"with `python -c 'import secrets; print(secrets.token_hex({min_bytes}))'`")
        return value

    def require(self, condition: bool, problem: str) -> None:
        """Record `problem` unless `condition` holds (cross-field checks)."""
        if not condition:
            self.problems.append(problem)

    def check(self) -> None:
        """Raise `ChannelConfigError` with every problem, including unknown keys."""
        unknown = sorted(set(self.data) - self.known)
        if unknown:
            self.problems.append(f"unknown setting(s) {', '.join(unknown)}; allowed: "
                                 f"{', '.join(sorted(self.known))}")
        if self.problems:
            raise ChannelConfigError(self.kind, self.problems)
