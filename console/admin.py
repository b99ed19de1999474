"""Admin pages: the console's users (admin only) and the tick runs (admin and manager, read only).

Users: add with a role and a first password, change the role, disable or enable, set a new
password. Each change goes through the store's audited user functions with `by` = the admin's
username; an admin cannot disable themselves or take away their own admin role (so the last
admin cannot lock everyone out by a slip).
"""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for

from arrears.console import passwords
from arrears.console.session import ROLES, current_user, html_errors, require
from arrears.engine.domain.errors import InputError

blueprint = Blueprint("console_admin", __name__, template_folder="templates", url_prefix="/admin")
RUNS_PER_PAGE = 50


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def _min_length() -> int:
    from flask import current_app
    return current_app.extensions["arrears.console"].min_password_length


@blueprint.route("/users")
@require("admin")
def users():
    """Every user with their role and state, and the form to add one."""
    return render_template("admin_users.html", users=_state().store.users.listing(), roles=ROLES)


@blueprint.route("/users", methods=["POST"])
@require("admin")
def add_user():
    """Add a user (the form of the users page)."""
    username = (request.form.get("username") or "").strip()
    role, password = request.form.get("role"), request.form.get("password") or ""
    problem = None
    if not username or len(username) > 100:
        problem = "A username is 1 to 100 characters."
    elif role not in ROLES:
        problem = "Choose one of the roles."
    else:
        try:
            passwords.check_new(password, username, _min_length())
        except InputError as exc:
            problem = f"The password {str(exc).split(': ', 1)[-1]}."
    if problem is None:
        added = _state().store.users.add(username, role, passwords.hash_password(password),
                                         by=current_user().username)
        problem = None if added else f"The username {username!r} is taken."
    if problem:
        flash(problem, "error")
        return render_template("admin_users.html", users=_state().store.users.listing(), roles=ROLES,
                               form={"username": username, "role": role}), 422
    flash(f"Added {username} ({role}).", "ok")
    return redirect(url_for("console_admin.users"))


@blueprint.route("/users/<path:username>", methods=["POST"])
@require("admin")
def change_user(username: str):
    """Change one user: `action` is role, disable, enable or password."""
    me, users_store = current_user(), _state().store.users
    target = users_store.get(username)
    if target is None:
        flash(f"No user {username!r}.", "error")
        return redirect(url_for("console_admin.users")), 303
    action = request.form.get("action")
    if action == "role" and request.form.get("role") in ROLES:
        new = request.form["role"]
        if target.id == me.id and new != "admin":
            flash("You cannot take away your own admin role: another admin can.", "error")
        else:
            users_store.update(username, by=me.username, role=new)
            flash(f"{username} is now {new}.", "ok")
    elif action in ("disable", "enable"):
        if target.id == me.id and action == "disable":
            flash("You cannot disable yourself: another admin can.", "error")
        else:
            users_store.update(username, by=me.username, disabled=action == "disable")
            flash(f"{username} is {action}d.", "ok")
    elif action == "password":
        password = request.form.get("password") or ""
        try:
            passwords.check_new(password, username, _min_length())
        except InputError as exc:
            flash(f"The password {str(exc).split(': ', 1)[-1]}.", "error")
        else:
            users_store.set_password(username, passwords.hash_password(password), by=me.username)
            flash(f"{username} has a new password; their sessions have ended.", "ok")
    else:
        flash("Nothing to change.", "error")
    return redirect(url_for("console_admin.users"))


@blueprint.route("/ticks")
@require("admin", "manager")
def ticks():
    """Tick runs, newest first: when, what started them, how they ended, their counts."""
    from arrears.engine.store import tickruns
    from arrears.engine.store.db import read_transaction
    after = request.args.get("after", type=int)
    with read_transaction(_state().store.engine) as conn:
        rows = tickruns.page(conn, after=after, limit=RUNS_PER_PAGE)
    runs = [{**row._mapping, "summary": json.loads(row.summary) if row.summary else {}} for row in rows]
    more = runs[-1]["id"] if len(runs) == RUNS_PER_PAGE else None
    return render_template("admin_ticks.html", runs=runs, more=more)


html_errors(blueprint)
