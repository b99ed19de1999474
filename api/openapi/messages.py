"""JSON Schemas of the API's own requests and responses (the envelopes around engine values).

`components(settings)` returns every component schema, with the configured limits
(batch sizes, page sizes) written into them, so the document states what this
server accepts.
"""
from __future__ import annotations

from arrears.api.openapi import experiments, goals, integration, kpis, simulation
from arrears.api.openapi.model import (
    COMPONENTS,
    DIGEST,
    INSTANT,
    OPT_STR,
    OPT_TIME,
    STR,
    TIME,
    _object,
    nullable,
    ref,
)
from arrears.engine.store.tickruns import STATUSES, TRIGGERS

INT = {"type": "integer"}
OPT_INT = nullable(INT)
CURSOR = nullable({"type": "string", "description": "Pass as `cursor` for the next page; null at the end."})
CANDIDATE = {"type": "string", "minLength": 1,
             "description": "A candidate policy document (YAML text, as `POST /v1/policies` takes it), "
                            "to decide under without storing or activating it. Compliance and admin keys "
                            "only; not with `policy`. Problems are reported with their line and column in "
                            "this text."}


NOT_BOTH = {"not": {"required": ["policy", "candidate"]}}     # either `policy` or `candidate`, not both


def page(item: str) -> dict:
    """A page of a list: items and the cursor of the next page."""
    return _object({"items": {"type": "array", "items": ref(item)}, "next_cursor": CURSOR},
                   ("items", "next_cursor"))


def _problem() -> dict:
    error = _object({"pointer": STR, "parameter": STR, "header": STR, "detail": STR,
                     "line": INT, "column": INT}, ("detail",),
                    "One field error: where (a JSON pointer into the body, a query parameter or a "
                    "header) and what is wrong.")
    problem = _object({"type": STR, "title": STR, "status": INT, "detail": STR,
                       "errors": {"type": "array", "items": ref("FieldError")}},
                      ("type", "title", "status", "detail"), "An RFC 9457 problem document.")
    return {"Problem": problem, "FieldError": error}


def _decide(settings) -> dict:
    item = _object({"account": ref("Account"), "events": {"type": "array", "items": ref("Event")}},
                   ("account",))
    return {
        "DecideRequest": _object({"account": ref("Account"),
                                  "events": {"type": "array", "items": ref("Event")},
                                  "at": INSTANT, "policy": DIGEST, "candidate": CANDIDATE}, ("account",),
                                 "Decide for one account. `at` defaults to now; `policy` (a stored "
                                 "version's digest) or `candidate` (policy YAML) to the active policy.")
        | NOT_BOTH,
        "DecideItem": item,
        "DecideBatchRequest": _object({"items": {"type": "array", "items": ref("DecideItem"), "minItems": 1,
                                                 "maxItems": settings.max_batch_items},
                                       "at": INSTANT, "policy": DIGEST, "candidate": CANDIDATE}, ("items",),
                                      "Decide for several accounts at one moment, in one evaluation.")
        | NOT_BOTH,
        "DecideBatchResponse": _object({"decisions": {"type": "array", "items": ref("Decision")}},
                                       ("decisions",)),
    }


def _accounts(settings) -> dict:
    state = _object({"revision": INT, "created_at": TIME, "updated_at": TIME, "changed_at": TIME,
                     "next_evaluation_at": OPT_TIME, "last_evaluated_at": OPT_TIME},
                    ("revision", "created_at", "updated_at", "changed_at", "next_evaluation_at",
                     "last_evaluated_at"),
                    "Bookkeeping: `next_evaluation_at` null means due for evaluation now.")
    # An Event with its bookkeeping. Event is a closed object, so the union is spelled out.
    stored = dict(COMPONENTS["Event"])
    # `at` as stored: in UTC, so an offset given on the way in may have moved it across a year.
    stored["properties"] = {**stored["properties"], "at": TIME, "seq": INT, "event_key": OPT_STR,
                            "recorded_at": TIME}
    stored["required"] = [*stored["required"], "seq", "event_key", "recorded_at"]
    stored["description"] = "An event as stored, with its sequence number and idempotency key."
    return {
        "AccountResource": _object({"account": ref("Account"), "state": ref("AccountState")},
                                   ("account", "state")),
        "AccountState": state,
        "AccountResourceInput": _object(
            {"account": ref("AccountAtPath"),
             "state": {"type": "object", "description": "Read-only bookkeeping, as `GET` shows it: "
                                                        "ignored, so a read account can be sent back."}},
            ("account",), "An account in the shape `GET /v1/accounts/{account_id}` answers with."),
        "AccountsBatchRequest": _object({"accounts": {"type": "array", "items": ref("Account"),
                                                      "minItems": 1,
                                                      "maxItems": settings.max_batch_accounts}},
                                        ("accounts",)),
        "UpsertResult": _object({"inserted": INT, "updated": INT, "unchanged": INT, "invoices": INT,
                                 "audit_seq": OPT_INT},
                                ("inserted", "updated", "unchanged", "invoices", "audit_seq")),
        "EventBatch": _object({"events": {"type": "array", "items": ref("Event"), "minItems": 1,
                                          "maxItems": settings.max_batch_events}}, ("events",)),
        "StoredEvent": stored,
        "EventsResult": _object({"account_id": STR, "events": {"type": "array", "items": ref("StoredEvent")}},
                                ("account_id", "events")),
        "EventPage": page("StoredEvent"),
    }


