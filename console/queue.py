"""The collectors' work queue: today's calls, highest priority first, cut to capacity; claim an
account (two agents never hold the same one), read the call script and the account, and record
what happened from the keyboard.

Claim and give back work in the queue's row: asked by htmx (`HX-Request`), they answer with the
row as it now is, without a page load; a plain form post (no JavaScript) redirects as before.

`/queue` lists the latest stored decisions whose next contact is a call due today (UTC) under the
active policy (`decisionreads.due_contacts`, as `GET /v1/work-queue` reads them), at most the
capacity of `api.work_queue_capacity` for calls, with who holds each. An empty queue says why
when a tick explains it: none has run yet, or one is running now (the queue fills as it ends). `/queue/<id>` claims the
account for 30 minutes and shows the work page; `POST /queue/<id>/outcome` records the outcome as
events through the store's one validated, idempotent, audited path (`Store.transaction`,
`append_events`), ends the claim, and asks for a tick so the account is decided again at once (it
leaves the queue until then, and comes back only if a call is still due).

Outcomes: right-party contact, no answer, wrong number, promise to pay (date, amount), dispute
(invoice, amount, reason), hardship, cease request, payment plan (instalments). Each is a
`contact_outcome` event on the call (with the stage), and for what the debtor said, the event
that says it (`promise_to_pay`, `dispute_opened`, `hardship`, `cease_communication`,
`payment_plan`). The form carries a one-time key: sending it twice records it once.
"""
from __future__ import annotations

import secrets
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for

from arrears.console.session import current_user, html_errors, require

blueprint = Blueprint("console_queue", __name__, template_folder="templates")
CLAIM_SECONDS = 30 * 60
AGENTS = ("agent",)                     # and admin, who may do everything
OUTCOMES = {
    "right_party": "Right-party contact",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "promise": "Promise to pay",
    "dispute": "Dispute",
    "hardship": "Hardship",
    "cease": "Cease request",
    "plan": "Payment plan",
}
# What the call itself came to, per outcome (a contact_outcome on the call).
CALL_RESULT = {"no_answer": "no_answer", "wrong_number": "wrong_party"}


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def _now() -> int:
    return int(time.time())


def _launch_tick() -> str:
    """Ask for a tick now (the scheduler's when `arrears serve` runs one, else this app's own);
    what happened, in words."""
    from flask import current_app

    from arrears.engine.domain.errors import ArrearsError
    try:
        run_id = _state().launcher(current_app).launch(_state().now(), trigger="console")
    except ArrearsError:
        return "a tick is running: it, or the next one, decides the account again"
    return f"tick run {run_id} decides it again now"


@blueprint.route("/queue")
@require(*AGENTS, "manager")
def queue():
    """Today's calls, highest priority first, with who holds each."""
    from arrears.engine.store import claims, decisionreads, tickruns
    from arrears.engine.store.db import read_transaction
    state = _state()
    policy = state.policies.active()
    capacity = int(state.settings.work_queue_capacity.get("call", 0))
    today = state.now().date()
    before = int(datetime.combine(today + timedelta(days=1), datetime.min.time(), timezone.utc).timestamp())
    names = [name for name, kind in policy.channels.items() if kind == "call"]
    now = _now()
    with read_transaction(state.store.engine) as conn:
        rows = decisionreads.due_contacts(conn, names, before, capacity, policy.digest) if capacity else []
        held = claims.holders(conn, [r.account_id for r in rows], now)
        mine = claims.held_by(conn, current_user().username, now)
        last = next(iter(tickruns.page(conn, after=None, limit=1)), None)     # why the queue may be empty
    return render_template("queue.html", rows=rows, held=held, mine=mine, capacity=capacity, today=today,
                           last_run=last, running=last is not None and last.status in tickruns.UNFINISHED,
                           started=_clock(last.started_at or last.requested_at) if last else None)


