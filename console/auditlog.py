"""The audit log page (admin and manager): entries newest first, searched by kind and subject,
paged by seq (keyset: `before`), and the chain's verification on request.

Verifying walks the whole chain and checks every sealed row (`Store.verify_audit`): seconds
on a big store, so it runs only when someone presses the button (a POST, with the CSRF token),
never on page load. The answer says OK or BROKEN: where the chain breaks, and each sealed row
found changed, by table, row and columns.
"""
from __future__ import annotations

import json
import time

from flask import render_template, request
from werkzeug.datastructures import MultiDict

from arrears.console.admin import blueprint
from arrears.console.session import require

PER_PAGE = 50


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def _entries(args):
    from arrears.engine.store import auditreads
    from arrears.engine.store.db import read_transaction
    kind = (args.get("kind") or "").strip()[:100] or None
    subject = (args.get("subject") or "").strip()[:200] or None
    before = args.get("before", type=int)
    store = _state().store
    acct_no = store.acct_nos([subject]).get(subject) if subject else None
    with read_transaction(store.engine) as conn:
        rows, last = auditreads.audit_newest(conn, kind=kind, subject=subject, acct_no=acct_no,
                                             before=before, limit=PER_PAGE)
    entries = [{"seq": r.seq, "at": r.at, "kind": r.kind, "subject": r.subject, "body": _shown(r.body)}
               for r in rows]
    return entries, {"kind": kind or "", "subject": subject or ""}, last


def _shown(body: str) -> str:
    """The entry's body for people: without the seal sums (long hex no one reads)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        data.pop("seals", None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)[:600]


@blueprint.route("/audit")
@require("admin", "manager")
def audit_log():
    """A page of entries, newest first."""
    entries, search, more = _entries(request.args)
    return render_template("admin_audit.html", entries=entries, search=search, more=more, result=None)


@blueprint.route("/audit/verify", methods=["POST"])
@require("admin", "manager")
def audit_verify():
    """Verify the chain and the sealed rows now, and show the answer above the newest entries."""
    started = time.perf_counter()
    result = _state().store.verify_audit()
    seconds = time.perf_counter() - started
    entries, search, more = _entries(MultiDict())
    return render_template("admin_audit.html", entries=entries, search=search, more=more,
                           result=result, seconds=seconds)
