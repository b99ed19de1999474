"""The Flask application factory.

    from arrears.api import create_app
    app = create_app({"database_url": "sqlite:///arrears.db",
                      "api": {"keys": {"<a long random key>": "integrator"}}})

One blueprint per resource (`api/resources/`), JSON problem documents for every
error (`api/problems.py`), request metrics (`api/metrics.py`), an `X-Request-Id` on every
response and log record (`api/requestids.py`). Nothing lives in
module globals: each app owns its store, policies, keys and counters.
"""
from __future__ import annotations

import logging

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from arrears.api import config as api_config
from arrears.api import metrics, openapi, problems, requestids
from arrears.api.resources import RESOURCES
from arrears.api.state import ApiState

log = logging.getLogger("arrears.api")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the console's), opened without building the signing
    serializer for a request that sends no session cookie, as every API call does: Flask
    builds it first, about 15 us per request, a tenth of Flask's share of a decision."""

    def open_session(self, app, request):
        """An empty session for a request without the cookie (the serializer is not needed to
        read it), else what Flask does."""
        name = self.get_cookie_name(app)
        if app.secret_key and (name not in request.environ.get("HTTP_COOKIE", "")
                               or not request.cookies.get(name)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(config: dict | None = None, *, store=None, plugin_manager=None, clock=None) -> Flask:
    """Build the API app from `config` (see `arrears.api.config`); `store` reuses an open Store;
    `plugin_manager` gives the plugins whose facts policies may use (default: the installed ones);
    `clock` (a function returning an aware datetime) is the time the console's work queue decides
    and records at (default: the real time; tests give it a working day)."""
    settings = api_config.load(config)
    app = Flask("api")
    app.session_interface = CookieSessions()
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.url_map.strict_slashes = False
    state = ApiState(settings, store=store, plugin_manager=plugin_manager, clock=clock)
    state.document = openapi.build(RESOURCES, settings)
    app.extensions["arrears"] = state
    if not len(state.keys):
        log.warning("no API keys are configured: every endpoint except /healthz, /metrics and "
                    "/v1/openapi.json answers 401 (set api.keys or ARREARS_API_KEYS)")
    problems.init_app(app)
    metrics.init_app(app, state.metrics)
    requestids.init_app(app)             # outermost: the id is set before anything is timed or logged
    for resource in RESOURCES:
        app.register_blueprint(resource.blueprint)
    from arrears.console import init_app as init_console
    init_console(app, state, (config or {}).get("console"))
    return app


def state_of(app: Flask) -> ApiState:
    """The `ApiState` of an app made by `create_app`."""
    return app.extensions["arrears"]
