"""Reading import files: JSON Lines and CSV records into accounts and events, or rejects.

Every record is parsed by the model's own `from_dict`, so a file row is checked
exactly like an API request. A bad record becomes a `Reject` (line number and
reason) and never stops the others. Only a file that cannot be read as a whole
(undecodable bytes, a CSV header without the required columns) raises `Unusable`.

CSV: one row per invoice, account columns repeated (or left blank after the
account's first row); lists inside a cell are separated by `|`. See docs/store.md.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass

from arrears.engine.domain.errors import ArrearsError, InputError, json_type
from arrears.engine.domain.model import Account, Event
from arrears.engine.store.codec import account_row

LIST_SEP = "|"
ACCOUNT_CSV = ("account_id", "currency", "debtor_type", "jurisdiction", "timezone", "language", "name",
               "email", "phone", "mobile", "address", "preferred_channels", "tags", "risk_score",
               "on_time_ratio", "relationship_tier", "account_manager", "debtor_id", "other_timezones")
INVOICE_CSV = ("invoice_id", "amount", "due_date", "issued_date")
EVENT_CSV = ("account_id", "type", "at", "amount", "invoice_id", "channel", "stage", "outcome", "until",
             "event_key", "id", "instalments", "note", "representative", "wishes")
REQUIRED = {"accounts": ("account_id", "currency"), "events": ("account_id", "type", "at")}
_CONTACT = ("name", "email", "phone", "mobile", "address", "preferred_channels")
_LISTS = ("preferred_channels", "tags", "other_timezones")
_NUMBERS = ("risk_score", "on_time_ratio")


class Unusable(ArrearsError):
    """The file as a whole cannot be imported (nothing from it is stored)."""


@dataclass(frozen=True)
class Reject:
    """A record that was not stored: where it starts, why, and its text (or CSV cells)."""

    line: int
    reason: str
    record: object = None

    def to_dict(self) -> dict:
        """The JSON form written to `--rejects` files."""
        return {"line": self.line, "reason": self.reason, "record": self.record}


def decoded_lines(binary, on_bytes=None):
    """Text lines of a binary file as UTF-8 (a leading BOM dropped); Unusable if undecodable.

    `on_bytes(n)` is called with the size of each line read, for progress reporting.
    """
    for number, raw in enumerate(binary, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unusable(f"line {number} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        yield line[1:] if number == 1 and line.startswith("\ufeff") else line


def jsonl_records(lines, kind: str):
    """Yield `(line, record, text)` or `Reject` per line; a record is an `Account` or an
    `(account_id, Event, event_key)` triple."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield Reject(number, f"not valid JSON: {exc.msg} (column {exc.colno})", text.rstrip("\r\n"))
            continue
        try:
            if kind == "accounts":
                record = Account.from_dict(data)
                account_row(record)                   # amounts the store can keep exactly
            else:
                record = _event_from_json(data)
            yield number, record, text.rstrip("\r\n")
        except InputError as exc:
            yield Reject(number, str(exc), text.rstrip("\r\n"))


def _event_from_json(data):
    if not isinstance(data, dict):
        raise InputError(f"expected an object, got {json_type(data)}", "event")
    data = dict(data)
    account_id, key = data.pop("account_id", None), data.pop("event_key", None)
    if not isinstance(account_id, str) or not account_id.strip():
        raise InputError("is required (a non-empty string)", "account_id")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise InputError(f"expected a non-empty string, got {key!r}", "event_key")
    return account_id, Event.from_dict(data), key


