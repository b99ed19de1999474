"""Champion/challenger experiments: a challenger strategy tried on a random, sticky share of debtors.

    from arrears.engine.experiments import load_experiment, assign

    experiment = load_experiment("experiments/sms-first.yaml")    # file:line:col problems
    experiment.sample_size()                                      # debtors needed for the effect
    assign.arms(experiment, debtor_ids)                           # each debtor's strategy

`spec` loads and checks the experiment file (its JSON Schema is
engine/policy/schemas/experiment.schema.json), `samplesize` says how many debtors it needs,
`assign` draws each debtor's strategy from a hash of the experiment's salt and the debtor id.
docs/experiments.md explains the design, the metrics and how to read the verdict.

May import: the core, `store` and `kpis`.
"""
from arrears.engine.experiments.spec import CHAMPION, Arm, Experiment, PrimaryMetric, load_experiment

__all__ = ["CHAMPION", "Arm", "Experiment", "PrimaryMetric", "load_experiment"]
