"""Helpers of the replay tests: paths, the replayed year, handcrafted CSV files."""
from __future__ import annotations

from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "replay" / "sample.csv"
GENERATOR = ROOT / "examples" / "replay" / "generate_sample.py"
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
HEADER = ("account_id,debtor_type,jurisdiction,timezone,currency,invoice_id,issued_date,due_date,amount,"
          "settled_date,written_off_date,disputed,disputed_date,dispute_resolved_date")


def write_csv(tmp_path, lines: list[str], header: str = HEADER, name: str = "history.csv") -> Path:
    """A replay CSV from data lines (the handcrafted tests' header by default)."""
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path
