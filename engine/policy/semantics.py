"""Rules about a policy that a JSON Schema cannot express.

Cross-references (stages -> channels, templates, segments; a stage's templates per
channel kind and their audience, in `arrears.engine.policy.templates`), ordering (buckets, stages,
fee tiers), facts used with the right operators and value types, and legal gates.
It runs even when the schema found problems, so it reads the data defensively and
skips whatever has the wrong shape: the schema has already reported that.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, available_timezones

from arrears.engine.domain.errors import Problem
from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.domain.words import did_you_mean
from arrears.engine.facts.catalogue import (
    BOOL,
    FACTS,
    INT,
    MONEY,
    NUMBER,
    OPERATORS,
    SET,
    STRING,
    is_plugin_fact,
)
from arrears.engine.guardrails.kinds.contact_window import check_window
from arrears.engine.policy import templates as stage_templates
from arrears.engine.policy.warning import RULES as WARNING_RULES
from arrears.engine.policy.yamlsrc import Document, pointer

LEGAL_ACTIONS = ("legal_warning", "refer_to_agency", "legal_action")
ALL_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS.values() for op in ops))
_MONEY = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_EXPECTED = {INT: "a whole number", NUMBER: "a number", MONEY: 'a decimal amount such as "50.00"',
             STRING: "a string", SET: "a code (string)", BOOL: "true or false"}


def shown(value) -> str:
    """A short, YAML-flavoured rendering of a value for messages."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing"}[value]
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _dict(x):
    return x if isinstance(x, dict) else {}


def _list(x):
    return x if isinstance(x, list) else []


def _int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _decimal(x):
    if _num(x) or (isinstance(x, str) and _MONEY.match(x)):
        try:
            return Decimal(str(x))
        except InvalidOperation:
            return None
    return None


@functools.cache
def _zones() -> frozenset:
    return frozenset(available_timezones())


def _zone_ok(name: str) -> bool:
    if name in _zones():
        return True
    try:
        ZoneInfo(name)
        return True
    except (ValueError, OSError, LookupError):   # LookupError covers ZoneInfoNotFoundError
        return False


