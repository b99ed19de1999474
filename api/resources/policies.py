"""Policies: list and read versions, validate or simulate a candidate, upload and activate a new version."""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api import cursors
from arrears.api.bodies import YAML_MEDIA
from arrears.api.openapi.model import ref
from arrears.api.policytext import compile_checked, problems
from arrears.api.problems import ApiProblem, input_message
from arrears.api.resources.common import AT, COMPLIANCE, CURSOR, LIMIT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import policy_version
from arrears.engine.domain.errors import InputError, PolicyError
from arrears.engine.policy.warnrules import policy_warnings
from arrears.engine.simulate import DEFAULT_SAMPLE, from_work_queue, simulate
from arrears.engine.store import policyvers
from arrears.engine.store.db import read_transaction

resource = Resource("policies", "Policies", "Collections policy versions (compliance).")
UPLOAD = "<upload>"     # the file name problems are reported against
SAMPLE = Param("sample", {"type": "integer", "minimum": 0, "maximum": 100, "default": DEFAULT_SAMPLE},
               "Accounts shown per sample (stage changes, newly suppressed, newly released).")


def _compile(data: bytes, state):
    """(policy, source text, document) of an uploaded YAML body, compiled as the app's policy
    registry compiles (its plugin facts and the company profiles); PolicyError with every problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, "malformed-request", f"the policy is not UTF-8 text (byte {exc.start})") from None
    policy, doc, text = compile_checked(state, text, UPLOAD)
    return policy, text, doc


@resource.route("GET", "/v1/policies", roles=COMPLIANCE, summary="List policy versions",
                operation_id="list_policies", description="Every stored version, newest first.",
                query=(LIMIT, CURSOR), responses={200: ("A page of versions", ref("PolicyPage"))})
def list_policies(call):
    """GET /v1/policies: list policy versions."""
    q = call.query
    after = cursors.decode("policies", {}, q["cursor"], cursors.is_int)
    with read_transaction(call.state.store.engine) as conn:
        rows = policyvers.page(conn, after, q["limit"])
    last = rows[-1].id if len(rows) == q["limit"] else None
    return {"items": [policy_version(r) for r in rows], "next_cursor": cursors.encode("policies", {}, last)}


@resource.route("GET", "/v1/policies/active", roles=COMPLIANCE, summary="The active policy",
                operation_id="active_policy", responses={200: ("The active version and its YAML",
                                                               ref("PolicySource"))})
def active_policy(call):
    """GET /v1/policies/active: the active policy."""
    with read_transaction(call.state.store.engine) as conn:
        row = policyvers.active_row(conn)
    if row is None:
        raise ApiProblem(404, "not-found", "no policy is active")
    return policy_version(row, source=True)


@resource.route("GET", "/v1/policies/{digest}", roles=COMPLIANCE, summary="A stored policy version",
                operation_id="get_policy", responses={200: ("The version and its YAML", ref("PolicySource"))})
def get_policy(call, digest):
    """GET /v1/policies/{digest}: a stored policy version."""
    with read_transaction(call.state.store.engine) as conn:
        row = policyvers.row_by_digest(conn, digest)
    if row is None:
        raise ApiProblem(404, "not-found", f"no stored policy version has digest {digest[:80]!r}")
    return policy_version(row, source=True)


def _compile_or_422(call, outcome: str):
    """(policy, text) of the body, compiled with the app's plugin facts; a 422 problem
    listing every problem (line and column) if it is invalid, `outcome` saying what did
    not happen."""
    try:
        return _compile(call.body, call.state)[:2]
    except PolicyError as exc:
        raise ApiProblem(422, "invalid-policy", f"the policy has {len(exc.problems)} problem(s); {outcome}",
                         problems(exc)) from None


@resource.route("POST", "/v1/policies:validate", roles=COMPLIANCE, summary="Check a candidate policy",
                operation_id="validate_policy",
                description="Checks the YAML in the body as `arrears validate` does (schema, semantics, "
                            "profiles) and reports every problem with its line and column. A valid policy "
                            "also gets its `warnings` (each with a rule id, line, column and whether the "
                            "policy silenced it), compared with the active policy (stage ids) and the "
                            "stored history (accounts per stage, contact events, currencies) as "
                            "`arrears validate --against active --db` does; warnings never make it "
                            "invalid. Stores nothing. 200 whether or not the policy is valid; see `valid`.",
                body=((None, "PolicyText"),), body_media=YAML_MEDIA,
                responses={200: ("The verdict", ref("ValidationResult"))})
def validate_policy(call):
    """POST /v1/policies:validate: check a candidate policy."""
    try:
        policy, _, doc = _compile(call.body, call.state)
    except PolicyError as exc:
        return {"valid": False, "policy": None, "problems": problems(exc), "warnings": []}
    try:
        active = call.state.policies.active()
    except LookupError:
        active = None
    found = policy_warnings(policy, doc, UPLOAD, against=active, portfolio=call.state.store.history_names())
    return {"valid": True, "problems": [], "warnings": [w.to_dict() for w in found],
            "policy": {"name": policy.name, "version": policy.version, "digest": policy.digest}}


@resource.route("POST", "/v1/policies:simulate", roles=COMPLIANCE, summary="Simulate a candidate policy",
                operation_id="simulate_policy",
                description="Decides every stored account under the YAML policy in the body and under the "
                            "active policy at the same instant (`at`, default now) and compares them: "
                            "accounts per stage and action, stage changes with a sample of explained "
                            "accounts, newly suppressed and released accounts, incentives offered, contacts "
                            "per channel and day against `api.work_queue_capacity`. Read-only: nothing is "
                            "stored or sent. Runs over the whole portfolio in this request; for large "
                            "portfolios prefer `arrears simulate`. An invalid policy: 422 with every problem "
                            "(line and column) in `errors`. See docs/simulation.md.",
                query=(AT, SAMPLE), body=((None, "PolicyDocument"),), body_media=YAML_MEDIA,
                responses={200: ("The comparison", ref("SimulationReport"))})
def simulate_policy(call):
    """POST /v1/policies:simulate: compare a candidate policy with the active one."""
    candidate, _ = _compile_or_422(call, "nothing was simulated")
    state = call.state
    at = call.query["at"] or datetime.now(timezone.utc).replace(microsecond=0)
    report = simulate(state.store, state.policies.active(), candidate, at, sample=call.query["sample"],
                      capacity=from_work_queue(state.settings.work_queue_capacity))
    state.metrics.decided("simulate", 2 * report.accounts)
    return report.to_dict()


@resource.route("POST", "/v1/policies", roles=COMPLIANCE, summary="Upload and activate a policy",
                operation_id="upload_policy",
                description="Validates the YAML in the body; if valid, stores it as a new version "
                            "(once per digest) and makes it the active policy at once (audited). An "
                            "invalid policy changes nothing: 422 with every problem in `errors`. 201 when "
                            "the version is new, 200 when it was stored before (it is re-activated). 409 "
                            "while an experiment runs or is paused: its champion is the active policy (stop "
                            "the experiment, or promote a challenger, first).",
                body=((None, "PolicyDocument"),), body_media=YAML_MEDIA,
                responses={200: ("Already stored; now active", ref("PolicySource")),
                           201: ("Stored and activated", ref("PolicySource")),
                           409: ("An experiment is running or paused; nothing was changed", ref("Problem"))})
def upload_policy(call):
    """POST /v1/policies: upload and activate a policy."""
    policy, text = _compile_or_422(call, "nothing was changed")
    with read_transaction(call.state.store.engine) as conn:
        existed = policyvers.row_by_digest(conn, policy.digest) is not None
    try:
        call.state.policies.activate(policy, text)
    except InputError as exc:
        raise ApiProblem(409, "conflict", input_message(exc)) from None
    with read_transaction(call.state.store.engine) as conn:
        row = policyvers.row_by_digest(conn, policy.digest)
    return policy_version(row, source=True), 200 if existed else 201
