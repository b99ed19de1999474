"""A generated portfolio decided around the clock for a week under the shipped policy: no
contact outside the hours that apply (house hours, profiles' windows, public holidays), in
every shipped jurisdiction and in some without a profile, judged by the independent oracle;
every guardrail hold says until when."""
from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, timedelta, timezone

import pytest
import yaml

from arrears.engine import Batch, decide_batch, load_policy
from arrears.engine.demo import generate_account
from arrears.policies import DEFAULT_POLICY
from tests import oracle

pytestmark = pytest.mark.slow

START = datetime(2026, 12, 21, 0, 0, tzinfo=timezone.utc)     # Christmas week: holidays everywhere
# Besides the generator's own (GB, US states, AU-NSW, FR, DE): New York City, Victoria, Japan,
# India and an account with no jurisdiction at all.
EXTRA = (("US-NY-NYC", "America/New_York"), ("AU-VIC", "Australia/Melbourne"), ("JP", "Asia/Tokyo"),
         ("IN", "Asia/Kolkata"), (None, "Europe/Madrid"))


def _portfolio(n: int = 240):
    rng = random.Random(7)
    accounts, histories = [], []
    for i in range(n):
        acc, events = generate_account(rng, i, date(2026, 12, 20))
        if i % 4 == 0:
            jur, tz = EXTRA[(i // 4) % len(EXTRA)]
            acc = dataclasses.replace(acc, jurisdiction=jur, timezone=tz)
        accounts.append(acc)
        histories.append(events)
    return accounts, histories


@pytest.mark.parametrize("fdcpa", [False, True])
def test_no_contact_outside_the_hours_that_apply_all_week(fdcpa):
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    if fdcpa:
        text = text.replace("fdcpa_applies: false", "fdcpa_applies: true")
    policy, doc = load_policy(text, filename="default.yaml"), yaml.safe_load(text)
    accounts, histories = _portfolio()
    batch = Batch.from_objects(accounts, histories)
    found, acted, held = [], 0, 0
    for step in range(0, 7 * 24, 5):
        now = START + timedelta(hours=step)
        db = decide_batch(batch, policy, now)
        for row in range(len(accounts)):
            d = db.decision(row)
            events = [e for e in histories[row] if e.at <= now]
            if d.action is not None:
                acted += 1
                found += [f"{accounts[row].id} at {now}: {v}"
                          for v in oracle.violations(accounts[row], events, now, d, doc)]
            for s in d.suppressions:
                if s.rule.startswith("house.") or "deferred:" in s.reason:
                    held += 1
                    assert s.until is not None, (accounts[row].id, now, s)
    assert found == []
    assert acted > 1000 and held > 100          # the week exercised both sides
