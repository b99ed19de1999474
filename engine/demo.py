"""Realistic synthetic portfolios: accounts, invoices and event histories.

Used for demo data (`arrears serve --demo`), the benchmarks in bench/ and tests.

Deterministic for a seed. Mixes consumers and businesses across jurisdictions and
time zones; histories follow the escalation a default policy would have produced
(reminders, notices, calls with outcomes), with partial payments, promises (kept
and broken), disputes, payment plans, opt-outs and the occasional stop state.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from arrears.engine.domain.model import Account, Contact, Event, Invoice

JURISDICTIONS = (("GB-ENG", "Europe/London", "GBP", "en"), ("GB-SCT", "Europe/London", "GBP", "en"),
                 ("US-NY", "America/New_York", "USD", "en"), ("US-MA", "America/New_York", "USD", "en"),
                 ("US-CA", "America/Los_Angeles", "USD", "en"), ("AU-NSW", "Australia/Sydney", "AUD", "en"),
                 ("FR", "Europe/Paris", "EUR", "fr"), ("DE", "Europe/Berlin", "EUR", "de"))
STAGES = ((-3, "pre_due_reminder", "email"), (1, "friendly_reminder", "email"),
          (15, "firm_reminder", "email"), (30, "personal_call", "call"),
          (45, "formal_notice", "letter"), (60, "legal_warning", "letter"),
          (90, "agency_referral", "webhook"))


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour % 24, 0), timezone.utc)


_GIVEN = ("Ada", "Ben", "Chloé", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas", "Kai", "Lena",
          "Malik", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Viktor", "Wen", "Yara")
_FAMILY = ("Adeyemi", "Baker", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ivanova", "Jensen",
           "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt", "Taylor",
           "Van Dijk", "Walker", "Xu", "Yilmaz", "Zhang", "Khan", "Murphy", "Novak", "Silva", "Okafor", "Berg",
           "Moreau")


def demo_name(i: int) -> str:
    """The debtor name of generated account `i`: a given and a family name, spread evenly (drawn
    from `i` alone, so the generator's random stream is as it was before names)."""
    return f"{_GIVEN[i % len(_GIVEN)]} {_FAMILY[(i * 7 + i // len(_GIVEN)) % len(_FAMILY)]}"


def generate_account(rng: random.Random, i: int, today: date) -> tuple[Account, list[Event]]:
    """One account and its history up to `today`."""
    jur, tz, cur, lang = rng.choice(JURISDICTIONS)
    business = rng.random() < 0.4
    invoices = []
    oldest_days = int(rng.triangular(-20, 300, 10))
    for k in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
        due = today - timedelta(days=oldest_days - k * 30)
        amount = Decimal(int(rng.lognormvariate(6.0 if not business else 7.5, 1.0) * 100)) / 100
        invoices.append(Invoice(f"{i}-INV{k}", max(amount, Decimal("5.00")), due,
                                due - timedelta(days=30)))
    contact = Contact(name=demo_name(i),
                      email=f"debtor{i}@example.com" if rng.random() < 0.9 else None,
                      phone="+441234567890" if rng.random() < 0.7 else None,
                      mobile="+447700900000" if rng.random() < 0.6 else None,
                      address=f"{i} High Street" if rng.random() < 0.95 else None,
                      preferred_channels=("sms",) if rng.random() < 0.1 else ())
    account = Account(
        id=f"ACC{i:08d}", currency=cur, invoices=tuple(invoices),
        debtor_type="business" if business else "consumer", jurisdiction=jur, timezone=tz,
        language=lang, tags=frozenset({"vip"} if rng.random() < 0.03 else ()),
        risk_score=round(rng.random(), 2) if rng.random() < 0.6 else None,
        on_time_ratio=round(rng.betavariate(5, 2), 2) if rng.random() < 0.7 else None,
        relationship_tier=rng.choice((None, None, "standard", "key", "strategic")),
        contact=contact)
    events = []
    due0 = invoices[0].due_date
    for thr, stage, kind in STAGES:
        day = due0 + timedelta(days=thr + rng.randint(0, 3))
        if day >= today or rng.random() < 0.15:
            break
        outcome = "failed" if rng.random() < 0.03 else ("queued" if kind == "call" else "sent")
        events.append(Event("contact_attempt", _at(day, 9 + rng.randint(0, 8)), channel=kind,
                            stage=stage, outcome=outcome))
        if kind == "call":
            events.append(Event("contact_outcome", _at(day + timedelta(days=1), 14), channel="call",
                                outcome=rng.choice(("no_answer", "voicemail", "conversation"))))
    total = sum(inv.amount for inv in invoices)
    r = rng.random()
    if r < 0.25 and due0 < today:
        paid_day = due0 + timedelta(days=rng.randint(0, max(1, (today - due0).days)))
        frac = Decimal(rng.choice((25, 50, 100))) / 100
        events.append(Event("payment", _at(min(paid_day, today - timedelta(days=1)), 11),
                            amount=(total * frac).quantize(Decimal("0.01"))))
    elif r < 0.35 and due0 < today:
        made = today - timedelta(days=rng.randint(1, 40))
        events.append(Event("promise_to_pay", _at(made, 10), amount=(total / 2).quantize(Decimal("0.01")),
                            until=made + timedelta(days=rng.randint(3, 20))))
    elif r < 0.40:
        events.append(Event("dispute_opened", _at(today - timedelta(days=rng.randint(1, 60)), 10),
                            invoice_id=invoices[0].id))
    elif r < 0.45 and due0 < today:
        start = today - timedelta(days=rng.randint(5, 90))
        inst = tuple((start + timedelta(days=30 * (m + 1)), (total / 4).quantize(Decimal("0.01")))
                     for m in range(4))
        events.append(Event("payment_plan", _at(start, 10), instalments=inst))
        for due, amount in inst:
            if due < today and rng.random() < 0.8:
                events.append(Event("payment", _at(due, 12), amount=amount))
    r = rng.random()
    if r < 0.02:
        events.append(Event("channel_opt_out", _at(today - timedelta(days=10), 10), channel="sms"))
    elif r < 0.025:
        events.append(Event("hardship", _at(today - timedelta(days=5), 10)))
    elif r < 0.028:
        events.append(Event("cease_communication", _at(today - timedelta(days=20), 10)))
    elif r < 0.030:
        events.append(Event("bankruptcy", _at(today - timedelta(days=30), 10)))
    elif r < 0.032:
        events.append(Event("breathing_space", _at(today - timedelta(days=10), 10)))
    events.sort(key=lambda e: e.at)
    return account, [e for e in events if e.at.date() < today]


def generate(n: int, seed: int = 1, today: date = date(2026, 11, 22)):
    """`n` accounts and their histories: (accounts, histories)."""
    rng = random.Random(seed)
    pairs = [generate_account(rng, i, today) for i in range(n)]
    return [a for a, _ in pairs], [h for _, h in pairs]


def load_demo(store, today: date, n: int = 500, seed: int = 7) -> int:
    """Fill an empty store with `n` generated accounts; returns how many were added (0 if
    the store already holds accounts, so real data is never mixed with demo data)."""
    if store.counts().get("accounts", 0):
        return 0
    accounts, histories = generate(n, seed, today)
    store.upsert_accounts(accounts)
    store.append_events([(a.id, e, f"demo:{a.id}:{k}") for a, h in zip(accounts, histories)
                         for k, e in enumerate(h)])
    return len(accounts)
