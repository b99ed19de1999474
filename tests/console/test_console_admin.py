"""Admin pages: users (admin only) and tick runs (admin and manager)."""
from __future__ import annotations

import json

from sqlalchemy import select

from arrears.console.passwords import verify
from arrears.engine.store.schema import audit
from tests.console.consolekit import log_in, logged_in, post_form


_as, _post = logged_in, post_form


def test_only_admins_manage_users_and_only_admins_and_managers_see_tick_runs(app):
    for role, users, ticks in (("admin", 200, 200), ("manager", 403, 200), ("compliance", 403, 403),
                               ("agent", 403, 403)):
        client = _as(app, role)
        assert client.get("/admin/users").status_code == users, role
        assert client.get("/admin/ticks").status_code == ticks, role
        assert _post(client, "/admin/users", username=f"x-{role}", role="agent",
                     password="a valid password 1").status_code \
            == (302 if users == 200 else 403), role
    page = _as(app, "manager").get("/admin/users").get_data(as_text=True)
    assert "This page is for the admin role; you are manager." in page


def test_an_admin_adds_a_user_who_can_then_log_in(app, demo_store):
    admin = _as(app, "admin")
    r = _post(admin, "/admin/users", username="newbie", role="agent", password="newbie's password 1")
    assert r.status_code == 302
    assert "Added newbie (agent)." in admin.get("/admin/users").get_data(as_text=True)
    assert log_in(app.test_client(), "newbie", "newbie's password 1").status_code == 302
    with demo_store.engine.connect() as conn:
        added = [json.loads(r.body) for r in conn.execute(select(audit.c.body).where(
            audit.c.kind == "user.added", audit.c.subject == "newbie"))]
    assert [{k: v for k, v in a.items() if k != "seals"} for a in added] == [{"role": "agent", "by": "admin"}]
    assert added[0]["seals"]["users"]["rows"] == 1          # the row is sealed by its entry


def test_bad_new_users_are_refused_with_the_reason(app):
    admin = _as(app, "admin")
    for form, reason in (({"username": "", "role": "agent", "password": "p" * 20}, "1 to 100 characters"),
                         ({"username": "u1", "role": "boss", "password": "p" * 20}, "Choose one of the roles"),
                         ({"username": "u2", "role": "agent", "password": "short"}, "at least 12 characters"),
                         ({"username": "admin", "role": "agent", "password": "a fine password 1"}, "is taken")):
        r = _post(admin, "/admin/users", **form)
        assert r.status_code == 422 and reason in r.get_data(as_text=True), form


def test_role_disable_enable_and_password(app, demo_store):
    admin = _as(app, "admin")
    _post(admin, "/admin/users", username="temp", role="agent", password="temp password 123")
    temp = app.test_client()
    log_in(temp, "temp", "temp password 123")
    assert _post(admin, "/admin/users/temp", action="role", role="manager").status_code == 302
    assert demo_store.users.get("temp").role == "manager"
    _post(admin, "/admin/users/temp", action="disable")
    assert demo_store.users.get("temp").disabled and temp.get("/accounts").status_code == 302
    _post(admin, "/admin/users/temp", action="enable")
    _post(admin, "/admin/users/temp", action="password", password="second password 99")
    assert verify(demo_store.users.get("temp").password_hash, "second password 99")
    r = _post(admin, "/admin/users/temp", action="password", password="temp")
    assert "must not be the username" in admin.get("/admin/users").get_data(as_text=True) or r.status_code == 302


def test_an_admin_cannot_lock_themselves_out(app, demo_store):
    admin = _as(app, "admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Disable admin" not in page and "Role of admin<" not in page                     # not offered
    assert "Disable agent" in page and "Role of agent<" in page
    assert "You: another admin may change your role or disable you." in page
    _post(admin, "/admin/users/admin", action="disable")
    assert "You cannot disable yourself" in admin.get("/admin/users").get_data(as_text=True)
    _post(admin, "/admin/users/admin", action="role", role="agent")
    assert "cannot take away your own admin role" in admin.get("/admin/users").get_data(as_text=True)
    assert demo_store.users.get("admin").role == "admin" and not demo_store.users.get("admin").disabled


def test_changes_need_the_csrf_token(app, demo_store):
    admin = _as(app, "admin")
    assert admin.post("/admin/users/agent", data={"action": "disable"}).status_code == 400
    assert not demo_store.users.get("agent").disabled


def test_tick_runs_list_what_each_tick_did(app, demo_store):
    from arrears.engine.cli import main
    assert main(["tick", "--db", demo_store.url, "--at", "2026-12-01T10:00:00Z", "--no-dispatch"]) == 0
    page = _as(app, "manager").get("/admin/ticks").get_data(as_text=True)
    assert "2026-12-01 10:00 UTC" in page and "succeeded" in page
    evaluated = demo_store.account_count()
    assert f'<td class="num">{evaluated:,}</td>' in page
