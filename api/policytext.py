"""Policy text sent to the API: compiled as `arrears validate` compiles a file, never read as a path.

Two places take a policy in a request: `POST /v1/policies` (and `:validate`,
`:simulate`) take it as the YAML body, `POST /v1/decide` as the `candidate` field of
its JSON body. Both compile it here, with the plugin facts the app knows, and report
an invalid one with every problem's line and column.

At most `COMPILES_AT_ONCE` texts are compiled at a time in a process; other requests wait
their turn. Compiling is pure Python under one interpreter lock, so running more at once
would not finish sooner, but each holds its document's parse tree (about 1 KiB a node, up
to `yamlsrc.MAX_NODES` nodes): 32 hostile requests at once must not cost 32 of them.
"""
from __future__ import annotations

import threading

from arrears.api.problems import policy_errors
from arrears.engine.domain.errors import PolicyError
from arrears.engine.policy.load import load_checked

COMPILES_AT_ONCE = 1


def compile_gate() -> threading.BoundedSemaphore:
    """The semaphore an app's state holds to bound the policy texts compiled at once."""
    return threading.BoundedSemaphore(COMPILES_AT_ONCE)


def compile_text(state, text: str, filename: str):
    """(policy, text) of YAML `text`, compiled as `state.policies` compiles (the plugin facts,
    the company's own profiles besides the shipped ones), waiting for `state.compile_gate`;
    PolicyError with every problem, located in `filename` (lines count from the text's first line)."""
    policy, _, text = compile_checked(state, text, filename)
    return policy, text


def compile_checked(state, text: str, filename: str):
    """`compile_text`, also returning the document with its positions, which the policy warnings
    locate their findings with: (policy, document, text)."""
    # load_policy takes a one-line string naming a file as a path: text always ends in a newline.
    text = text if text.endswith("\n") else text + "\n"
    registry = state.policies
    with state.compile_gate:
        policy, doc = load_checked(text, filename=filename, facts=registry.facts,
                                   company_profiles=registry.profiles)
    return policy, doc, text


def problems(exc: PolicyError) -> list[dict]:
    """Every problem of an invalid policy: line, column, JSON pointer into the policy, detail."""
    return [{"line": e["line"], "column": e["column"], "pointer": e["pointer"], "detail": e["detail"]}
            for e in policy_errors(exc)]
