"""The replay CSV: one row per historical invoice, with what became of it.

The columns are those of `arrears import` for accounts and invoices (docs/store.md),
read by the same code (`arrears.engine.store.readers.csv_account_records`, so every row is
checked by the model exactly like an import), plus the invoice's fate:

| column | meaning |
|---|---|
| `settled_date` | the day the invoice was paid in full (blank: never, within the file) |
| `written_off_date` | the day the rest of it was written off (blank: never) |
| `disputed` | `true`/`yes`/`1` if the debtor disputed it (`false`/`no`/`0` or blank: not) |
| `disputed_date` | the day the dispute was raised (default: the invoice date) |
| `dispute_resolved_date` | the day the dispute was settled (default: never) |

`issued_date` (the invoice date, the day it enters the replay) is required. A bad row is
a `Reject` with its line number and the column at fault; like an import, an account is
replayed whole or not at all, so its other rows are rejected too, naming the bad line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, parse_date
from arrears.engine.store.readers import (
    ACCOUNT_CSV,
    INVOICE_CSV,
    Reject,
    Unusable,
    account_records,
    csv_account_records,
    decoded_lines,
)

FATE_CSV = ("settled_date", "written_off_date", "disputed", "disputed_date", "dispute_resolved_date")
REQUIRED = ("invoice_id", "amount", "due_date", "issued_date")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "y", "1"), ("false", "no", "n", "0")


@dataclass(frozen=True)
class Fate:
    """What happened to one invoice: the days of its settlement, write-off and dispute."""

    issued: date
    settled: date | None = None
    written_off: date | None = None
    disputed: date | None = None
    resolved: date | None = None
    line: int = 0


@dataclass
class ReplayInput:
    """The accounts of a replay CSV, each invoice's fate, and the rows that were rejected."""

    accounts: list[Account] = field(default_factory=list)
    fates: dict = field(default_factory=dict)        # (account id, invoice id) -> Fate
    rejects: list[Reject] = field(default_factory=list)
    rows: int = 0                                    # data rows read (rejected ones included)


def read_replay_csv(path, on_progress=None, mapping=None) -> ReplayInput:
    """Read a replay CSV. Raises `Unusable` (nothing replayed) if the file is missing, not
    UTF-8, or its header lacks a required column or has an unknown one.

    `mapping` (arrears.engine.replay.mapping.Mapping) reads a file of another shape: its
    columns renamed, dates in their formats, codes mapped (docs/replay.md).

    `on_progress(bytes_read, total_bytes, rows)` is called as the file is read.
    """
    path = Path(path)
    if not path.is_file():
        raise Unusable(f"no such file: {path}")
    out = ReplayInput()
    total, done = path.stat().st_size, 0

    def progressed(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, total, out.rows)

    with path.open("rb") as fh:
        lines = decoded_lines(fh, progressed)
        if mapping is None:
            records = csv_account_records(lines, extra=FATE_CSV, required=REQUIRED)
        else:
            rows = mapping.rows(lines, ACCOUNT_CSV + INVOICE_CSV + FATE_CSV, ("account_id", "currency") + REQUIRED)
            records = account_records(rows)
        refused: list[Reject] = []
        for item in records:
            if isinstance(item, Reject):
                out.rows += 1
                refused.append(item)
                continue
            lines, account, rows = item
            out.rows += len(lines)
            _add_account(out, lines, account, rows)
    out.rejects += _with_fate_errors(refused)
    out.rejects.sort(key=lambda r: r.line)
    # By id, not by where the file first names them: a replay of the same rows in another
    # order makes the same decisions in the same order, and exports the same bytes.
    out.accounts.sort(key=lambda a: a.id)
    return out


_GENERIC = re.compile(r"^account (.+) not stored: line \d+ was rejected$")


def _with_fate_errors(rejects: list[Reject]) -> list[Reject]:
    """The import's rejects of whole accounts, with each row's own fate error where the
    import only said "not stored because of another line", and replay wording."""
    groups: dict = {}
    for r in rejects:
        aid = r.record.get("account_id") if isinstance(r.record, dict) else None
        groups.setdefault(aid, []).append(r)
    out = []
    for aid, group in groups.items():
        reasons = {}
        for r in group:
            reasons[r.line] = r.reason
            if aid is not None and _GENERIC.match(r.reason):
                try:
                    row_fate(r.line, r.record)
                    reasons[r.line] = None
                except InputError as exc:
                    reasons[r.line] = str(exc)
        own = [line for line, reason in reasons.items() if reason is not None]
        for r in group:
            reason = reasons[r.line]
            if reason is None:
                reason = f"account {aid!r} not replayed: line {min(own, default=r.line)} was rejected"
            out.append(Reject(r.line, reason, r.record))
    return out