def _decisions() -> dict:
    summary = _object({
        "id": INT, "account_id": STR, "evaluated_at": TIME, "policy_digest": STR, "stage": OPT_STR,
        "action": OPT_STR, "channel": OPT_STR, "attempt": OPT_INT, "not_before": OPT_TIME,
        "next_evaluation_at": OPT_TIME, "priority": nullable({"type": "number"}), "bucket": OPT_STR,
        "days_past_due": OPT_INT, "balance": nullable(ref("Money")), "reason": OPT_STR,
        "suppressions": {"type": "array", "items": STR},
        "policy": _object({"digest": STR, "name": OPT_STR, "version": OPT_STR, "active": {"type": "boolean"}},
                          ("digest", "name", "version", "active"),
                          "The policy version the decision was made under (name and version null "
                          "if that version is not stored), and whether it is the active one."),
        "stale": {"type": "boolean"}, "stale_reason": OPT_STR},
        ("id", "account_id", "evaluated_at", "policy_digest", "stage", "action", "channel", "attempt",
         "not_before", "next_evaluation_at", "priority", "bucket", "days_past_due", "balance", "reason",
         "suppressions", "policy", "stale", "stale_reason"),
        "An account's latest stored decision, as the scheduled tick recorded it. `stale`: it was made "
        "under a policy other than the active one (activated since), or before the account last "
        "changed (events recorded or an upsert since); `stale_reason` says which. The next tick "
        "decides again.")
    work_item = _object({"account_id": STR, "priority": {"type": "number"}, "stage": STR, "action": STR,
                         "channel": STR, "attempt": INT, "not_before": TIME, "reason": OPT_STR,
                         "balance": nullable(ref("Money")), "days_past_due": OPT_INT,
                         "assignee": {**OPT_STR,
                                      "description": "The account manager who works the item (its stage "
                                                     "says `assign_to: account_manager`); null: the "
                                                     "general queue."}},
                        ("account_id", "priority", "stage", "action", "channel", "attempt", "not_before",
                         "reason", "balance", "days_past_due", "assignee"))
    queue = _object({"channel": STR, "date": {"type": "string", "format": "date"}, "capacity": INT,
                     "source": {"enum": ["tick", "computed"]}, "evaluated_at": OPT_TIME,
                     "items": {"type": "array", "items": ref("WorkItem")}},
                    ("channel", "date", "capacity", "source", "evaluated_at", "items"),
                    "Today's contacts on one channel kind, highest priority first, capped to capacity.")
    return {"DecisionSummary": summary, "DecisionPage": page("DecisionSummary"),
            "WorkItem": work_item, "WorkQueue": queue}


