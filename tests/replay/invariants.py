"""An independent reading of what may reach a debtor, for the end-to-end check of issue 11.

Everything here is computed from the shipped YAML (the policy and `policies/profiles/*.yaml`)
read with PyYAML, real time zones (`zoneinfo`) and the `holidays` package, never from the
engine's own window, holiday or escalation code, so the engine's answers can be judged:

- `Hours`: the contact hours that apply to a debtor on a channel kind (every profile
  `contact_window` and `public_holidays` rule that covers them, and the policy's house
  `compliance.contact_hours` where the policy has them), and whether an instant is inside;
- `earned_stage_ok`: whether a stage is earned by the open, undisputed invoices on a day;
- `internal_on_written`: whether a template meant for staff went out on a written channel;
- `hold_problem`: what is wrong with a hold's explanation (no `until` without a reason).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "default.yaml"
PROFILES = ROOT / "policies" / "profiles"
WRITTEN = ("email", "sms", "letter")

# One real time zone and currency per jurisdiction: every jurisdiction a shipped profile names
# (`applies_to` and `overrides`), several states of each country with profiles, and two
# countries no profile covers (JP, IN). `test_every_shipped_jurisdiction_is_covered` keeps
# this table complete when a profile is added.
JURISDICTIONS = {
    "GB": ("Europe/London", "GBP"), "GB-ENG": ("Europe/London", "GBP"), "GB-WLS": ("Europe/London", "GBP"),
    "GB-SCT": ("Europe/London", "GBP"), "GB-NIR": ("Europe/London", "GBP"),
    "US": ("America/Chicago", "USD"), "US-CA": ("America/Los_Angeles", "USD"),
    "US-MA": ("America/New_York", "USD"), "US-NY": ("America/New_York", "USD"),
    "US-NY-NYC": ("America/New_York", "USD"),
    "AU": ("Australia/Sydney", "AUD"), "AU-NSW": ("Australia/Sydney", "AUD"),
    "AU-VIC": ("Australia/Melbourne", "AUD"), "AU-NT": ("Australia/Darwin", "AUD"),
    "AU-WA": ("Australia/Perth", "AUD"),
    "AT": ("Europe/Vienna", "EUR"), "BE": ("Europe/Brussels", "EUR"), "BG": ("Europe/Sofia", "EUR"),
    "CY": ("Asia/Nicosia", "EUR"), "CZ": ("Europe/Prague", "CZK"), "DE": ("Europe/Berlin", "EUR"),
    "DK": ("Europe/Copenhagen", "DKK"), "EE": ("Europe/Tallinn", "EUR"), "ES": ("Europe/Madrid", "EUR"),
    "FI": ("Europe/Helsinki", "EUR"), "FR": ("Europe/Paris", "EUR"), "GR": ("Europe/Athens", "EUR"),
    "HR": ("Europe/Zagreb", "EUR"), "HU": ("Europe/Budapest", "HUF"), "IE": ("Europe/Dublin", "EUR"),
    "IT": ("Europe/Rome", "EUR"), "LT": ("Europe/Vilnius", "EUR"), "LU": ("Europe/Luxembourg", "EUR"),
    "LV": ("Europe/Riga", "EUR"), "MT": ("Europe/Malta", "EUR"), "NL": ("Europe/Amsterdam", "EUR"),
    "PL": ("Europe/Warsaw", "PLN"), "PT": ("Europe/Lisbon", "EUR"), "RO": ("Europe/Bucharest", "RON"),
    "SE": ("Europe/Stockholm", "SEK"), "SI": ("Europe/Ljubljana", "EUR"), "SK": ("Europe/Bratislava", "EUR"),
    "JP": ("Asia/Tokyo", "JPY"), "IN": ("Asia/Kolkata", "INR"),
}
WITHOUT_PROFILE = ("JP", "IN")


@lru_cache(maxsize=None)
def policy_doc(path: str = str(POLICY)) -> dict:
    """The policy YAML as data."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def profile_docs() -> tuple[dict, ...]:
    """Every shipped jurisdiction profile as data."""
    return tuple(yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(PROFILES.glob("*.yaml")))


def profile_jurisdictions() -> set[str]:
    """Every jurisdiction a shipped profile names, its overrides' included."""
    out = set()
    for doc in profile_docs():
        out.update(doc["applies_to"]["jurisdictions"])
        for rule in doc["rules"]:
            for o in rule.get("overrides", ()):
                out.update(o["jurisdictions"])
    return out


def _covers(prefix: str, jurisdiction: str) -> bool:
    return jurisdiction == prefix or jurisdiction.startswith(prefix + "-")


