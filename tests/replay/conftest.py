"""Fixtures of the replay tests: the shipped policy, the committed sample and its replay."""
from __future__ import annotations

import csv

import pytest

from arrears.engine.policy.load import load_policy
from arrears.engine.replay import read_replay_csv, replay
from arrears.engine.replay.report import build_report
from arrears.policies import DEFAULT_POLICY
from tests.replay.replaykit import SAMPLE, YEAR


@pytest.fixture(scope="session")
def shipped_policy():
    """The shipped default policy with its jurisdiction profiles (what the CLI uses)."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="session")
def sample_rows() -> list[dict]:
    """The committed sample's rows, read with the csv module alone (an independent reading)."""
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def sample_run(shipped_policy):
    """The sample replayed over 2025 under the shipped policy (once per session)."""
    data = read_replay_csv(SAMPLE)
    assert not data.rejects
    return replay(data, shipped_policy, *YEAR)


@pytest.fixture(scope="session")
def sample_report(sample_run):
    """The monthly report of `sample_run`."""
    return build_report(sample_run, by="month", source="sample.csv")

