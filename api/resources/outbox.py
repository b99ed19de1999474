"""Delivery status: GET /v1/outbox (filtered, newest first) and GET /v1/outbox/{outbox_id}."""
from __future__ import annotations

from arrears.api import cursors
from arrears.api.openapi.model import ref
from arrears.api.problems import ApiProblem
from arrears.api.resources.common import CURSOR, INTEGRATOR, LIMIT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import outbox_item
from arrears.engine.store import outboxreads
from arrears.engine.store.db import read_transaction

resource = Resource("outbox", "Outbox", "Contacts queued for delivery, and how each delivery stands.")

TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
FILTERS = (
    Param("status", {"type": "string", "enum": list(outboxreads.STATUSES)},
          "Only rows with this status; `retrying`: pending rows that failed before and wait for their "
          "next try (`pending` includes them)."),
    Param("channel", TEXT, "Only rows on this channel (the policy's channel name)."),
    Param("account_id", TEXT, "Only this account's rows."),
)
LIST_DESCRIPTION = """\
The outbox newest first, a page at a time: every contact the tick queued, with its
delivery status. A row that failed and will be tried again is `pending` with
`retrying: true`, the failure in `last_error` and the next try in `next_attempt_at`;
a sent one carries the provider's id (`provider_id`); a failed one why (`last_error`);
an `unknown` one was being delivered when its run stopped."""


@resource.route("GET", "/v1/outbox", roles=INTEGRATOR, summary="List deliveries", operation_id="list_outbox",
                description=LIST_DESCRIPTION, query=(*FILTERS, LIMIT, CURSOR),
                responses={200: ("A page of outbox rows", ref("OutboxPage"))})
def list_outbox(call):
    """GET /v1/outbox: deliveries, newest first."""
    q = call.query
    filters = {p.name: q[p.name] for p in FILTERS}
    after = cursors.decode("outbox", filters, q["cursor"], cursors.is_int)
    with read_transaction(call.state.store.engine) as conn:
        rows = outboxreads.page(conn, after=after, limit=q["limit"], **filters)
    last = rows[-1].id if len(rows) == q["limit"] else None
    return {"items": [outbox_item(r) for r in rows], "next_cursor": cursors.encode("outbox", filters, last)}


@resource.route("GET", "/v1/outbox/{outbox_id}", roles=INTEGRATOR, summary="One delivery",
                operation_id="get_outbox",
                responses={200: ("The outbox row and its delivery status", ref("OutboxItem"))})
def get_outbox(call, outbox_id):
    """GET /v1/outbox/{outbox_id}: one delivery."""
    row = None
    if outbox_id.isascii() and outbox_id.isdigit() and len(outbox_id) < 19:
        with read_transaction(call.state.store.engine) as conn:
            row = outboxreads.get(conn, int(outbox_id))
    if row is None:
        raise ApiProblem(404, "not-found", f"no outbox row has id {outbox_id[:40]!r}")
    return outbox_item(row)
