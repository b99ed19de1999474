"""A replay report in plain words: aligned tables for a terminal (the CLI's default format)."""
from __future__ import annotations

from arrears.engine.kpis.render import to_table


def _table(rows: list[list[str]], left: int = 1) -> list[str]:
    """Rows of cells as aligned lines: the first `left` columns left-aligned, the rest right."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(v.ljust(w) if c < left else v.rjust(w) for c, (v, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


def _n(value: int) -> str:
    return f"{value:,}"


def render_text(report) -> str:
    """The report as text: heading, timeline, contacts by stage and channel, suppressions,
    the portfolio's figures and the KPIs."""
    d = report.to_dict()
    pol = d["policy"]
    tick = d["tick_seconds"]
    every = "one tick a day" if tick == 86400 else f"a tick every {tick // 60} minutes"
    lines = [(f"replay of {d['file'] or 'the file'}: {_n(d['accounts'])} accounts, {_n(d['invoices'])} invoices"
              f" ({_n(d['rejected']['count'])} rows rejected)"),
             (f"policy {pol['name']} {pol['version']} (digest {pol['digest'][:19]}), {d['from']} to {d['to']}, "
              f"simulated from {d['simulated_from']}, {every}"),
             f"{_n(d['ticks'])} ticks, {_n(d['evaluations_all'])} evaluations (warm-up included)", ""]
    rows = [["period", "evaluations", "contacts", "suppressed", "early-payment offers", "settlement offers"]]
    for e in d["timeline"] + [d["total"]]:
        inc = e["incentives"]
        rows.append([e["period"], _n(e["evaluations"]), _n(e["contacts"]), _n(e["suppressed_accounts"]),
                     _n(inc["early_payment_discount"]["offered"]), _n(inc["settlement"]["offered"])])
    lines += _table(rows) + ["", "contacts by stage and channel"]
    lines += _actions(d["total"]["actions"])
    lines += ["", "accounts held back, by rule"]
    supp = d["total"]["suppressions"]
    lines += _table([[rule, _n(n)] for rule, n in supp.items()]) if supp else ["  none"]
    lines += ["", "portfolio (from the file)"] + _portfolio(d["portfolio"]) + [""]
    lines.append(to_table(report.kpis).rstrip("\n"))
    lines += [""] + _dso(d["dso"])
    if d["kpis_by"] is not None:
        lines += ["", f"KPIs by {d['kpis_by']['by']}"] + _kpis_by(d["kpis_by"])
    lines += ["", "assumptions: " + "; ".join(d["assumptions"]) + " (docs/replay.md)"]
    return "\n".join(lines) + "\n"


def _actions(actions: dict) -> list[str]:
    if not actions:
        return ["  none"]
    channels = _channel_order(actions)
    rows = [["stage", *channels, "total"]]
    for stage, by_channel in actions.items():
        rows.append([stage, *[_n(by_channel.get(c, 0)) for c in channels], _n(sum(by_channel.values()))])
    return _table(rows)


def _channel_order(actions: dict) -> list[str]:
    """Channels in the order the stages (in policy order) first use them."""
    seen: list[str] = []
    for by_channel in actions.values():
        seen += [c for c in by_channel if c not in seen]
    return seen


def _portfolio(entries: list) -> list[str]:
    if not entries:
        return ["  none"]
    names = ("open_at_start", "issued", "settled", "written_off", "disputed", "open_at_end")
    rows = [["currency", *[n.replace("_", " ") for n in names]]]
    for e in entries:
        rows.append([e["currency"], *[_n(e[n]["invoices"]) for n in names]])
        rows.append(["", *[e[n]["amount"]["amount"] for n in names]])
    return _table(rows)


def _dso(entries: list) -> list[str]:
    """The DSO at the end of the period beside the average of its months (or quarters)."""
    out = []
    for e in entries:
        end, avg = e["end_of_period"], e["period_average"]
        plural = "s" if e["periods"] != 1 else ""
        out.append(f"DSO {e['currency']}: {_days(end)} at the end of the period (its closing receivables over "
                   f"all its credit sales); {_days(avg)} on average over its {e['periods']} {e['by']}{plural} "
                   f"({e['periods_measured']} measured)")
    return out


def _days(kpi: dict) -> str:
    return f"{kpi['value']} days" if kpi["value"] is not None else f"n/a ({kpi['reason']})"


def _kpis_by(series: dict) -> list[str]:
    """One line per period and currency, every KPI of the catalogue a column (n/a: not measured)."""
    names = list(series["total"][0]["kpis"]) if series["total"] else []
    rows = [["period", "currency", *names]]
    for entry in series["total"]:
        for i, p in enumerate(series["periods"]):
            label = p["from"][:7] if series["by"] == "month" else f"{p['from']}..{p['to']}"
            rows.append([label, entry["currency"], *[entry["kpis"][n][i] or "n/a" for n in names]])
    return _table(rows, left=2) if len(rows) > 1 else ["  none"]
