"""The API keys page (admin only): list the stored keys, make one (shown once), revoke one.

Keys go through the store's audited functions (engine/store/apikeys.py) with `by` = the
admin's username. A new key is shown in the answer to the form that made it and nowhere else:
not in a flash message (the session cookie would carry it), not in the log; the page is not
cached (console/security.py). The API accepts a new key at once and refuses a revoked one
within `arrears.engine.store.apikeys.LOOKUP_TTL` seconds.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from arrears.console.admin import blueprint
from arrears.console.session import current_user, require
from arrears.engine.store.apikeys import LOOKUP_TTL as STORED_KEY_TTL
from arrears.engine.store.apikeys import ROLES

ROLE_HELP = {"integrator": "push accounts and events, read decisions", "compliance": "policies and what-ifs",
             "agent": "the work queue", "admin": "everything"}


def _keys():
    from flask import current_app
    return current_app.extensions["arrears"].store.api_keys


def _page(status: int = 200, **extra):
    roles = {r: ROLE_HELP.get(r, "") for r in ROLES}
    return render_template("admin_keys.html", keys=_keys().listing(), roles=roles,
                           ttl=STORED_KEY_TTL, **extra), status


@blueprint.route("/keys")
@require("admin")
def keys():
    """Every stored key (never the key itself) and the form to make one."""
    return _page()


@blueprint.route("/keys", methods=["POST"])
@require("admin")
def create_key():
    """Make a key; the answer shows it once."""
    label, role = (request.form.get("label") or "").strip(), request.form.get("role")
    if not label or len(label) > 200:
        flash("A label is 1 to 200 characters.", "error")
        return _page(422, form={"label": label, "role": role})
    if role not in ROLES:
        flash("Choose one of the roles.", "error")
        return _page(422, form={"label": label, "role": role})
    key, row = _keys().create(role, label, by=current_user().username)
    return _page(201, new_key=key, new_row=row)


@blueprint.route("/keys/<int:key_no>/revoke", methods=["POST"])
@require("admin")
def revoke_key(key_no: int):
    """Revoke a key."""
    row = _keys().revoke(key_no, by=current_user().username)
    if row is None:
        flash(f"No key {key_no}.", "error")
    else:
        flash(f"Key {row.id} ({row.label}) is revoked; the API refuses it within {STORED_KEY_TTL:g} s.", "ok")
    return redirect(url_for("console_admin.keys"), 303)
