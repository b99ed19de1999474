"""Fingerprint of the engine's behaviour: one SHA-256 over the decisions' JSON.

    python bench/fingerprint.py [--accounts 20000] [--seed 1] [--verbose]

Decides a generated portfolio (bench/portfolio.py) with the shipped policy at three
moments, writes every account's full `Decision` (trace included) as JSON, adds the
shipped policy tests' decisions, and prints a digest per part and one over all. Run it
before and after a refactor that must not change behaviour: equal digests mean
byte-identical decisions.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import generate  # noqa: E402

from arrears.engine import Batch, decide_batch, load_policy  # noqa: E402
from arrears.engine.decisions.policytest import run_suite  # noqa: E402

MOMENTS = (datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc),
           datetime(2027, 1, 4, 3, 30, tzinfo=timezone.utc),
           datetime(2027, 6, 30, 22, 0, tzinfo=timezone.utc))


def portfolio_digest(n: int, seed: int) -> str:
    """Digest of every account's Decision JSON at each of MOMENTS."""
    policy = load_policy(ROOT / "policies" / "default.yaml")
    accounts, histories = generate(n, seed, MOMENTS[0].date())
    batch = Batch.from_objects(accounts, histories)
    h = hashlib.sha256()
    # A trace names the policy file by its path: the checkout's own folder is left out, so
    # two checkouts (main's and a branch's) give the same digest for the same decisions.
    here = f"{ROOT}/"
    for now in MOMENTS:
        for decision in decide_batch(batch, policy, now).decisions():
            h.update(decision.to_json().replace(here, "").encode())
            h.update(b"\n")
    return h.hexdigest()


def policy_tests_digest() -> str:
    """Digest of the decisions the shipped policy tests make."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "policies").glob("*_test.yaml")):
        for result in run_suite(path):
            h.update(f"{result.name}\t{result.passed}\n".encode())
            if result.decision is not None:
                h.update(result.decision.to_json().encode())
    return h.hexdigest()


def main(argv=None) -> int:
    """Print the digests."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    parts = {"portfolio": portfolio_digest(args.accounts, args.seed),
             "policy tests": policy_tests_digest()}
    for name, digest in parts.items():
        print(f"{name}: {digest}")
    total = hashlib.sha256("".join(parts.values()).encode()).hexdigest()
    print(f"all: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
