"""The bench portfolio's decisions equal the recorded ones, byte for byte.

`bench/fingerprint.py` decides the generated bench portfolio at three moments and digests
every account's full `Decision` JSON (action, stage, channel, priority, holds and their
reasons, next evaluation, the trace). The digests below were written by main before
decide_batch was made faster (December 2026: the second guardrail pass on its own rows,
local midnights converted once per batch, …), so a speed-up that changes any decision fails
here. A change meant to alter decisions records the new digests
(`python bench/fingerprint.py --accounts N`, the `portfolio:` line) and says why.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fingerprint import portfolio_digest  # noqa: E402

RECORDED = {
    2_000: "64536eea7308ead44ab05d72a532077b25e35f89e042e6e8a042e306415c8932",
    20_000: "376d5debef25e1a99dae9e2694902b2176575ca37af6142165bf3d0b88c4f5e9",
}


@pytest.mark.parametrize("accounts", [
    2_000,
    pytest.param(20_000, marks=pytest.mark.slow),
])
def test_bench_portfolio_decisions_unchanged(accounts):
    assert portfolio_digest(accounts, seed=1) == RECORDED[accounts], (
        f"the decisions of the {accounts:,}-account bench portfolio changed "
        "(bench/fingerprint.py shows them; a deliberate change records the new digest here)")
