"""Events for many accounts at once: POST /v1/events:batch, with a result per item.

Each item stands alone: it is recorded, recognised as a duplicate, or refused with
its reasons, whatever becomes of the others. All recorded items are written by the
store's one append path (`Writer.append_events`) in one transaction with one audit
entry, so a request is as durable as one per account, and much cheaper.

Two kinds of problems, answered differently:
- the request does not match the published schema (an item without `account_id`, an
  event with an unknown type or a malformed date, more items than the limit): a
  client bug, so the whole request is a 422 and nothing is recorded;
- an item matches the schema but breaks a rule the schema cannot state (its account
  is not stored, its amount is finer than the account's currency allows, its key or
  event id was used for a different event): that item's result is `error`, with JSON
  pointers; the other items are recorded.
"""
from __future__ import annotations

import re

from arrears.api.bodies import schema_errors
from arrears.api.inputs import parse_event
from arrears.api.openapi.model import ref
from arrears.api.problems import from_input_error, invalid
from arrears.api.resources.common import INTEGRATOR
from arrears.api.resources.events import resource
from arrears.engine.domain.errors import InputError
from arrears.engine.store import accountreads

DESCRIPTION = """\
Records events for any stored accounts in one request and one transaction, and answers
with one result per item, in input order: `stored` (with its `seq`), `duplicate` (its
`idempotency_key`, or without one its event `id`, was recorded for that account before,
or earlier in this request: nothing new is recorded) or `error` (with `errors`, each a
JSON pointer into the request and what is wrong).

**All-or-nothing per item, not per request**: an item whose account is not stored, whose
amount is finer than the account's currency allows, or whose key or event id was used
before for a different event is an `error`; the other items are still recorded. A body
that does not match this schema (a missing `account_id`, an event the `Event` schema
refuses, more than the limit of items) is a 422 for the whole request, and nothing is
recorded. A retry of the same request is safe when each item has a key or an event id:
what was recorded answers `duplicate`. Items with neither are recorded again.

At most `api.max_bulk_events` items (the `maxItems` of `items`); a bigger request is a
422 that names the limit, a bigger body than `api.max_body_bytes` a 413."""


ITEM_KEYS = frozenset(("account_id", "event", "idempotency_key"))
_TEXT = re.compile(r"\S")


def _text(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 200


def fast_envelope(body, settings) -> bool:
    """True if `body` surely matches `BulkEventsRequest` with events loosened to objects (the
    envelope validator's view): a plain loop, about 30 times faster than jsonschema on 5000
    items. Anything else (False) goes through jsonschema, which words the errors."""
    items = body.get("items") if isinstance(body, dict) and body.keys() == {"items"} else None
    if not isinstance(items, list) or not 1 <= len(items) <= settings.max_bulk_events:
        return False
    for item in items:
        if not (type(item) is dict and item.keys() <= ITEM_KEYS and type(item.get("event")) is dict
                and _text(item.get("account_id")) and _TEXT.search(item["account_id"])
                and ("idempotency_key" not in item or _text(item["idempotency_key"]))):
            return False
    return True


def _error(i: int, where: str, detail: str) -> dict:
    return {"status": "error", "errors": [{"pointer": f"/items/{i}{where}", "detail": detail}]}


@resource.route("POST", "/v1/events:batch", roles=INTEGRATOR, summary="Record events for many accounts",
                operation_id="post_bulk_events", description=DESCRIPTION,
                body=((None, "BulkEventsRequest"),), fast_body=fast_envelope,
                responses={200: ("A result per item (some may be errors)", ref("BulkEventsResult"))})
def post_bulk_events(call):
    """POST /v1/events:batch: record events for many accounts, a result per item."""
    items = call.body["items"]
    results: list = [None] * len(items)
    wanted, refused = [], []              # (index, account id, Event, key); schema errors
    with call.state.store.transaction() as w:
        known = w.accounts_info({item["account_id"] for item in items})
        for i, item in enumerate(items):
            found = known.get(item["account_id"])
            try:
                event = parse_event(item["event"], found[1] if found else None, "")
            except InputError as exc:
                bad = schema_errors(call.state.event_validator, item["event"])
                if bad:
                    refused += [{**e, "pointer": f"/items/{i}/event{e['pointer']}"} for e in bad]
                else:
                    where = f"/items/{i}/event"
                    results[i] = {"status": "error", "errors": [from_input_error(exc, where).errors[0]]}
                continue
            if found is None:
                results[i] = _error(i, "/account_id", "no account with this id is stored")
                continue
            wanted.append((i, item["account_id"], event, item.get("idempotency_key")))
        if refused:
            raise invalid(refused)
        report = w.append_events([(aid, ev, key) for _, aid, ev, key in wanted]) if wanted else None
        seqs = []
        if report is not None and report.audit_seq is not None:
            seqs = accountreads.seqs_recorded(w.conn, {known[aid][0] for _, aid, _, _ in wanted},
                                              report.audit_seq)
    _fill(results, wanted, report, iter(seqs))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("stored", "duplicate", "error")}
    return {"stored": counts["stored"], "duplicates": counts["duplicate"], "errors": counts["error"],
            "audit_seq": report.audit_seq if report is not None else None, "results": results}


def _fill(results: list, wanted: list, report, seqs) -> None:
    """Results of the items handed to the store: stored (with seq), duplicate, or a conflict."""
    if report is None:
        return
    duplicates, differing = set(report.duplicates), set(report.differing)
    for j, (i, _, event, key) in enumerate(wanted):
        if j in differing:
            where = "/idempotency_key" if key is not None else "/event/id"
            results[i] = _error(i, where, "already used for a different event of this account; use a new "
                                          "key (or event id)")
        elif j in duplicates:
            results[i] = {"status": "duplicate"}
        else:
            results[i] = {"status": "stored", "seq": next(seqs)}
