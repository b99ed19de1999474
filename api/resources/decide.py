"""POST /v1/decide: stateless decisions for accounts the caller sends (nothing is stored),
under the active policy, a stored version, or a candidate policy sent with them."""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api.deciding import decide_given
from arrears.api.decision_json import decision_dict
from arrears.api.inputs import parse_account, parse_events
from arrears.api.openapi.model import ref
from arrears.api.params import parse_time
from arrears.api.policytext import compile_text, problems
from arrears.api.problems import ApiProblem, from_input_error, invalid
from arrears.api.resources.common import COMPLIANCE, INTEGRATOR, policy_or_active
from arrears.api.routing import Param, Resource
from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.errors import InputError, PolicyError

resource = Resource("decide", "Decisions", "What the engine decides, and why.")
CANDIDATE = "<candidate>"       # the file name a candidate's problems are reported against

TRACE = Param("trace", {"type": "boolean", "default": False},
              "`true` adds `trace` to each decision: every step of the evaluation in plain words "
              "(the explanation of the decision; about four times the size of the rest).")

DESCRIPTION = """\
Decides for one account (`{"account": …, "events": […]}`) or for several at one moment
(`{"items": [{"account": …, "events": […]}, …]}`, up to the configured maximum), under
the active policy, the stored version named by `policy` (its digest), or the candidate
policy in `candidate` (YAML text), as of `at` (default now). Nothing is stored and
nothing is activated. Deciding under a policy other than the active one (`policy`
naming another version, or `candidate`) needs a compliance or admin key: 403 for
others. An invalid candidate is 422 `invalid-policy`, every problem with its `line`
and `column` in the candidate text (`pointer` `/candidate`). A single decision comes
back as a `Decision`; a batch as `{"decisions": […]}` in item order. What to do, when,
and why (`action.reason`, each suppression's `reason`, the priority's contributions) is
always there; `?trace=true` adds `trace`, the step-by-step explanation.

While a champion/challenger experiment runs (docs/experiments.md) and neither `policy` nor
`candidate` is given, each account is decided under its debtor's strategy: the one the tick
recorded for the debtor, else the one the tick would give it now (nothing is recorded). The
decision's `policy_digest` says which policy decided.

Items of one batch are evaluated together, as the scheduled tick evaluates a
portfolio: accounts sharing a `debtor_id` count each other's contacts toward per-debtor
caps. Account ids must be unique within a batch."""

_ITEM_KEYS = frozenset(("account", "events"))


def _plain_item(item) -> bool:
    """`{"account": {…}[, "events": [{…}, …]]}` and nothing else."""
    if type(item) is not dict or type(item.get("account")) is not dict or not item.keys() <= _ITEM_KEYS:
        return False
    events = item.get("events", [])
    return type(events) is list and all(type(e) is dict for e in events)


def fast_envelope(body, settings) -> bool:
    """True if `body` surely matches its envelope as the envelope validator sees it (accounts
    and events loosened to objects): the common shapes, an account with its events or `items`
    of them, without `at`, `policy` or `candidate`. A plain check, about 40 times faster than
    jsonschema on one account; anything else (False) goes through jsonschema, which words
    the errors."""
    if type(body) is not dict:
        return False
    if "items" not in body:
        return _plain_item(body)
    items = body["items"]
    return (len(body) == 1 and type(items) is list and 1 <= len(items) <= settings.max_batch_items
            and all(_plain_item(item) for item in items))


@resource.route("POST", "/v1/decide", roles=INTEGRATOR + COMPLIANCE, summary="Decide for accounts you send",
                description=DESCRIPTION, query=(TRACE,),
                body=(("items", "DecideBatchRequest"), (None, "DecideRequest")), fast_body=fast_envelope,
                responses={200: ("The decision, or the decisions of a batch",
                                 {"oneOf": [ref("Decision"), ref("DecideBatchResponse")]})})
