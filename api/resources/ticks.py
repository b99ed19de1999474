"""Tick runs (admin): POST /v1/ticks runs a tick now; GET /v1/ticks and /v1/ticks/{run_id} read runs."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app

from arrears.api import cursors
from arrears.api.openapi.model import ref
from arrears.api.params import parse_time
from arrears.api.problems import ApiProblem, from_input_error
from arrears.api.resources.common import ADMIN, CURSOR, LIMIT
from arrears.api.routing import Param, Resource
from arrears.api.serialize import tick_run
from arrears.engine.domain.errors import InputError
from arrears.engine.store import tickruns
from arrears.engine.store.db import read_transaction
from arrears.engine.tick.launcher import ShuttingDown, TickBusy

resource = Resource("ticks", "Ticks", "Runs of the tick, whoever started them; run one now (admin).")

STATUS = Param("status", {"type": "string", "enum": list(tickruns.STATUSES)}, "Only runs with this status.")
TRIGGER = Param("trigger", {"type": "string", "enum": list(tickruns.TRIGGERS)},
                "Only runs started this way: `scheduled`, `cli` (`arrears tick`) or `api`.")

POST_DESCRIPTION = """\
Starts one tick in the background, deciding as of `at` (default now), and answers at
once with 202 and the run (`pending`, or further along already); follow its `Location`
(`GET /v1/ticks/{run_id}`) for the status and, once finished, the summary. Under
`arrears serve` the run uses the scheduler's executor and dispatcher, so it delivers;
an API process without a scheduler evaluates and queues, and the scheduled tick
delivers. A tick already running (scheduled, `arrears tick`, or an earlier request) is
refused with 409 naming its run; nothing is recorded then. The run is recorded in any
case where it was accepted: if another process took the lease in the same instant, it
ends `skipped` with the reason in its summary."""


def _launcher(call):
    return call.state.launcher(current_app)


def _row(call, run_id: int):
    with read_transaction(call.state.store.engine) as conn:
        return tickruns.get(conn, run_id)


@resource.route("POST", "/v1/ticks", roles=ADMIN, summary="Run a tick now", operation_id="start_tick",
                description=POST_DESCRIPTION, body=((None, "TickRequest"),),
                response_headers={202: {"Location": {"required": True, "schema": {"type": "string"},
                                                     "description": "The run: `/v1/ticks/{run_id}`."}}},
                responses={202: ("Accepted: the run, as recorded so far", ref("TickRun")),
                           409: ("A tick is running already", ref("Problem")),
                           503: ("The server is shutting down", ref("Problem"))})
def start_tick(call):
    """POST /v1/ticks: run a tick now."""
    try:
        raw = call.body.get("at")
        at = datetime.now(timezone.utc) if raw is None else parse_time(raw, "at")
    except InputError as exc:
        raise from_input_error(exc) from None
    try:
        run_id = _launcher(call).launch(at)
    except TickBusy as exc:
        raise ApiProblem(409, "conflict", f"{exc}; try again when it has finished") from None
    except ShuttingDown as exc:
        raise ApiProblem(503, "unavailable", str(exc), headers={"Retry-After": "5"}) from None
    return tick_run(_row(call, run_id)), 202, {"Location": f"/v1/ticks/{run_id}"}


@resource.route("GET", "/v1/ticks/{run_id}", roles=ADMIN, summary="A tick run", operation_id="get_tick",
                responses={200: ("The run: status, times, and the summary once finished", ref("TickRun"))})
def get_tick(call, run_id):
    """GET /v1/ticks/{run_id}: a tick run."""
    row = _row(call, int(run_id)) if run_id.isascii() and run_id.isdigit() and len(run_id) < 19 else None
    if row is None:
        raise ApiProblem(404, "not-found", f"no tick run has id {run_id[:40]!r}")
    return tick_run(row)


@resource.route("GET", "/v1/ticks", roles=ADMIN, summary="Recent tick runs", operation_id="list_ticks",
                description="Tick runs newest first, of every trigger (scheduled, cli, api, delivery) unless "
                            "filtered.", query=(STATUS, TRIGGER, LIMIT, CURSOR),
                responses={200: ("A page of runs", ref("TickRunPage"))})
def list_ticks(call):
    """GET /v1/ticks: recent tick runs."""
    q = call.query
    filters = {"status": q["status"], "trigger": q["trigger"]}
    after = cursors.decode("ticks", filters, q["cursor"], cursors.is_int)
    with read_transaction(call.state.store.engine) as conn:
        rows = tickruns.page(conn, after=after, limit=q["limit"], **filters)
    last = rows[-1].id if len(rows) == q["limit"] else None
    return {"items": [tick_run(r) for r in rows], "next_cursor": cursors.encode("ticks", filters, last)}
