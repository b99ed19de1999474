"""One module (and one blueprint) per resource; `RESOURCES` is the order they are registered
and documented in."""
from arrears.api.resources import (
             accounts,
             audit,
             bulkevents,  # noqa: F401  (adds POST /v1/events:batch to the events resource)
             decide,
             decisions,
             events,
             experiments,
             goals,
             health,
             kpis,
             outbox,
             policies,
             ticks,
             workqueue,
)

RESOURCES = (decide.resource, accounts.resource, events.resource, decisions.resource,
             workqueue.resource, outbox.resource, policies.resource, experiments.resource, audit.resource,
             kpis.resource, goals.resource, ticks.resource, health.resource)
