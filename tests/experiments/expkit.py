"""Experiment files for the tests: a valid one, written with the given changes."""
from __future__ import annotations

from pathlib import Path

import yaml

from arrears.policies import DEFAULT_POLICY

ZERO = "sha256:" + "0" * 64
# A challenger: the default policy with SMS before email for the friendly reminder.
CHALLENGER = DEFAULT_POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.1.0-sms"').replace(
    "      channels: [email, sms, letter]\n      template: friendly_reminder",
    "      channels: [sms, email, letter]\n      template: friendly_reminder")


def spec(**changes) -> dict:
    """A valid experiment document (a champion and one challenger, half each), with `changes`."""
    data = {"name": "sms-first", "champion": {"share": 50},
            "challengers": [{"name": "sms-first", "policy": ZERO, "share": 50}],
            "eligibility": {"fact": "days_past_due", "gte": 1},
            "start": "2026-12-07", "end": "2027-03-07",
            "primary_metric": {"kpi": "cure_rate", "minimum_detectable_effect": 5, "baseline": 30}}
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict, name: str = "experiment.yaml") -> Path:
    """`data` written as YAML at tmp_path/name, keys in the given order."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
