"""What the tick stores about a page of decisions, computed column-wise.

Materialising a full `Decision` (with its plain-words trace) costs about 100 µs per
account; the tick evaluates every due account, so it reads the `DecisionBatch` columns
instead and builds, per account:

- the *decision key*: stage, action type, channel, attempt and the sorted ids of the
  rules holding the account back (`friendly_reminder|reminder|email|1|` or
  `firm_reminder||||hold.dispute,grace`). A `decisions` row is written only when the key
  changes, so an unchanged account costs one UPDATE, not one decision row per tick;
- a compact, canonical JSON *summary* for the decisions that changed;
- the *episode key* of the contact (the oldest unpaid due day, ISO date, and the start when a
  payment began the episode later: `arrears.engine.facts.episodes`): the same stage may be
  contacted again in a later delinquency episode.

Keys and bodies are built once per distinct combination of codes (np.unique), then
indexed: a page of 10 000 accounts has a few dozen combinations.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from arrears.engine.decisions import suppress
from arrears.engine.decisions.escalation import REASONS

_dump = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
SUMMARY_FORMAT = "summary/1"


def suppression_masks(db) -> list[tuple[str, np.ndarray]]:
    """(rule id, accounts it holds back): the core's one definition, `arrears.engine.decisions.suppress.masks`."""
    return suppress.masks(db)


@dataclass
class PageColumns:
    """Per-account results of one page, aligned with the DecisionBatch rows."""

    keys: np.ndarray          # object: decision key
    stage: np.ndarray         # object: stage id (the action's, else the last one reached) or None
    action: np.ndarray        # object: action type, None without an action
    channel: np.ndarray       # object: policy channel name, None without an action
    attempt: np.ndarray       # int64: attempt number (0 without an action)
    action_ok: np.ndarray     # bool
    not_before: np.ndarray    # int64 epoch s
    next_eval: np.ndarray     # int64 epoch s
    suppressed: np.ndarray    # bool: a step is due but held back
    combo: np.ndarray         # int64: index of the row's distinct (stage, action, channel, attempt, rules)
    fragments: list           # per combo: JSON pieces of the summary body (see `bodies`)

    def episode_key(self, db, row: int) -> str:
        """The contact's episode (`DecisionBatch.episode_key`)."""
        return db.episode_key(row)


def summarise(db) -> PageColumns:
    """Keys and the columns the tick stores, for every row of `db`."""
    p, st, g = db.policy, db.steps, db.guarded
    n = len(db)
    ok = np.asarray(db.action_ok, dtype=bool)
    stage_idx = np.where(ok, st.step, st.last).astype(np.int64)
    chan_idx = np.where(ok, g.channel, -1).astype(np.int64)
    attempt = np.where(ok, st.attempt, 0).astype(np.int64)
    masks = suppression_masks(db)
    ids = [rid for rid, _ in masks]
    matrix = np.column_stack([m for _, m in masks]) if masks else np.zeros((n, 0), bool)
    supp_codes, supp_lists = _supp_codes(matrix, ids)
    combos = np.column_stack([stage_idx, ok.astype(np.int64), chan_idx, attempt, supp_codes])
    uniq, inverse = np.unique(combos, axis=0, return_inverse=True) if n else (combos, np.zeros(0, int))
    inverse = inverse.reshape(-1)
    u_key, u_stage, u_action, u_channel, frags = [], [], [], [], []
    for s, a, c, t, code in uniq.tolist():
        stage = p.actions[s] if s >= 0 else None
        action = stage.action if (a and stage) else None
        channel = stage.channels[c] if (action and c >= 0) else None
        supp = ",".join(supp_lists[code])
        u_key.append(f"{stage.id if stage else ''}|{action or ''}|{channel or ''}|{t if action else ''}|{supp}")
        u_stage.append(stage.id if stage else None)
        u_action.append(action)
        u_channel.append(channel)
        frags.append((f'"action":{_dump(action)},"attempt":{t if action else "null"},',
                      f'"channel":{_dump(channel)},',
                      f'"stage":{_dump(u_stage[-1])},"suppressions":{_dump(list(supp_lists[code]))}}}'))
    take = lambda values: _obj(values)[inverse] if n else _obj([])   # noqa: E731
    return PageColumns(keys=take(u_key), stage=take(u_stage), action=take(u_action),
                       channel=take(u_channel), attempt=attempt, action_ok=ok,
                       not_before=np.asarray(db.not_before, dtype=np.int64),
                       next_eval=np.asarray(db.next_evaluation, dtype=np.int64),
                       suppressed=(st.step >= 0) & ~ok, combo=inverse.astype(np.int64), fragments=frags)


