"""Champion/challenger experiments: list, results, start, stop, resume, promote (compliance).

Start, stop, resume and promote are audited (`experiment.started`, `.stopped`, `.resumed`,
`.promoted`) with `by`:
the calling key's id. docs/experiments.md explains the file, the results and the verdict.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from arrears.api.bodies import YAML_MEDIA
from arrears.api.openapi.model import ref
from arrears.api.policytext import problems
from arrears.api.problems import ApiProblem, input_message
from arrears.api.resources.common import COMPLIANCE
from arrears.api.resources.kpis import DATE
from arrears.api.routing import Param, Resource
from arrears.engine.domain.errors import InputError, PolicyError
from arrears.engine.domain.model import parse_date
from arrears.engine.experiments import lifecycle
from arrears.engine.experiments.results import experiment_results

resource = Resource("experiments", "Experiments", "Champion/challenger experiments (compliance).")
UPLOAD = "<experiment>"     # the file name problems are reported against
AT = Param("at", DATE, "Results as of the end of this day (YYYY-MM-DD); default now.")
CONFLICT = {409: ("The store refuses: one is running already, the name was used, no such challenger, "
                  "it is not running, or (resume) it is not paused or the cause of its pause still holds",
                  ref("Problem"))}


def _by(call) -> str:
    return "api" if call.principal is None else f"key:{call.principal.key_id}"


def _record(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "source"}


def _refused(exc: InputError) -> ApiProblem:
    return ApiProblem(409, "conflict", input_message(exc))


def _named(call, name: str) -> dict:
    row = call.state.store.experiments.get(name)
    if row is None:
        raise ApiProblem(404, "not-found", f"no experiment called {name[:80]!r}")
    return row


@resource.route("GET", "/v1/experiments", roles=COMPLIANCE, summary="List experiments",
                operation_id="list_experiments", description="Every experiment started, newest first.",
                responses={200: ("The experiments", ref("ExperimentList"))})
def list_experiments(call):
    """GET /v1/experiments: every experiment, newest first."""
    return {"items": [_record(r) for r in call.state.store.experiments.listing()]}


@resource.route("GET", "/v1/experiments/{name}", roles=COMPLIANCE, summary="An experiment's results",
                operation_id="get_experiment", query=(AT,),
                description="Per-strategy KPIs over the experiment's period (its start to its end, or `at`), "
                            "the primary metric's difference for each challenger with its 95% confidence "
                            "interval and p-value (two proportions for counts, Welch for per-debtor rates), "
                            "the sample-ratio check, guardrail alarms and a verdict in plain words. Reads the "
                            "whole portfolio: seconds for 100,000 accounts.",
                responses={200: ("The results", ref("ExperimentResults"))})
def get_experiment(call, name):
    """GET /v1/experiments/{name}: the results."""
    _named(call, name)
    now = datetime.now(timezone.utc)
    if call.query["at"]:
        try:
            day = parse_date(call.query["at"], "at")
        except InputError as exc:
            detail = input_message(exc)
            raise ApiProblem(400, "invalid-parameter", f"at: {detail}", [{"parameter": "at", "detail": detail}]) \
                from None
        now = min(now, datetime.combine(day, time(23, 59, 59), timezone.utc))
    return experiment_results(call.state.store, name, now=now, costs=call.state.settings.kpi_costs,
                              facts=call.state.policies.facts, profiles=call.state.policies.profiles).to_dict()


@resource.route("POST", "/v1/experiments", roles=COMPLIANCE, summary="Start an experiment",
                operation_id="start_experiment",
                description="Checks the experiment file in the body (every problem with its line and column: "
                            "422 `invalid-experiment`), then starts it: the active policy is the champion, "
                            "each challenger a stored policy version. Every account becomes due, so the next "
                            "tick decides each under its debtor's strategy. One experiment runs at a time "
                            "(409 otherwise). Audited.",
                body=((None, "ExperimentDocument"),), body_media=YAML_MEDIA,
                responses={201: ("Started", ref("ExperimentRecord")),
                           422: ("The file has problems", ref("Problem")), **CONFLICT})
def start_experiment(call):
    """POST /v1/experiments: start the experiment in the body."""
    try:
        text = call.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiProblem(400, "malformed-request", f"the file is not UTF-8 text (byte {exc.start})") from None
    try:
        row = lifecycle.start(call.state.store, UPLOAD, text=text, by=_by(call), facts=call.state.policies.facts,
                              profiles=call.state.policies.profiles)
    except PolicyError as exc:
        raise ApiProblem(422, "invalid-experiment", f"the experiment file has {len(exc.problems)} problem(s); "
                                                    "nothing was started", problems(exc)) from None
    except InputError as exc:
        raise _refused(exc) from None
    return _record(row), 201


@resource.route("POST", "/v1/experiments/{name}/stop", roles=COMPLIANCE, summary="Stop an experiment",
                operation_id="stop_experiment",
                description="Ends the running experiment: every debtor is decided by the champion again "
                            "from the next tick. Audited.",
                responses={200: ("Stopped", ref("ExperimentRecord")), **CONFLICT})
def stop_experiment(call, name):
    """POST /v1/experiments/{name}/stop."""
    _named(call, name)
    try:
        return _record(lifecycle.stop(call.state.store, name, by=_by(call)))
    except InputError as exc:
        raise _refused(exc) from None


@resource.route("POST", "/v1/experiments/{name}/resume", roles=COMPLIANCE, summary="Resume a paused experiment",
                operation_id="resume_experiment",
                description="Puts an experiment the tick paused (`paused_reason`) back to running, once the "
                            "cause is gone: the tick's checks are made again (each challenger's stored version "
                            "untampered and loading, the eligibility fitting the champion, the champion still "
                            "the active policy, the end not passed) and a failing one is 409 with its reason. "
                            "Every account becomes due, so the next tick decides each debtor under its "
                            "recorded strategy again. Audited.",
                responses={200: ("Resumed", ref("ExperimentRecord")), **CONFLICT})
def resume_experiment(call, name):
    """POST /v1/experiments/{name}/resume."""
    _named(call, name)
    try:
        return _record(lifecycle.resume(call.state.store, name, by=_by(call), facts=call.state.policies.facts,
                                        profiles=call.state.policies.profiles))
    except InputError as exc:
        raise _refused(exc) from None


@resource.route("POST", "/v1/experiments/{name}/promote", roles=COMPLIANCE, summary="Promote a challenger",
                operation_id="promote_experiment",
                description="Ends the running experiment and activates the named challenger's stored policy "
                            "version, in one transaction; both are audited. Every account becomes due.",
                body=((None, "PromoteRequest"),),
                responses={200: ("Promoted", ref("ExperimentRecord")), **CONFLICT})
def promote_experiment(call, name):
    """POST /v1/experiments/{name}/promote."""
    _named(call, name)
    try:
        row = lifecycle.promote(call.state.store, name, call.body["challenger"], by=_by(call))
    except InputError as exc:
        raise _refused(exc) from None
    call.state.policies.active(force=True)
    return _record(row)