def _clock(epoch: int) -> str:
    """An epoch second as the queue shows it: `2026-12-05 18:40 UTC`."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@blueprint.route("/queue/<path:account_id>", methods=["GET", "POST"])
@require(*AGENTS)
def work(account_id: str):
    """Claim the account (POST, from the queue) and show the work page; another agent's live
    claim is refused."""
    from arrears.engine.store import claims
    state, user = _state(), current_user()
    if request.method == "POST":
        with state.store.transaction() as w:
            got = claims.claim(w.conn, account_id, user.username, w.now, CLAIM_SECONDS)
        if got is None:
            message = f"{account_id} is being worked by another agent (or does not exist)."
            if _partial():
                return _queue_item(account_id, ("error", message), 409)
            flash(message, "error")
            return redirect(url_for("console_queue.queue"))
        if _partial():
            return _queue_item(account_id, ("ok", "Claimed: yours for 30 minutes."), work={})
        return redirect(url_for("console_queue.work", account_id=account_id))
    from arrears.engine.store.db import read_transaction
    with read_transaction(state.store.engine) as conn:
        held = claims.holders(conn, [account_id], _now()).get(account_id)
    if held is None or held.username != user.username:
        flash(f"Claim {account_id} from the queue first.", "error")
        return redirect(url_for("console_queue.queue"))
    return _work_page(account_id, held)


def _work_context(account_id: str, held, errors: dict | None = None, form: dict | None = None) -> dict:
    """What the work on a claimed account shows (`_work_panel.html`): the account decided now, its
    call script, recent history, the outcome form (with `errors` at its fields, `form` as sent)."""
    from arrears.engine.decisions.core import decide
    state = _state()
    account, events = state.store.get_account(account_id)
    policy = state.policies.active()
    now = state.now()
    decision = decide(account, events, policy, now)
    return dict(account=account, d=decision, events=list(reversed(events))[:10], held=held,
                script=_call_script(decision, account), outcomes=OUTCOMES, errors=errors or {},
                form=form or {}, key=secrets.token_urlsafe(16), today=now.date())


def _work_page(account_id: str, held, errors: dict | None = None, form: dict | None = None,
               status: int = 200):
    return render_template("work.html", **_work_context(account_id, held, errors, form)), status


def _call_script(decision, account) -> str | None:
    """The call script of the decision's action, rendered as the call channel renders it, or
    None when the action is no call."""
    from arrears.plugins.compose import build_message
    from arrears.plugins.errors import PluginError
    from arrears.plugins.manager import get_plugin_manager
    from arrears.plugins.rendering import Renderer
    a = decision.action
    if a is None or a.channel_kind != "call":
        return None
    try:
        return Renderer(pm=get_plugin_manager()).render(build_message(decision, account)).body
    except (PluginError, ValueError) as exc:      # a broken template: say so, the page still works
        return f"(the call script could not be rendered: {exc})"


@blueprint.route("/queue/<path:account_id>/release", methods=["POST"])
@require(*AGENTS)
def release(account_id: str):
    """Give the account back to the queue without an outcome."""
    from arrears.engine.store import claims
    with _state().store.transaction() as w:
        claims.release(w.conn, account_id, current_user().username, w.now, "given back")
    if _partial():
        return _queue_item(account_id, ("ok", "Back in the queue."))
    flash(f"{account_id} is back in the queue.", "ok")
    return redirect(url_for("console_queue.queue"))


def _partial() -> bool:
    """The request comes from htmx on the queue page: answer with the row, not a redirect."""
    return request.headers.get("HX-Request") == "true"


def _queue_item(account_id: str, note: tuple[str, str], status: int = 200, *, work: dict | None = None,
                done: bool = False):
    """The queue's rows of `account_id` as they are now (its latest decision, who holds it) with
    `note` said in them: what htmx swaps in after a claim, a give-back or an outcome. `work`: show
    the work on it below (the outcome form; `errors` and `form` as `_work_context` takes them);
    `done`: an outcome was just recorded (it leaves the queue once decided again). The "You hold"
    line comes with it, swapped out of band (`_queue_mine.html`)."""
    from arrears.engine.store import claims, decisionreads
    from arrears.engine.store.db import read_transaction
    with read_transaction(_state().store.engine) as conn:
        rows, _ = decisionreads.decisions_page(conn, filters={"account_id": account_id}, sort="evaluated_at",
                                               after=None, limit=1)
        held = claims.holders(conn, [account_id], _now())
        mine = claims.held_by(conn, current_user().username, _now())
    context = dict(r=rows[0] if rows else None, account_id=account_id, held=held, note=note, done=done)
    if work is not None and account_id in held:
        context["work"] = _work_context(account_id, held[account_id], work.get("errors"), work.get("form"))
    return (render_template("_queue_row.html", **context)
            + render_template("_queue_mine.html", mine=mine, oob=True)), status


@blueprint.route("/queue/<path:account_id>/outcome", methods=["POST"])
@require(*AGENTS)
def outcome(account_id: str):
    """Record the outcome as events, end the claim, and have the account decided again."""
    from arrears.engine.domain.errors import InputError
    from arrears.engine.domain.model import Event
    from arrears.engine.store import claims
    from arrears.engine.store.db import read_transaction
    state, user = _state(), current_user()
    with read_transaction(state.store.engine) as conn:
        held = claims.holders(conn, [account_id], _now()).get(account_id)
    if held is None or held.username != user.username:
        message = f"Your claim on {account_id} has ended: claim it again from the queue."
        if _partial():
            return _queue_item(account_id, ("error", message), 409)
        flash(message, "error")
        return redirect(url_for("console_queue.queue"))
    form = request.form.to_dict()
    kind = form.get("outcome")
    account, _ = state.store.get_account(account_id)
    stage = form.get("stage") or None
    try:
        raw = _events_of(kind, form, stage)
        events = [Event.from_dict(e, where=f"outcome.{i}") for i, e in enumerate(raw)]
    except InputError as exc:
        field = exc.where.rsplit(".", 1)[-1] if exc.where else "outcome"
        errors = {field: str(exc).split(": ", 1)[-1]}
        if _partial():
            return _queue_item(account_id, ("error", "Nothing was recorded: correct the field marked."), 422,
                               work={"errors": errors, "form": form})
        return _work_page(account_id, held, errors=errors, form=form, status=422)
    key = form.get("key") or secrets.token_urlsafe(16)
    with state.store.transaction() as w:
        report = w.append_events([(account_id, ev, f"console:{key}#{i}") for i, ev in enumerate(events)])
        w.audit("console.outcome", account_id, {"by": user.username, "outcome": kind,
                                                "events": len(events) - len(report.duplicates)})
        claims.release(w.conn, account_id, user.username, w.now, f"outcome {kind}")
    message = f"{OUTCOMES[kind]} recorded for {account_id}; {_launch_tick()}."
    if _partial():
        return _queue_item(account_id, ("ok", message), done=True)
    flash(message, "ok")
    return redirect(url_for("console_queue.queue"))


def _money(text: str | None, field: str) -> str:
    from arrears.engine.domain.errors import InputError
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise InputError("enter an amount such as 250.00", field) from None
    if value <= 0:
        raise InputError("enter an amount above zero", field)
    return str(value)


def _events_of(kind: str | None, form: dict, stage: str | None) -> list[dict]:
    """The events an outcome is recorded as (InputError naming the form field that is wrong)."""
    from arrears.engine.domain.errors import InputError
    if kind not in OUTCOMES:
        raise InputError("choose an outcome", "outcome")
    at = _state().now().isoformat()
    note = (form.get("note") or "").strip() or None
    call = {"type": "contact_outcome", "at": at, "channel": "call", "stage": stage,
            "outcome": CALL_RESULT.get(kind, "conversation"), "note": note}
    said = []
    if kind == "promise":
        said.append({"type": "promise_to_pay", "at": at, "amount": _money(form.get("amount"), "amount"),
                     "until": _day(form.get("until"), "until")})
    elif kind == "dispute":
        entry = {"type": "dispute_opened", "at": at, "note": (form.get("reason") or "").strip() or None}
        if form.get("invoice_id"):
            entry["invoice_id"] = form["invoice_id"]
        if (form.get("amount") or "").strip():
            entry["amount"] = _money(form.get("amount"), "amount")
        if not entry["note"]:
            raise InputError("say why the debtor disputes", "reason")
        said.append(entry)
    elif kind == "hardship":
        said.append({"type": "hardship", "at": at})
    elif kind == "cease":
        said.append({"type": "cease_communication", "at": at})
    elif kind == "plan":
        said.append({"type": "payment_plan", "at": at, "instalments": _instalments(form)})
    return [{k: v for k, v in e.items() if v is not None} for e in [call, *said]]


def _day(text: str | None, field: str) -> str:
    from arrears.engine.domain.errors import InputError
    try:
        return date.fromisoformat((text or "").strip()).isoformat()
    except ValueError:
        raise InputError("enter a date such as 2026-12-31", field) from None


def _instalments(form: dict) -> list[dict]:
    """`count` monthly instalments of `amount` from `first`, on the same day of each month (the
    month's last day when it is shorter: 31 January, 28 February, 31 March)."""
    import calendar
    from arrears.engine.domain.errors import InputError
    try:
        count = int(form.get("count") or "")
    except ValueError:
        raise InputError("enter how many instalments (1 to 60)", "count") from None
    if not 1 <= count <= 60:
        raise InputError("enter how many instalments (1 to 60)", "count")
    amount = _money(form.get("amount"), "amount")
    first = date.fromisoformat(_day(form.get("first"), "first"))
    out = []
    for i in range(count):
        month = first.month - 1 + i
        year, month = first.year + month // 12, month % 12 + 1
        day = min(first.day, calendar.monthrange(year, month)[1])
        out.append({"due_date": date(year, month, day).isoformat(), "amount": amount})
    return out


html_errors(blueprint)
