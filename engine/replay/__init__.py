"""Replay (backtest): run the engine day by day over historical invoices and payments.

    from arrears.engine.replay import build_report, read_replay_csv, render_text, replay
    data = read_replay_csv("history.csv")              # rows checked; rejects with line numbers
    run = replay(data, policy, date(2025, 1, 1), date(2025, 12, 31))
    report = build_report(run, by="month")             # JSON-ready via report.to_dict()
    print(render_text(report))

Modules: `csvmap` (the CSV columns and their checks), `mapping` (a file of another shape,
`--map`), `history` (the portfolio's columns and the growing simulated history), `clock`
(which accounts are due when), `run` (the day loop), `record` (what happened, column-wise),
`timeline` (periods), `periods` (KPIs per month or quarter, the DSO beside its average),
`report` and `text` (the report), `export` (the contacts CSV), `tostore` (the replayed
history into a store, `--store`). docs/replay.md describes the CSV, the mapping, the
assumptions and the report.

May import: the core, `store`, `kpis` and `tick` (its column-wise decision summaries).
"""
from arrears.engine.replay.csvmap import ReplayInput, read_replay_csv
from arrears.engine.replay.report import ReplayReport, build_report
from arrears.engine.replay.run import DEFAULT_TICK, ReplayRun, replay
from arrears.engine.replay.text import render_text

__all__ = ["DEFAULT_TICK", "ReplayInput", "ReplayReport", "ReplayRun", "build_report", "read_replay_csv",
           "render_text", "replay"]
