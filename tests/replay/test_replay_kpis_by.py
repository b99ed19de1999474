"""`arrears replay --kpis-by month|quarter`: the KPIs of each period in one run, and the DSO at
the end of the period shown beside the average of its periods' DSOs."""
from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from arrears.engine.cli import main
from tests.replay.replaykit import ROOT, write_csv

EXPORT = ROOT / "examples" / "replay" / "ar_export.csv"
MAP = ROOT / "examples" / "replay" / "ar_export.map.yaml"
QUARTERS = [("2013-01-01", "2013-03-31"), ("2013-04-01", "2013-06-30"), ("2013-07-01", "2013-09-30"),
            ("2013-10-01", "2013-12-31")]


def _json(capsys, *args) -> dict:
    assert main(["replay", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_kpis_by_quarter_match_the_file(capsys):
    report = _json(capsys, str(EXPORT), "--map", str(MAP), "--from", "2013-01-01", "--to", "2013-12-31",
                   "--kpis-by", "quarter")
    series = report["kpis_by"]
    assert series["by"] == "quarter"
    assert [(p["from"], p["to"]) for p in series["periods"]] == QUARTERS
    (usd,) = series["total"]
    # credit sales of each quarter, straight from the file's InvoiceDate and InvoiceAmount
    with EXPORT.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, (first, last) in enumerate(QUARTERS):
        lo, hi = date.fromisoformat(first), date.fromisoformat(last)
        sales = sum(Decimal(r["InvoiceAmount"]) for r in rows
                    if lo <= datetime.strptime(r["InvoiceDate"], "%m/%d/%Y").date() <= hi)
        assert Decimal(usd["figures"]["credit_sales"][i]) == sales
    # the period average is the mean of the quarters' DSOs, beside the year's own
    (dso,) = report["dso"]
    values = [Decimal(v) for v in usd["kpis"]["dso"] if v is not None]
    assert dso["by"] == "quarter" and dso["periods"] == 4 == dso["periods_measured"] == len(values)
    assert abs(Decimal(dso["period_average"]["value"]) - sum(values) / 4) <= Decimal("0.01")
    assert dso["end_of_period"] == report["kpis"]["total"][0]["kpis"]["dso"]


def _steady_year_then_a_spike(tmp_path):
    """Invoices paid in ten days all year; on 15 December one large invoice, still open."""
    lines, day = [], date(2025, 1, 2)
    k = 0
    while day < date(2025, 12, 1):
        paid = day + timedelta(days=10)
        lines.append(f"A{k % 5},business,GB-ENG,Europe/London,GBP,I{k},{day},{day + timedelta(days=30)},"
                     f"100.00,{paid},,,,")
        day += timedelta(days=7)
        k += 1
    lines.append("A0,business,GB-ENG,Europe/London,GBP,BIG,2025-12-15,2026-01-14,50000.00,,,,,")
    return write_csv(tmp_path, lines)


def test_a_year_end_spike_does_not_make_the_year_look_slow(tmp_path, capsys):
    path = _steady_year_then_a_spike(tmp_path)
    report = _json(capsys, str(path), "--from", "2025-01-01", "--to", "2025-12-31")
    (dso,) = report["dso"]
    end, average = Decimal(dso["end_of_period"]["value"]), Decimal(dso["period_average"]["value"])
    assert dso["by"] == "month" and dso["periods"] == 12
    assert end > 300 and average < end / 5           # the year-end figure alone would mislead
    assert report["kpis_by"] is None                 # the months' KPIs only when asked for
    assert main(["replay", str(path), "--from", "2025-01-01", "--to", "2025-12-31"]) == 0
    out = capsys.readouterr().out
    assert (f"DSO GBP: {dso['end_of_period']['value']} days at the end of the period (its closing receivables "
            f"over all its credit sales); {dso['period_average']['value']} days on average over its 12 months "
            f"(12 measured)\n") in out


def test_kpis_by_month_text_has_a_line_per_month(tmp_path, capsys):
    path = _steady_year_then_a_spike(tmp_path)
    assert main(["replay", str(path), "--from", "2025-01-01", "--to", "2025-12-31", "--kpis-by", "month"]) == 0
    out = capsys.readouterr().out
    table = out.split("KPIs by month\n")[1].split("\n\n")[0].splitlines()
    assert table[0].split()[:4] == ["period", "currency", "collection_rate", "recovery_rate"]
    assert [line.split()[0] for line in table[1:]] == [f"2025-{m:02d}" for m in range(1, 13)]


def test_the_command_offers_the_engines_periods():
    from arrears.engine.cli.replay import KPIS_BY
    from arrears.engine.replay.periods import KPIS_BY as ENGINE_KPIS_BY
    assert KPIS_BY == ENGINE_KPIS_BY == ("month", "quarter")
