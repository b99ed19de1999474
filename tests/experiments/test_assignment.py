"""Assignment: deterministic, sticky, balanced (chi-square over 100,000 debtors), and stored once
per debtor on SQLite and PostgreSQL."""
from __future__ import annotations

import numpy as np
import pytest

from arrears.engine.domain.errors import InputError
from arrears.engine.experiments import assign, load_experiment
from arrears.engine.store import Store
from tests.experiments.expkit import ZERO, spec, write

# Upper 0.1% points of the chi-square distribution (any statistics table, e.g. NIST/SEMATECH
# e-Handbook of Statistical Methods, 1.3.6.7.4): 1 and 2 degrees of freedom.
CHI2_999 = {1: 10.828, 2: 13.816}


def _chi_square(observed: np.ndarray, expected: np.ndarray) -> float:
    return float(((observed - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("shares", [(50, 50), (80, 20), (60, 30, 10)])
def test_the_split_of_100k_debtors_is_balanced_within_a_chi_square_tolerance(tmp_path, shares):
    challengers = [{"name": f"c{i}", "policy": "sha256:" + str(i) * 64, "share": s}
                   for i, s in enumerate(shares[1:], start=1)]
    experiment = load_experiment(write(tmp_path, spec(champion={"share": shares[0]}, challengers=challengers)))
    debtors = [f"debtor-{i:06d}" for i in range(100_000)]
    arms = assign.arms(experiment, debtors)
    names = [arm.name for arm in experiment.arms]
    observed = np.asarray([(arms == name).sum() for name in names], dtype=float)
    expected = np.asarray(shares, dtype=float) / 100 * len(debtors)
    assert _chi_square(observed, expected) < CHI2_999[len(shares) - 1]


def test_assignment_is_deterministic_and_depends_on_the_salt_only(tmp_path):
    experiment = load_experiment(write(tmp_path, spec(salt="one")))
    debtors = [f"d{i}" for i in range(2_000)]
    first = assign.arms(experiment, debtors)
    assert list(assign.arms(experiment, list(reversed(debtors)))) == list(reversed(first))
    assert list(assign.arms(experiment, debtors[:10])) == list(first[:10])
    other = assign.arms(load_experiment(write(tmp_path, spec(salt="two"))), debtors)
    agreement = (other == first).mean()
    assert 0.45 < agreement < 0.55                # an independent split: half agree by chance


def test_the_draw_is_the_documented_hash():
    import hashlib
    expected = int.from_bytes(hashlib.sha256(b"s\x1fD-1").digest()[:8], "big")
    assert int(assign.draws("s", ["D-1"])[0]) == expected
    assert list(assign.bounds([0.5, 0.5])) == [1 << 63]




@pytest.mark.also_postgresql
def test_a_debtor_keeps_its_first_arm_on_both_databases(db_url):
    with Store(db_url) as store:
        row = store.experiments.start(name="e1", digest="sha256:x", source="name: e1", salt="e1",
                                      champion_digest=ZERO, now=1_800_000_000, by="test", body={})
        assert store.experiments.record_assignments(row["id"], [("D1", "champion"), ("D2", "b")]) == 2
        assert store.experiments.record_assignments(row["id"], [("D1", "b"), ("D3", "ineligible")]) == 1
        assert store.experiments.assignments_of(row["id"], ["D1", "D2", "D3", "D4"]) == \
            {"D1": "champion", "D2": "b", "D3": "ineligible"}
        assert store.experiments.arm_counts(row["id"]) == {"champion": 1, "b": 1, "ineligible": 1}
        with pytest.raises(InputError, match="'e1' is running"):
            store.experiments.start(name="e2", digest="sha256:y", source="", salt="", champion_digest=ZERO,
                                    now=1_800_000_000, by="test", body={})
        store.experiments.end("e1", by="test", now=1_800_000_100)
        with pytest.raises(InputError, match="was run before"):
            store.experiments.start(name="e1", digest="sha256:y", source="", salt="", champion_digest=ZERO,
                                    now=1_800_000_200, by="test", body={})
