"""The Arrears HTTP API: a Flask app factory, one blueprint per resource, served by waitress.

    from arrears.api import create_app
    from arrears.api.server import serve
    serve(create_app({"database_url": "sqlite:///arrears.db"}), host="127.0.0.1", port=8080)

See docs/api-guide.md.
"""
from arrears.api.app import create_app

__all__ = ["create_app"]
