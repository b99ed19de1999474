"""The end-to-end check of issue 11: what reaches a debtor must be right.

The shipped sample (2025) and a generated year (2026: consumer and business debtors in every
jurisdiction a shipped profile names, several states of each, and JP and IN, which no profile
covers) are replayed under the shipped policy, and every contact and every hold is judged
against an independent reading of the shipped YAML (`tests/replay/invariants.py`):

1. no contact outside the contact hours that apply, in the debtor's local time (profiles'
   windows and public holidays, the policy's house hours where it has them);
2. no internal template (a call script, a staff note) on a written channel;
3. no stage above what the open, undisputed invoices earn (grace included), no contact while
   nothing undisputed is owed, and no attempt number used twice for the same debt;
4. no contact to a represented debtor's own address: the CSV carries no events, so this one
   runs the live path, a real SQLite store ticked over five weeks with `represented` events
   and every channel delivered to a real HTTP server (refusing every message on a few days);
5. every hold explained with an `until` later than the decision, or a hold only an event lifts;
   on the live path also: a step a decision says is due now goes out (or is attempted) before
   the next day's decision, since a step that silently never goes out is a hold nobody explains.

Each check collects every breach and fails listing the first ones (account, local time,
rule), so a failure says where to look.
"""
from __future__ import annotations

import csv
import dataclasses
import importlib.util
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from arrears.engine.decisions.core import decide_batch
from arrears.engine.decisions.decision_json import decision_dict
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.model import Account, Event
from arrears.engine.replay import read_replay_csv, replay
from arrears.engine.replay.export import CONTACT_CSV, contact_rows
from arrears.engine.store import Store
from arrears.engine.tick import run_tick
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.replay import invariants as inv
from tests.replay.replaykit import GENERATOR
from tests.tick.tickkit import rows as sql_rows

GENERATED_YEAR = (date(2026, 1, 1), date(2026, 12, 31))
SHOWN = 12          # breaches listed in a failure message


def _zone(row: dict, policy: dict) -> str:
    return row.get("timezone") or policy["metadata"]["default_timezone"]


def _accounts(rows: list[dict]) -> dict[str, dict]:
    """Each account's columns (from its first row)."""
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["account_id"], r)
    return out


def _fail(what: str, breaches: list[str], total: int) -> None:
    if breaches:
        shown = "\n  ".join(breaches[:SHOWN])
        pytest.fail(f"{len(breaches)} of {total} {what}:\n  {shown}", pytrace=False)


# ---- the data sets -------------------------------------------------------------------------

