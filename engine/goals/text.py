"""A goals report (`GoalsReport.to_dict()`) as an aligned text table for the terminal."""
from __future__ import annotations

COLUMNS = ("status", "goal", "metric", "baseline", "current", "expected", "target")
_CMP = {"down": "<=", "up": ">="}


def _unit(goal: dict) -> str:
    unit = goal["unit"]
    if unit == "money":
        return f" {goal['currency']}"
    return {"percent": "%", "days": " days", "ratio": "", "count": ""}.get(unit, "")


def _value(text: str | None, goal: dict) -> str:
    return "n/a" if text is None else f"{text}{_unit(goal)}"


def _cells(goal: dict) -> list[str]:
    scope = ", ".join(v for v in (goal["scope"]["segment"], goal["currency"]) if v)
    target = goal["target"]
    wanted = target["value"]
    if wanted is None and target["change_percent"] is not None:
        wanted_text = f"{target['change_percent']}% from baseline"
    else:
        wanted_text = f"{_CMP[goal['direction']]} {_value(wanted, goal)}"
    current = goal["final"] if goal["final"] is not None else goal["current"]
    return [goal["status"], goal["id"], goal["metric"]["label"] + (f" ({scope})" if scope else ""),
            f"{_value(goal['baseline']['value'], goal)} on {goal['baseline']['date']}",
            f"{_value(current['value'], goal)} on {current['date']}",
            "" if goal["expected"] is None else _value(goal["expected"], goal),
            f"{wanted_text} by {target['date']}"]


def _notes(goal: dict) -> list[str]:
    out = [f"  {goal['title']}"] if goal["title"] != goal["id"] else []
    for m in goal["milestones"]:
        level = f"{m['change_percent']}% from baseline" if m["value"] is None else \
            f"{_CMP[goal['direction']]} {_value(m['value'], goal)}"
        got = "" if m["measured"] is None else f" (was {_value(m['measured'], goal)})"
        out.append(f"  milestone {m['date']}: {level}: {m['status']}{got}")
    if goal["progress_percent"] is not None and goal["status"] not in ("not-started", "no-data"):
        out.append(f"  {goal['progress_percent']}% of the planned change achieved")
    if goal["reason"]:
        out.append(f"  why n/a: {goal['reason']}")
    return out


def render(report: dict) -> str:
    """The report as text: a header, one table row per goal with its notes below it, a tally."""
    policy = report["policy"]
    lines = [f"Goals on {report['at']} ({report['source']}; policy {policy['name']} {policy['version']})", ""]
    rows = [list(COLUMNS)] + [_cells(g) for g in report["goals"]]
    widths = [max(len(r[c]) for r in rows) for c in range(len(COLUMNS))]
    lines.append("  ".join(h.upper().ljust(w) for h, w in zip(rows[0], widths)).rstrip())
    for goal, row in zip(report["goals"], rows[1:]):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        lines += [" " * (widths[0] + 2) + note.strip() for note in _notes(goal)]
    tally = ", ".join(f"{n} {status}" for status, n in report["counts"].items() if n)
    lines += ["", tally or "no goals"]
    return "\n".join(lines) + "\n"


CSV_HEADER = ("at", "goal", "status", "metric", "segment", "currency", "unit", "direction",
              "baseline_date", "baseline", "current_date", "current", "expected", "target_date", "target",
              "target_change_percent", "progress_percent", "reason")


def csv_rows(report: dict) -> list[tuple]:
    """The report as CSV rows under `CSV_HEADER`, one per goal, the values as the JSON has them
    (unformatted; empty where there is none)."""
    rows = []
    for g in report["goals"]:
        current = g["final"] if g["final"] is not None else g["current"]
        rows.append((report["at"], g["id"], g["status"], g["metric"]["label"], g["scope"]["segment"],
                     g["currency"], g["unit"], g["direction"], g["baseline"]["date"], g["baseline"]["value"],
                     current["date"], current["value"], g["expected"], g["target"]["date"],
                     g["target"]["value"], g["target"]["change_percent"], g["progress_percent"], g["reason"]))
    return [tuple("" if v is None else v for v in row) for row in rows]