def applicable_profiles(jurisdiction: str, debtor_type: str, policy: dict) -> list[dict]:
    """The profiles that apply to a debtor: by jurisdiction prefix, debtor type and the policy
    setting a profile depends on, plus any the policy lists by id for every account."""
    compliance = policy.get("compliance") or {}
    forced = set(compliance.get("profiles") or ()) - {"auto"}
    out = []
    for doc in profile_docs():
        to = doc["applies_to"]
        hit = (any(_covers(p, jurisdiction) for p in to["jurisdictions"])
               and debtor_type in to.get("debtor_types", (debtor_type,))
               and (not to.get("setting") or bool(compliance.get(to["setting"]))))
        if hit or doc["id"] in forced:
            out.append(doc)
    return out


def _day(spec) -> tuple[int, int]:
    """A day's window as (start, end) seconds after local midnight; "closed" is empty."""
    if spec == "closed":
        return 0, 0
    h, m = (int(x) for x in spec["start"].split(":"))
    h2, m2 = (int(x) for x in spec["end"].split(":"))
    return (h * 60 + m) * 60, (h2 * 60 + m2) * 60


def _week(weekdays, saturday, sunday) -> tuple[tuple[int, int], ...]:
    return (_day(weekdays),) * 5 + (_day(saturday), _day(sunday))


@dataclass(frozen=True)
class Window:
    """One rule's hours: a (start, end) per day of the week, Monday first."""

    rule: str
    week: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Closed:
    """One rule closing public holidays: national ones, or the state's own too."""

    rule: str
    with_state: bool