def _load_generator():
    spec = importlib.util.spec_from_file_location("generate_sample", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated_rows(seed: int = 11) -> list[dict]:
    """A seeded year of invoices: for every jurisdiction of `inv.JURISDICTIONS` a consumer and
    a business customer, invoiced about monthly from October 2025, paying as the sample's
    generator makes its late, very late and defaulting customers pay (so paid invoices are
    followed by open ones, disputes come and go, some debts run past 90 days)."""
    gen = _load_generator()
    rng = random.Random(seed)
    behaviours = ("late", "very_late", "defaulter")
    rows = []
    for n, (jur, (zone, currency)) in enumerate(sorted(inv.JURISDICTIONS.items())):
        for k, kind in enumerate(("consumer", "business")):
            digits = 0 if currency == "JPY" else 2
            typical = {"JPY": 60000, "INR": 30000, "HUF": 150000, "CZK": 10000}.get(currency, 500)
            cust = {"id": f"{jur}-{kind[0].upper()}", "jurisdiction": jur, "timezone": zone,
                    "currency": currency, "language": "en", "digits": digits,
                    "typical": typical * (3 if kind == "business" else 1), "type": kind,
                    "behaviour": behaviours[(n + k) % 3], "terms": 30 if kind == "business" else 14,
                    "every": 30}
            first = date(2025, 10, 1) + timedelta(days=rng.randint(0, 60))
            rows += gen.invoice_rows(rng, cust, 10, first, GENERATED_YEAR[1])
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def generated_run(tmp_path_factory, shipped_policy):
    """The generated year written as a replay CSV and replayed over 2026 (read back with the
    csv module alone, for the independent checks)."""
    path = tmp_path_factory.mktemp("generated") / "year.csv"
    gen = _load_generator()
    with path.open("w", newline="", encoding="utf-8") as fh:
        gen.write(generated_rows(), fh)
    data = read_replay_csv(path)
    assert not data.rejects, data.rejects[:3]
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return replay(data, shipped_policy, *GENERATED_YEAR), rows


@pytest.fixture(scope="module", params=["sample", pytest.param("generated", marks=pytest.mark.slow)])
def replayed(request):
    """(run, CSV rows, name) of each replayed data set."""
    if request.param == "sample":
        return request.getfixturevalue("sample_run"), request.getfixturevalue("sample_rows"), "sample"
    run, rows = request.getfixturevalue("generated_run")
    return run, rows, "generated"


# ---- the data sets cover what they must ------------------------------------------------------

def test_every_shipped_jurisdiction_is_covered():
    """The generated year has a consumer and a business debtor in every jurisdiction a shipped
    profile names (and in two no profile covers), each in a real time zone."""
    named = inv.profile_jurisdictions()
    assert named <= set(inv.JURISDICTIONS), sorted(named - set(inv.JURISDICTIONS))
    for jur in inv.WITHOUT_PROFILE:
        assert not any(inv.applicable_profiles(jur, t, inv.policy_doc()) for t in ("consumer", "business"))
    rows = generated_rows()
    kinds = {(r["jurisdiction"], r["debtor_type"]) for r in rows}
    assert kinds == {(j, t) for j in inv.JURISDICTIONS for t in ("consumer", "business")}
    # Episodes: invoices paid while a later one of the same account is open.
    handovers = sum(1 for a, b in zip(rows, rows[1:]) if a["account_id"] == b["account_id"]
                    and a["settled_date"] and b["issued_date"] < a["settled_date"])
    assert handovers > 100


def test_the_independent_hours_judge_what_they_should():
    """The oracle itself: AU windows, public holidays and weekends; JP has no profile rule."""
    sydney = "Australia/Sydney"
    call = inv.Hours("AU-NSW", "consumer", "call")
    assert call.breaches(datetime(2026, 3, 2, 21, 0, tzinfo=timezone.utc), sydney) == []   # Tue 08:00
    assert call.breaches(datetime(2026, 3, 2, 20, 0, tzinfo=timezone.utc), sydney)         # Tue 07:00
    assert call.breaches(datetime(2026, 3, 7, 21, 30, tzinfo=timezone.utc), sydney)        # Sun 08:30
    assert "public holiday" in " ".join(
        call.breaches(datetime(2026, 1, 25, 23, 0, tzinfo=timezone.utc), sydney))          # 26 Jan 10:00
    def profile_windows(*key):
        return [w.rule for w in inv.Hours(*key).windows if not w.rule.startswith("house.")]
    assert profile_windows("US-MA", "consumer", "call") == ["us-ma.hours"]
    assert profile_windows("US-MA", "business", "call") == []
    assert profile_windows("AU-NSW", "consumer", "letter") == []
    house = inv.policy_doc().get("compliance", {}).get("contact_hours")
    jp = inv.Hours("JP", "consumer", "email")
    assert bool(jp.windows) == bool(house)      # only the policy's house hours cover Japan


@pytest.mark.parametrize("debtor_type", ["consumer", "business"])
def test_the_shipped_policy_gives_every_debtor_contact_hours(debtor_type):
    """Hours apply to every debtor on every channel that reaches them directly (issue 11 #2:
    where no profile gives a window, contacts went out at local midnight). With them, the
    contacts check below judges every jurisdiction, not only those with a profile window."""
    missing = [f"{jur} {kind}" for jur in sorted(inv.JURISDICTIONS) for kind in ("call", "sms", "email")
               if not inv.Hours(jur, debtor_type, kind).windows]
    _fail(f"jurisdiction and channel kinds without any contact hours for a {debtor_type}", missing,
          len(inv.JURISDICTIONS) * 3)


# ---- 1, 2, 3: every contact of the replays -----------------------------------------------------

def test_contacts_stay_inside_the_hours_that_apply(replayed):
    run, rows, name = replayed
    policy, accounts = inv.policy_doc(), _accounts(rows)
    contacts = contact_rows(run)
    hours: dict = {}
    breaches = []
    for account, _day, at, stage, _attempt, channel, *_rest in contacts:
        a = accounts[account]
        kind = policy["channels"][channel]["kind"]
        key = (a["jurisdiction"], a["debtor_type"] or "consumer", kind)
        if key not in hours:
            hours[key] = inv.Hours(*key, policy=policy)
        for why in hours[key].breaches(datetime.fromisoformat(at.replace("Z", "+00:00")), _zone(a, policy)):
            breaches.append(f"{account} ({'/'.join(key[:2])}) {stage} by {channel} at {at}: {why}")
    assert len(contacts) > 300
    _fail(f"{name} contacts outside the hours that apply", breaches, len(contacts))


def test_no_internal_template_on_a_written_channel(replayed):
    run, _rows, name = replayed
    contacts = contact_rows(run)
    template = CONTACT_CSV.index("template")
    breaches = [f"{c[0]} {c[3]} by {c[5]} at {c[2]}: template {c[template]}"
                for c in contacts if inv.internal_on_written(c[template], c[5])]
    assert {c[template] for c in contacts} >= {"friendly_reminder", "call_script"}
    _fail(f"{name} contacts with an internal template on a written channel", breaches, len(contacts))


def test_no_stage_above_what_the_open_invoices_earn(replayed):
    """Every escalation contact is earned by the open, undisputed invoices of its day; an
    event-triggered message (`event_messages`, e.g. a thank-you) instead follows its trigger:
    the replay's only events are settlements, so a payment message follows one within its
    `within_days` (default 2), and no other trigger can fire."""
    run, rows, name = replayed
    policy, accounts = inv.policy_doc(), _accounts(rows)
    stages = {s["id"]: s for s in policy["escalation"]["stages"]}
    messages = {m["id"]: m for m in policy.get("event_messages") or ()}
    invoices = inv.invoices_by_account(rows)
    contacts = contact_rows(run)
    breaches = []
    for account, day, at, stage, attempt, channel, *_rest in contacts:
        d = date.fromisoformat(day)
        if stage in messages:
            why = inv.message_problem(messages[stage], invoices[account], d)
        else:
            grace = inv.grace_days(accounts[account]["debtor_type"] or "consumer", policy)
            why = inv.stage_problem(stages[stage], invoices[account], d, grace)
        if why:
            breaches.append(f"{account} on {day} ({at}) {stage} attempt {attempt} by {channel}: {why}")
    _fail(f"{name} contacts at a stage the open invoices do not earn", breaches, len(contacts))


def test_no_attempt_number_is_reused_for_the_same_debt(replayed):
    """Issue 11 #3's second property: while the oldest open, undisputed invoice stays the same
    (the same debt), a stage's attempt number is never used twice; a payment, write-off or
    dispute that changes the oldest invoice may start a new episode, and the ladder again."""
    run, rows, name = replayed
    invoices = inv.invoices_by_account(rows)
    ids: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        ids[r["account_id"]].append(r["invoice_id"])
    contacts = contact_rows(run)
    breaches, debt, used = [], {}, {}
    messages = {m["id"] for m in inv.policy_doc().get("event_messages") or ()}
    for account, day, at, stage, attempt, channel, *_rest in contacts:      # by account, then time
        if stage in messages:           # once per triggering event, not a step of the ladder
            continue
        d = date.fromisoformat(day)
        owed = sorted((i.due, iid) for i, iid in zip(invoices[account], ids[account]) if i.owed_on(d))
        if not owed:
            continue
        if debt.get(account) != owed[0][1]:
            debt[account], used[account] = owed[0][1], {}
        if (stage, attempt) in used[account]:
            breaches.append(f"{account} {stage} attempt {attempt} by {channel} at {at}, again after "
                            f"{used[account][(stage, attempt)]}; the oldest open invoice is {owed[0][1]} "
                            f"(due {owed[0][0]}) both times")
        used[account][(stage, attempt)] = at
    _fail(f"{name} contacts reusing an attempt number for the same debt", breaches, len(contacts))


# ---- 5: every hold the replays recorded ----------------------------------------------------------

def _ticks_of_local_day(run, rows: np.ndarray, day: int) -> dict[int, list[int]]:
    """The tick instants whose local day (in each account's zone) is `day` (an epoch day)."""
    hist, out = run.history, defaultdict(list)
    start = hist.midnight(rows, np.full(rows.size, day))
    end = hist.midnight(rows, np.full(rows.size, day + 1))
    for row, s, e in zip(rows.tolist(), start.tolist(), end.tolist()):
        for t in range(-(-s // run.tick) * run.tick, e, run.tick):
            out[t].append(row)
    return out


@pytest.mark.slow
def test_every_hold_says_until_when(replayed, shipped_policy):
    """Every account the replay recorded as held back is decided again, by the same pure core,
    on the history as it stood at that tick; each suppression of the decision's JSON (what
    the API serves) has an `until` after the decision, or is a hold only an event lifts.
    Slow: one `decide_batch` per tick with holds (about 350 for the sample)."""
    run, _rows, name = replayed
    day_offset, _rule, acct = run.record.suppressions()
    by_tick: dict[int, set[int]] = defaultdict(set)
    for day in np.unique(day_offset).tolist():
        rows = np.unique(acct[day_offset == day]).astype(np.int64)
        for t, rs in _ticks_of_local_day(run, rows, run.record.start_day + day).items():
            by_tick[t].update(rs)
    lifted = inv.event_lifted_rules()
    breaches, seen, rules = [], 0, set()
    for t in sorted(by_tick):
        rows = np.array(sorted(by_tick[t]), dtype=np.int64)
        db = decide_batch(run.history.batch(rows, t), shipped_policy, from_epoch(t))
        for i in range(rows.size):
            d = decision_dict(db, i)
            for s in d["suppressions"]:
                seen += 1
                rules.add(s["rule"])
                why = inv.hold_problem(s, from_epoch(t), lifted)
                if why:
                    breaches.append(f"{d['account_id']} at {d['evaluated_at']} stage {d['stage']}: "
                                    f"{s['rule']} ({s['reason']}; until {s['until']}): {why}")
    assert seen > 50 and "grace" in rules
    _fail(f"{name} suppressions without a usable until", breaches, seen)


# ---- 4: represented debtors, through the store and the tick ------------------------------------

START = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)       # a Monday
LATER = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)     # representation of the second half
TICK = timedelta(hours=6)
DAYS = 36
FAILING = (6, 7, 22)      # days after START when the provider refuses every message
ROUTES = {name: "webhook" for name in ("email", "sms", "letter", "call", "crm", "review")}


def _own(account_id: str) -> dict:
    slug = account_id.lower()
    return {"email": f"{slug}@debtor.example", "phone": "+15550001000", "mobile": "+15550002000",
            "address": f"1 {account_id} Street"}


def _representative(n: int) -> dict | None:
    """A representative with an email and an address, one with a name only (unreachable:
    staff review), or none named."""
    return ({"name": f"Counsel {n}", "firm": "Law & Co", "email": f"counsel{n}@law.example",
             "address": f"{n} Chancery Lane"}, {"name": f"Adviser {n}"}, None)[n % 3]


def _represented_portfolio() -> tuple[list[Account], list[list[Event]], dict[str, datetime]]:
    """A consumer and a business debtor per jurisdiction, each owing an invoice due two weeks
    before START; half represented from before START, half from LATER."""
    carries = "representative" in {f.name for f in dataclasses.fields(Event)}
    accounts, histories, since = [], [], {}
    for n, (jur, (zone, currency)) in enumerate(sorted(inv.JURISDICTIONS.items())):
        for kind in ("consumer", "business"):
            aid = f"R-{jur}-{kind[0].upper()}"
            accounts.append(Account.from_dict({
                "id": aid, "currency": currency, "timezone": zone, "jurisdiction": jur, "debtor_type": kind,
                "language": "en", "contact": _own(aid),
                "invoices": [{"id": "I1", "amount": "90000" if currency == "JPY" else "1500.00",
                              "issued_date": "2026-01-15", "due_date": "2026-02-14"}]}))
            at = datetime(2026, 2, 20, tzinfo=timezone.utc) if n % 2 else LATER
            event = {"type": "represented", "at": at.isoformat()}
            rep = _representative(n)
            if carries and rep is not None:
                event["representative"] = rep
            histories.append([Event.from_dict(event)])
            since[aid] = at
    return accounts, histories, since


def _dispatcher(server) -> Dispatcher:
    """Every policy channel delivered by the signed webhook to `server`."""
    config = {"channels": {"webhook": {"url": server.url + "/hook", "secret": "s" * 32, "timeout": 5}},
              "routes": dict(ROUTES), "creditor": {"name": "Example Ltd"}}
    return Dispatcher(plugin_manager(), config)


def _stalled(d: dict, due_now: dict, reached: set, now: datetime) -> list[str]:
    """A step a decision said was due now, due again a day later, with nothing sent to or for
    the account in between: a hold nothing explains (the decision lists no suppression).
    `due_now` keeps, per account, (step, since, reported) from the previous daily decision."""
    a, account = d["action"], d["account_id"]
    if a is None or datetime.fromisoformat(a["not_before"].replace("Z", "+00:00")) > now:
        due_now.pop(account, None)
        return []
    step = (a["stage"], a["attempt"], a["channel"])
    earlier = due_now.get(account)
    if earlier is None or earlier[0] != step or account in reached:
        due_now[account] = (step, d["evaluated_at"], False)
        return []
    if earlier[2]:                      # reported once per stall
        return []
    due_now[account] = (step, earlier[1], True)
    return [f"{account}: {step[0]} attempt {step[1]} by {step[2]} due since {earlier[1]}, still due at "
            f"{d['evaluated_at']}, nothing sent and no suppression says why"]


@pytest.mark.slow
def test_live_tick_represented_debtors_and_failed_deliveries(db_url, shipped_policy):
    """Five weeks of ticks every six hours on a real SQLite store, every channel delivered to
    a real HTTP server: after the `represented` event no message names any of the debtor's
    own addresses (invariant 4), while before it the debtors were reached (the path delivers). Every
    delivered message also keeps the hours and carries no internal template on a written
    channel, and every account decided from the store once a day explains its holds: each
    suppression says until when, and a step the decision says is due now is sent before the
    next day's decision. On FAILING days the provider refuses every message (HTTP 400: a
    failed contact), so holds for failed channels are explained too."""
    accounts, histories, since = _represented_portfolio()
    by_id = {a.id: a for a in accounts}
    policy = inv.policy_doc()
    with RecordingServer() as server, RecordingServer() as refusing, Store(db_url) as store:
        for _ in range(2000):
            refusing.reply(400, b'{"error": "mailbox unavailable"}')
        store.upsert_accounts(accounts, now=START - timedelta(days=20))
        store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h],
                            now=START - timedelta(days=20))
        dispatchers = {False: (server, _dispatcher(server)), True: (refusing, _dispatcher(refusing))}
        sent, lifted, holds, breaches, failed = [], inv.event_lifted_rules(), 0, [], 0
        due_now: dict[str, tuple] = {}      # account -> the step its last daily decision said was due
        since_check = 0
        acct_nos = np.array(sorted(store.acct_nos([a.id for a in accounts]).values()), dtype=np.int64)
        for k in range(int(timedelta(days=DAYS) / TICK)):
            now = START + k * TICK
            provider, dispatcher = dispatchers[(now - START).days in FAILING]
            before = len(provider.requests)
            summary = run_tick(store, shipped_policy, now, dispatcher=dispatcher, workers=0)
            failed += summary.failed
            sent += [(now, r.json()["message"]) for r in provider.requests[before:]]
            if k % 4 == 0:      # once a day: every account decided from the store, as /v1/decide does
                db = decide_batch(store.load_batch(acct_nos), shipped_policy, now)
                reached = {m["account_id"] for _at, m in sent[since_check:]}
                since_check = len(sent)
                for i in range(acct_nos.size):
                    d = decision_dict(db, i)
                    breaches += _stalled(d, due_now, reached, now)
                    for s in d["suppressions"]:
                        holds += 1
                        why = inv.hold_problem(s, now, lifted)
                        if why:
                            breaches.append(f"{d['account_id']} at {d['evaluated_at']} stage {d['stage']}: "
                                            f"{s['rule']} ({s['reason']}; until {s['until']}): {why}")
        # Only the provider's refusals may fail a delivery: a message the engine cannot even
        # compose (a template that does not render) is a step lost without a word.
        failures = sql_rows(store, "SELECT o.id, a.id, o.stage, o.channel, o.last_error FROM outbox o "
                                   "JOIN accounts a USING (acct_no) WHERE o.status = 'failed' ORDER BY o.id")
        for oid, aid, stage, channel, error in failures:
            if not (error or "").startswith("HTTP 400"):
                breaches.append(f"{aid}: {stage} by {channel} (outbox {oid}) failed inside the engine: "
                                f"{error}")
    before_rep = 0
    for at, m in sent:
        aid, recipient = m["account_id"], m.get("recipient") or {}
        acc = by_id[aid]
        label = f"{aid} {m['stage']} by {m['channel']} at {at.isoformat()}"
        if at < since[aid]:
            before_rep += 1
        else:
            own = set(_own(aid).values())
            if own & {v for v in recipient.values() if isinstance(v, str)}:
                breaches.append(f"{label}: represented since {since[aid].isoformat()}, sent to the debtor's "
                                f"own {sorted(k for k, v in recipient.items() if v in own)}")
        kind = policy["channels"][m["channel"]]["kind"]
        hours = inv.Hours(acc.jurisdiction, acc.debtor_type, kind, policy=policy)
        breaches += [f"{label}: {why}" for why in hours.breaches(at, acc.timezone)]
        if inv.internal_on_written(m["template"], m["channel"], policy):
            breaches.append(f"{label}: internal template {m['template']} on a written channel")
    assert before_rep > 20, "the debtors represented from 20 March were reached before it"
    assert holds > 100 and failed > 20
    _fail("delivered messages and holds breaking a rule", breaches, len(sent) + holds)
