"""The bench portfolio's decisions equal the recorded ones, byte for byte.

`bench/fingerprint.py` decides the generated bench portfolio at three moments and digests
every account's full `Decision` JSON (action, stage, channel, priority, holds and their
reasons, next evaluation, the trace). The digests below were written by main (at 88b779b)
before decide_batch was made faster (December 2026: the second guardrail pass on its own rows,
local midnights converted once per batch, …), so a speed-up that changes any decision fails
here, in any checkout (the digest leaves the checkout's folder out of the trace's policy
paths). A change meant to alter decisions records the new digests
(`python bench/fingerprint.py --accounts N`, the `portfolio:` line) and says why.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fingerprint import portfolio_digest  # noqa: E402

# The calendars and the generator behind them when the digests were recorded: a newer holidays
# or tzdata release that corrects a 2026-2027 date changes decisions without any change here.
RECORDED_WITH = {"holidays": "0.109", "tzdata": "2026.6", "numpy": "2.4.6"}
RECORDED = {
    2_000: "ec90f9c6ecf4bac9089f6ea613965343e0a1a3d60e3c380435926f42deb05c37",
    20_000: "87c2d7396e7634e4e895f7da8b34f30c4c4efb7c6dc7a0e6237ca481584ccff4",
}


@pytest.mark.parametrize("accounts", [
    2_000,
    pytest.param(20_000, marks=pytest.mark.slow),
])
def test_bench_portfolio_decisions_unchanged(accounts):
    from importlib.metadata import version
    installed = {name: version(name) for name in RECORDED_WITH}
    assert portfolio_digest(accounts, seed=1) == RECORDED[accounts], (
        f"the decisions of the {accounts:,}-account bench portfolio changed "
        "(bench/fingerprint.py shows them; a deliberate change records the new digest here); "
        f"recorded with {RECORDED_WITH}, installed now: {installed}")