def _supp_codes(matrix: np.ndarray, ids: list[str]):
    """A small integer per distinct set of suppression ids, and each set's sorted ids."""
    if matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0], dtype=np.int64), [()]
    packed = np.packbits(matrix, axis=1)
    uniq, inverse = np.unique(packed, axis=0, return_inverse=True)
    bits = np.unpackbits(uniq, axis=1)[:, :len(ids)].astype(bool)
    lists = [tuple(sorted({ids[j] for j in np.flatnonzero(row)})) for row in bits]
    return inverse.reshape(-1).astype(np.int64), lists


def priorities(db, rows: np.ndarray) -> list[float]:
    """The priority of each decision in `rows` as the summary states it (two decimals): the body's
    `priority` and the `decisions.priority` column hold this one value."""
    return np.round(db.scores[rows], 2).tolist()


def bodies(db, cols: PageColumns, rows: np.ndarray) -> list[str]:
    """Canonical JSON summaries of the decisions in `rows` (keys sorted, no spaces).

    The pieces that depend only on the decision key are rendered once per combination
    (`cols.fragments`); per row only numbers are formatted. The full decision, trace
    included, is reproducible from the account, its history as recorded at
    `evaluated_at`, and the policy digest (docs/tick.md).
    """
    f = db.facts
    reasons = [_dump(r) for r in REASONS]
    buckets: dict = {}
    owes = (f.total_balance[rows] > 0).tolist()
    columns_ = zip(rows.tolist(), cols.combo[rows].tolist(), cols.action_ok[rows].tolist(),
                   f.balance[rows].tolist(), f.bucket_names[rows].tolist(), f.b.currency[rows].tolist(),
                   f.days_past_due[rows].tolist(), owes, cols.next_eval[rows].tolist(),
                   cols.not_before[rows].tolist(), priorities(db, rows),
                   db.steps.reason[rows].tolist())
    out = []
    for _i, combo, ok, bal, bucket, cur, dpd, has, nxt, nb, prio, reason in columns_:
        head, chan, tail = cols.fragments[combo]
        bj = buckets.get(bucket) or buckets.setdefault(bucket, _dump(str(bucket)))
        out.append(f'{{{head}"balance_minor":{bal},"bucket":{bj},{chan}"currency":"{cur}",'
                   f'"days_past_due":{dpd if has else "null"},"format":"{SUMMARY_FORMAT}",'
                   f'"next_evaluation_at":{nxt},"not_before":{nb if ok else "null"},"priority":{prio},'
                   f'"reason":{reasons[reason] if ok else "null"},{tail}')
    return out


def payloads(db, cols: PageColumns, rows: np.ndarray, evaluated_at: int) -> tuple[list[str], list[str]]:
    """(episode keys, canonical JSON outbox payloads) of the contacts in `rows`."""
    # The pieces before and after the per-row values, once per combination.
    pieces = [(f'{{{head}{chan}"episode":"', f'","evaluated_at":{evaluated_at},"not_before":',
               "," + tail[:tail.index(',"suppressions"')] + "}")
              for head, chan, tail in cols.fragments]
    episodes = [db.episode_key(i) for i in rows.tolist()]
    out = [f"{a}{ep}{b}{nb}{c}" for (a, b, c), ep, nb in
           zip(map(pieces.__getitem__, cols.combo[rows].tolist()), episodes, cols.not_before[rows].tolist())]
    return episodes, out


def _obj(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
