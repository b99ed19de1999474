"""The OpenAPI 3.1 description of the API, generated from the route specs (`build`)."""
from arrears.api.openapi.document import build

__all__ = ["build"]
