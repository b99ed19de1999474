"""A simulation report in plain words (`arrears simulate --format text`).

Rendered from `SimulationReport.to_dict()`, so the text and the JSON cannot disagree.
"""
from __future__ import annotations

from arrears.engine.domain.words import plural


def _name(value) -> str:
    return "(none)" if value is None else str(value)


def _policy(p: dict) -> str:
    return f"{p['name']} {p['version']} ({p['digest'][:19]}…)"


def _table(title: str, rows: list[dict], key: str) -> list[str]:
    width = max([len(_name(r[key])) for r in rows] + [len(title)])
    out = [f"{title:<{width}}  {'active':>9}  {'candidate':>9}  {'change':>8}"]
    for r in rows:
        if r["active"] or r["candidate"]:
            out.append(f"{_name(r[key]):<{width}}  {r['active']:>9,}  {r['candidate']:>9,}  "
                       f"{r['candidate'] - r['active']:>+8,}")
    return out


def _sample(entry: dict) -> list[str]:
    out = [f"  {entry['account_id']}: {_name(entry['from'])} -> {_name(entry['to'])}"]
    for side in ("active", "candidate"):
        s = entry[side]
        action = s["action"]
        what = (f"{action['type']} by {action['channel']} (attempt {action['attempt']}, {action['reason']})"
                if action else "no contact now")
        held = "; held back by " + ", ".join(x["rule"] for x in s["suppressions"]) if s["suppressions"] else ""
        out.append(f"    {side + ':':<11} {what}{held}")
        out += [f"      {t['step']}: {t['outcome']}" + (f" — {t['detail']}" if t["detail"] else "")
                for t in s["trace"]]
    return out


def _newly(label: str, part: dict) -> list[str]:
    rules = ", ".join(f"{r['rule']} {r['accounts']:,}" for r in part["by_rule"])
    out = [f"{label}: {plural(part['accounts'], 'account')}" + (f" ({rules})" if rules else "")]
    for s in part["sample"]:
        out.append(f"  {s['account_id']}: " + "; ".join(f"{r['rule']}: {r['reason']}" for r in s["rules"]))
    return out


def _offers(row: dict) -> list[str]:
    cur, out = row["currency"], []
    for side in ("active", "candidate"):
        e, s = row[side]["early_payment_discount"], row[side]["settlement"]
        out.append(f"  {cur} {side + ':':<11} early-payment discount {plural(e['offers'], 'offer')}, "
                   f"{e['discount']}; settlement {plural(s['offers'], 'offer')}, pay {s['amount']}, "
                   f"give up {s['discount']}"
                   f" ({s['requires_approval']:,} need approval)")
    return out


def render(report: dict) -> str:
    """The report dict (`SimulationReport.to_dict()`) as text."""
    p, ch, sup = report["policies"], report["changes"], report["suppressions"]
    lines = [f"Simulation at {report['evaluated_at']} over {plural(report['accounts'], 'account')} "
             "(nothing stored)",
             f"  active:    {_policy(p['active'])}", f"  candidate: {_policy(p['candidate'])}", ""]
    lines += _table("stage", report["stages"], "stage") + [""]
    lines += _table("action", report["actions"], "action") + [""]
    lines.append(f"Stage changes: {plural(ch['stage'], 'account')} (decisions that differ in any way: "
                 f"{ch['decision']:,})")
    lines += [f"  {_name(t['from'])} -> {_name(t['to'])}: {t['accounts']:,}" for t in ch["transitions"]]
    if ch["sample"]:
        lines.append(f"Sample ({len(ch['sample'])} of {ch['stage']:,}):")
        for entry in ch["sample"]:
            lines += _sample(entry)
    lines += ["", (f"Suppressed (held back by at least one rule): active {sup['active']:,}, "
                   f"candidate {sup['candidate']:,}")]
    lines += _newly("Newly suppressed", sup["newly_suppressed"]) + _newly("Newly released", sup["newly_released"])
    lines += ["", "Incentives offered:" if report["incentives"] else "Incentives offered: none"]
    for row in report["incentives"]:
        lines += _offers(row)
    contacts = report["contacts"]
    lines += ["", f"Contacts per delivery kind and day (capacity: {_capacity(contacts['capacity'])}):"]
    for r in contacts["by_kind"]:
        cap = "unlimited" if r["capacity"] is None else f"capacity {r['capacity']:,}"
        over = "".join(f", {side} over by {r[side + '_over']:,}" for side in ("active", "candidate")
                       if r[side + "_over"])
        lines.append(f"  {r['kind']:<10} {r['day']}  active {r['active']:>7,}  candidate {r['candidate']:>7,}"
                     f"  ({cap}{over})")
    return "\n".join(lines) + "\n"


def _capacity(cap: dict) -> str:
    limits = ", ".join(f"{k} {n:,}/day" for k, n in cap["limits"].items())
    return f"{limits or 'every kind unlimited'}; from {cap['source']}"
