"""History facts: contact windows, stop states, promises, plans and escalation progress.

A mixin of `arrears.engine.facts.compute.Facts`: it relies on the event and money helpers defined there.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import KIND_CODES, NO_DAY, OUTCOME_CODES
from arrears.engine.domain.clock import DAY, FAR, NEVER
from arrears.engine.domain.model import CONVERSATIONS, NOT_ATTEMPTS
from arrears.engine.facts import moratoria
from arrears.engine.facts.balances import take

_ATTEMPT_OUTCOMES = [c for o, c in OUTCOME_CODES.items() if o not in NOT_ATTEMPTS]
_CONVERSATION_OUTCOMES = [OUTCOME_CODES[o] for o in CONVERSATIONS]
# Outcomes of an attempt that put something in front of the debtor: what a message may
# call "our previous reminder" (an unanswered call, a bounce or a queued task did not).
REACHED = ("sent", "delivered", "voicemail", "conversation")
_REACHED_OUTCOMES = [OUTCOME_CODES[o] for o in REACHED]


def attempt_rows(types: np.ndarray, kinds: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
    """Which contact events (type, channel kind and outcome codes) were real attempts on the debtor.

    A `contact_attempt` is one attempt unless it failed or only queued a call task; a
    `contact_outcome` is an attempt only for calls (an agent's call), since for other
    channels it reports on an attempt already recorded (delivered, returned). The KPIs
    (engine/kpis) count attempts by this same rule.
    """
    outcome_ok = np.isin(outcomes, _ATTEMPT_OUTCOMES)
    agent_call = (types == E["contact_outcome"]) & (kinds == KIND_CODES["call"])
    return ((types == E["contact_attempt"]) | agent_call) & outcome_ok


class HistoryFacts:
    """What the event history says at `now`, beyond money."""

    def in_window(self, days: int) -> np.ndarray:
        """Events in the last `days` days (rolling, up to and including now)."""
        return self._valid & (self.b.ev_at > self.now - int(days) * DAY)

    @cached_property
    def attempt_mask(self) -> np.ndarray:
        """Contact events that were real attempts on the debtor (see `attempt_rows`)."""
        b = self.b
        return self._valid & attempt_rows(b.ev_type, b.ev_kind, b.ev_outcome)

    def contacts(self, window_days: int, channel: str | None = None) -> np.ndarray:
        mask = self.attempt_mask & self.in_window(window_days)
        if channel is not None:
            mask &= self.b.ev_kind == KIND_CODES[channel]
        return self.count(mask)

    def conversations(self, window_days: int) -> np.ndarray:
        return self.count(self.attempt_mask & self.in_window(window_days)
                          & np.isin(self.b.ev_outcome, _CONVERSATION_OUTCOMES))

    def payments(self, window_days: int) -> np.ndarray:
        return self.count(self._mask(E["payment"]) & self.in_window(window_days))

    def paid_amount(self, window_days: int) -> np.ndarray:
        return self.total(self._mask(E["payment"]) & self.in_window(window_days), self.b.ev_amount)

    @cached_property
    def last_payment_at(self) -> np.ndarray:
        return self.last_at(self._mask(E["payment"]))

    @cached_property
    def last_contact_at(self) -> np.ndarray:
        return self.last_at(self.attempt_mask)

    @cached_property
    def first_attempt_at(self) -> np.ndarray:
        """Time of the very first contact attempt (any episode), NEVER if none."""
        rows = np.flatnonzero(self.attempt_mask)
        out = np.full(self.n, NEVER)
        if rows.size:
            acct = self.b.ev_acct[rows]
            first = np.r_[True, acct[1:] != acct[:-1]]
            out[acct[first]] = self.b.ev_at[rows[first]]
        return out

    @cached_property
    def reached(self) -> tuple[np.ndarray, np.ndarray]:
        """Per account: the event row of the latest contact of the current episode that reached
        the debtor (see `REACHED`; -1 if none), and how many the episode has had.

        Computed only when a message is composed, never by `decide` itself.
        """
        b = self.b
        rows = np.flatnonzero(self.attempt_mask & np.isin(b.ev_outcome, _REACHED_OUTCOMES))
        acct = b.ev_acct[rows]
        keep = self.local_day_of(acct, b.ev_at[rows]) >= self.episode_start[acct]
        rows, acct = rows[keep], acct[keep]
        latest = np.full(self.n, -1, dtype=np.int64)
        count = np.zeros(self.n, dtype=np.int64)
        if rows.size:
            order = np.lexsort((b.ev_at[rows], acct))
            rows, acct = rows[order], acct[order]
            last = np.r_[acct[1:] != acct[:-1], True]
            latest[acct[last]] = rows[last]
            np.add.at(count, acct, 1)
        return latest, count

    # ---- stop states and pauses ---------------------------------------------------
    @cached_property
    def states(self) -> dict:
        """(active, until_day) for every state that can hold collection back."""
        p = self.p.pauses
        return {
            "hold": self.status("hold", "hold_released", max_days=p.hold_max_days),
            "hardship": self.status("hardship", "hardship_ended",
                                    self.durations.get("hardship", self.p.grace.hardship_days)),
            "cease_communication": self.status("cease_communication", None, permanent=True),
            "represented": self.status("represented", "representation_ended"),
            "bankrupt": self.status("bankruptcy", "bankruptcy_ended"),
            "deceased": self.status("deceased", None, permanent=True),
            "breathing_space": self.moratorium["state"][:2],
        }

    @cached_property
    def moratorium(self) -> dict:
        """Breathing spaces and mental health crisis moratoria (`arrears.engine.facts.moratoria`):
        `starts` (one entry per start event) and `state` (active, until_day, crisis) per account."""
        found = moratoria.starts(self)
        return {"starts": found, "state": moratoria.state(self, found)}

    @cached_property
    def moratorium_spans(self) -> dict:
        """Every moratorium's days up to today, merged per account (`moratoria.spans`): no
        interest accrues on them and no late fee arises from them, even after they ended."""
        return moratoria.spans(self, self.moratorium["starts"])

    @cached_property
    def opted_out(self) -> np.ndarray:
        """Bitmask of channel kinds the debtor opted out of (latest word wins)."""
        b = self.b
        out = np.zeros(self.n, dtype=np.int64)
        opt_out, opt_in = self._mask(E["channel_opt_out"]), self._mask(E["channel_opt_in"])
        for kind, code in KIND_CODES.items():
            on_kind = b.ev_kind == code
            gone = self.last_at(opt_out & on_kind) > self.last_at(opt_in & on_kind)
            out |= gone.astype(np.int64) << code
        return out

    @cached_property
    def reachable(self) -> np.ndarray:
        return self.b.reach & ~self.opted_out

    # ---- promises and plans ---------------------------------------------------------
    @cached_property
    def promises(self) -> dict:
        """Every promise's deadline and fate, and the latest promise per account."""
        b, p = self.b, self.p.pauses
        rows = np.flatnonzero(self._mask(E["promise_to_pay"]))
        acct = b.ev_acct[rows]
        made_day = self.local_day_of(acct, b.ev_at[rows])
        last_day = np.minimum(b.ev_until[rows].astype(np.int64) + p.promise_tolerance_days,
                              made_day + p.promise_max_days)
        deadline = self.midnight(last_day + 1, acct)
        kept = self.paid_between(acct, b.ev_at[rows] - 1, deadline - 1) >= b.ev_amount[rows]
        broken = ~kept & (deadline <= self.now)
        latest = self.last_row(self._mask(E["promise_to_pay"]))
        pos = np.searchsorted(rows, np.maximum(latest, 0))
        has = latest >= 0
        pos = np.where(has, pos, 0)
        pick = (lambda arr, fill: np.where(has, arr[pos], fill)) if rows.size else \
            (lambda arr, fill: np.full(self.n, fill))
        return {
            "rows": rows, "acct": acct, "deadline": deadline, "broken": broken,
            "open": pick(~kept & ~broken, False),
            "latest_broken": pick(broken, False),
            "latest_deadline": pick(deadline, NEVER),
            "latest_last_day": pick(last_day, NO_DAY),
        }

    def promises_broken(self, window_days: int) -> np.ndarray:
        pr = self.promises
        recent = pr["broken"] & (pr["deadline"] > self.now - int(window_days) * DAY)
        return np.bincount(pr["acct"][recent], minlength=self.n).astype(np.int64)

    @cached_property
    def plan(self) -> dict:
        """The latest payment plan: active, in good standing, next instalment check day."""
        b, tol = self.b, self.p.pauses.plan_tolerance_days
        row = self.last_row(self._mask(E["payment_plan"]))
        has = row >= 0
        made = take(b.ev_at, row, NEVER)
        cancelled = self.last_at(self._mask(E["payment_plan_cancelled"])) > made
        pi_acct = b.ev_acct[b.pi_event] if b.pi_event.size else np.empty(0, dtype=np.int32)
        current = b.pi_event == row[pi_acct] if b.pi_event.size else np.empty(0, dtype=bool)
        acct, due, amount = pi_acct[current], b.pi_due[current], b.pi_amount[current]
        total = np.zeros(self.n, dtype=np.int64)
        np.add.at(total, acct, amount)
        required = np.zeros(self.n, dtype=np.int64)
        late = due + tol < self.today[acct]
        np.add.at(required, acct[late], amount[late])
        paid = self.paid_between(np.arange(self.n), np.where(has, made - 1, 0),
                                 np.full(self.n, self.now))
        active = has & ~cancelled & (paid < total)
        cum = np.cumsum(amount)
        start = np.zeros(self.n, dtype=np.int64)
        if acct.size:
            first = np.r_[True, acct[1:] != acct[:-1]]
            start[acct[first]] = (cum - amount)[first]
        unpaid = (cum - start[acct]) > paid[acct]
        check = np.full(self.n, FAR)
        np.minimum.at(check, acct[unpaid], due[unpaid] + tol + 1)
        good = active & (paid >= required)
        # Only a plan in good standing waits for a day; a missed one acts at once.
        return {"active": active, "good": good, "check_day": np.where(good, check, FAR)}

    # ---- escalation progress ------------------------------------------------------------
    @cached_property
    def episode_start(self) -> np.ndarray:
        """First local day of the current collection episode (contacts before it are history)."""
        return np.where(self.oldest_due == FAR, FAR, self.oldest_due + min(0, self.p.first_threshold))

    @cached_property
    def progress(self) -> dict:
        """Per account and stage: attempts and last attempt time in the current episode."""
        b, k = self.b, len(self.p.stages)
        rows = np.flatnonzero(self._valid & (b.ev_type == E["contact_attempt"]))
        stage = self.p.stage_codes(b.ev_stage[rows])
        rows, stage = rows[stage >= 0], stage[stage >= 0]
        acct = b.ev_acct[rows]
        in_episode = self.local_day_of(acct, b.ev_at[rows]) >= self.episode_start[acct]
        rows, stage, acct = rows[in_episode], stage[in_episode], acct[in_episode]
        failed = b.ev_outcome[rows] == OUTCOME_CODES["failed"]
        attempts = np.zeros((self.n, k), dtype=np.int64)
        last_at = np.full((self.n, k), NEVER)
        np.add.at(attempts, (acct[~failed], stage[~failed]), 1)
        np.maximum.at(last_at, (acct[~failed], stage[~failed]), b.ev_at[rows[~failed]])
        failed_kinds = np.zeros((self.n, k), dtype=np.int64)
        kinds = b.ev_kind[rows[failed]].astype(np.int64)
        ok = kinds >= 0
        np.bitwise_or.at(failed_kinds, (acct[failed][ok], stage[failed][ok]),
                         np.left_shift(1, kinds[ok]))
        done = attempts > 0
        last_stage = np.where(done.any(axis=1), k - 1 - np.argmax(done[:, ::-1], axis=1), -1)
        last_any = last_at.max(axis=1) if k else np.full(self.n, NEVER)
        return {"attempts": attempts, "last_at": last_at, "failed_kinds": failed_kinds,
                "last_stage": last_stage, "last_contact_at": last_any}