@lru_cache(maxsize=None)
def _holiday_days(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        cal = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(cal)


def is_public_holiday(jurisdiction: str, day: date, with_state: bool) -> bool:
    """A public holiday of the debtor's country (and state, when `with_state`) on `day`.
    National holidays are those of the country as a whole; the state's own count only when
    a rule (or the policy's `state_holidays`) says so."""
    parts = jurisdiction.split("-")
    country, subdivision = parts[0], (parts[1] if len(parts) > 1 else None)
    if day in _holiday_days(country, None, day.year):
        return True
    if with_state and subdivision:
        try:
            return day in _holiday_days(country, subdivision, day.year)
        except Exception:          # a subdivision the package does not know: national only
            return False
    return False


class Hours:
    """The contact hours that apply to one kind of debtor on one channel kind."""

    def __init__(self, jurisdiction: str, debtor_type: str, kind: str, policy: dict | None = None):
        policy = policy if policy is not None else policy_doc()
        compliance = policy.get("compliance") or {}
        self.jurisdiction, self.kind = jurisdiction, kind
        state = any(_covers(p, jurisdiction) for p in compliance.get("state_holidays") or ())
        self.windows: list[Window] = []
        self.closed: list[Closed] = []
        for doc in applicable_profiles(jurisdiction, debtor_type, policy):
            for rule in doc["rules"]:
                if kind not in rule.get("channels", ()):
                    continue
                if rule["kind"] == "contact_window":
                    sat = rule.get("saturday", rule["weekends"])
                    sun = rule.get("sunday", rule["weekends"])
                    self.windows.append(Window(rule["id"], _week(rule["weekdays"], sat, sun)))
                elif rule["kind"] == "public_holidays":
                    state_too = state or rule.get("scope", "subdivision") == "subdivision"
                    self.closed.append(Closed(rule["id"], state_too))
        # The policy's house hours (compliance.contact_hours), where the policy has them.
        for entry in compliance.get("contact_hours") or ():
            if kind not in entry["channels"] or debtor_type not in entry.get("debtor_types", (debtor_type,)):
                continue
            rid = f"house.{entry['id']}"
            self.windows.append(Window(rid, _week(entry["weekdays"], entry["saturday"], entry["sunday"])))
            if entry.get("holidays", "closed") == "closed":
                self.closed.append(Closed(rid + "-holidays", state))

    def breaches(self, at: datetime, zone: str) -> list[str]:
        """The rules instant `at` breaks in the debtor's zone (empty: allowed), in words."""
        local = at.astimezone(ZoneInfo(zone))
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        out = []
        for w in self.windows:
            start, end = w.week[local.weekday()]
            if not start <= seconds < end:
                hours = "closed" if start >= end else f"{start // 3600:02d}:{start % 3600 // 60:02d}-" \
                                                         f"{end // 3600:02d}:{end % 3600 // 60:02d}"
                out.append(f"{w.rule}: {local:%a %Y-%m-%d %H:%M:%S} local is outside {hours}")
        for c in self.closed:
            if is_public_holiday(self.jurisdiction, local.date(), c.with_state):
                out.append(f"{c.rule}: {local.date()} is a public holiday in {self.jurisdiction}")
        return out


# ---- stages ------------------------------------------------------------------------------

def grace_days(debtor_type: str, policy: dict | None = None) -> int:
    """The grace days of a debtor with no tags or relationship tier: the largest of the
    default and of the grace segments defined by debtor type alone (the generated and sample
    files carry no tags, tiers or risk scores, so no other segment can match)."""
    policy = policy if policy is not None else policy_doc()
    grace = policy.get("grace") or {}
    out = grace.get("default_days", 0)
    for name, days in (grace.get("segments") or {}).items():
        when = (policy.get("segments") or {}).get(name, {}).get("when", {})
        if when.get("fact") == "debtor_type" and when.get("eq") == debtor_type:
            out = max(out, days)
    return out


@dataclass(frozen=True)
class Invoice:
    """An invoice's fate as the replay CSV gives it (dates: local days)."""

    issued: date
    due: date
    closed: date | None          # settled or written off (start of that day)
    disputed: date | None
    resolved: date | None
    settled: date | None = None  # settled (paid in full), start of that day

    def owed_on(self, day: date) -> bool:
        """Open and undisputed on `day`: issued, not settled or written off, not in dispute."""
        if self.issued > day or (self.closed is not None and self.closed <= day):
            return False
        in_dispute = self.disputed is not None and self.disputed <= day and (self.resolved is None
                                                                              or self.resolved > day)
        return not in_dispute


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def invoices_by_account(rows: list[dict]) -> dict[str, list[Invoice]]:
    """The replay CSV's rows (read with the csv module) as each account's invoices."""
    out: dict[str, list[Invoice]] = {}
    for r in rows:
        issued = _d(r["issued_date"])
        disputed = _d(r.get("disputed_date", "")) or (issued if (r.get("disputed") or "").lower()
                                                      in ("true", "yes", "1") else None)
        out.setdefault(r["account_id"], []).append(
            Invoice(issued, _d(r["due_date"]), _d(r["settled_date"]) or _d(r["written_off_date"]), disputed,
                    _d(r.get("dispute_resolved_date", "")), _d(r["settled_date"])))
    return out


def stage_problem(stage: dict, invoices: list[Invoice], day: date, grace: int) -> str | None:
    """Why a contact at `stage` on local `day` is not earned (None: it is). A stage with
    `days_past_due` d is earned when the oldest open, undisputed invoice is at least d days
    past due, and for a post-due stage (d >= 1) also past grace (at least grace + 1)."""
    owed = [i for i in invoices if i.owed_on(day)]
    if not owed:
        return "nothing open and undisputed is owed (all paid, written off or disputed)"
    dpd = max((day - i.due).days for i in owed)
    need = stage["days_past_due"] if stage["days_past_due"] <= 0 else max(stage["days_past_due"], grace + 1)
    if dpd < need:
        return (f"stage needs {need} days past due (days_past_due {stage['days_past_due']}, grace {grace}); "
                f"the oldest open undisputed invoice is {dpd} days past due")
    return None


def message_problem(message: dict, invoices: list[Invoice], day: date) -> str | None:
    """Why an event-triggered message on local `day` has no trigger in a replay (None: it
    has one). A replay's only debtor events are settlements: a `payment` message must follow
    one by at most `within_days` days; any other trigger cannot have fired."""
    if message["trigger"] != "payment":
        return f"trigger {message['trigger']} cannot fire in a replay (the file records no such event)"
    within = message.get("within_days", 2)
    if not any(i.settled is not None and 0 <= (day - i.settled).days <= within for i in invoices):
        return f"no invoice was settled in the {within} days before"
    return None


# ---- templates -----------------------------------------------------------------------------

def internal_on_written(template: str, channel: str, policy: dict | None = None) -> bool:
    """A template written for staff (`audience: internal`) sent on a written channel kind."""
    policy = policy if policy is not None else policy_doc()
    kind = policy["channels"][channel]["kind"]
    audience = (policy["templates"].get(template) or {}).get("audience", "debtor")
    return kind in WRITTEN and audience == "internal"


# ---- holds -----------------------------------------------------------------------------------

# Holds that only an event lifts, so they carry no `until` (policy guide, "Holds and
# suppressions"): a stop state, an open dispute, a time bar (limitation only restarts with
# the debtor's own act), a consent a rule requires first.
EVENT_LIFTED = ("stop.deceased", "stop.bankruptcy", "stop.cease_communication", "stop.represented",
                "pause.dispute")
EVENT_LIFTED_KINDS = ("time_bar", "consent_required", "cease_communication", "represented")


def event_lifted_rules() -> set[str]:
    """Rule ids that are lifted only by an event: the stop states and pauses above, and the
    profiles' rules of those kinds."""
    out = set(EVENT_LIFTED)
    for doc in profile_docs():
        out.update(r["id"] for r in doc["rules"] if r["kind"] in EVENT_LIFTED_KINDS)
    return out


def hold_problem(suppression: dict, evaluated_at: datetime, lifted: set[str]) -> str | None:
    """What is wrong with one suppression of a decision's JSON (None: nothing). It must say
    until when, later than the decision, or be a hold only an event lifts, with a reason."""
    until, rule = suppression.get("until"), suppression["rule"]
    if not suppression.get("reason"):
        return "no reason"
    if until is None:
        return None if rule in lifted else "until is null, and an event is not what lifts it"
    if datetime.fromisoformat(until.replace("Z", "+00:00")) <= evaluated_at:
        return f"until {until} is not after the decision ({evaluated_at.isoformat()})"
    return None
