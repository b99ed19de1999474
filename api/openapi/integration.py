"""JSON Schemas of the integrators' bulk and delivery endpoints: `POST /v1/events:batch`
(`api/resources/bulkevents.py`) and `GET /v1/outbox` (`api/resources/outbox.py`)."""
from __future__ import annotations

from arrears.api.openapi.model import OPT_STR, OPT_TIME, STR, TIME, _object, nullable, ref

INT = {"type": "integer"}
OPT_INT = nullable(INT)
CURSOR = nullable({"type": "string", "description": "Pass as `cursor` for the next page; null at the end."})


def _bulk_events(settings) -> dict:
    return {
        "BulkEventItem": _object({
            "account_id": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
            "event": ref("Event"),
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 200,
                                "description": "Makes the item safe to send again: an event already "
                                               "recorded for the account under this key (or, without a "
                                               "key, under the event's own `id`) is not recorded again."}},
            ("account_id", "event"), "One event for one stored account."),
        "BulkEventsRequest": _object({"items": {"type": "array", "items": ref("BulkEventItem"), "minItems": 1,
                                                "maxItems": settings.max_bulk_events}}, ("items",),
                                     f"Events for any stored accounts: at most {settings.max_bulk_events} "
                                     "items (`api.max_bulk_events`)."),
        "BulkEventResult": _object({
            "status": {"enum": ["stored", "duplicate", "error"]},
            "seq": {**OPT_INT, "description": "The stored event's sequence number (`stored` only)."},
            "errors": {"type": "array", "items": ref("FieldError"),
                       "description": "Why the item was not recorded (`error` only), each with a JSON "
                                      "pointer into the request body (`/items/3/event/amount`)."}},
            ("status",), "What became of one item, in input order."),
        "BulkEventsResult": _object({
            "stored": INT, "duplicates": INT, "errors": INT,
            "audit_seq": {**OPT_INT, "description": "The audit entry that records the stored events "
                                                    "(null when nothing new was stored)."},
            "results": {"type": "array", "items": ref("BulkEventResult")}},
            ("stored", "duplicates", "errors", "audit_seq", "results")),
    }


def _outbox() -> dict:
    item = _object({
        "id": INT, "account_id": STR, "decision_id": OPT_INT, "stage": STR, "attempt": INT,
        "channel": {**STR, "description": "The policy's channel name (a fallback moves a contact to "
                                          "another)."},
        "status": {"enum": ["pending", "sending", "sent", "failed", "cancelled", "unknown"],
                   "description": "`pending`: waiting for `next_attempt_at`; `sending`: a delivery run "
                                  "holds it now; `sent`; `failed` (tries used up, or a permanent "
                                  "failure; `last_error` says why); `cancelled` (a re-check before "
                                  "sending found it no longer wanted); `unknown` (the run delivering "
                                  "it stopped: it may or may not have gone out; settle it with "
                                  "`arrears outbox`)."},
        "retrying": {"type": "boolean", "description": "Pending after a failed try: `last_error` is "
                                                       "the failure, `next_attempt_at` the next try."},
        "tries": INT,
        "next_attempt_at": {**OPT_TIME, "description": "When the next try is due (pending only)."},
        "last_error": {**OPT_STR, "description": "Why the last try failed, why the row waits "
                                                 "(`waiting: …`), was cancelled or is unknown."},
        "provider_id": {**OPT_STR, "description": "The channel provider's id of the message (once sent)."},
        "created_at": TIME, "updated_at": TIME, "claimed_at": OPT_TIME},
        ("id", "account_id", "decision_id", "stage", "attempt", "channel", "status", "retrying", "tries",
         "next_attempt_at", "last_error", "provider_id", "created_at", "updated_at", "claimed_at"),
        "One contact the tick queued for delivery, and how its delivery stands.")
    page = _object({"items": {"type": "array", "items": ref("OutboxItem")}, "next_cursor": CURSOR},
                   ("items", "next_cursor"))
    return {"OutboxItem": item, "OutboxPage": page}


def components(settings) -> dict:
    """The component schemas of these endpoints, with the configured limits."""
    return {**_bulk_events(settings), **_outbox()}
