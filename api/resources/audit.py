"""GET /v1/audit: the tamper-evident audit log, filtered by account and time."""
from __future__ import annotations

from arrears.api import cursors
from arrears.api.openapi.model import INSTANT, ref
from arrears.api.resources.accounts import not_found
from arrears.api.resources.common import COMPLIANCE, CURSOR, LIMIT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import audit_entry
from arrears.engine.store import accountreads, auditreads
from arrears.engine.store.db import read_transaction

resource = Resource("audit", "Audit", "The hash-chained audit log (compliance).")

FILTERS = (
    Param("account_id", {"type": "string", "minLength": 1, "maxLength": 200},
          "Entries about this account: its upserts, the batches that recorded its events, and "
          "entries naming it as their subject."),
    Param("since", INSTANT, "Entries at or after this instant."),
    Param("kind", {"type": "string", "minLength": 1, "maxLength": 100},
          "Only entries of this kind (`accounts.upserted`, `events.appended`, `policy.activated` …)."),
)


@resource.route("GET", "/v1/audit", roles=COMPLIANCE, summary="Read the audit log",
                operation_id="read_audit", description="Entries in chain order (oldest first), each with "
                "its hash and its predecessor's, so a reader can check the links.",
                query=(*FILTERS, LIMIT, CURSOR), responses={200: ("A page of entries", ref("AuditPage")),
                                                    404: ("No account has id `account_id`", ref("Problem"))})
def read_audit(call):
    """GET /v1/audit: read the audit log."""
    q = call.query
    filters = {"account_id": q["account_id"], "kind": q["kind"],
               "since": None if q["since"] is None else int(q["since"].timestamp())}
    after = cursors.decode("audit", filters, q["cursor"], cursors.is_int)
    with read_transaction(call.state.store.engine) as conn:
        acct_no = None
        if filters["account_id"] is not None:
            found = accountreads.account_ref(conn, filters["account_id"])
            if found is None:
                raise not_found(filters["account_id"])
            acct_no = found[0]
        rows, last = auditreads.audit_page(conn, account_id=filters["account_id"], acct_no=acct_no,
                                           since=filters["since"], kind=filters["kind"], after=after,
                                           limit=q["limit"])
    return {"items": [audit_entry(r) for r in rows], "next_cursor": cursors.encode("audit", filters, last)}
