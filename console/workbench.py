"""The policy workbench (`/policies`): compliance staff edit, check, test, simulate, propose and
approve policy versions; managers read them.

The editor (CodeMirror 6, `static/workbench.js`, built from `frontend/`) posts the text to
`/policies/check` as the user types and shows the problems and warnings at their line and column;
its completion and hover help come from the policy JSON Schema (`/policies/schema.json`).
Saving stores the text as an inactive policy version (audited) and runs the policy tests kept
beside it; the what-if simulates it against the active policy in a background job
(`whatifjobs`) whose progress and result the page polls; a proposal waits until a
different compliance user or admin approves it, which activates it (activation re-decides).
"""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for

from arrears.console import policywork
from arrears.console.security import CSP
from arrears.console.session import current_user, html_errors, may, require
from arrears.engine.domain.errors import InputError, PolicyError
from arrears.engine.store import policyvers, proposals
from arrears.engine.store.db import read_transaction

blueprint = Blueprint("console_workbench", __name__, template_folder="templates", url_prefix="/policies")
EDITORS = ("compliance",)                 # admin may do everything too
READERS = ("compliance", "manager")
MAX_TEXT = 512 * 1024                     # characters of policy or tests text accepted
VERSIONS = 100                            # versions listed


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def _versions() -> tuple[list, dict, dict | None]:
    """(the latest stored versions, the pending proposals by digest, the active version)."""
    with read_transaction(_state().store.engine) as conn:
        rows = [dict(r._mapping) for r in policyvers.page(conn, None, VERSIONS)]
        pending = proposals.pending(conn)
        active = policyvers.active(conn)
    return rows, pending, active


def _page(status: int = 200, **context):
    """The workbench page: the editor (with `source`, else the version `?from=`, else the
    active one), the tests, the versions and proposals, and any results in `context`."""
    rows, pending, active = _versions()
    store = _state().store
    source = context.pop("source", None)
    if source is None:
        chosen = store.policy_version(request.args.get("from", "")) if request.args.get("from") else None
        source = (chosen or active or {}).get("source", "")
    tests = context.pop("tests", None) or policywork.tests_text(store)
    editor = may(current_user(), EDITORS)
    nonce = secrets.token_urlsafe(18)
    response = make_response(render_template(
        "workbench.html", source=source, tests=tests, versions=rows, pending=pending, active=active,
        editor=editor, schema_url=url_for(".schema"), check_url=url_for(".check"), style_nonce=nonce,
        **context), status)
    # CodeMirror puts its styles in a <style> element: admitted by this page's nonce (styles only).
    response.headers["Content-Security-Policy"] = CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    return response


def _form_texts() -> tuple[str, str]:
    source, tests = request.form.get("source", ""), request.form.get("tests", "")
    if len(source) > MAX_TEXT or len(tests) > MAX_TEXT:
        abort(400, description=f"A policy or its tests may have at most {MAX_TEXT} characters.")
    return source.replace("\r\n", "\n"), tests.replace("\r\n", "\n")


@blueprint.route("")
@require(*READERS)
def workbench():
    """The workbench page; `?a=&b=` (two digests) adds the diff between those versions."""
    a, b = request.args.get("a"), request.args.get("b")
    diff = None
    if a and b:
        store = _state().store
        old, new = store.policy_version(a), store.policy_version(b)
        if old is None or new is None:
            abort(404, description="No stored policy version has that digest.")
        diff = {"old": old, "new": new, "text": policywork.diff(old, new)}
    return _page(diff=diff)


@blueprint.route("/schema.json")
@require(*READERS)
def schema():
    """The policy JSON Schema, for the editor's completion and hover help."""
    from arrears.engine.policy.validation import SCHEMA_PATH
    response = Response(SCHEMA_PATH.read_bytes(), mimetype="application/json")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@blueprint.route("/check", methods=["POST"])
@require(*EDITORS)
def check():
    """Check the policy text in the body (the `X-CSRF-Token` header carries the token):
    JSON `{valid, problems, warnings, policy, ms}`, each problem at its line and column."""
    text = request.get_data(as_text=True)
    if len(text) > MAX_TEXT:
        abort(413)
    return policywork.check(_state(), text)


def _posted(what: str):
    """(source, tests, compiled policy) of the form; an invalid policy ends the request with the
    page again (422) listing its problems, `what` saying what did not happen."""
    source, tests = _form_texts()
    try:
        return source, tests, policywork.compile_text(_state(), source)[0]
    except PolicyError as exc:
        flash(f"The policy has {len(exc.problems)} problem(s); {what}.", "error")
        abort(_page(422, source=source, tests=tests, problems=exc.problems))


def _save(source: str, tests: str, policy):
    """Store the text as an inactive version and keep the tests (both audited with the user),
    then run the tests."""
    store, user = _state().store, current_user().username
    store.record_policy(policy.name, policy.version, policy.digest, source, activate=False)
    store.users.put_setting(policywork.TESTS_SETTING, tests)
    store.audit("console.policy_saved", policy.digest, {"by": user, "name": policy.name,
                                                        "version": policy.version})
    return policywork.run_tests(_state(), source, tests)