def decide(call):
    """POST /v1/decide: decide for accounts you send."""
    body = call.body
    try:
        at = None if body.get("at") is None else parse_time(body["at"], "at")
    except InputError as exc:
        raise from_input_error(exc) from None
    policy = _chosen_policy(call, body.get("policy"), body.get("candidate"))
    strategies = None
    if body.get("policy") is None and body.get("candidate") is None:
        strategies = call.state.strategies(at or datetime.now(timezone.utc))
        strategies = strategies if strategies.live else None
    if call.variant == "DecideBatchRequest":
        return _decide_items(call, body["items"], policy, at, strategies)
    try:
        account = parse_account(body["account"], "account")
        events = parse_events(body.get("events"), account.currency, "events")
    except InputError as exc:
        raise from_input_error(exc) from None
    if strategies is not None:
        one = Batch.from_objects([account], [list(events)])
        arm = strategies.arms_for_batch(call.state.store, one, at or datetime.now(timezone.utc))[0]
        policy = strategies.policy_of(arm)
    batch, row = decide_given(call.state, account, events, policy, at)
    return decision_dict(batch, row, call.query["trace"])


def _chosen_policy(call, digest: str | None, candidate: str | None):
    """The policy to decide under: the active one, a stored version or a compiled candidate.

    Trying a policy that is not the active one is a compliance task: integrators may name
    the active digest, nothing else. Nothing is stored or activated here.
    """
    state = call.state
    if digest is not None and candidate is not None:
        raise invalid([{"pointer": "/candidate", "detail": "give either `policy` or `candidate`, not both"}])
    if candidate is None and (digest is None or digest == state.policies.active().digest):
        return policy_or_active(state, digest, {"pointer": "/policy"})
    if call.principal is not None and not call.principal.may(COMPLIANCE):
        field = "candidate" if candidate is not None else "policy"
        raise ApiProblem(403, "forbidden", f"deciding under a policy other than the active one (`{field}`) "
                                           f"needs the compliance or admin role; the key has "
                                           f"{call.principal.role}")
    if candidate is None:
        return policy_or_active(state, digest, {"pointer": "/policy"})
    try:
        return compile_text(state, candidate, CANDIDATE)[0]
    except PolicyError as exc:
        errors = [{"pointer": "/candidate", "line": e["line"], "column": e["column"],
                   "detail": f"{e['pointer']}: {e['detail']}" if e["pointer"] else e["detail"]}
                  for e in problems(exc)]
        raise ApiProblem(422, "invalid-policy", f"the candidate policy has {len(errors)} problem(s); "
                                                f"nothing was decided", errors) from None


def _decide_items(call, items: list, policy, at: datetime | None, strategies=None):
    accounts, histories, errors, seen = [], [], [], {}
    for i, item in enumerate(items):
        try:
            account = parse_account(item["account"], f"items[{i}].account")
            events = parse_events(item.get("events"), account.currency, f"items[{i}].events")
        except InputError as exc:
            errors.append(from_input_error(exc).errors[0])
            continue
        if account.id in seen:
            errors.append({"pointer": f"/items/{i}/account/id",
                           "detail": f"repeats the account id of item {seen[account.id]}"})
        seen.setdefault(account.id, i)
        accounts.append(account)
        histories.append(events)
    if errors:
        raise invalid(errors)
    now = at or datetime.now(timezone.utc).replace(microsecond=0)
    trace = call.query["trace"]
    call.state.metrics.decided("decide_batch", len(accounts))
    if strategies is None:
        result = decide_batch(Batch.from_objects(accounts, histories), policy, now)
        return {"decisions": [decision_dict(result, row, trace) for row in range(len(result))]}
    # Per strategy, each a batch of whole debtors (so per-debtor caps still count them all).
    arms = strategies.arms_for_batch(call.state.store, Batch.from_objects(accounts, histories), now)
    out = [None] * len(accounts)
    for arm in dict.fromkeys(arms.tolist()):
        rows = [i for i, a in enumerate(arms.tolist()) if a == arm]
        result = decide_batch(Batch.from_objects([accounts[i] for i in rows], [histories[i] for i in rows]),
                              strategies.policy_of(arm), now)
        for j, i in enumerate(rows):
            out[i] = decision_dict(result, j, trace)
    return {"decisions": out}
