"""Deciding one account for a request: micro-batched when the batcher is on, as the
evaluated batch and the account's row in it (`arrears.api.decision_json` writes the answer).

Both decision endpoints go through here, so they count decisions the same way and
answer 503 alike when the batcher cannot take more work.
"""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api.batcher import Unavailable
from arrears.api.problems import ApiProblem
from arrears.engine.decisions.core import decide_batch
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.domain.batch import Batch


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc).replace(microsecond=0)


def _unavailable(exc: Unavailable) -> ApiProblem:
    return ApiProblem(503, "unavailable", f"no decision could be made now ({exc}); retry",
                      headers={"Retry-After": "1"})


def decide_given(state, account, events, policy, now: datetime | None) -> tuple[DecisionBatch, int]:
    """An account sent in the request, evaluated at `now` (None: the current second)."""
    if state.batcher is None:
        result = decide_batch(Batch.from_objects([account], [list(events)]), policy, _now(now)), 0
    else:
        try:
            result = state.batcher.evaluate(account, events, policy, now)
        except Unavailable as exc:          # overloaded, or shutting down
            raise _unavailable(exc) from None
    state.metrics.decided("decide")
    return result


def decide_stored(state, account_id: str, policy, now: datetime | None) -> tuple[DecisionBatch, int]:
    """A stored account and its history, evaluated at `now` (None: the current second).
    Raises `arrears.engine.store.UnknownAccount` if no such account is stored."""
    if state.batcher is None:
        account, events = state.store.get_account(account_id)
        result = decide_batch(Batch.from_objects([account], [events]), policy, _now(now)), 0
    else:
        try:
            result = state.batcher.evaluate_stored(state.store, account_id, policy, now)
        except Unavailable as exc:
            raise _unavailable(exc) from None
    state.metrics.decided("stored")
    return result
