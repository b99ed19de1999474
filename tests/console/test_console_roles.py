"""Each console view's role check, as docs/console.md's table of roles states it: every view is
listed here with the roles that may use it; any other role gets 403 (with the CSRF token sent, so
the token is not what refuses it), and nobody logged out gets further than the login page. A view
added without a line here fails the test."""
from __future__ import annotations

import re

import pytest

from tests.console.consolekit import csrf_of, log_in

ROLES = ("admin", "compliance", "agent", "manager")
EVERYONE = ROLES
READERS = ("admin", "compliance", "manager")          # policies and experiments: compliance's, managers read
EDITORS = ("admin", "compliance")
AGENTS = ("admin", "agent")

# (method, rule) -> the roles that may use it.
ALLOWED = {
    ("GET", "/accounts"): EVERYONE,
    ("GET", "/accounts/<path:account_id>"): EVERYONE,
    ("GET", "/dashboard"): EVERYONE,
    ("GET", "/dashboard/report"): EVERYONE,
    ("GET", "/queue"): ("admin", "agent", "manager"),
    ("GET", "/queue/<path:account_id>"): AGENTS,
    ("POST", "/queue/<path:account_id>"): AGENTS,
    ("POST", "/queue/<path:account_id>/outcome"): AGENTS,
    ("POST", "/queue/<path:account_id>/release"): AGENTS,
    ("GET", "/policies"): READERS,
    ("GET", "/policies/schema.json"): READERS,
    ("GET", "/policies/whatif/<digest>"): READERS,
    ("POST", "/policies/check"): EDITORS,
    ("POST", "/policies/save"): EDITORS,
    ("POST", "/policies/whatif"): EDITORS,
    ("POST", "/policies/propose"): EDITORS,
    ("POST", "/policies/<digest>/approve"): EDITORS,
    ("POST", "/policies/<digest>/withdraw"): EDITORS,
    ("GET", "/experiments"): READERS,
    ("GET", "/experiments/<name>"): READERS,
    ("POST", "/experiments/<name>/refresh"): READERS,      # recomputes the results: changes nothing else
    ("POST", "/experiments/start"): EDITORS,
    ("POST", "/experiments/<name>/stop"): EDITORS,
    ("POST", "/experiments/<name>/resume"): EDITORS,
    ("POST", "/experiments/<name>/propose"): EDITORS,
    ("POST", "/experiments/<name>/approve"): EDITORS,
    ("POST", "/experiments/<name>/withdraw"): EDITORS,
    ("GET", "/admin/users"): ("admin",),
    ("POST", "/admin/users"): ("admin",),
    ("POST", "/admin/users/<path:username>"): ("admin",),
    ("GET", "/admin/keys"): ("admin",),
    ("POST", "/admin/keys"): ("admin",),
    ("POST", "/admin/keys/<int:key_no>/revoke"): ("admin",),
    ("GET", "/admin/audit"): ("admin", "manager"),
    ("POST", "/admin/audit/verify"): ("admin", "manager"),   # reads the chain: changes nothing
    ("GET", "/admin/ticks"): ("admin", "manager"),
}
OPEN = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
        ("GET", "/console/static/<path:filename>")}
ARGS = {"account_id": "ACC0000002", "key_no": "1", "username": "agent", "name": "no-such-experiment",
        "digest": "0" * 64, "filename": "console.css"}


def _views(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule.rule


def _url(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ARGS[m[1]], rule)


def test_every_console_view_is_in_the_table(app):
    assert set(_views(app)) == set(ALLOWED) | OPEN


def test_logged_out_everything_but_the_login_leads_to_the_login_page(app):
    client = app.test_client()
    for method, rule in ALLOWED:
        r = client.open(_url(rule), method=method)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next="), (method, rule)


@pytest.mark.parametrize("role", ROLES)
def test_each_view_refuses_the_roles_it_is_not_for(app, role):
    client = app.test_client()
    log_in(client, role)
    token = csrf_of(client.get("/accounts").get_data(as_text=True))
    for (method, rule), allowed in ALLOWED.items():
        r = client.open(_url(rule), method=method, data={"csrf_token": token} if method == "POST" else None)
        if role in allowed:
            assert r.status_code != 403 and not r.headers.get("Location", "").startswith("/login"), \
                (method, rule, r.status_code)
        else:
            assert r.status_code == 403, (method, rule, r.status_code)
            assert f"you are {role}" in r.get_data(as_text=True)


def test_every_console_answer_carries_the_security_headers(app):
    """Whatever the view answers (a page, a redirect, 403, 404), the console's headers are on
    it: a blueprint added without them would serve account data cacheable and frameable."""
    client = app.test_client()
    log_in(client, "admin")
    token = csrf_of(client.get("/accounts").get_data(as_text=True))
    for method, rule in sorted(set(ALLOWED) | OPEN):
        if rule == "/logout":
            continue                            # would end the session the loop runs in
        r = client.open(_url(rule), method=method, data={"csrf_token": token} if method == "POST" else None)
        # the CSP (a view may set a stricter one: the dashboard's report is framed by its page)
        assert "default-src 'none'" in r.headers.get("Content-Security-Policy", ""), (method, rule)
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (method, rule)
        assert r.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), (method, rule)
        if r.mimetype == "text/html":
            assert r.headers.get("Cache-Control") == "no-store", (method, rule)


def _nav_hrefs(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', nav)


def test_the_navigation_has_a_link_to_every_page_it_names_and_no_other(app):
    from arrears.console.nav import LINKS
    with app.test_request_context():
        from flask import url_for
        destinations = {url_for(link.endpoint) for link in LINKS}
    client = app.test_client()
    log_in(client, "admin")
    assert set(_nav_hrefs(client.get("/accounts").get_data(as_text=True))) == destinations
    assert destinations <= {rule for (method, rule) in ALLOWED if method == "GET"}


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_shows_a_link_exactly_when_its_page_opens(app, role):
    """For each role: every link shown answers 200, and every navigation destination that
    answers 200 is shown; both agree with the table above (the views' own role checks)."""
    from arrears.console.nav import LINKS
    with app.test_request_context():
        from flask import url_for
        destinations = [url_for(link.endpoint) for link in LINKS]
    client = app.test_client()
    log_in(client, role)
    for page in ("/accounts", "/dashboard"):
        shown = _nav_hrefs(client.get(page).get_data(as_text=True))
        opens = [url for url in destinations if client.get(url).status_code == 200]
        assert shown == opens, (role, page)
        assert set(shown) == {url for url in destinations if role in ALLOWED[("GET", url)]}, (role, page)


def test_a_link_is_current_on_its_own_pages(app):
    client = app.test_client()
    log_in(client, "admin")
    for page, label in (("/admin/users", "Users"), ("/admin/keys", "API keys"), ("/admin/ticks", "Tick runs"),
                        ("/admin/audit", "Audit log"), ("/accounts/ACC0000002", "Accounts"), ("/queue", "Work queue")):
        html = client.get(page).get_data(as_text=True)
        current = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', html)
        assert current == [label], (page, current)


def test_may_open_refuses_an_endpoint_without_a_role_check(app):
    from arrears.console.session import may_open
    with app.test_request_context(), pytest.raises(LookupError, match="console_session.login"):
        may_open(None, "console_session.login")
