"""A `KpiReport` as text: a table per currency (groups as columns), or CSV in long form.

CSV columns: from, to, group, currency, section, name, value, unit, reason — one line per
figure, aging bucket (balance and count), KPI and roll rate, so a spreadsheet can pivot it.
"""
from __future__ import annotations

import csv
import io

from arrears.engine.domain.words import plural
from arrears.engine.kpis.report import KpiReport, Row

CSV_HEADER = ("from", "to", "group", "currency", "section", "name", "value", "unit", "reason")
NA = "n/a"


def _cells(row: Row) -> list[tuple[str, str, str, str, str]]:
    """(section, name, value, unit, reason) of everything in a row, in display order."""
    d = row.to_dict()
    out = []
    for name, value in d["figures"].items():
        if isinstance(value, dict):
            out.append(("figure", name, value["amount"], value["currency"], ""))
        elif value is None:
            out.append(("figure", name, "", row.currency, "no collection costs are configured"))
        else:
            out.append(("figure", name, str(value), "count", ""))
    for a in d["aging"]:
        out.append(("aging_balance", a["bucket"], a["balance"]["amount"], row.currency, ""))
        out.append(("aging_count", a["bucket"], str(a["count"]), "count", ""))
    for name, kpi in d["kpis"].items():
        out.append(("kpi", name, kpi["value"] or "", kpi["unit"], kpi["reason"] or ""))
    for r in d["roll_rates"]:
        for how in ("by_balance", "by_count"):
            kpi = r[how]
            out.append((f"roll_rate_{how}", f"{r['from']}>{r['to']}", kpi["value"] or "", kpi["unit"],
                        kpi["reason"] or ""))
    return out


def to_csv(report: KpiReport) -> str:
    """The report as CSV text (header first; the grouped rows, then the portfolio totals)."""
    head = report.head()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for group, row in _columns(report):
        for cells in _cells(row):
            writer.writerow((head["from"], head["to"], group, row.currency, *cells))
    return buf.getvalue()


def _columns(report: KpiReport) -> list[tuple[str, Row]]:
    """(column name, row): each group's rows, then (when grouped) the portfolio's as "total"."""
    out = [(r.group, r) for r in report.groups]
    if report.group_by is not None:
        out += [("total", r) for r in report.total]
    return out


def _label(section: str, name: str, unit: str) -> str:
    if section == "figure":
        return name.replace("_", " ")
    if section == "kpi":
        return f"{name.replace('_', ' ')} ({'%' if unit == 'percent' else unit})"
    if section.startswith("aging"):
        return f"aging {name} {'balance' if section == 'aging_balance' else 'accounts'}"
    return f"roll {name} % ({'balance' if section.endswith('balance') else 'accounts'})"


def to_table(report: KpiReport) -> str:
    """The report as aligned text: one table per currency, groups (and the total) as columns;
    values that cannot be computed show n/a, with the reasons listed under the table."""
    head = report.head()
    lines = [f"KPIs {head['from']} to {head['to']} ({plural(head['days'], 'day')}, {head['months']} months), "
             f"policy {head['policy']['name']} {head['policy']['version']}"
             + (f", by {report.group_by}" if report.group_by else "")]
    currencies = sorted({r.currency for _, r in _columns(report)})
    if not currencies:
        lines.append("no accounts")
    for currency in currencies:
        names, columns = zip(*[(g, r) for g, r in _columns(report) if r.currency == currency])
        cells = [_cells(r) for r in columns]
        labels = [_label(s, n, u) for s, n, _, u, _ in cells[0]]
        table = [[currency, *names]]
        notes: dict = {}
        for i, label in enumerate(labels):
            line = [label]
            for name, row_cells in zip(names, cells):
                _, _, value, _, reason = row_cells[i]
                line.append(value if value else NA)
                if not value and reason:
                    notes.setdefault((label, reason), []).append(name)
            table.append(line)
        widths = [max(len(r[c]) for r in table) for c in range(len(table[0]))]
        lines.append("")
        for r in table:
            lines.append("  ".join([r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])]))
        for (label, reason), who in notes.items():
            lines.append(f"  {NA} {label}: {reason} ({', '.join(who)})")
    return "\n".join(lines) + "\n"
