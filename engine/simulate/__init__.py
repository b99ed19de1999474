"""What-if simulation: a candidate policy against the active one over the stored portfolio.

    from arrears.engine.simulate import simulate
    report = simulate(store, active_policy, candidate_policy, now, sample=20)
    report.to_dict()        # JSON-ready; docs/simulation.md describes every field

Modules: `run` (paging and deciding, read-only), `tally` (column-wise comparison of a
page), `sample` (deterministic samples and per-account explanations), `capacity` (daily
capacity per delivery kind), `report` (the result and its JSON form), `text` (the
report in plain words for the CLI).

May import: the core, `store` and `tick` (its column-wise decision summaries).
"""
from arrears.engine.simulate.capacity import Capacity, CapacityError, from_delivery_config, from_work_queue
from arrears.engine.simulate.report import SimulationReport
from arrears.engine.simulate.run import DEFAULT_BATCH, DEFAULT_SAMPLE, simulate

__all__ = ["DEFAULT_BATCH", "DEFAULT_SAMPLE", "Capacity", "CapacityError", "SimulationReport",
           "from_delivery_config", "from_work_queue", "simulate"]