@blueprint.route("/save", methods=["POST"])
@require(*EDITORS)
def save():
    """Save the editor's text as a draft (an inactive stored version) and run its tests."""
    source, tests, policy = _posted("nothing was saved")
    run = _save(source, tests, policy)
    flash(f"Saved {policy.name} {policy.version} as a draft ({policy.digest[:19]}).", "ok")
    return _page(200 if run.ok else 422, source=source, tests=tests, tests_run=run, saved=policy)


@blueprint.route("/whatif", methods=["POST"])
@require(*EDITORS)
def whatif():
    """Start the what-if of the editor's text against the active policy over the stored portfolio
    (read-only) as a background job, or join the candidate's running one: the page comes back at
    once (202) with the job's progress, which htmx follows until the result is there."""
    from flask import current_app

    from arrears.console.whatifjobs import jobs_of
    source, tests, policy = _posted("nothing was simulated")
    try:
        _state().policies.active()
    except LookupError:
        flash("No policy is active: there is nothing to compare with.", "error")
        return _page(409, source=source, tests=tests)
    job, joined = jobs_of(current_app).start(policy, current_user().username)
    if joined:
        flash(f"The what-if of {policy.name} {policy.version} was already running (asked by {job['by']}): "
              "this follows it.", "ok")
    return _page(202, source=source, tests=tests, job=job)


@blueprint.route("/whatif/<digest>")
@require(*READERS)
def whatif_job(digest: str):
    """The what-if job of candidate `digest`: its progress, then its report, or why it failed; its
    own page (reloading itself while it runs), or only the job's panel when htmx asks."""
    from flask import current_app

    from arrears.console.whatifjobs import jobs_of
    job = jobs_of(current_app).status(digest)
    if job is None:
        abort(404, description="No what-if has been run for that policy version.")
    if request.headers.get("HX-Request") == "true":
        return render_template("_whatif_job.html", job=job)
    return render_template("whatif_job.html", job=job)


@blueprint.route("/propose", methods=["POST"])
@require(*EDITORS)
def propose():
    """Save the text, run its tests and, when they pass, propose it for approval by another user."""
    source, tests, policy = _posted("nothing was proposed")
    run = _save(source, tests, policy)
    if not run.ok:
        flash("Saved as a draft, not proposed: its tests do not pass.", "error")
        return _page(422, source=source, tests=tests, tests_run=run, saved=policy)
    note = (request.form.get("note") or "").strip()[:500]
    try:
        with _state().store.transaction() as w:
            proposals.propose(w.conn, policy.digest, current_user().username, note, w.now)
    except InputError as exc:
        flash(f"Not proposed: {exc}.", "error")
        return _page(409, source=source, tests=tests, tests_run=run, saved=policy)
    flash(f"Proposed {policy.name} {policy.version}: another compliance user or admin must approve it.", "ok")
    return redirect(url_for(".workbench", **{"from": policy.digest}), 303)


def approve_proposal(digest: str) -> dict | None:
    """Approve the pending proposal of `digest` as the user logged in (`proposals.approve`:
    activates it, or promotes its experiment's challenger) and load the policy now active;
    the proposal, or None after flashing why it was refused. 403 for the user who proposed it."""
    try:
        with _state().store.transaction() as w:
            proposal = proposals.approve(w.conn, digest, current_user().username, w.now)
    except PermissionError as exc:
        abort(403, description=str(exc))
    except InputError as exc:
        flash(f"Not approved: {exc}.", "error")
        return None
    _state().policies.active(force=True)
    return proposal


@blueprint.route("/<digest>/approve", methods=["POST"])
@require(*EDITORS)
def approve(digest: str):
    """Approve another user's proposal: the version becomes the active policy (audited with
    both users) and every account is made due, so the next tick re-decides it."""
    proposal = approve_proposal(digest)
    if proposal is None:
        return redirect(url_for(".workbench"), 303)
    what = (f"challenger {proposal['arm']} of experiment {proposal['experiment']} is promoted and its policy"
            if proposal.get("experiment") else "it")
    flash(f"Approved the proposal of {proposal['by']}: {what} is the active policy now; every account will "
          "be decided again at the next tick.", "ok")
    return redirect(url_for(".workbench"), 303)


@blueprint.route("/<digest>/withdraw", methods=["POST"])
@require(*EDITORS)
def withdraw(digest: str):
    """Withdraw a pending proposal (audited with the user)."""
    try:
        with _state().store.transaction() as w:
            proposals.withdraw(w.conn, digest, current_user().username, w.now)
    except InputError as exc:
        flash(f"Not withdrawn: {exc}.", "error")
    else:
        flash("Withdrawn.", "ok")
    return redirect(url_for(".workbench"), 303)


html_errors(blueprint)
