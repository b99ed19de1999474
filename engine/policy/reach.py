"""Which channel kinds a policy can never use for some debtors, and why.

A channel is out of reach for a debtor type, everywhere or in one jurisdiction, when a rule of the
house contact hours (`compliance.contact_hours`, everywhere) or of a jurisdiction profile covering
that debtor type says so (`Rule.channels_out_of_reach`: today a contact window closed on every
day, and a channel allowed only with the debtor's consent, which a debtor who never gave it is
never reached on).
The warnings (`warnrules`) and the ladder use this to find stages no listed channel can carry.
"""
from __future__ import annotations

from dataclasses import dataclass

from arrears.engine.policy.househours import DEBTOR_TYPES


@dataclass(frozen=True)
class Bar:
    """One reason a channel kind is out of reach: where (`scope`), for whom, and in words."""

    scope: str                 # "everywhere" or "profile <id> (jurisdictions)"
    debtor_types: tuple[str, ...]
    kinds: tuple[str, ...]
    why: str


def _rule_bar(rule, scope: str, types: tuple[str, ...], source: str) -> Bar | None:
    # Each rule kind says itself whether it can keep its channels from a debtor for good.
    why = rule.channels_out_of_reach() if rule.scoped_by_channels else ""
    return Bar(scope, types, tuple(rule.channels), f"{source} {why}") if why else None


def bars(policy) -> list[Bar]:
    """Every bar of the policy's house hours and of its loaded jurisdiction profiles."""
    out = []
    for house in policy.house:
        bar = _rule_bar(house.rule, "everywhere", tuple(house.debtor_types),
                        f"the house contact hours {house.rule.id!r}")
        if bar is not None:
            out.append(bar)
    for profile in policy.profiles.values():
        where = ", ".join(profile.jurisdictions)
        types = tuple(profile.debtor_types or DEBTOR_TYPES)
        for rule in profile.rules:
            bar = _rule_bar(rule, f"profile {profile.id} ({where})", types, f"rule {rule.id}")
            if bar is not None:
                out.append(bar)
    return out


def unreachable(policy, kinds, debtor_type: str, all_bars: list[Bar] | None = None) -> list[list[Bar]]:
    """For debtors of `debtor_type`: each set of bars (the house's alone, or the house's with one
    profile's) under which none of the channel `kinds` can be used; empty if some always can."""
    all_bars = bars(policy) if all_bars is None else all_bars
    mine = [b for b in all_bars if debtor_type in b.debtor_types]
    house = [b for b in mine if b.scope == "everywhere"]
    scopes = [house] + [house + [b for b in mine if b.scope == s]
                        for s in dict.fromkeys(b.scope for b in mine if b.scope != "everywhere")]
    found = []
    for scope in scopes:
        barred = {k for b in scope for k in b.kinds}
        if kinds and set(kinds) <= barred:
            found.append([b for b in scope if set(b.kinds) & set(kinds)])
            if scope is house:
                break           # barred everywhere: the profiles add nothing to say
    return found
