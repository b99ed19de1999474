"""The web console: pages for compliance staff, collectors, managers and admins.

Served by `arrears serve` at `/`, in the same process and on the same port as the API, from
its own blueprints (`init_app` registers them on the API's Flask app). Views call the engine
and the store directly, never the HTTP API. People log in with a username and password
(`arrears users add`); see docs/console.md.

    passwords.py  argon2 hashing and the password rules
    settings.py   the console's settings (`console:` in the config file, or the environment)
    session.py    login, logout, the signed session cookie, roles, CSRF, slowing down guessing
    nav.py        the main navigation: a link shown when its view's role check lets the user in
    security.py   response headers: a Content-Security-Policy with no outside source, no framing
    explorer.py   the decision explorer: find an account, see why it is treated as it is
    admin.py      users and roles (admin), tick runs (admin, manager)
    keys.py       API keys kept in the database (admin): make, list, revoke
    auditlog.py   the audit log with search and its verification (admin, manager)
    dashboard.py  the managers' dashboard: the report of the last months, kept after the ticks
    queue.py      the collectors' work queue: claim, call script, record outcomes
    experiments.py champion/challenger experiments: results kept after the ticks, start, stop, promote
    workbench.py  the policy workbench: edit, check, test, what-if, versions, propose and approve
    policywork.py the workbench's checks, tests, diffs and simulations (engine calls, no pages)
    whatifjobs.py the what-if as a background job: progress and result kept in the database
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask, state, config: dict | None = None) -> None:
    """Add the console to the API's app: its settings, session signing key, headers and pages.
    `state` is the app's `ApiState` (store, policies); `config` the `console:` settings."""
    # auditlog and keys add their pages to the admin blueprint when imported
    from arrears.console import (admin, auditlog, dashboard, experiments, explorer, keys, nav,  # noqa: F401
                                 queue, security, session, whatifjobs, workbench)
    from arrears.console.settings import load
    settings = load(config)
    app.extensions["arrears.console"] = settings
    session.init_app(app, state, settings)
    blueprints = [m.blueprint for m in (session, explorer, admin, dashboard, queue, workbench, experiments)]
    security.init_app(app, {b.name for b in blueprints})      # every console page gets the headers
    nav.init_app(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.extensions["arrears.whatif"] = whatifjobs.WhatIfJobs(state)   # the what-if's background jobs
