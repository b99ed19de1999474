"""An account's history: POST/GET /v1/accounts/{account_id}/events."""
from __future__ import annotations

from arrears.api import cursors
from arrears.api.inputs import parse_event
from arrears.api.openapi.model import ref
from arrears.api.problems import ApiProblem, from_input_error
from arrears.api.resources.accounts import not_found
from arrears.api.resources.common import AGENT, CURSOR, INTEGRATOR, LIMIT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import stored_event
from arrears.engine.domain.errors import InputError
from arrears.engine.store import accountreads
from arrears.engine.store.codec import EVENT_COLUMNS, event_values
from arrears.engine.store.db import read_transaction

resource = Resource("events", "Events", "The append-only history of an account.")

AGENT_TYPES = ("contact_attempt", "contact_outcome", "note")    # what an agent key may record
IDEMPOTENCY_KEY = Param("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 200},
                        "Makes the request safe to retry: events already recorded under this key "
                        "are not recorded again, and the retry gets the same response. For a list "
                        "of events, event i is keyed `<key>#<i>`.")

POST_DESCRIPTION = f"""\
Records one event (the body is an `Event`) or several (`{{"events": […]}}`) in one
transaction: if any is invalid, none is recorded. Without an `Idempotency-Key`, an
event's own `id` is its key. An event `id` is unique per account whatever the header: an
event whose key or `id` was recorded before is not recorded again. A retry (same key, or
the same `id` with any key or none) answers exactly as the first request did (with
`Idempotent-Replayed: true` when nothing new was recorded); reusing a key or an `id` for
a different event is a 409. Agent keys may record only {", ".join(AGENT_TYPES)} events."""


def _check_agent(call, raw: list, single: bool) -> None:
    if call.principal.role != "agent":
        return
    for i, item in enumerate(raw):
        etype = item.get("type") if isinstance(item, dict) else None
        if etype not in AGENT_TYPES:
            where = "/type" if single else f"/events/{i}/type"
            raise ApiProblem(403, "forbidden", f"an agent key may record only {', '.join(AGENT_TYPES)} "
                             "events", [{"pointer": where, "detail": f"{etype!r} needs an integrator key"}])


@resource.route("POST", "/v1/accounts/{account_id}/events", roles=INTEGRATOR + AGENT,
                summary="Record events", description=POST_DESCRIPTION, headers=(IDEMPOTENCY_KEY,),
                body=(("events", "EventBatch"), (None, "Event")),
                response_headers={201: {"Idempotent-Replayed": {
                    "schema": {"const": "true"},
                    "description": "Present when nothing new was recorded: every event repeats one "
                                   "recorded before (a retry)."}}},
                responses={201: ("The events as recorded", ref("EventsResult")),
                           409: ("The Idempotency-Key or an event id was used for a different event",
                                 ref("Problem"))})
def post_events(call, account_id):
    """POST /v1/accounts/{account_id}/events: record events."""
    single = call.variant == "Event"
    raw = [call.body] if single else call.body["events"]
    _check_agent(call, raw, single)
    key = call.headers["Idempotency-Key"]
    with call.state.store.transaction() as w:
        found = accountreads.account_ref(w.conn, account_id)
        if found is None:
            raise not_found(account_id)
        acct_no, currency = found
        try:
            events = [parse_event(item, currency, "" if single else f"events[{i}]")
                      for i, item in enumerate(raw)]
        except InputError as exc:
            raise from_input_error(exc) from None
        keys = [None if key is None else (key if single else f"{key}#{i}") for i in range(len(events))]
        report = w.append_events([(account_id, ev, k) for ev, k in zip(events, keys)])
        rows = _rows_in_order(w.conn, acct_no, currency, events, keys, report)
    headers = {"Idempotent-Replayed": "true"} if len(report.duplicates) == len(events) else None
    return {"account_id": account_id, "events": [stored_event(r, currency) for r in rows]}, 201, headers


def _rows_in_order(conn, acct_no, currency, events, keys, report) -> list:
    """The stored row of every input event, in input order; 409 if a key or an event id
    was used before for a different event."""
    fresh = iter(accountreads.events_recorded(conn, acct_no, report.audit_seq) if report.audit_seq else [])
    dup = set(report.duplicates)
    effective = [k if k is not None else ev.id for ev, k in zip(events, keys)]
    by_key = accountreads.events_by_key(conn, acct_no, [effective[i] for i in dup if effective[i] is not None])
    by_id = accountreads.events_by_id(conn, acct_no, [events[i].id for i in dup if events[i].id is not None])
    out = []
    for i, ev in enumerate(events):
        if i not in dup:
            out.append(next(fresh))
            continue
        # A duplicate repeats the event stored under its key or, failing that, its id.
        row, name = by_key.get(effective[i]), "key"
        if row is None:
            row, name = by_id[ev.id], "id"
        what = f"the key {effective[i][:200]!r}" if name == "key" else f"the event id {ev.id[:200]!r}"
        if i in report.differing:
            where = "/" if len(events) == 1 else f"/events/{i}"
            raise ApiProblem(409, "conflict", f"{what} was already used for a different event; use a new "
                             "Idempotency-Key (or event id)",
                             [{"pointer": where.rstrip("/"), "detail": "differs from the event recorded "
                               f"under this {name} (seq {row.seq})"}])
        out.append(row)
    return out


@resource.route("GET", "/v1/accounts/{account_id}/events", roles=INTEGRATOR, summary="Read the history",
                description="The account's events in history order (time, then arrival).",
                query=(LIMIT, CURSOR), responses={200: ("A page of events", ref("EventPage"))})
def get_events(call, account_id):
    """GET /v1/accounts/{account_id}/events: read the history."""
    q = call.query
    filters = {"account_id": account_id}
    after = cursors.decode("events", filters, q["cursor"], cursors.int_pair)
    with read_transaction(call.state.store.engine) as conn:
        found = accountreads.account_ref(conn, account_id)
        if found is None:
            raise not_found(account_id)
        acct_no, currency = found
        rows = accountreads.events_page(conn, acct_no, after, q["limit"])
    last = [rows[-1].at, rows[-1].seq] if len(rows) == q["limit"] else None
    return {"items": [stored_event(r, currency) for r in rows],
            "next_cursor": cursors.encode("events", filters, last)}