def csv_rows(lines, kind: str, extra: tuple = (), required: tuple = ()):
    """Yield `(line, cells)` per CSV record after checking the header; Unusable if it is wrong.

    `extra` columns are allowed besides the kind's own (and passed through in `cells`);
    `required` ones must be present besides the kind's required columns.
    """
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise Unusable("the file is empty (a CSV file needs a header row)") from None
    allowed = (ACCOUNT_CSV + INVOICE_CSV if kind == "accounts" else EVENT_CSV) + tuple(extra)
    unknown = [h for h in header if h not in allowed]
    missing = [h for h in REQUIRED[kind] + tuple(required) if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
                   ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                   (["repeated column names"] if len(set(header)) != len(header) else [])
        raise Unusable(f"CSV header: {'; '.join(problems)} (allowed for {kind}: {', '.join(allowed)})")
    previous = reader.line_num
    for cells in reader:
        start, previous = previous + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield start, None, f"expected {len(header)} cells, found {len(cells)}"
            continue
        yield start, {h: c.strip() or None for h, c in zip(header, cells)}, None


def csv_event_records(lines):
    """Yield `(line, (account_id, Event, event_key), cells)` or `Reject` per events CSV record."""
    for number, cells, problem in csv_rows(lines, "events"):
        if problem:
            yield Reject(number, problem)
            continue
        try:
            data = {k: v for k, v in cells.items() if v is not None and k not in ("account_id", "event_key")}
            if "instalments" in data:
                data["instalments"] = _instalments(data["instalments"])
            for key in ("representative", "wishes"):      # a JSON object in the cell
                if key in data:
                    data[key] = _json_cell(data[key], key)
            yield number, _event_from_json({**data, "account_id": cells.get("account_id"),
                                            "event_key": cells.get("event_key")}), cells
        except InputError as exc:
            yield Reject(number, csv_reason(exc), cells)


def _json_cell(text: str, column: str):
    try:
        return json.loads(text)
    except ValueError:
        raise InputError(f"expected a JSON object such as {{\"name\": \"…\"}}, got {text[:60]!r}",
                         column) from None


def _instalments(text: str) -> list:
    plan = []
    for part in text.split(LIST_SEP):
        due, sep, amount = part.partition("=")
        if not sep:
            raise InputError(f"expected DATE=AMOUNT items separated by '{LIST_SEP}', got {part!r}",
                             "instalments")
        plan.append({"due_date": due.strip(), "amount": amount.strip()})
    return plan


def csv_account_records(lines, extra: tuple = (), required: tuple = ()):
    """Group CSV rows by account_id; yield `(lines, Account, rows)`, or a `Reject` for each row
    of an account with any bad row (an account is stored whole or not at all).

    `extra`/`required`: see `csv_rows`; extra cells are left in `rows` for the caller.
    """
    return account_records(csv_rows(lines, "accounts", extra, required))


def account_records(rows):
    """`csv_account_records` over `(line, cells, problem)` rows already read (`csv_rows`, or a
    mapped file's rows, arrears.engine.replay.mapping). A problem without cells rejects the
    line alone; a problem with cells rejects the line and, like any bad row, its account."""
    groups: dict[str, dict] = {}
    for number, cells, problem in rows:
        if problem and cells is None:
            yield Reject(number, problem)
            continue
        aid = cells.get("account_id")
        if aid is None:
            yield Reject(number, "account_id: is required", cells)
            continue
        group = groups.setdefault(aid, {"lines": [], "cells": [], "account": {}, "errors": {},
                                        "invoice_lines": []})
        group["lines"].append(number)
        group["cells"].append(cells)
        if problem:
            group["errors"][number] = problem
        _merge_row(group, number, cells)
    for aid, group in groups.items():
        yield from _finish_account(aid, group)


def _merge_row(group: dict, number: int, cells: dict) -> None:
    own = {c: (cells[c], number) for c in ACCOUNT_CSV[1:] if cells.get(c) is not None}
    for column, (value, _) in own.items():
        first = group["account"].setdefault(column, (value, number))
        if first[0] != value:
            group["errors"].setdefault(number, f"{column}: {value!r} differs from {first[0]!r} "
                                               f"on line {first[1]} of the same account")
    if number not in group["errors"] and any(cells.get(c) for c in INVOICE_CSV):
        group["invoice_lines"].append(number)


def _probe_rows(group: dict) -> None:
    """Check each row's cells on their own (a placeholder currency if the row leaves it to
    the account's first row), so each problem is reported on its line. Only run for an
    account that failed: a valid account costs one parse, not one per row."""
    errors = group["errors"]
    for number, cells in zip(group["lines"], group["cells"]):
        if number in errors:
            continue
        own = {c: (cells[c], number) for c in ACCOUNT_CSV[1:] if cells.get(c) is not None}
        try:
            Account.from_dict(_account_dict({"currency": ("XXX", number), **own}, [cells]))
        except InputError as exc:
            errors[number] = csv_reason(exc)


def _finish_account(aid: str, group: dict):
    errors = group["errors"]
    if not errors:
        try:
            account = Account.from_dict(_account_dict(group["account"], group["cells"]))
            account_row(account)                      # amounts the store can keep exactly
        except InputError as exc:
            _probe_rows(group)
            if not errors:                            # no row is wrong alone: the whole is
                errors = {_invoice_line(exc.where, group["invoice_lines"] or group["lines"]): csv_reason(exc)}
        else:
            yield group["lines"], account, group["cells"]
            return
    else:
        _probe_rows(group)
    bad = min(errors)
    for number, cells in zip(group["lines"], group["cells"]):
        reason = errors.get(number) or f"account {aid!r} not stored: line {bad} was rejected"
        yield Reject(number, reason, cells)


def _account_dict(account: dict, rows: list[dict]) -> dict:
    values = {k: v for k, (v, _) in account.items()}
    data = {"id": rows[0]["account_id"]}
    contact = {}
    for column, value in values.items():
        if column in _LISTS:
            value = [v.strip() for v in value.split(LIST_SEP) if v.strip()]
        elif column in _NUMBERS:
            value = _number(value, column)
        (contact if column in _CONTACT else data)[column] = value
    if contact:
        data["contact"] = contact
    data["invoices"] = [{k: row[c] for k, c in (("id", "invoice_id"), ("amount", "amount"),
                                                ("due_date", "due_date"), ("issued_date", "issued_date"))
                         if row.get(c) is not None}
                        for row in rows if any(row.get(c) for c in INVOICE_CSV)]
    return data


def _number(text: str, column: str):
    try:
        return float(text)
    except ValueError:
        raise InputError(f"expected a number from 0 to 1, got {text!r}", column) from None


_PATH = re.compile(r"\[\d+\]")


def csv_reason(exc: InputError) -> str:
    """The error with the model's JSON path turned into the CSV column it came from."""
    path = _PATH.sub("", exc.where or "")
    column = {"account.id": "account_id", "account.invoices.id": "invoice_id",
              "account.invoices": "invoice_id", "event": "", "account": ""}.get(path)
    if column is None:
        column = "instalments" if ".instalments" in path else path.rsplit(".", 1)[-1]
    message = str(exc)[len(exc.where) + 2:] if exc.where else str(exc)
    return f"{column}: {message}" if column else message


def _invoice_line(where: str, lines: list[int]) -> int:
    match = re.search(r"invoices\[(\d+)\]", where or "")
    return lines[int(match.group(1))] if match and int(match.group(1)) < len(lines) else lines[0]
