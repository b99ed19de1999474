"""Helpers for the console tests: a store with accounts and users, a logged-in test client.

(A module of its own, named so no other test directory's helpers clash with it.)
"""
from __future__ import annotations

import re
from datetime import date

from arrears.console.passwords import hash_password
from arrears.engine.demo import load_demo
from arrears.engine.store import Store

PASSWORDS = {"admin": "admin password 0001", "compliance": "compliance pass 02",
             "agent": "agent password 003", "manager": "manager password 04"}


def make_store(path, demo: bool = True) -> Store:
    """A real SQLite store at `path` with the demo portfolio and one user per role (named after it)."""
    store = Store(f"sqlite:///{path}")
    if demo:
        load_demo(store, date(2026, 12, 1))
    for role, password in PASSWORDS.items():
        store.users.add(role, role, hash_password(password), by="test")
    return store


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, username: str, password: str | None = None, next_path: str = ""):
    """Post the login form as a browser would (fetching it first for its CSRF token)."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                       "csrf_token": token, "next": next_path})


def logged_in(app, role: str):
    """A test client of `app` logged in as the user named after `role` (see `make_store`)."""
    client = app.test_client()
    log_in(client, role)
    return client


def post_form(client, path: str, **form):
    """Post a form as a logged-in browser would: with the session's CSRF token."""
    token = csrf_of(client.get("/accounts").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **form})