def _add_account(out: ReplayInput, lines: list[int], account: Account, rows: list[dict]) -> None:
    """Check every row's fate; keep the account only if all of them are good."""
    fates, errors = {}, {}
    for number, cells in zip(lines, rows):
        try:
            fate = row_fate(number, cells)
        except InputError as exc:
            errors[number] = str(exc)
            continue
        if fate is not None:
            fates[(account.id, cells["invoice_id"])] = fate
    if errors:
        bad = min(errors)
        for number, cells in zip(lines, rows):
            reason = errors.get(number) or f"account {account.id!r} not replayed: line {bad} was rejected"
            out.rejects.append(Reject(number, reason, cells))
        return
    out.accounts.append(account)
    out.fates.update(fates)


def row_fate(number: int, cells: dict) -> Fate | None:
    """The `Fate` of the invoice on one CSV row (None for a row without an invoice).

    Raises InputError naming the column (`settled_date: expected a date ...`).
    """
    has_invoice = any(cells.get(c) for c in ("invoice_id", "amount", "due_date", "issued_date"))
    if not has_invoice:
        stray = [c for c in FATE_CSV if cells.get(c)]
        if stray:
            raise InputError("given on a row without an invoice", stray[0])
        return None
    if cells.get("issued_date") is None:
        raise InputError("is required: the invoice date, when the invoice enters the replay",
                         "issued_date")
    day = {c: _date(cells, c) for c in ("issued_date", "settled_date", "written_off_date",
                                         "disputed_date", "dispute_resolved_date")}
    issued = day["issued_date"]
    disputed = _flag(cells.get("disputed")) or day["disputed_date"] is not None
    for column in ("settled_date", "written_off_date", "disputed_date"):
        if day[column] is not None and day[column] < issued:
            raise InputError(f"{day[column]} is before the invoice date {issued}", column)
    if day["settled_date"] and day["written_off_date"]:
        raise InputError("an invoice is settled or written off, not both (the file gives no "
                         "partial payment)", "written_off_date")
    resolved = day["dispute_resolved_date"]
    if resolved is not None:
        if not disputed:
            raise InputError("given for an invoice that is not disputed", "dispute_resolved_date")
        opened = day["disputed_date"] or issued
        if resolved < opened:
            raise InputError(f"{resolved} is before the dispute was raised ({opened})",
                             "dispute_resolved_date")
    return Fate(issued=issued, settled=day["settled_date"], written_off=day["written_off_date"],
                disputed=(day["disputed_date"] or issued) if disputed else None, resolved=resolved,
                line=number)


def _date(cells: dict, column: str) -> date | None:
    value = cells.get(column)
    if value is None:
        return None
    try:
        return parse_date(value, column)
    except InputError as exc:
        raise InputError(str(exc)[len(column) + 2:], column) from None


def _flag(value) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InputError(f"expected true or false (also yes/no, 1/0), got {value!r}", "disputed")


def reject_summary(rejects: list[Reject], examples: int = 3) -> list[tuple[str, int, list[Reject]]]:
    """(column, rows rejected for it, its first `examples` rejects) per column at fault, most
    rejected first (then by column). A row rejected only because another row of its account
    was is counted under "(rest of the account)"; a row of the wrong shape under "(row)"."""
    columns: dict = {}
    for r in rejects:
        head, sep, _ = r.reason.partition(": ")
        if _GENERIC.match(r.reason) or _NOT_REPLAYED.match(r.reason):
            column = "(rest of the account)"
        else:
            column = head if sep and " " not in head else "(row)"
        columns.setdefault(column, []).append(r)
    return sorted(((c, len(rs), rs[:examples]) for c, rs in columns.items()), key=lambda e: (-e[1], e[0]))


_NOT_REPLAYED = re.compile(r"^account (.+) not replayed: line \d+ was rejected$")