def _policies() -> dict:
    version = {"name": STR, "version": STR, "digest": STR, "active": {"type": "boolean"},
               "created_at": TIME, "activated_at": OPT_TIME}
    names = tuple(version)
    problem = _object({"line": INT, "column": INT, "pointer": STR, "detail": STR},
                      ("line", "column", "pointer", "detail"))
    return {
        "PolicyVersion": _object(version, names),
        "PolicySource": _object({**version, "source": {"type": "string"}}, (*names, "source")),
        "PolicyPage": page("PolicyVersion"),
        "PolicyText": {"description": "Any YAML text (UTF-8): whatever it holds, the answer is 200 with "
                                      "its problems."},
        "PolicyDocument": {"type": "object",
                           "description": "A policy document (YAML, UTF-8): a mapping of sections (metadata, "
                                          "aging, channels, escalation …) as the policy JSON Schema "
                                          "(engine/policy/schemas/policy.schema.json) and the semantic checks "
                                          "of `arrears validate` accept; anything else is 422 `invalid-policy` "
                                          "with every problem's line and column."},
        "PolicyProblem": problem,
        "PolicyWarning": _object(
            {"rule": STR, "file": STR, "line": INT, "column": INT, "pointer": STR, "subject": STR,
             "detail": STR, "silenced": {"type": "boolean"}, "reason": OPT_STR},
            ("rule", "file", "line", "column", "pointer", "subject", "detail", "silenced", "reason"),
            "A finding that does not stop the policy from loading but would make it misbehave; `rule` "
            "is its stable id (docs/policy-guide.md, \"Warnings\"). `silenced`: the policy's `silence:` "
            "list names it, `reason` saying why."),
        "ValidationResult": _object({"valid": {"type": "boolean"},
                                     "policy": nullable(_object({"name": STR, "version": STR, "digest": STR},
                                                                ("name", "version", "digest"))),
                                     "problems": {"type": "array", "items": ref("PolicyProblem")},
                                     "warnings": {"type": "array", "items": ref("PolicyWarning")}},
                                    ("valid", "policy", "problems", "warnings")),
    }


def _operations() -> dict:
    entry = _object({"seq": INT, "at": TIME, "kind": STR, "subject": STR,
                     "body": {"type": "object"}, "prev_hash": STR, "hash": STR},
                    ("seq", "at", "kind", "subject", "body", "prev_hash", "hash"))
    check = _object({"status": {"enum": ["ok", "failing"]}, "detail": OPT_STR}, ("status",), closed=False)
    health = _object({"status": {"enum": ["ok", "failing"]},
                      "checks": _object({"database": check, "policy": check}, ("database", "policy")),
                      "policy": nullable(_object({"name": STR, "version": STR, "digest": STR},
                                                 ("name", "version", "digest"))),
                      "schema_revision": OPT_STR},
                     ("status", "checks", "policy", "schema_revision"))
    return {"AuditEntry": entry, "AuditPage": page("AuditEntry"), "Health": health}


def _ticks() -> dict:
    counts = ("evaluated", "stale", "decisions_written", "actions_queued", "suppressed", "delivered", "failed",
              "retrying", "cancelled", "deferred", "unknown")
    # Open: the tick may report more than these (what a client does not know, it can ignore).
    summary = _object({"at": TIME, **{name: INT for name in counts},
                       "plugin_failures": {"type": "array", "items": {"type": "object"}},
                       "skipped_reason": OPT_STR, "duration": {"type": "number", "minimum": 0}},
                      ("at", *counts, "plugin_failures", "skipped_reason", "duration"),
                      "What one tick did (as `arrears tick --json` prints it). `skipped_reason` says "
                      "why it did not run, or why it stopped early.", closed=False)
    run = _object({"id": INT, "trigger": {"enum": list(TRIGGERS)}, "status": {"enum": list(STATUSES)},
                   "at": TIME, "requested_at": TIME, "started_at": OPT_TIME, "finished_at": OPT_TIME,
                   "holder": STR, "dispatch": {"type": "boolean"}, "summary": nullable(ref("TickSummary")),
                   "error": OPT_STR},
                  ("id", "trigger", "status", "at", "requested_at", "started_at", "finished_at", "holder",
                   "dispatch", "summary", "error"),
                  "One tick run: who started it, when, for which instant, how it ended and what it did.")
    request = _object({"at": INSTANT}, (), "Run a tick deciding as of `at` (default now).")
    return {"TickRequest": request, "TickRun": run, "TickSummary": summary, "TickRunPage": page("TickRun")}


def components(settings) -> dict:
    """Every component schema of the document, for these settings."""
    out = dict(COMPONENTS)
    for part in (_problem(), _decide(settings), _accounts(settings), _decisions(), _policies(),
                 _operations(), _ticks()):
        out.update(part)
    out.update(simulation.components())       # POST /v1/policies:simulate
    out.update(kpis.components())             # GET /v1/kpis
    out.update(goals.components())            # GET /v1/goals
    out.update(experiments.components())      # /v1/experiments
    out.update(integration.components(settings))   # POST /v1/events:batch, GET /v1/outbox
    return out
