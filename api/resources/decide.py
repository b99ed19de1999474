"""POST /v1/decide: stateless decisions for accounts the caller sends (nothing is stored)."""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api.deciding import decide_given
from arrears.api.decision_json import decision_dict
from arrears.api.inputs import parse_account, parse_events
from arrears.api.openapi.model import ref
from arrears.api.params import parse_time
from arrears.api.problems import from_input_error, invalid
from arrears.api.resources.common import INTEGRATOR, policy_or_active
from arrears.api.routing import Param, Resource
from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.errors import InputError

resource = Resource("decide", "Decisions", "What the engine decides, and why.")

TRACE = Param("trace", {"type": "boolean", "default": False},
              "`true` adds `trace` to each decision: every step of the evaluation in plain words "
              "(the explanation of the decision; about four times the size of the rest).")

DESCRIPTION = """\
Decides for one account (`{"account": …, "events": […]}`) or for several at one moment
(`{"items": [{"account": …, "events": […]}, …]}`, up to the configured maximum), under
the active policy or the stored version named by `policy`, as of `at` (default now).
Nothing is stored. A single decision comes back as a `Decision`; a batch as
`{"decisions": […]}` in item order. What to do, when, and why (`action.reason`, each
suppression's `reason`, the priority's contributions) is always there; `?trace=true`
adds `trace`, the step-by-step explanation.

Items of one batch are evaluated together, as the scheduled tick evaluates a
portfolio: accounts sharing a `debtor_id` count each other's contacts toward per-debtor
caps. Account ids must be unique within a batch."""


@resource.route("POST", "/v1/decide", roles=INTEGRATOR, summary="Decide for accounts you send",
                description=DESCRIPTION, query=(TRACE,),
                body=(("items", "DecideBatchRequest"), (None, "DecideRequest")),
                responses={200: ("The decision, or the decisions of a batch",
                                 {"oneOf": [ref("Decision"), ref("DecideBatchResponse")]})})
def decide(call):
    """POST /v1/decide: decide for accounts you send."""
    body = call.body
    try:
        at = None if body.get("at") is None else parse_time(body["at"], "at")
    except InputError as exc:
        raise from_input_error(exc) from None
    policy = policy_or_active(call.state, body.get("policy"), {"pointer": "/policy"})
    if call.variant == "DecideBatchRequest":
        return _decide_items(call, body["items"], policy, at)
    try:
        account = parse_account(body["account"], "account")
        events = parse_events(body.get("events"), account.currency, "events")
    except InputError as exc:
        raise from_input_error(exc) from None
    batch, row = decide_given(call.state, account, events, policy, at)
    return decision_dict(batch, row, call.query["trace"])


def _decide_items(call, items: list, policy, at: datetime | None):
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
    result = decide_batch(Batch.from_objects(accounts, histories), policy, now)
    call.state.metrics.decided("decide_batch", len(accounts))
    trace = call.query["trace"]
    return {"decisions": [decision_dict(result, row, trace) for row in range(len(result))]}
