"""The decision explorer: find an account, and see why it is treated as it is.

`/accounts?q=…` finds accounts by id (prefix), debtor id or account manager. `/accounts/<id>`
shows the account as the engine sees it now under the active policy: balance, invoices and
aging, the decision in plain words with its reasons, priority factors, every stage with why
or why not, holds with their end, offers, and the history of events. Every role may read it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, redirect, render_template, request, url_for

from arrears.console.session import html_errors, require
from arrears.engine.domain.clock import from_epoch

blueprint = Blueprint("console_explorer", __name__, template_folder="templates")
SEARCH_LIMIT = 50


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


@blueprint.app_template_filter("instant")
def _instant(epoch) -> str:
    """Epoch seconds (or an aware datetime) as `2026-11-24 10:00 UTC`; empty for None."""
    if epoch is None:
        return ""
    when = epoch if isinstance(epoch, datetime) else from_epoch(int(epoch))
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@blueprint.route("/")
def home():
    """The console's front door: the accounts page (which asks for a login first)."""
    return redirect(url_for("console_explorer.accounts"))


@blueprint.route("/accounts")
@require()
def accounts():
    """Search form and results."""
    from arrears.engine.store import accountreads
    from arrears.engine.store.db import read_transaction
    q = (request.args.get("q") or "").strip()[:200]
    rows = []
    if q:
        with read_transaction(_state().store.engine) as conn:
            rows = accountreads.search(conn, q, SEARCH_LIMIT)
    return render_template("accounts.html", q=q, rows=rows, limit=SEARCH_LIMIT)


@blueprint.route("/accounts/<path:account_id>")
@require()
def account(account_id: str):
    """One account, decided now under the active policy, with everything behind the decision."""
    from arrears.engine.decisions.core import decide
    from arrears.engine.store import UnknownAccount
    state = _state()
    try:
        acct, events = state.store.get_account(account_id)
    except UnknownAccount:
        abort(404, description=f"No account {account_id!r} is stored.")
    policy = state.policies.active()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    decision = decide(acct, events, policy, now)
    steps = {"stages": [], "checks": [], "offers": [], "factors": {}, "other": []}
    for t in decision.trace:
        kind = t.step.split(" ", 1)[0]
        if kind == "stage":
            steps["stages"].append(t)
        elif kind == "check":
            steps["checks"].append(t)
        elif kind == "offer":
            steps["offers"].append(t)
        elif kind == "factor":
            steps["factors"][t.step[7:]] = t.detail
        else:
            steps["other"].append(t)
    return render_template("account.html", account=acct, events=list(reversed(events)), d=decision,
                           steps=steps, policy=policy)


html_errors(blueprint)
