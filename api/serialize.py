"""Engine values and store rows as the API's JSON: money as decimal strings, times as RFC 3339.

Accounts and events come out in the shape `Account.from_dict` / `Event.from_dict`
take in, so what a client reads it can send back unchanged.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.money import from_minor
from arrears.engine.store.codec import event_from_row


def time_of(epoch) -> str | None:
    """Epoch seconds as RFC 3339 UTC (None stays None)."""
    return None if epoch is None else rfc3339(datetime.fromtimestamp(int(epoch), timezone.utc))


def account_to_dict(acc) -> dict:
    """An `Account` in its JSON input form (every field present; absent values null)."""
    c = acc.contact
    return {
        "id": acc.id, "currency": acc.currency, "debtor_type": acc.debtor_type,
        "jurisdiction": acc.jurisdiction, "timezone": acc.timezone, "language": acc.language,
        "tags": sorted(acc.tags), "risk_score": acc.risk_score, "on_time_ratio": acc.on_time_ratio,
        "relationship_tier": acc.relationship_tier, "account_manager": acc.account_manager,
        "debtor_id": acc.debtor_id, "other_timezones": list(acc.other_timezones),
        "contact": {"name": c.name, "email": c.email, "phone": c.phone, "mobile": c.mobile,
                    "address": c.address,
                    "preferred_channels": list(c.preferred_channels)},
        "invoices": [{"id": inv.id, "amount": str(inv.amount), "due_date": inv.due_date.isoformat(),
                      "issued_date": None if inv.issued_date is None else inv.issued_date.isoformat()}
                     for inv in acc.invoices],
    }


def state_to_dict(row) -> dict:
    """An `accounts` row's bookkeeping."""
    return {"revision": row.revision, "created_at": time_of(row.created_at),
            "updated_at": time_of(row.updated_at), "changed_at": time_of(row.changed_at),
            "next_evaluation_at": time_of(row.next_evaluation_at),
            "last_evaluated_at": time_of(row.last_evaluated_at)}


def event_to_dict(ev) -> dict:
    """An `Event` in its JSON input form."""
    return {"type": ev.type, "at": rfc3339(ev.at), "id": ev.id,
            "amount": None if ev.amount is None else str(ev.amount), "invoice_id": ev.invoice_id,
            "channel": ev.channel, "stage": ev.stage, "outcome": ev.outcome,
            "until": None if ev.until is None else ev.until.isoformat(),
            "instalments": [{"due_date": due.isoformat(), "amount": str(amount)}
                            for due, amount in ev.instalments],
            "note": ev.note,
            "representative": None if ev.representative is None else ev.representative.to_dict(),
            "wishes": None if ev.wishes is None else ev.wishes.to_dict()}


def stored_event(row, currency: str) -> dict:
    """An `events` row: the event plus `seq`, `event_key` and `recorded_at`."""
    out = event_to_dict(event_from_row(row, currency))
    out.update(seq=row.seq, event_key=row.event_key, recorded_at=time_of(row.recorded_at))
    return out


def _money(minor, currency) -> dict | None:
    if minor is None or currency is None:
        return None
    return {"amount": str(from_minor(int(minor), currency)), "currency": currency}


