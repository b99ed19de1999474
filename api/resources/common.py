"""Roles and parameters shared by the resources."""
from __future__ import annotations

from arrears.api.openapi.model import DIGEST, INSTANT
from arrears.api.problems import ApiProblem, invalid
from arrears.api.routing import Param

INTEGRATOR = ("integrator",)
COMPLIANCE = ("compliance",)
AGENT = ("agent",)
ADMIN = ("admin",)
OPEN = None          # no API key needed

LIMIT = Param("limit", lambda s: {"type": "integer", "minimum": 1, "maximum": s.max_page_size,
                                  "default": s.page_size},
              "Items per page.")
CURSOR = Param("cursor", {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "^[A-Za-z0-9_-]+$"},
               "The `next_cursor` of the previous page, exactly as this server issued it, with the same "
               "filters. Only issued cursors are valid: one made up or edited, or one issued for another "
               "list or other filters, is a 400 `invalid-parameter` problem naming `cursor`.")
AT = Param("at", INSTANT, "Decide as of this instant (RFC 3339 with an offset, 1970-2199); default now.")
POLICY = Param("policy", DIGEST,
               "Decide under this stored policy version (its digest); default the active policy.")


def policy_or_active(state, digest: str | None, where: dict):
    """The stored policy `digest`, or the active one; 422/400 problem if the digest is unknown.

    `where` is the field error location, e.g. {"pointer": "/policy"} or {"parameter": "policy"}.
    """
    if digest is None:
        return state.policies.active()
    policy = state.policies.get(digest)
    if policy is None:
        error = {**where, "detail": f"no stored policy version has digest {digest[:80]!r}"}
        if "parameter" in where:
            raise ApiProblem(400, "invalid-parameter", error["detail"], [error])
        raise invalid([error])
    return policy
