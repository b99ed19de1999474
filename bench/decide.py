"""Benchmark: decisions per second of the default policy over generated portfolios.

    python bench/decide.py [--accounts 100000] [--repeat 5] [--seed 1]

Prints, for a realistic synthetic portfolio (bench/portfolio.py):
- the column-wise core: `decide_batch` on a prepared batch (facts, segments, priority,
  escalation, holds, offers, fees, next evaluation for every account) — the tick's path;
- building the batch from Python objects (`Batch.from_objects`), the API's path;
- materialising full `Decision` values with their trace, per decision;
- one-account `decide()` latency, objects in, Decision out.
Figures are wall-clock on this machine, with the CPU seconds beside the batch's and one
account's (compare those on a shared machine); the first (cold) run is reported separately
because it also builds time-zone transition tables.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portfolio import generate  # noqa: E402

from arrears.engine import Batch, decide, decide_batch, load_policy  # noqa: E402
from arrears.policies import DEFAULT_POLICY  # noqa: E402

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv=None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    n = args.accounts

    policy = load_policy(DEFAULT_POLICY)
    (accounts, histories), t_gen = _timed(lambda: generate(n, args.seed, NOW.date()))
    events = sum(map(len, histories))
    invoices = sum(len(a.invoices) for a in accounts)
    print(f"portfolio: {n:,} accounts, {invoices:,} invoices, {events:,} events "
          f"(generated in {t_gen:.1f} s)")

    batch, t_batch = _timed(lambda: Batch.from_objects(accounts, histories))
    print(f"Batch.from_objects: {t_batch:.2f} s ({n / t_batch:,.0f} accounts/s)")

    result, t_cold = _timed(lambda: decide_batch(batch, policy, NOW))
    print(f"decide_batch cold: {t_cold:.3f} s ({n / t_cold:,.0f} accounts/s)")
    times, cpu = [], []
    for _ in range(args.repeat):
        c0 = time.process_time()
        times.append(_timed(lambda: decide_batch(batch, policy, NOW))[1])
        cpu.append(time.process_time() - c0)
    best, median = min(times), statistics.median(times)
    print(f"decide_batch warm: best {best:.3f} s, median {median:.3f} s over {args.repeat} runs "
          f"-> {n / best:,.0f} accounts/s best, {n / median:,.0f} accounts/s median")
    # CPU seconds: what to compare on a shared machine, where wall-clock follows the load.
    print(f"decide_batch warm CPU: best {min(cpu):.3f} s, median {statistics.median(cpu):.3f} s "
          f"-> {n / min(cpu):,.0f} accounts/s of CPU")

    acting = int(result.action_ok.sum())
    print(f"  outcome: {acting:,} accounts with an action, {int(result.held.sum()):,} held")

    k = min(n, 5_000)
    _, t_mat = _timed(lambda: [result.decision(i) for i in range(k)])
    print(f"materialise Decision+trace: {t_mat / k * 1e6:.0f} us per decision ({k:,} decisions)")

    k = min(n, 1_000)
    lat, lat_cpu = [], []
    for i in range(k):
        start, c0 = time.perf_counter(), time.process_time()
        decide(accounts[i], histories[i], policy, NOW)
        lat.append(time.perf_counter() - start)
        lat_cpu.append(time.process_time() - c0)
    lat.sort()
    lat_cpu.sort()
    print(f"decide() one account: p50 {lat[k // 2] * 1e3:.2f} ms, p99 {lat[int(k * 0.99)] * 1e3:.2f} ms "
          f"(CPU p50 {lat_cpu[k // 2] * 1e3:.2f} ms)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
