"""Episodes over generated histories (hypothesis): a debtor with several invoices pays some of
them (on time, late, in part, with or without naming the invoice), disputes some, and is decided
once a day under the shipped policy; every contact that is due is delivered. Then:

- no stage above what the open invoices earn: an action's stage threshold is at most the days
  past due of the oldest invoice still open and undisputed (read by the oracle, tests/oracle_state.py);
- no contact about a paid invoice: an action names the episode of an invoice still open, and no
  action is decided when nothing is owed;
- no reused attempt number: every delivered contact has its own (stage, attempt, episode), the
  tick's act-once key, and within an episode a stage's attempts run 1, 2, 3…;
- the tick's column-wise path (engine/tick/columns.py) and the scalar `decide()` agree on every
  decision, and the independent oracle's liveness checks find nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.model import Account, Contact, Event, Invoice
from arrears.engine.policy.compiler import compile_policy
from arrears.engine.tick.columns import payloads, summarise
from tests.core_factories import default_policy_doc
from tests.oracle_liveness import missed_step, pause_violations, skipped_required
from tests.oracle_state import money
from tests.profiles import examples

pytestmark = pytest.mark.slow

DOC = default_policy_doc()
POLICY = compile_policy(default_policy_doc())
STAGES = {s.id: s for s in POLICY.stages}
MESSAGES = {m.stage.id for m in POLICY.messages}
START = date(2026, 3, 2)
DAYS = 130
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]


@st.composite
def debtors(draw):
    """An account with 2-4 invoices and the payment and dispute events its debtor will make."""
    n = draw(st.integers(2, 4))
    invoices, events = [], []
    for k in range(n):
        due = START + timedelta(days=draw(st.integers(-20, 90)))
        amount = Decimal(draw(st.sampled_from([30, 120, 800, 2500])))
        invoices.append(Invoice(f"I{k}", amount, due))
        fate = draw(st.sampled_from(["never", "full", "part", "full"]))
        if fate != "never":
            day = due + timedelta(days=draw(st.integers(-5, 70)))
            at = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)), tzinfo=timezone.utc)
            paid = amount if fate == "full" else (amount / 2)
            named = draw(st.booleans())
            events.append(Event("payment", at, amount=paid, invoice_id=f"I{k}" if named else None))
        if draw(st.integers(0, 5)) == 0:
            day = due + timedelta(days=draw(st.integers(0, 40)))
            at = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
            events.append(Event("dispute_opened", at, invoice_id=f"I{k}"))
            if draw(st.booleans()):
                events.append(Event("dispute_resolved", at + timedelta(days=draw(st.integers(1, 30))),
                                    invoice_id=f"I{k}"))
    account = Account("P", "EUR", tuple(invoices),
                      debtor_type=draw(st.sampled_from(["consumer", "business"])),
                      timezone=draw(st.sampled_from(ZONES)),
                      contact=Contact(email="e@x.test", mobile="+447700900000", address="1 High St",
                                      phone="+441234567890"))
    return account, events, draw(st.integers(0, 23))


def _check_agreement(account, history, now, db, d):
    """The tick's columns, its outbox payload and the scalar decide() all say the same."""
    assert d.to_json() == decide(account, history, POLICY, now).to_json()
    cols = summarise(db)
    a = d.action
    assert cols.keys[0] == (f"{d.stage or ''}|{a.type if a else ''}|{a.channel if a else ''}|"
                            f"{a.attempt if a else ''}|{','.join(sorted({s.rule for s in d.suppressions}))}")
    if a is not None:
        (episode,), (body,) = payloads(db, cols, np.array([0]), 0)
        assert episode == cols.episode_key(db, 0) and f'"episode":"{episode}"' in body
        return episode
    return None


@settings(deadline=None, max_examples=examples(25), suppress_health_check=[HealthCheck.too_slow])
@given(debtor=debtors())
def test_episodes_over_generated_histories(debtor):
    account, scheduled, hour = debtor
    history = list(scheduled)            # decide() reads only the events at or before `now`
    delivered: dict = {}                 # (stage, attempt, episode) -> day
    per_episode: dict = {}               # (episode, stage) -> attempts delivered, in order
    for k in range(DAYS):
        now = datetime(START.year, START.month, START.day, hour, tzinfo=timezone.utc) + timedelta(days=k)
        db = decide_batch(Batch.from_objects([account], [history]), POLICY, now)
        d = db.decision(0)
        episode = _check_agreement(account, history, now, db, d)
        past = [e for e in history if e.at <= now]
        for check in (missed_step, skipped_required, pause_violations):
            assert not check(account, past, now, d, DOC), (k, check.__name__)
        if d.action is None:
            continue
        if d.action.stage in MESSAGES:       # a thank-you: keyed by its payment, not an episode
            assert episode.startswith("payment@") and d.action.attempt == 1, (k, episode)
            assert episode not in {e for _s, _a, e in delivered}, (k, episode)
            if d.action.not_before <= now:
                delivered[(d.action.stage, 1, episode)] = k
                history.append(Event("contact_attempt", now, channel=d.action.channel_kind, outcome="sent",
                                     stage=d.action.stage))
            continue
        m = money(account, past, DOC, now, ties=False)
        # no contact when nothing is owed, none about a paid invoice
        assert m.balance > 0, (k, d.action)
        assert episode.split("@")[0] == m.oldest_due.isoformat(), (k, episode, m.open)
        # no stage above what the open invoices earn (the shipped policy has no promises here)
        assert STAGES[d.action.stage].days_past_due <= m.dpd, (k, d.action, m.dpd, m.open)
        if d.action.not_before > now:
            continue
        key = (d.action.stage, d.action.attempt, episode)
        assert key not in delivered, (k, key, delivered)
        delivered[key] = k
        runs = per_episode.setdefault((episode, d.action.stage), [])
        runs.append(d.action.attempt)
        assert runs == list(range(1, len(runs) + 1)), (k, episode, runs)
        history.append(Event("contact_attempt", now, channel=d.action.channel_kind, outcome="sent",
                             stage=d.action.stage))