class _Checker:
    def __init__(self, data, doc: Document, filename: str, facts: dict | None = None):
        self.data, self.doc, self.filename, self.problems = _dict(data), doc, filename, []
        self.plugin_facts = dict(facts or {})      # name -> FactDef of the loaded plugins' facts
        self.segments = [k for k in _dict(self.data.get("segments")) if isinstance(k, str)]
        self.stages = _list(_dict(self.data.get("escalation")).get("stages"))
        self.stage_ids = [s["id"] for s in self.stages
                          if isinstance(s, dict) and isinstance(s.get("id"), str)]
        buckets = _list(_dict(self.data.get("aging")).get("buckets"))
        # Facts whose values the policy itself defines, so a typo there is caught too.
        self.closed = {"bucket": ("aging bucket", [b.get("name") for b in buckets if isinstance(b, dict)]),
                       "last_stage": ("stage id", self.stage_ids),
                       "opted_out": ("channel kind", CHANNEL_KINDS),
                       "reachable": ("channel kind", CHANNEL_KINDS)}
        # An enumerated built-in fact (debtor_type), and a plugin fact that declares its values,
        # are checked like the facts above.
        self.closed.update({name: (name.replace("_", " "), fd.choices)
                            for name, fd in FACTS.items() if fd.choices})
        self.closed.update({name: (f"{name} value", fd.choices)
                            for name, fd in self.plugin_facts.items() if fd.choices})

    def add(self, path, message, key=False):
        line, col = self.doc.key_position(path) if key else self.doc.position(path)
        self.problems.append(Problem(self.filename, line, col, message, pointer(path)))

    def unknown(self, what, name, known, path, key=False):
        self.add(path, f"unknown {what} {name!r}{did_you_mean(name, known)}", key)

    # -- aging -----------------------------------------------------------------
    def aging(self):
        buckets = _list(_dict(self.data.get("aging")).get("buckets"))
        names, prev = {}, None
        for i, b in enumerate(buckets):
            if not isinstance(b, dict):
                continue
            p, name, lo, hi = ("aging", "buckets", i), b.get("name"), b.get("min_days"), b.get("max_days")
            first, last = i == 0, i == len(buckets) - 1
            if isinstance(name, str):
                if name in names:
                    self.add(p + ("name",), f"duplicate bucket name {name!r} (first on line {names[name]})")
                names.setdefault(name, self.doc.position(p + ("name",))[0])
            if first and "min_days" in b:
                self.add(p + ("min_days",), "the first bucket must not have min_days: "
                                            "it takes every day up to its max_days")
            if last and "max_days" in b:
                self.add(p + ("max_days",), "the last bucket must not have max_days: "
                                            "it takes every day from its min_days on")
            if not first and "min_days" not in b:
                self.add(p, f"bucket {name!r} needs min_days: only the first bucket is open at the bottom")
            if not last and "max_days" not in b:
                self.add(p, f"bucket {name!r} needs max_days: only the last bucket is open at the top")
            if _int(lo) and _int(hi) and lo > hi:
                self.add(p + ("min_days",), f"bucket {name!r} starts at {lo}, after its max_days {hi}")
            if prev is not None and _int(lo) and _int(prev.get("max_days")):
                self._adjacent(p, name, lo, prev)
            prev = b

    def _adjacent(self, p, name, lo, prev):
        end, prev_name = prev["max_days"], prev.get("name")
        if lo > end + 1:
            span = f"day {end + 1} is" if lo == end + 2 else f"days {end + 1}-{lo - 1} are"
            self.add(p + ("min_days",), f"gap before bucket {name!r}: {span} in no bucket "
                                        f"({prev_name!r} ends at {end})")
        elif lo <= end:
            self.add(p + ("min_days",), f"bucket {name!r} starts at {lo} but {prev_name!r} ends at {end}: "
                                        "buckets overlap")

    # -- conditions ------------------------------------------------------------
    def conditions(self):
        for i, (name, seg) in enumerate(_dict(self.data.get("segments")).items()):
            if isinstance(seg, dict) and "when" in seg:
                self.condition(seg["when"], ("segments", name, "when"), set(self.segments[:i]), name)
        rest = {k: v for k, v in self.data.items() if k != "segments"}
        for path, cond in _whens(rest, ()):
            self.condition(cond, path)

    def condition(self, node, path, above=None, owner=None):
        if not isinstance(node, dict):
            return
        for key in ("all", "any"):
            for i, item in enumerate(_list(node.get(key))):
                self.condition(item, path + (key, i), above, owner)
        if "not" in node:
            self.condition(node["not"], path + ("not",), above, owner)
        if "segment" in node:
            self.segment_ref(node["segment"], path + ("segment",), above, owner)
        if "fact" in node:
            self.leaf(node, path)

    def segment_ref(self, name, path, above=None, owner=None, key=False):
        if not isinstance(name, str):
            return
        if name not in self.segments:
            self.unknown("segment", name, self.segments, path, key)
        elif above is not None and name not in above:
            self.add(path, f"segment {owner!r} uses {name!r}, which is not defined above it; "
                           "a segment may only use segments defined above it", key)

    def leaf(self, node, path):
        fact = node.get("fact")
        fd = (FACTS.get(fact) or self.plugin_facts.get(fact)) if isinstance(fact, str) else None
        if fd is None:
            if is_plugin_fact(fact):
                self.unknown_plugin_fact(fact, path + ("fact",))
            elif isinstance(fact, str):
                self.unknown("fact", fact, FACTS, path + ("fact",))
            return
        for param in ("window_days", "channel"):
            if param in node and param not in fd.params:
                takes = f" (it takes: {', '.join(fd.params)})" if fd.params else ""
                self.add(path + (param,), f"fact {fact!r} takes no {param!r}{takes}", key=True)
        for op in (k for k in node if k in ALL_OPERATORS):
            if op not in OPERATORS[fd.kind]:
                self.add(path + (op,), f"operator {op!r} does not apply to {fact!r} ({fd.kind}); "
                                       f"use one of: {', '.join(OPERATORS[fd.kind])}", key=True)
            else:
                self.operand(fd, op, node[op], path + (op,))

    def unknown_plugin_fact(self, fact, path):
        provided = sorted(self.plugin_facts)
        listing = ", ".join(f"{name} ({self.plugin_facts[name].plugin or '?'})" for name in provided)
        self.add(path, f"no plugin provides fact {fact!r}; loaded plugins provide: {listing or 'none'}"
                       f"{did_you_mean(fact, provided)}")

    def operand(self, fd, op, value, path):
        if op == "exists":
            if not isinstance(value, bool):
                self.add(path, f"'exists' takes true or false, got {shown(value)}")
        elif op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.add(path, f"{op!r} takes a non-empty list, got {shown(value)}")
            for i, item in enumerate(_list(value)):
                self.scalar(fd, item, path + (i,))
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.add(path, f"'between' takes a list [low, high], got {shown(value)}")
                return
            ok = [self.scalar(fd, v, path + (i,)) for i, v in enumerate(value)]
            low, high = (_decimal(v) for v in value)
            if all(ok) and low is not None and high is not None and low > high:
                self.add(path, f"'between' needs low <= high, got [{value[0]}, {value[1]}]")
        else:
            self.scalar(fd, value, path)

    def scalar(self, fd, value, path) -> bool:
        ok = {INT: _int(value), NUMBER: _num(value), MONEY: _decimal(value) is not None,
              STRING: isinstance(value, str), SET: isinstance(value, str),
              BOOL: isinstance(value, bool)}[fd.kind]
        if not ok:
            expected = _EXPECTED[fd.kind]
            self.add(path, f"fact {fd.name!r} is {fd.kind}: expected {expected}, got {shown(value)}")
            return False
        what, known = self.closed.get(fd.name, ("", ()))
        if known and value not in known:
            self.unknown(what, value, known, path)
        return True

    # -- stages and what refers to them ----------------------------------------
    def escalation(self):
        channels = self.data.get("channels")
        templates = self.data.get("templates")
        first_line, top, gate = {}, None, False
        for i, st in enumerate(self.stages):
            if not isinstance(st, dict):
                continue
            p, sid = ("escalation", "stages", i), st.get("id")
            label = sid if isinstance(sid, str) else f"#{i + 1}"
            if isinstance(sid, str):
                if sid in first_line:
                    self.add(p + ("id",), f"duplicate stage id {sid!r} (first on line {first_line[sid]})")
                first_line.setdefault(sid, self.doc.position(p + ("id",))[0])
            dpd = st.get("days_past_due")
            if _int(dpd) and top is not None and dpd < top[0]:
                self.add(p + ("days_past_due",), f"stage {label!r} (days_past_due {dpd}) comes after "
                                                 f"{top[1]!r} ({top[0]}): stages must be in escalation order")
            elif _int(dpd):
                top = (dpd, label)
            for j, ch in enumerate(_list(st.get("channels"))):
                if isinstance(channels, dict) and isinstance(ch, str) and ch not in channels:
                    self.unknown("channel", ch, channels, p + ("channels", j))
            if isinstance(templates, dict):
                stage_templates.check_stage(st, p, _dict(channels), templates, self.add, self.unknown)
            for j, seg in enumerate(_list(st.get("segments"))):
                self.segment_ref(seg, p + ("segments", j))
            self.variants(st, p, label, channels, templates)
            self.assign_to(st, p, label, channels)
            action = st.get("action")
            if action in LEGAL_ACTIONS and not gate:
                self.add(p + ("action",), f"stage {label!r} ({action}) needs an earlier stage with action "
                                          "'formal_notice' and required: true")
            gate = gate or (action == "formal_notice" and st.get("required") is True)

    def variants(self, st, p, label, channels, templates):
        """A stage's variants name known segments and channels, carry a template fit for their
        channels, and can each apply (no variant repeats an earlier one's segments unconditionally)."""
        seen = {}
        for j, v in enumerate(_list(st.get("variants"))):
            if not isinstance(v, dict):
                continue
            vp = p + ("variants", j)
            for k, seg in enumerate(_list(v.get("segments"))):
                self.segment_ref(seg, vp + ("segments", k))
            for k, ch in enumerate(_list(v.get("channels"))):
                if isinstance(channels, dict) and isinstance(ch, str) and ch not in channels:
                    self.unknown("channel", ch, channels, vp + ("channels", k))
            if isinstance(templates, dict) and ("channels" in v or "template" in v):
                form = {"id": f"{label} (variant {j + 1})", "channels": v.get("channels", st.get("channels")),
                        "template": v.get("template", st.get("template"))}
                stage_templates.check_stage(form, vp, _dict(channels), templates, self.add, self.unknown)
            segs = _list(v.get("segments"))
            if segs and "when" not in v and all(isinstance(x, str) for x in segs):
                key = frozenset(segs)
                earlier = next((i for i, prior in seen.items() if key <= prior), None)
                if earlier is not None:
                    self.add(vp + ("segments",), f"stage {label!r} variant {j + 1} never applies: variant "
                                                 f"{earlier + 1} already takes every account of its segments "
                                                 "(the first variant that matches wins)")
                seen.setdefault(j, key)

    def assign_to(self, st, p, label, channels):
        """A stage assigned to the account manager has a channel a person works (call or task)."""
        if "assign_to" not in st or not isinstance(channels, dict):
            return
        names = list(_list(st.get("channels")))
        for v in _list(st.get("variants")):
            names += _list(_dict(v).get("channels"))
        kinds = {_dict(channels.get(n)).get("kind") for n in names if isinstance(n, str)}
        if not kinds & {"call", "task"}:
            self.add(p + ("assign_to",), f"stage {label!r} is assigned to the account manager but has no "
                                         "call or task channel: only a call or a task is worked by a person")

    def event_messages(self):
        """Event messages name known channels and templates, and ids no stage or message has."""
        channels, templates = self.data.get("channels"), self.data.get("templates")
        seen = {sid: "a stage" for sid in self.stage_ids}
        for i, m in enumerate(_list(self.data.get("event_messages"))):
            if not isinstance(m, dict):
                continue
            p, mid = ("event_messages", i), m.get("id")
            if isinstance(mid, str):
                if mid in seen:
                    self.add(p + ("id",), f"message id {mid!r} is already used by {seen[mid]}")
                seen.setdefault(mid, "another message")
            for j, ch in enumerate(_list(m.get("channels"))):
                if isinstance(channels, dict) and isinstance(ch, str) and ch not in channels:
                    self.unknown("channel", ch, channels, p + ("channels", j))
            if isinstance(templates, dict):     # as for a stage: no internal template in writing
                stage_templates.check_stage(m, p, _dict(channels), templates, self.add, self.unknown)
            trigger = m.get("trigger")
            dated = trigger in ("instalment_due", "promise_due")
            if dated and "days_before" not in m:
                self.add(p + ("trigger",), f"a {trigger} message needs days_before: how many days before "
                                           "the date it is sent")
            if isinstance(trigger, str) and not dated and "days_before" in m:
                self.add(p + ("days_before",), f"days_before is for instalment_due and promise_due messages, "
                                               f"not {trigger}")
            if dated and "within_days" in m:
                self.add(p + ("within_days",), f"within_days is for payment, promise_to_pay and payment_plan "
                                               f"messages, not {trigger}")

    def pauses(self):
        for name, section in _dict(self.data.get("pauses")).items():
            for key in ("broken_resume_stage", "resume_stage"):
                stage = _dict(section).get(key)
                if isinstance(stage, str) and stage not in self.stage_ids:
                    self.unknown("stage", stage, self.stage_ids, ("pauses", name, key))

    def stage_renames(self):
        """An old id maps to a stage the policy has, and is not itself still a stage."""
        for old, new in _dict(self.data.get("stage_renames")).items():
            if isinstance(new, str) and new not in self.stage_ids:
                self.unknown("stage", new, self.stage_ids, ("stage_renames", old))
            if old in self.stage_ids:
                self.add(("stage_renames", old), f"stage {old!r} is still a stage of this policy: only an id "
                                                 "the policy no longer has can be renamed", key=True)

    def silence(self):
        """A silenced warning names a rule id that exists."""
        for i, entry in enumerate(_list(self.data.get("silence"))):
            rule = _dict(entry).get("warning")
            if isinstance(rule, str) and rule.startswith("W-") and rule not in WARNING_RULES:
                self.unknown("warning", rule, WARNING_RULES, ("silence", i, "warning"))

    # -- offers, fees, grace, priority -----------------------------------------
    def offers(self):
        for seg in _dict(_dict(self.data.get("grace")).get("segments")):
            self.segment_ref(seg, ("grace", "segments", seg), key=True)
        incentives = _dict(self.data.get("incentives"))
        loyal = _dict(incentives.get("loyalty")).get("segment")
        self.segment_ref(loyal, ("incentives", "loyalty", "segment"))
        cap = incentives.get("max_discount_percent")
        for section, key in (("early_payment_discount", "percent"), ("settlement", "discount_percent")):
            value = _dict(incentives.get(section)).get(key)
            if _num(cap) and _num(value) and value > cap:
                self.add(("incentives", section, key),
                         f"discount {value:g}% is above the cap max_discount_percent {cap:g}")
        settle = _dict(incentives.get("settlement"))
        if "approval_above" in settle and "discount_above" in _dict(settle.get("approval")):
            self.add(("incentives", "settlement", "approval", "discount_above"),
                     "approval.discount_above says again what approval_above says (the discount's "
                     "threshold); keep one of them", key=True)
        factors = _dict(_dict(self.data.get("priority")).get("factors"))
        weights = [_dict(f).get("weight") for f in factors.values()]
        if factors and not any(_num(w) and w > 0 for w in weights):
            self.add(("priority", "factors"), "priority needs at least one factor with a positive weight")

    def fees(self):
        tiers = _list(_dict(_dict(_dict(self.data.get("fees")).get("late_fee"))).get("fixed_by_amount"))
        prev = None
        for i, tier in enumerate(tiers):
            if not isinstance(tier, dict):
                continue
            p, last = ("fees", "late_fee", "fixed_by_amount", i), i == len(tiers) - 1
            if "below" not in tier:
                if not last:
                    self.add(p, "only the last fee tier may omit 'below'")
                continue
            if last:
                self.add(p + ("below",), "the last fee tier must not have 'below': "
                                         "it covers every larger amount")
            below = _decimal(tier["below"])
            if below is not None and prev is not None and below <= prev:
                self.add(p + ("below",), f"fee tiers must ascend by 'below': {below} is not above {prev}")
            prev = below if below is not None else prev

    def representation(self):
        """Templates exist; the review channel exists and is a task (it never reaches the debtor)."""
        rep = _dict(self.data.get("representation"))
        channels, templates = _dict(self.data.get("channels")), _dict(self.data.get("templates"))
        refs = [(("representation", k), rep.get(k)) for k in ("template", "review_template")]
        refs += [(("escalation", "stages", i, "representative_template"),
                  _dict(st).get("representative_template")) for i, st in enumerate(self.stages)]
        for path, tpl in refs:
            if isinstance(tpl, str) and templates and tpl not in templates:
                self.unknown("template", tpl, templates, path)
            elif isinstance(tpl, str) and path[-1] != "review_template" and \
                    stage_templates.audience_of(templates, tpl) == stage_templates.INTERNAL:
                # The representative reads it, by email or letter: never a staff script.
                self.add(path, f"template {tpl!r} is internal (audience: internal): the representative "
                               "would read it; name a template written for them")
        review = rep.get("review_channel")
        if isinstance(review, str) and channels:
            if review not in channels:
                self.unknown("channel", review, channels, ("representation", "review_channel"))
            elif _dict(channels[review]).get("kind") != "task":
                self.add(("representation", "review_channel"),
                         f"channel {review!r} is of kind {_dict(channels[review]).get('kind')!r}: the "
                         "manual-review task needs a channel of kind 'task'")

    def names(self):
        self.problems += zone_problems(self.data, self.doc, self.filename)
        langs = [(("metadata", "default_language"), _dict(self.data.get("metadata")).get("default_language"))]
        for tid, tpl in _dict(self.data.get("templates")).items():
            listed = _list(_dict(tpl).get("languages"))
            langs += [(("templates", tid, "languages", i), lang) for i, lang in enumerate(listed)]
        for path, lang in langs:
            if isinstance(lang, str) and not _LANGUAGE.match(lang):
                self.add(path, f"language {lang!r} is not a 2-letter ISO 639-1 code such as 'en'")

    # -- house contact hours -----------------------------------------------------
    def contact_hours(self):
        hours = _list(_dict(self.data.get("compliance")).get("contact_hours"))
        seen = {}
        for i, entry in enumerate(hours):
            if not isinstance(entry, dict):
                continue
            p = ("compliance", "contact_hours", i)
            rid = entry.get("id")
            if isinstance(rid, str):
                if rid in seen:
                    self.add(p + ("id",), f"duplicate contact hours id {rid!r} (first on line {seen[rid]})")
                seen.setdefault(rid, self.doc.position(p + ("id",))[0])
            for day in ("weekdays", "saturday", "sunday"):
                message = check_window(entry.get(day))
                if message:
                    self.add(p + (day,), f"{day}: {message}")


