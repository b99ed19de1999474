"""The decision explorer: find an account, and see why it is treated as it is.

`/accounts?q=…&name=…&email=…&stage=…&status=…` finds accounts by id (prefix), debtor id or
account manager, by the start of any word of the debtor's name, by contact email, by the stage and status of their latest decision (filters combine; a
page at a time, `after` the last id shown; `accountreads.search`), and by the policy segment they
are in now (computed from the candidates' facts, a bounded number per page). `/accounts/<id>`
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
SEGMENT_CHUNK = 250         # accounts whose segments are computed at once
SEGMENT_BUDGET = 500        # accounts a search by segment reads per page, at most (~150 µs each)


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
    """Search form and results: every filter given must hold; a page of SEARCH_LIMIT at a time.
    Asked by htmx as the user types (`HX-Request`), only the results are sent."""
    from arrears.engine.store import accountreads
    from arrears.engine.store.db import read_transaction
    state = _state()
    form = {name: (request.args.get(name) or "").strip()[:200]
            for name in ("q", "name", "email", "stage", "status", "segment", "after")}
    policy = state.policies.active()
    stages = list(dict.fromkeys(a.id for a in policy.actions))
    errors = {}
    if form["segment"] and form["segment"] not in policy.segments:
        errors["segment"] = f"the active policy has no segment {form['segment']!r}"
    if form["stage"] and form["stage"] not in stages:
        errors["stage"] = f"the active policy has no stage {form['stage']!r}"
    if form["status"] and form["status"] not in accountreads.STATUSES:
        errors["status"] = f"no status {form['status']!r}: choose one from the list"
    searched = any(form[k] for k in ("q", "name", "email", "stage", "status", "segment")) and not errors
    rows, nxt = [], None
    if searched:
        filters = dict(text=form["q"] or None, name=form["name"] or None, email=form["email"] or None,
                       stage=form["stage"] or None,
                       status=form["status"] or None)
        if form["segment"]:
            rows, nxt = _in_segment(state, policy, form["segment"], filters, form["after"] or None)
        else:
            with read_transaction(state.store.engine) as conn:
                rows, nxt = accountreads.search(conn, **filters, after=form["after"] or None,
                                                limit=SEARCH_LIMIT)
    more = {k: v for k, v in form.items() if v and k != "after"}
    context = dict(form=form, q=form["q"], rows=rows, limit=SEARCH_LIMIT, searched=searched, errors=errors,
                   stages=stages, segments=list(policy.segments), statuses=accountreads.STATUSES, more=more,
                   nxt=nxt,
                   next_url=url_for("console_explorer.accounts", **more, after=nxt) if nxt else None)
    template = "_account_results.html" if request.headers.get("HX-Request") == "true" else "accounts.html"
    return render_template(template, **context), (422 if errors else 200)


def _in_segment(state, policy, segment: str, filters: dict, after: str | None):
    """(rows, next) of the accounts matching `filters` that are in the policy's `segment` now (as the
    account page decides it): segments are conditions on each account's facts, which the store does
    not keep, so the candidates are read SEGMENT_CHUNK at a time (by id) and their facts computed,
    until a page is full or SEGMENT_BUDGET candidates were read; `next` continues from there."""
    import numpy as np

    from arrears.engine.facts.compute import Facts
    from arrears.engine.store import accountreads
    from arrears.engine.store.db import read_transaction
    now = int(state.now().timestamp())
    found, read = [], 0
    while read < SEGMENT_BUDGET:
        with read_transaction(state.store.engine) as conn:
            rows, nxt = accountreads.search(conn, **filters, after=after, limit=SEGMENT_CHUNK)
        read += len(rows)
        if rows:
            nos = np.asarray(sorted(r.acct_no for r in rows), dtype=np.int64)
            member = Facts(state.store.load_batch(nos), policy, now).segment_mask(segment)
            inside = {int(n) for n, m in zip(nos.tolist(), member.tolist()) if m}
            for r in rows:
                if r.acct_no in inside:
                    found.append(r)
                    if len(found) == SEARCH_LIMIT:
                        return found, (r.id if r.id != rows[-1].id or nxt is not None else None)
        after = nxt
        if after is None:
            return found, None
    return found, after


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
    now = state.now()
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
