"""Logging in and out, the session, roles, CSRF protection and slowing down password guessing.

The session is Flask's signed cookie (`arrears_session`: HttpOnly, SameSite=Lax, Secure when
`console.secure_cookie`), holding the user's id, the time their password last changed, a CSRF
token and the time of the last request. Every request reloads the user: a disabled user, a
changed password or a session idle longer than `console.session_hours` ends the session.

Every form that changes something carries the session's CSRF token (`csrf_token` field, or the
`X-CSRF-Token` header for htmx requests); a POST without it is refused with 400.

Guessing is slowed down per username (after 5 failures in a row, each further attempt must wait
30 s, doubling to at most 15 minutes, and is refused unchecked until then) and per client address
(at most 20 failures in 10 minutes). Logins, failed logins and logouts are audited.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, session, url_for

from arrears.console import passwords

blueprint = Blueprint("console_session", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/console/static")

# The console's roles; admin may do everything. The first three are the API's roles of the same
# name (api/auth.py); `manager` reads everything and changes nothing.
ROLES = {
    "admin": "users, keys, audit log and everything else",
    "compliance": "policies: edit, test, propose, approve",
    "agent": "the work queue: claim accounts, record outcomes",
    "manager": "read only: dashboard, accounts, decisions",
}
FREE_FAILURES = 5            # failures in a row before an account's logins are slowed down
FIRST_WAIT = 30              # seconds, doubling per further failure
MAX_WAIT = 15 * 60
CLIENT_FAILURES = 20         # failures per client address ...
CLIENT_WINDOW = 10 * 60      # ... within this many seconds
# The session's last request time is rewritten at most once a minute: a cookie written on every
# request lets a page's background request (the policy editor's checks) answer after a redirect
# and put back a cookie without the redirect's flash message.
SEEN_EVERY = 60


def init_app(app: Flask, state, settings) -> None:
    """The session cookie's flags and signing key, and the per-request user loading."""
    key = settings.secret_key or state.store.users.keep_setting("console.secret_key", secrets.token_hex(32))
    app.secret_key = key
    app.config.update(SESSION_COOKIE_NAME="arrears_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookie)
    app.extensions["arrears.console.guard"] = _ClientGuard()

    @app.context_processor
    def _console_globals():
        return {"csrf_token": csrf_token, "current_user": getattr(g, "user", None), "ROLES": ROLES}


def html_errors(bp: Blueprint) -> None:
    """Errors raised in `bp`'s views as console pages (the API's own stay problem documents)."""
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 429: "Too many requests"}
    for code, title in titles.items():
        bp.register_error_handler(code, lambda exc, t=title, c=code: (
            render_template("error.html", title=t, message=exc.description), c))


def _state():
    from flask import current_app
    return current_app.extensions["arrears"]


def _settings():
    from flask import current_app
    return current_app.extensions["arrears.console"]


def csrf_token() -> str:
    """The session's CSRF token (made on first use); forms put it in a hidden `csrf_token` field."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Abort with 400 unless the request carries the session's CSRF token."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    token = session.get("csrf")
    if not token or not hmac.compare_digest(sent.encode(), token.encode()):
        abort(400, description="The form has expired or did not come from this site: reload the page and try again.")


def current_user():
    """The logged-in user (`arrears.engine.store.users.User`) of this request, or None."""
    if "user" in g:
        return g.user
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return None
    user = _state().store.users.get_by_id(uid)
    idle = time.time() - session.get("seen", 0) > _settings().session_hours * 3600
    if user is None or user.disabled or user.password_changed_at != session.get("pwc") or idle:
        session.clear()
        return None
    if time.time() - session.get("seen", 0) >= SEEN_EVERY:
        session["seen"] = int(time.time())
    g.user = user
    return user


def may(user, roles) -> bool:
    """True if `user` holds one of `roles` (admin holds every role)."""
    return user is not None and (user.role == "admin" or user.role in roles)


def require(*roles):
    """View decorator: a logged-in user (with one of `roles`, when given); POSTs need the CSRF
    token. Not logged in: to the login page, then back. Wrong role: 403. The roles are kept on
    the view (`console_roles`), so `may_open` (the navigation) asks the same question."""
    def wrap(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("console_session.login", next=request.full_path.rstrip("?")))
            if roles and not may(user, roles):
                abort(403, description=f"This page is for the {' or '.join(roles)} role; you are {user.role}.")
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)
        guarded.console_roles = roles
        return guarded
    return wrap


def may_open(user, endpoint: str) -> bool:
    """True if `user` passes the role check of the console view `endpoint` (its `require`): the
    one home of who may open what. LookupError for an endpoint that has no such check."""
    from flask import current_app
    roles = getattr(current_app.view_functions.get(endpoint), "console_roles", None)
    if roles is None:
        raise LookupError(f"{endpoint} is not a console view guarded by require()")
    return user is not None and (not roles or may(user, roles))


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, not `//`): never an open redirect."""
    if not target:
        return url_for("console_explorer.accounts")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("console_explorer.accounts")
    return target


def _wait_left(user, now: float) -> int:
    """Seconds this user's next login attempt must still wait (0: may try now)."""
    if user is None or user.failed_logins < FREE_FAILURES or user.last_failed_at is None:
        return 0
    wait = min(FIRST_WAIT * 2 ** (user.failed_logins - FREE_FAILURES), MAX_WAIT)
    return max(0, int(user.last_failed_at + wait - now))


class _ClientGuard:
    """Failed logins per client address in a sliding window (this process only)."""

    def __init__(self):
        self._lock, self._failures = threading.Lock(), {}

    def blocked(self, client: str, now: float) -> bool:
        with self._lock:
            q = self._failures.get(client)
            while q and q[0] <= now - CLIENT_WINDOW:
                q.popleft()
            return bool(q) and len(q) >= CLIENT_FAILURES

    def failed(self, client: str, now: float) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(now)


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, to `next` (a path on this site) or the accounts page."""
    if request.method == "GET":
        if current_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""), error=None)
    check_csrf()
    from flask import current_app
    users, guard = _state().store.users, current_app.extensions["arrears.console.guard"]
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    client, now = request.remote_addr or "?", time.time()
    context = {"from": client}
    if guard.blocked(client, now):
        return render_template("login.html", next=request.form.get("next", ""),
                               error="Too many failed logins from this address: wait a few minutes."), 429
    user = users.get(username) if username else None
    wait = _wait_left(user, now)
    if wait:
        return render_template("login.html", next=request.form.get("next", ""),
                               error=f"Too many failed logins for this user: try again in {wait} seconds."), 429
    ok = passwords.verify(None if user is None else user.password_hash, password) and not user.disabled
    if not ok:
        guard.failed(client, now)
        if user is not None:
            users.note_login(user.id, False, audit_body=context)
        return render_template("login.html", next=request.form.get("next", ""),
                               error="Wrong username or password, or the user is disabled.")
    if passwords.needs_rehash(user.password_hash):
        users.rehash(user.id, passwords.hash_password(password))
    users.note_login(user.id, True, audit_body=context)
    session.clear()                                 # a fresh session: no fixation
    session.update(uid=user.id, pwc=user.password_changed_at, seen=int(now), csrf=secrets.token_urlsafe(32))
    session.permanent = False
    return redirect(_safe_next(request.form.get("next")))


@blueprint.route("/logout", methods=["POST"])
@require()
def logout():
    """End the session (audited) and go back to the login page."""
    user = current_user()
    _state().store.audit("user.logout", user.username, {"from": request.remote_addr or "?"})
    session.clear()
    return redirect(url_for("console_session.login"))


html_errors(blueprint)
