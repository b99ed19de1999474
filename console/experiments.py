"""Champion/challenger experiments (`/experiments`): the experiments with their status, one
experiment's results, and starting, stopping, resuming (one the tick paused) and promoting
(compliance; managers read).

The results are the engine's (`arrears.engine.experiments.results.experiment_results`: per-strategy
KPIs, each challenger's difference with its 95% interval and p-value, the sample-ratio check,
guardrail alarms and the verdict), shown as the HTML report words them
(`arrears.engine.report.html.experiment_view`). They read every account, so they are not
computed per request: `refresh` keeps them as a snapshot (`experiment:NAME`, the JSON of
`Results.to_dict()`), which `arrears serve` runs after each tick that ran and at least every
`console.dashboard_minutes` (`ExperimentsJob`) for the running experiment and any ended one whose
kept results predate its end; **Compute now** on the page does it on request.

Promoting goes through maker-checker: one compliance user proposes promoting a challenger
(`lifecycle.propose_promotion`: a pending proposal of its policy version in
`engine/store/proposals.py`, naming the experiment); a different compliance user or admin
approves it (`proposals.approve`), which ends the experiment as promoted and activates the
version in one transaction. Start, stop, resume, proposal, approval and withdrawal are audited with the user.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from arrears.console.session import current_user, html_errors, may, require
from arrears.console.workbench import approve_proposal
from arrears.engine.domain.errors import InputError, PolicyError, PolicyTampered
from arrears.engine.experiments import CHAMPION, lifecycle
from arrears.engine.store import proposals
from arrears.engine.store.db import read_transaction

log = logging.getLogger("arrears.console")
blueprint = Blueprint("console_experiments", __name__, template_folder="templates", url_prefix="/experiments")
EDITORS = ("compliance",)                 # admin may do everything too
READERS = ("compliance", "manager")
MAX_TEXT = 64 * 1024                      # characters of experiment file accepted
UPLOAD = "<experiment>"                   # the name problems are reported against


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def snapshot_name(name: str) -> str:
    """The snapshot an experiment's results are kept under."""
    return f"experiment:{name}"


def stale(store) -> list[str]:
    """The experiments whose kept results should be computed again: the running one, and each
    ended one never computed or computed before it ended."""
    out = []
    for row in store.experiments.listing():
        kept = store.snapshot(snapshot_name(row["name"]))
        if row["status"] == "running" or kept is None or kept["meta"].get("status") != row["status"]:
            out.append(row["name"])
    return out


def refresh(state, names=None) -> dict[str, float]:
    """Compute the results of `names` (default: `stale`) now and keep each as a snapshot;
    returns {name: seconds}. Errors propagate (the old snapshot stays)."""
    from arrears.engine.experiments.results import experiment_results
    store, took = state.store, {}
    for name in (stale(store) if names is None else names):
        started = time.perf_counter()
        now = datetime.now(UTC).replace(microsecond=0)
        results = experiment_results(store, name, now=now, costs=state.settings.kpi_costs,
                                     facts=state.policies.facts, profiles=state.policies.profiles).to_dict()
        took[name] = time.perf_counter() - started
        store.put_snapshot(snapshot_name(name), json.dumps(results), computed_at=int(now.timestamp()),
                           seconds=took[name], meta={"status": results["status"]})
        log.info("experiment %s: results computed in %.1f s", name, took[name])
    return took


class ExperimentsJob:
    """What the scheduler runs beside the ticks: `refresh`, logged, never raising."""

    def __init__(self, state):
        self.state = state

    def __call__(self) -> None:
        try:
            refresh(self.state)
        except Exception:
            log.exception("the experiments' results could not be computed; the last ones are kept")


def _pending(name: str | None = None) -> dict[str, dict]:
    """{digest: proposal} of the pending proposals promoting a challenger (of experiment `name`)."""
    with read_transaction(_state().store.engine) as conn:
        found = proposals.pending(conn)
    return {d: p for d, p in found.items() if p["experiment"] and (name is None or p["experiment"] == name)}


def _listing(status: int = 200, **context):
    store = _state().store
    source = context.pop("source", None)
    chosen = request.args.get("from")
    if source is None and chosen:
        row = store.experiments.get(chosen)
        if row is None:
            abort(404, description=f"No experiment is called {chosen!r}.")
        source = row["source"]
    return render_template("experiments.html", experiments=store.experiments.listing(), pending=_pending(),
                           editor=may(current_user(), EDITORS), source=source or "", chosen=chosen,
                           **context), status


@blueprint.route("")
@require(*READERS)
def experiments():
    """Every experiment with its status, the pending promotions, and the start form
    (`?from=NAME` fills it with a stored experiment's file)."""
    return _listing()


