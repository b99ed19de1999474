"""Decisions as the API's JSON: the engine's one writer, with the batch's columns kept per batch.

The JSON is written by `arrears.engine.decisions.decision_json` (the shape `Decision.to_dict()`
gives too), straight from the `DecisionBatch`'s columns: no `Decision`, and no trace
unless asked for. What is the API's own is the concurrency: the request threads of one
micro-batch share its `Columns`, made once under a lock and kept with the batch.
"""
from __future__ import annotations

import threading

from arrears.engine.decisions import decision_json
from arrears.engine.decisions.result import DecisionBatch

_LOCK = threading.Lock()
_KEY = "api.columns"


def columns_of(db: DecisionBatch) -> decision_json.Columns:
    """The batch's `Columns`, made once and kept with the batch."""
    columns = db.cache.get(_KEY)
    if columns is None:
        with _LOCK:
            columns = db.cache.get(_KEY)
            if columns is None:
                columns = db.cache[_KEY] = decision_json.Columns(db)
    return columns


def decision_dict(db: DecisionBatch, row: int, trace: bool = False) -> dict:
    """Row `row` of `db` as the API's Decision JSON (with `trace` if asked)."""
    return decision_json.decision_dict(db, row, trace, columns_of(db))
