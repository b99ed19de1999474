"""Logging in and out of the console: sessions, CSRF, slowing down guessing, headers, audit."""
from __future__ import annotations

import json
import logging

import pytest

from arrears.console import session as console_session
from arrears.console.passwords import hash_password
from arrears.engine.store.db import read_transaction
from tests.console.consolekit import PASSWORDS, csrf_of, log_in


def _audit(store, kind: str) -> list[dict]:
    from sqlalchemy import select

    from arrears.engine.store.schema import audit
    with read_transaction(store.engine) as conn:
        rows = conn.execute(select(audit.c.subject, audit.c.body).where(audit.c.kind == kind)).all()
    return [{"subject": r.subject, **json.loads(r.body)} for r in rows]


def test_pages_ask_for_a_login_and_come_back_after_it(client):
    r = client.get("/accounts?q=ACC")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/accounts")
    r = log_in(client, "manager", next_path="/accounts?q=ACC")
    assert r.status_code == 302 and r.headers["Location"] == "/accounts?q=ACC"
    assert client.get("/accounts?q=ACC").status_code == 200


def test_the_front_door_leads_to_the_console(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/accounts"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_off_the_site(client, target):
    r = log_in(client, "agent", next_path=target)
    assert r.status_code == 302 and r.headers["Location"] == "/accounts"


def test_a_wrong_password_is_refused_and_audited_without_the_password(client, demo_store, caplog):
    caplog.set_level(logging.DEBUG)
    before = len(_audit(demo_store, "user.login_failed"))
    r = log_in(client, "compliance", "not the password at all")
    assert r.status_code == 200 and "Wrong username or password" in r.get_data(as_text=True)
    assert client.get("/accounts").status_code == 302          # still logged out
    failed = _audit(demo_store, "user.login_failed")
    assert len(failed) == before + 1 and failed[-1]["subject"] == "compliance"
    assert "not the password at all" not in json.dumps(failed) + caplog.text
    log_in(client, "compliance")
    ok = _audit(demo_store, "user.login")[-1]
    assert ok["subject"] == "compliance" and PASSWORDS["compliance"] not in json.dumps(ok) + caplog.text


def test_an_unknown_user_gets_the_same_answer(client):
    r = log_in(client, "nobody-here", "whatever password")
    assert r.status_code == 200 and "Wrong username or password" in r.get_data(as_text=True)


def test_passwords_are_stored_as_argon2id_hashes(demo_store):
    stored = demo_store.users.get("admin").password_hash
    assert stored.startswith("$argon2id$") and PASSWORDS["admin"] not in stored


def test_a_post_without_the_csrf_token_is_refused(client):
    r = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert r.status_code == 400 and "expired or did not come from this site" in r.get_data(as_text=True)
    log_in(client, "admin")
    assert client.post("/logout").status_code == 400                       # no token
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/accounts").status_code == 200                       # still logged in
    token = csrf_of(client.get("/accounts").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/accounts").status_code == 302                       # logged out


def test_the_session_cookie_flags(app, client):
    r = log_in(client, "agent")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("arrears_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    app.config["SESSION_COOKIE_SECURE"] = True        # what console.secure_cookie sets
    assert "Secure" in log_in(app.test_client(), "agent").headers["Set-Cookie"]


def test_secure_cookie_from_the_config(demo_store):
    from arrears.api import create_app
    app = create_app({"database_url": demo_store.url, "console": {"secure_cookie": True}}, store=demo_store)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_pages_forbid_outside_sources_and_framing(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Cache-Control"] == "no-store"
    assert "http://" not in r.get_data(as_text=True) and "https://" not in r.get_data(as_text=True)


def test_the_api_keeps_its_problem_documents(client):
    r = client.get("/v1/accounts/ACC00000001")
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("application/problem+json")
    assert "Content-Security-Policy" not in r.headers


def _fresh_user(store, name: str, password: str = "a fresh password 9"):
    store.users.add(name, "agent", hash_password(password), by="test")
    return password


def test_repeated_failures_slow_down_that_users_logins(app, demo_store):
    password = _fresh_user(demo_store, "slowed")
    for _ in range(console_session.FREE_FAILURES):
        assert "Wrong username" in log_in(app.test_client(), "slowed", "wrong guess").get_data(as_text=True)
    r = log_in(app.test_client(), "slowed", password)          # even the right password waits now
    assert r.status_code == 429 and "try again in" in r.get_data(as_text=True)
    assert demo_store.users.get("slowed").failed_logins == console_session.FREE_FAILURES


def test_the_wait_ends_and_a_success_clears_the_count(app, demo_store):
    password = _fresh_user(demo_store, "waited")
    for _ in range(console_session.FREE_FAILURES):
        log_in(app.test_client(), "waited", "wrong guess")
    user = demo_store.users.get("waited")
    # the last failure long enough ago: as if the wait had passed
    from sqlalchemy import update

    from arrears.engine.store.schema import users
    with demo_store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(last_failed_at=user.last_failed_at - 31))
    assert log_in(app.test_client(), "waited", password).status_code == 302
    assert demo_store.users.get("waited").failed_logins == 0


def test_many_failures_from_one_address_are_refused(app, demo_store, monkeypatch):
    monkeypatch.setattr(console_session, "CLIENT_FAILURES", 3)
    client = app.test_client()
    for i in range(3):
        assert "Wrong username" in log_in(client, f"nobody{i}", "guess").get_data(as_text=True)
    assert log_in(client, "admin").status_code == 429


def test_disabling_a_user_ends_their_session(app, demo_store):
    password = _fresh_user(demo_store, "leaver")
    client = app.test_client()
    log_in(client, "leaver", password)
    assert client.get("/accounts").status_code == 200
    demo_store.users.update("leaver", by="test", disabled=True)
    assert client.get("/accounts").status_code == 302
    assert "Wrong username" in log_in(app.test_client(), "leaver", password).get_data(as_text=True)


def test_a_new_password_ends_the_old_sessions(app, demo_store):
    password = _fresh_user(demo_store, "changer")
    client = app.test_client()
    log_in(client, "changer", password)
    demo_store.users.set_password("changer", hash_password("another password 7"), by="test", now=10**10)
    assert client.get("/accounts").status_code == 302


def test_an_idle_session_ends(app, client, monkeypatch):
    log_in(client, "manager")
    assert client.get("/accounts").status_code == 200
    import time
    later = time.time() + 8 * 3600 + 5
    monkeypatch.setattr(console_session.time, "time", lambda: later)
    assert client.get("/accounts").status_code == 302


def test_a_role_check_refuses_other_roles(app):
    from flask import Blueprint
    bp = Blueprint("console_rolecheck", __name__)
    bp.add_url_rule("/only-compliance", "only", console_session.require("compliance")(lambda: "ok"))
    app.register_blueprint(bp)
    for role, status in (("manager", 403), ("agent", 403), ("compliance", 200), ("admin", 200)):
        client = app.test_client()
        log_in(client, role)
        assert client.get("/only-compliance").status_code == status, role


def test_the_session_cookie_is_rewritten_at_most_once_a_minute(app, client, monkeypatch):
    """So a page's background request cannot answer after a redirect with a cookie that lacks
    the redirect's flash message; activity still keeps the session alive."""
    log_in(client, "manager")
    assert "Set-Cookie" not in client.get("/accounts").headers
    import time
    later = time.time() + 7 * 3600
    monkeypatch.setattr(console_session.time, "time", lambda: later)
    assert "arrears_session=" in client.get("/accounts").headers["Set-Cookie"]
    monkeypatch.setattr(console_session.time, "time", lambda: later + 7 * 3600)
    assert client.get("/accounts").status_code == 200
