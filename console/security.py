"""Response headers that keep the console's pages to themselves.

A Content-Security-Policy that allows scripts, styles, images, fonts and connections from this
site only (no CDN, no inline script), forbids framing and sends forms only here; plus
nosniff, a same-origin referrer and no caching of pages that show account data. Applied to the
console's pages (not the API's JSON answers, which have their own content types).
"""
from __future__ import annotations

from flask import Flask, request

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def init_app(app: Flask, blueprints: set[str]) -> None:
    """Add the headers to every response of the console's `blueprints` (their names), and `/`."""
    @app.after_request
    def _headers(response):
        if request.blueprint in blueprints or request.path == "/":
            response.headers.setdefault("Content-Security-Policy", CSP)     # a view may set a stricter one
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers.setdefault("X-Frame-Options", "DENY")
            if response.mimetype == "text/html":
                response.headers["Cache-Control"] = "no-store"
        return response