def _is_zone_key(key: str) -> bool:
    return key in ("timezone", "timezones") or key.endswith(("_timezone", "_timezones"))


def zone_problems(data, doc: Document, filename: str) -> list[Problem]:
    """An unknown IANA time zone wherever a document writes one (a `timezone` or `…_timezone`
    key, or a list under `timezones` / `…_timezones`), located, with "did you mean"."""
    problems = []
    for path, value in _keyed(data, (), _is_zone_key):
        named = [(path + (i,), v) for i, v in enumerate(value)] if isinstance(value, list) else [(path, value)]
        for where, zone in named:
            if isinstance(zone, str) and not _zone_ok(zone):
                line, col = doc.position(where)
                problems.append(Problem(filename, line, col, f"unknown time zone {zone!r}"
                                        f"{did_you_mean(zone, _zones())}", pointer(where)))
    return problems


def _keyed(node, path, wanted):
    """(path, value) for every mapping entry anywhere below `node` whose key is `wanted`."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and wanted(k):
                yield path + (k,), v
            else:
                yield from _keyed(v, path + (k,), wanted)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _keyed(v, path + (i,), wanted)


def _whens(node, path):
    return _keyed(node, path, lambda k: k == "when")


def check_semantics(data: dict, doc: Document, filename: str, facts: dict | None = None) -> list[Problem]:
    """Every semantic problem in policy `data` (located through `doc`); never raises on bad shapes.

    `facts`: definitions (`FactDef`) of the loaded plugins' facts by name; a condition on
    an `x_…` fact that none of them provides is a problem naming those that exist.
    """
    checker = _Checker(data, doc, filename, facts)
    for rule in (checker.aging, checker.conditions, checker.escalation, checker.event_messages,
                 checker.pauses, checker.stage_renames, checker.offers, checker.fees, checker.representation,
                 checker.names, checker.contact_hours, checker.silence):
        rule()
    return sorted(set(checker.problems))


def condition_problems(node, doc: Document, filename: str, path: tuple, *, segments=None,
                       facts: dict | None = None) -> list[Problem]:
    """The semantic problems of one condition outside a policy (an experiment's eligibility),
    located through `doc` at `path`: unknown facts, operators and values, as in a policy.
    `segments`: the segment names it may use (None: not checked here, the policy is not known)."""
    checker = _Checker({}, doc, filename, facts)
    if segments is None:
        checker.segment_ref = lambda *args, **kwargs: None
    else:
        checker.segments = list(segments)
    checker.condition(node, tuple(path))
    return sorted(set(checker.problems))