def decision_summary(row, active=None) -> dict:
    """A `decisions` row joined with its account id and its policy's name and version, with
    the tick's JSON summary unpacked; `stale` when it was made under a policy other than
    `active` (the active `policy_versions` row, or None when none is active).

    The tick stores a compact summary (format `summary/1`); fields it lacks are null.
    """
    try:
        body = json.loads(row.body)
    except (TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    priority = body.get("priority")
    if isinstance(priority, dict):          # a full Decision.to_dict body
        priority = priority.get("score")
    supp = body.get("suppressions") or []
    dpd = body.get("days_past_due")
    return {
        "id": row.id, "account_id": row.account_id, "evaluated_at": time_of(row.evaluated_at),
        "policy_digest": row.policy_digest, "stage": row.stage, "action": row.action_type,
        "channel": row.channel, "attempt": row.attempt, "not_before": time_of(row.not_before),
        "next_evaluation_at": time_of(row.next_evaluation_at),
        "priority": float(priority) if isinstance(priority, (int, float)) else None,
        "bucket": body.get("bucket") if isinstance(body.get("bucket"), str) else None,
        "days_past_due": dpd if isinstance(dpd, int) and not isinstance(dpd, bool) else None,
        "balance": _money(body.get("balance_minor"), body.get("currency")),
        "reason": body.get("reason") if isinstance(body.get("reason"), str) else None,
        "suppressions": [s if isinstance(s, str) else s.get("rule", "") for s in supp
                         if isinstance(s, (str, dict))],
        **_staleness(row, active),
    }


def _staleness(row, active) -> dict:
    """The decision's policy, and whether it is stale: a later activation, or a change of the
    account since the tick decided (revision beyond the one it evaluated), left it behind."""
    name, version = getattr(row, "policy_name", None), getattr(row, "policy_version", None)
    mine = {"digest": row.policy_digest, "name": name, "version": version,
            "active": active is not None and active.digest == row.policy_digest}
    reasons = []
    if active is not None and not mine["active"]:
        made = f"{name} {version} ({row.policy_digest})" if name else row.policy_digest
        reasons.append(f"decided under policy {made}; {active.name} {active.version} ({active.digest}) "
                       f"has been active since {time_of(active.activated_at)}")
    revision = getattr(row, "account_revision", None)
    evaluated = getattr(row, "account_evaluated_revision", None)
    if revision is not None and evaluated is not None and revision != evaluated:
        reasons.append(f"the account changed at {time_of(row.account_changed_at)} (new events or an "
                       f"upsert), after the tick last decided it")
    if not reasons:
        return {"policy": mine, "stale": False, "stale_reason": None}
    return {"policy": mine, "stale": True,
            "stale_reason": "; ".join(reasons) + "; the next tick decides this account again"}


def audit_entry(row) -> dict:
    """An `audit` row with its body parsed."""
    return {"seq": row.seq, "at": time_of(row.at), "kind": row.kind, "subject": row.subject,
            "body": json.loads(row.body), "prev_hash": row.prev_hash, "hash": row.hash}


def tick_run(row) -> dict:
    """A `tick_runs` row, its summary parsed."""
    return {"id": row.id, "trigger": row.trigger, "status": row.status, "at": time_of(row.at),
            "requested_at": time_of(row.requested_at), "started_at": time_of(row.started_at),
            "finished_at": time_of(row.finished_at), "holder": row.holder, "dispatch": bool(row.dispatch),
            "summary": None if row.summary is None else json.loads(row.summary), "error": row.error}


def policy_version(row, source: bool = False) -> dict:
    """A `policy_versions` row (its YAML `source` too if asked)."""
    out = {"name": row.name, "version": row.version, "digest": row.digest, "active": bool(row.active),
           "created_at": time_of(row.created_at), "activated_at": time_of(row.activated_at)}
    if source:
        out["source"] = row.source
    return out


def outbox_item(row) -> dict:
    """An outbox row (`outboxreads`) as the API shows it: `retrying` for a pending row tried
    before; `next_attempt_at` only while pending (when the next try is due)."""
    pending = row.status == "pending"
    return {"id": row.id, "account_id": row.account_id, "decision_id": row.decision_id, "stage": row.stage,
            "attempt": row.attempt, "channel": row.channel, "status": row.status,
            "retrying": pending and row.tries > 0, "tries": row.tries,
            "next_attempt_at": time_of(row.next_attempt_at) if pending else None,
            "last_error": row.last_error, "provider_id": row.provider_id,
            "created_at": time_of(row.created_at), "updated_at": time_of(row.updated_at),
            "claimed_at": time_of(row.claimed_at)}
