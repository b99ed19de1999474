"""Policy text sent to the API: compiled as `arrears validate` compiles a file, never read as a path.

Two places take a policy in a request: `POST /v1/policies` (and `:validate`,
`:simulate`) take it as the YAML body, `POST /v1/decide` as the `candidate` field of
its JSON body. Both compile it here, with the plugin facts the app knows, and report
an invalid one with every problem's line and column.
"""
from __future__ import annotations

from arrears.api.problems import policy_errors
from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy.load import load_checked


def compile_text(text: str, filename: str, facts=None, profiles=None):
    """(policy, text) of YAML `text`, which may use the plugin `facts`, with the company's own
    `profiles` directory besides the shipped profiles; PolicyError with every problem, located
    in `filename` (lines count from the text's first line)."""
    policy, _, text = compile_checked(text, filename, facts, profiles)
    return policy, text


def compile_checked(text: str, filename: str, facts=None, profiles=None):
    """`compile_text`, also returning the document with its positions, which the policy warnings
    locate their findings with: (policy, document, text)."""
    # load_policy takes a one-line string naming a file as a path: text always ends in a newline.
    text = text if text.endswith("\n") else text + "\n"
    policy, doc = load_checked(text, filename=filename, facts=facts, company_profiles=profiles)
    return policy, doc, text


def problems(exc: PolicyError) -> list[dict]:
    """Every problem of an invalid policy: line, column, JSON pointer into the policy, detail."""
    return [{"line": e["line"], "column": e["column"], "pointer": e["pointer"], "detail": e["detail"]}
            for e in policy_errors(exc)]
