"""Import a file of accounts or events into the store: valid records stored, bad ones reported.

The whole file is stored in one transaction, written in chunks: a crash, an
undecodable byte half-way or a database error leaves nothing of the file behind.
Records that fail validation (including amounts finer than their currency's minor
unit, and events of unknown accounts) are rejected one by one and never stop the rest.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from arrears.engine.domain.errors import InputError
from arrears.engine.store.codec import event_values
from arrears.engine.store.readers import (
    Reject,
    Unusable,
    csv_account_records,
    csv_event_records,
    csv_reason,
    decoded_lines,
    jsonl_records,
)

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
CHUNK = 5000


@dataclass
class ImportResult:
    """What an import did: records read and stored, duplicates ignored, rejects."""

    kind: str
    format: str
    read: int = 0
    stored: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate_lines: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def detect_format(path: Path) -> str:
    """`jsonl` or `csv` from the file name's extension; Unusable if it says neither."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise Unusable(f"cannot tell the format of {path.name} from its extension; "
                       "pass --input-format csv or --input-format jsonl")
    return fmt


def detect_kind(path: Path, fmt: str) -> str:
    """`events` if the first record looks like an event (CSV: a `type` column; JSON: `type`
    and `account_id` keys), else `accounts`."""
    with path.open("rb") as fh:
        for line in decoded_lines(fh):
            if not line.strip():
                continue
            if fmt == "csv":
                return "events" if "type" in [h.strip() for h in next(csv.reader([line]))] else "accounts"
            try:
                first = json.loads(line)
            except ValueError:
                return "accounts"
            return "events" if isinstance(first, dict) and {"type", "account_id"} <= set(first) else "accounts"
    return "accounts"


def import_file(store, path, *, kind: str | None = None, fmt: str | None = None, on_progress=None,
                now=None, chunk: int = CHUNK) -> ImportResult:
    """Import `path` into `store`; `on_progress(bytes_read, total_bytes, records)` if given.

    Raises Unusable (and stores nothing) when the file cannot be read as a whole.
    """
    path = Path(path)
    if not path.is_file():
        raise Unusable(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    kind = kind or detect_kind(path, fmt)
    result = ImportResult(kind, fmt)
    total, done = path.stat().st_size, 0

    def progressed(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, total, result.read)

    with path.open("rb") as fh, store.transaction(now=now) as writer:
        lines = decoded_lines(fh, progressed)
        if fmt == "jsonl":
            records = jsonl_records(lines, kind)
        else:
            records = csv_account_records(lines) if kind == "accounts" else csv_event_records(lines)
        flush = _flush_accounts if kind == "accounts" else _flush_events
        buffer: list = []
        for item in records:
            result.read += 1
            if isinstance(item, Reject):
                result.rejects.append(item)
                continue
            buffer.append(item)
            if len(buffer) >= chunk:
                flush(writer, buffer, result, fmt)
                buffer = []
        flush(writer, buffer, result, fmt)
    result.rejects.sort(key=lambda r: r.line)
    return result


def _flush_accounts(writer, buffer: list, result: ImportResult, fmt: str) -> None:
    if not buffer:
        return
    report = writer.upsert_accounts([acc for _, acc, _ in buffer])
    result.stored += len(buffer)
    result.inserted += report.inserted
    result.updated += report.updated
    result.unchanged += report.unchanged


def _flush_events(writer, buffer: list, result: ImportResult, fmt: str) -> None:
    if not buffer:
        return
    info = writer.accounts_info(aid for _, (aid, _, _), _ in buffer)
    lines, pairs, raws = [], [], []
    for line, (aid, event, key), raw in buffer:
        if aid not in info:
            result.rejects.append(Reject(line, f"account_id: unknown account {aid!r}", raw))
            continue
        try:
            event_values(event, info[aid][1], "event")     # amounts the store can keep exactly
        except InputError as exc:
            result.rejects.append(Reject(line, csv_reason(exc) if fmt == "csv" else str(exc), raw))
            continue
        lines.append(line)
        pairs.append((aid, event, key))
        raws.append(raw)
    if not pairs:
        return
    report = writer.append_events(pairs)
    result.stored += report.stored
    differing = set(report.differing)
    result.duplicate_lines.extend(lines[i] for i in report.duplicates if i not in differing)
    # A key or an event id reused for another event is an error in the file (the API
    # answers 409): the record is rejected, not taken for a harmless repeat.
    result.rejects.extend(Reject(lines[i], "id: this event_key or event id was already recorded for the "
                                 "account with different content", raws[i]) for i in sorted(differing))

