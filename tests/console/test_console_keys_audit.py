"""The API keys page (admin) and the audit log page (admin, manager): roles, CSRF, the key shown
once and working at once in the API, search and paging, verification OK and BROKEN."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from arrears.api import create_app
from arrears.engine.store.schema import api_keys, users
from tests.console.consolekit import logged_in, make_store, post_form


_as, _post = logged_in, post_form


def test_only_admins_see_keys_and_admins_and_managers_the_audit_log(app):
    for role, keys, log in (("admin", 200, 200), ("manager", 403, 200), ("compliance", 403, 403),
                            ("agent", 403, 403)):
        client = _as(app, role)
        assert client.get("/admin/keys").status_code == keys, role
        assert client.get("/admin/audit").status_code == log, role
        assert _post(client, "/admin/keys", label="x", role="agent").status_code == (201 if keys == 200 else 403)
        assert _post(client, "/admin/audit/verify").status_code == log, role
    assert app.test_client().get("/admin/keys").status_code in (302, 303)          # logged out: to the login


def test_forms_without_the_csrf_token_are_refused(app):
    client = _as(app, "admin")
    assert client.post("/admin/keys", data={"label": "x", "role": "agent"}).status_code == 400
    assert client.post("/admin/audit/verify").status_code == 400


def test_a_key_made_in_the_console_is_shown_once_works_in_the_api_and_is_revoked(app, demo_store):
    admin = _as(app, "admin")
    r = _post(admin, "/admin/keys", label="<b>billing</b> sync", role="integrator")
    page = r.get_data(as_text=True)
    key = re.search(r'value="(ark_[^"]+)"', page).group(1)
    assert r.status_code == 201 and "shown this once" in page
    assert "&lt;b&gt;billing&lt;/b&gt;" in page and "<b>billing</b>" not in page      # text, not HTML
    assert r.headers["Cache-Control"] == "no-store"
    assert key not in admin.get("/admin/keys").get_data(as_text=True)               # never again
    api = app.test_client()
    assert api.get("/v1/decisions", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    (row,) = [k for k in demo_store.api_keys.listing() if k.label == "<b>billing</b> sync"]
    assert row.created_by == "admin"
    r = _post(admin, f"/admin/keys/{row.id}/revoke")
    assert r.status_code == 303
    assert demo_store.api_keys.get(row.id).revoked_by == "admin"
    app.extensions["arrears"].keys.stored._cache.clear()          # past the one-second window
    assert api.get("/v1/decisions", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "is revoked" in admin.get("/admin/keys").get_data(as_text=True)


def test_bad_key_forms_are_422_with_the_reason(app):
    admin = _as(app, "admin")
    for form, reason in (({"label": "", "role": "agent"}, "1 to 200 characters"),
                         ({"label": "x", "role": "boss"}, "Choose one of the roles")):
        r = _post(admin, "/admin/keys", **form)
        assert r.status_code == 422 and reason in r.get_data(as_text=True)


def test_the_log_is_newest_first_searchable_and_paged(app, demo_store, monkeypatch):
    from arrears.console import auditlog
    monkeypatch.setattr(auditlog, "PER_PAGE", 5)
    for i in range(3):
        demo_store.api_keys.create("agent", f"paging {i}", by="admin")
    manager = _as(app, "manager")
    page = manager.get("/admin/audit").get_data(as_text=True)
    seqs = [int(s) for s in re.findall(r'<td class="num">(\d+)</td>', page)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 5
    older = re.search(r'href="(/admin/audit\?before=\d+[^"]*)"', page).group(1)
    more = [int(s) for s in re.findall(r'<td class="num">(\d+)</td>',
                                       manager.get(older.replace("&amp;", "&")).get_data(as_text=True))]
    assert more and max(more) < min(seqs)
    page = manager.get("/admin/audit?kind=key.created").get_data(as_text=True)
    assert page.count("<td>key.created</td>") >= 3 and "<td>user.added</td>" not in page
    page = manager.get("/admin/audit?kind=user.&subject=agent").get_data(as_text=True)
    assert "<td>user.added</td>" in page and "<td>key.created</td>" not in page
    account = _an_account(demo_store)
    page = manager.get(f"/admin/audit?subject={account}").get_data(as_text=True)
    assert "accounts.upserted" in page or "events.appended" in page
    assert "No entries match" in manager.get("/admin/audit?kind=nothing.such").get_data(as_text=True)
    assert '"seals"' not in page                                   # the seal sums are left out


def _an_account(store):
    from sqlalchemy import select

    from arrears.engine.store.schema import accounts
    with store.engine.connect() as conn:
        return conn.execute(select(accounts.c.id).limit(1)).scalar_one()


def test_verify_says_ok(app):
    page = _post(_as(app, "manager"), "/admin/audit/verify").get_data(as_text=True)
    assert "OK:" in page and "every sealed row matches" in page and "BROKEN" not in page


@pytest.fixture
def own_app(tmp_path):
    store = make_store(tmp_path / "own.db", demo=False)
    store.api_keys.create("agent", "victim", by="admin")
    app = create_app({"database_url": store.url}, store=store)
    yield app, store
    store.close()


def test_verify_says_broken_and_names_table_row_and_columns(own_app):
    app, store = own_app
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).values(role="admin"))
        conn.execute(update(users).where(users.c.username == "agent").values(role="admin"))
    page = _post(_as(app, "admin"), "/admin/audit/verify").get_data(as_text=True)
    assert "BROKEN" in page and "2 sealed rows changed" in page
    assert re.search(r"<td>api_keys</td><td>id=1</td><td>role</td>", page)
    assert re.search(r"<td>users</td><td>username=&#39;agent&#39;</td><td>role</td>", page)


def test_a_new_key_is_in_no_log_and_no_cookie(app, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    admin = _as(app, "admin")
    r = _post(admin, "/admin/keys", label="log check", role="agent")
    key = re.search(r'value="(ark_[^"]+)"', r.get_data(as_text=True)).group(1)
    app.test_client().get("/v1/work-queue", headers={"Authorization": f"Bearer {key}"})
    assert key not in caplog.text
    assert all(key not in h for h in r.headers.getlist("Set-Cookie"))