@blueprint.route("/start", methods=["POST"])
@require(*EDITORS)
def start():
    """Check the experiment file in the form (every problem at its line and column) and start it."""
    source = (request.form.get("source") or "").replace("\r\n", "\n")
    if len(source) > MAX_TEXT:
        abort(400, description=f"An experiment file may have at most {MAX_TEXT} characters.")
    state = _state()
    try:
        row = lifecycle.start(state.store, UPLOAD, text=source, by=current_user().username,
                              facts=state.policies.facts, profiles=state.policies.profiles)
    except PolicyError as exc:
        flash(f"The experiment file has {len(exc.problems)} problem(s); nothing was started.", "error")
        return _listing(422, source=source, problems=exc.problems)
    except (InputError, PolicyTampered) as exc:
        flash(f"Not started: {exc}.", "error")
        return _listing(409, source=source)
    refresh(state, [row["name"]])               # nobody is assigned yet: no account is read
    flash(f"Started {row['name']}: every account will be decided under its debtor's strategy from the next tick.",
          "ok")
    return redirect(url_for(".experiment", name=row["name"]), 303)


def _row(name: str) -> dict:
    row = _state().store.experiments.get(name)
    if row is None:
        abort(404, description=f"No experiment is called {name!r}.")
    return row


@blueprint.route("/<name>")
@require(*READERS)
def experiment(name: str):
    """One experiment: its kept results (KPIs per strategy, differences with 95% CIs and
    p-values, the sample-ratio check, guardrails, alarms, the verdict) and its actions."""
    from arrears.engine.experiments import load_experiment
    from arrears.engine.kpis.catalogue import BY_NAME
    from arrears.engine.report.html import experiment_view
    row = _row(name)
    spec = load_experiment(row["source"], f"<experiment {name}>")
    kept = _state().store.snapshot(snapshot_name(name))
    results = view = None
    if kept is not None:
        results = json.loads(kept.pop("body"))
        view = experiment_view(results)
    pending = _pending(name)
    return render_template("experiment.html", row=row, spec=spec, kept=kept, results=results, view=view,
                           kpis=BY_NAME, pending=pending, editor=may(current_user(), EDITORS),
                           challengers=[a.name for a in spec.arms if a.name != CHAMPION],
                           needed=spec.sample_size())


@blueprint.route("/<name>/refresh", methods=["POST"])
@require(*READERS)
def compute(name: str):
    """Compute the experiment's results now (reads every account) and keep them."""
    _row(name)
    took = refresh(_state(), [name])[name]
    flash(f"Results computed in {took:.1f} s.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


@blueprint.route("/<name>/stop", methods=["POST"])
@require(*EDITORS)
def stop(name: str):
    """Stop the running experiment: every debtor goes back to the champion (audited with the user)."""
    _row(name)
    try:
        lifecycle.stop(_state().store, name, by=current_user().username)
    except InputError as exc:
        flash(f"Not stopped: {exc}.", "error")
    else:
        flash(f"Stopped {name}: the champion decides every account from the next tick.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


@blueprint.route("/<name>/resume", methods=["POST"])
@require(*EDITORS)
def resume(name: str):
    """Resume an experiment the tick paused, once the cause is gone (refused with the reason while
    it holds; audited with the user)."""
    _row(name)
    try:
        lifecycle.resume(_state().store, name, by=current_user().username, facts=_state().policies.facts,
                         profiles=_state().policies.profiles)
    except InputError as exc:
        flash(f"Not resumed: {exc}.", "error")
    else:
        flash(f"Resumed {name}: each debtor is decided under its strategy again from the next tick.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


@blueprint.route("/<name>/propose", methods=["POST"])
@require(*EDITORS)
def propose(name: str):
    """Propose promoting a challenger; a different compliance user or admin must approve it."""
    _row(name)
    arm = request.form.get("challenger", "")
    note = (request.form.get("note") or "").strip()[:500]
    try:
        policy = lifecycle.propose_promotion(_state().store, name, arm, by=current_user().username, note=note)
    except InputError as exc:
        flash(f"Not proposed: {exc}.", "error")
        return redirect(url_for(".experiment", name=name), 303)
    flash(f"Proposed promoting {arm} ({policy['name']} {policy['version']}): another compliance user or admin "
          "must approve it.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


def _proposal_of(name: str) -> str:
    """The digest of the pending promotion of experiment `name`; 404 if there is none."""
    found = _pending(name)
    if not found:
        abort(404, description=f"Nobody has proposed promoting a challenger of {name!r}.")
    return next(iter(found))


@blueprint.route("/<name>/approve", methods=["POST"])
@require(*EDITORS)
def approve(name: str):
    """Approve another user's proposal: the experiment ends as promoted and the challenger's
    version becomes the active policy (audited with both users); every account is made due."""
    _row(name)
    proposal = approve_proposal(_proposal_of(name))
    if proposal is None:
        return redirect(url_for(".experiment", name=name), 303)
    flash(f"Approved the proposal of {proposal['by']}: {proposal['arm']} is promoted and its policy is the active "
          "policy now; every account will be decided again at the next tick.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


@blueprint.route("/<name>/withdraw", methods=["POST"])
@require(*EDITORS)
def withdraw(name: str):
    """Withdraw the pending promotion of the experiment (audited with the user)."""
    _row(name)
    digest = _proposal_of(name)
    with _state().store.transaction() as w:
        proposals.withdraw(w.conn, digest, current_user().username, w.now)
    flash("Withdrawn.", "ok")
    return redirect(url_for(".experiment", name=name), 303)


html_errors(blueprint)
