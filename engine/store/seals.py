"""Row seals: the audit chain vouches for every row that decides or delivers.

A sealed table's row keeps two columns besides its own:

- `seal`: the canonical JSON list of its sealed columns' values, long text replaced by
  `#` and a SHA-256 prefix (so `verify` can tell *which* column changed); for a compact
  table (accounts, whose rows every tick rewrites) a 16-bit fingerprint per column;
- `audit_seq`: the audit entry that recorded its current state.

That entry's body holds, under `seals`, for each table it sealed rows of: how many
(`rows`) and the sum, modulo 2**512, of each row's token, the SHA-512 of (table, key,
seal). Rows are written a page or a batch at a time, so one entry covers thousands of
rows at the cost of one hash per row; no entry per row. A row written again later (an
outbox transition, an account upserted again, a policy activated) is re-sealed by the
later entry, which also records under `released` the tokens it took over from each
earlier entry: `verify` subtracts them, so each entry's sum must equal the tokens of the
rows that still point at it.

`verify` (`check`) therefore finds, for each table in `REGISTRY`:

- a row whose values no longer match its seal: the table, the row's key, the columns;
- a row without a seal, or pointing at an entry that sealed no row of its table;
- an entry whose rows are fewer (deleted), more (inserted) or different (a seal
  rewritten to match an edit) than it recorded: the table and the entry.

To cover another table: give it `audit_seq` and
`seal` columns (a migration), `register` a `Sealed` for it below, and have every write
pass its keys to the audit entry of the same transaction (`audit.append(..., reseal=)`)
or build a `SealBook` for bulk writes.
"""
from __future__ import annotations

import hashlib
import json
from zlib import crc32 as _crc32
from json.encoder import c_make_encoder, encode_basestring
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, inspect, null, select, update

from arrears.engine.store.schema import metadata

MOD = 1 << 512
_sha256, _sha512 = hashlib.sha256, hashlib.sha512
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_join = "".join


def _not_json(value):
    raise TypeError(f"a sealed column holds a {type(value).__name__}, which JSON cannot hold")


# The C encoder `_encode` builds on each call, built once: the same text, in half the time.
_encode_list = c_make_encoder(None, _not_json, encode_basestring, None, ":", ",", False, False, True)


@dataclass(frozen=True)
class Sealed:
    """A sealed table: its key columns (how `verify` names a row), the columns the seal
    covers (in seal order), and those among them kept as a digest in the seal."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    long: tuple[str, ...] = ()
    label: str | None = None            # a sealed column that names the row for people (an account's id)
    # Compact: the seal holds a 16-bit fingerprint per column (enough to name the column that
    # changed) and the token hashes the row's values themselves. For rows the tick rewrites
    # (an account's scheduling state): a small seal keeps them small.
    compact: bool = False
    # Copies: (column, sealed JSON column, field) of unsealed columns that repeat a field of a sealed
    # JSON column for an index (a decision's `priority`); `verify` checks each against its source.
    copies: tuple[tuple[str, str, str], ...] = ()
    # Added: how many of the last `columns` were added after rows were sealed (0016: a decision's
    # and a contact's experiment and strategy). Trailing NULLs among them are left out of the
    # seal, so rows sealed before keep their seals; a value written into one later is caught.
    added: int = 0

    @property
    def table(self):
        """The SQLAlchemy table."""
        return metadata.tables[self.name]

    @property
    def long_at(self) -> tuple[int, ...]:
        """Positions (in `columns`) of the columns kept as a digest."""
        return tuple(self.columns.index(c) for c in self.long)


REGISTRY: dict[str, Sealed] = {}


def register(spec: Sealed) -> Sealed:
    """Cover `spec.name` by `verify` (the table needs `audit_seq` and `seal` columns)."""
    REGISTRY[spec.name] = spec
    return spec


ACCOUNT_COLUMNS = ("id", "currency", "debtor_type", "jurisdiction", "timezone", "language", "tags",
                   "risk_score", "on_time_ratio", "relationship_tier", "account_manager", "debtor_id",
                   "other_timezones", "contact", "digest", "created_at", "updated_at")
ACCOUNTS = register(Sealed("accounts", ("acct_no",), ACCOUNT_COLUMNS, label="id", compact=True))
INVOICES = register(Sealed("invoices", ("acct_no", "invoice_id"), ("amount_minor", "due_day", "issued_day")))
DECISIONS = register(Sealed("decisions", ("id",), (
    "acct_no", "evaluated_at", "revision", "policy_digest", "stage", "attempt", "action_type", "channel",
    "not_before", "next_evaluation_at", "body", "experiment_id", "strategy"), long=("policy_digest", "body"),
    copies=(("priority", "body", "priority"),), added=2))
OUTBOX = register(Sealed("outbox", ("id",), (
    "acct_no", "decision_id", "stage", "attempt", "episode_key", "channel", "status", "tries",
    "next_attempt_at", "created_at", "updated_at", "provider_id", "last_error", "payload", "claimed_by",
    "claimed_at", "experiment_id", "strategy"), long=("payload", "last_error"), added=2))
POLICY_VERSIONS = register(Sealed("policy_versions", ("digest",), (
    "id", "name", "version", "source", "created_at", "activated_at", "active"), long=("source",)))
# The console's users: who they are, their role, their password hash and whether they may log in
# (not the failed-login count and login times, which every login attempt rewrites).
USERS = register(Sealed("users", ("username",), (
    "username", "role", "password_hash", "disabled", "created_at", "password_changed_at"),
    long=("password_hash",)))
# Stored API keys: the digest, the role and whether (since when) the key is revoked.
API_KEYS = register(Sealed("api_keys", ("id",), (
    "id", "digest", "label", "role", "created_at", "created_by", "revoked_at", "revoked_by")))


def seal_of(spec: Sealed, values) -> str:
    """The seal of a row whose sealed columns hold `values` (in `spec.columns` order)."""
    return seal_many(spec, [values])[0]


def seal_many(spec: Sealed, rows) -> list[str]:
    """`seal_of` of each row (the bulk writers' form: one call per page or batch)."""
    if spec.compact:
        return ["".join(f"{_crc32(repr(v).encode('utf-8')) & 0xFFFF:04x}" for v in r) for r in rows]
    rows = list(rows)
    return seal_columns(spec, list(zip(*rows))) if rows else []


def seal_columns(spec: Sealed, cols: list) -> list[str]:
    """`seal_many` of rows given as columns (`cols[i]`: a list or tuple of the values of
    `spec.columns[i]`, one per row), for a writer that builds its rows column by column (the
    tick's planner): no rows to take apart first."""
    if spec.compact:
        raise ValueError(f"{spec.name} is sealed compactly: use seal_many")
    return [_join(_encode_list(values, 0)) for values in _sealed_values(spec, cols)]


def seal_open(spec: Sealed, rows, at: int) -> list[tuple[str, str]]:
    """The seals of `rows` with column `at` left open, for a value known only when the row is
    written (an outbox row's decision id): (head, tail) per row, closed by `seal_close`, which
    gives exactly the `seal_many` of the rows holding those values there. The rest of the seal
    (and its digests of long text) can so be computed ahead, in another process."""
    _openable(spec, at)
    rows = list(rows)
    return seal_open_columns(spec, list(zip(*rows)), at) if rows else []


def _openable(spec: Sealed, at: int) -> None:
    if spec.compact or at in spec.long_at or at >= len(spec.columns) - spec.added:
        raise ValueError(f"column {spec.columns[at]!r} of {spec.name} cannot be left open in its seal")


def seal_open_columns(spec: Sealed, cols: list, at: int) -> list[tuple[str, str]]:
    """`seal_open` of rows given as columns (as `seal_columns`); `cols[at]` is not read."""
    _openable(spec, at)
    out = []
    for values in _sealed_values(spec, cols):
        head = "[" if at == 0 else _join(_encode_list(values[:at], 0))[:-1] + ","
        tail = "," + _join(_encode_list(values[at + 1:], 0))[1:] if len(values) > at + 1 else "]"
        out.append((head, tail))
    return out


def seal_close(parts: list[tuple[str, str]], values) -> list[str]:
    """The seals `seal_open` left open, each with its row's value (an int, None or any JSON
    scalar) in the open column."""
    return [f"{head}{int.__repr__(v) if type(v) is int else _join(_encode_list([v], 0))[1:-1]}{tail}"
            for (head, tail), v in zip(parts, values)]


def _sealed_values(spec: Sealed, cols: list) -> list:
    """Each row's values as its seal lists them, from the rows' columns (`cols`, in
    `spec.columns` order): the trailing NULLs of its `added` columns left out, long text
    replaced by its digest. Column by column: the tick seals a page of rows at once, and a
    column's loop costs less than a loop over each row's columns."""
    if not cols or not len(cols[0]):
        return []
    cols = list(cols)
    for i in spec.long_at:
        cols[i] = _digests(cols[i])
    added = spec.added
    if not added:
        return list(zip(*cols))
    if all(_all_none(col) for col in cols[-added:]):
        return list(zip(*cols[:-added]))       # every row without them (no running experiment)
    out = []
    for values in zip(*cols):
        values = list(values)
        stop = len(values) - added
        while len(values) > stop and values[-1] is None:
            values.pop()
        out.append(values)
    return out


def _all_none(values) -> bool:
    """Whether every item of the sequence `values` is None, counted in C."""
    return values.count(None) == len(values)


def _digests(texts) -> list:
    """Each long text as the seal keeps it: `#` and a SHA-256 prefix (None stays None)."""
    texts = list(texts)
    nones = texts.count(None)
    if nones == len(texts):             # a column no new row fills (an outbox row's last error)
        return texts
    if not nones:
        if texts.count(texts[0]) == len(texts):     # a page's rows share one policy digest: hash it once
            return [_digest(texts[0])] * len(texts)
        return list(map(_digest, texts))
    out, seen, digest = [], None, None
    for v in texts:
        if v is None:
            out.append(None)
            continue
        if v is not seen:
            digest, seen = _digest(v), v
        out.append(digest)
    return out


def _digest(text: str) -> str:
    return "#" + _sha256(text.encode("utf-8")).hexdigest()[:32]


def _key_text(key: tuple) -> str:
    """A key as the token hashes it: an integer as is, anything else as a JSON list."""
    if len(key) == 1 and type(key[0]) is int:
        return str(key[0])
    return _encode(list(key))


def token(name: str, key: tuple, seal: str, values=None) -> int:
    """A row's contribution to its entry's sum: SHA-512 of (table, key, seal) as an integer;
    of a compact table's row, of its `values` (the sealed columns) too."""
    text = f"{name}\x1f{_key_text(key)}\x1f{seal}"
    if REGISTRY[name].compact:
        text += "\x1f" + _join(_encode_list(list(values), 0))
    return int.from_bytes(_sha512(text.encode("utf-8")).digest(), "big")


@dataclass
class _Part:
    rows: int = 0
    total: int = 0
    released: dict = field(default_factory=dict)     # seq -> [rows, sum]
    stamp: list = field(default_factory=list)        # keys whose audit_seq the entry sets


class SealBook:
    """The seals one audit entry records: rows sealed per table, and tokens released from
    earlier entries. `audit.append(..., seals=book)` writes it into the entry's body."""

    def __init__(self):
        self._parts: dict[str, _Part] = {}

    def __bool__(self) -> bool:
        return bool(self._parts)

    def add(self, name: str, key: tuple, seal: str, values=None) -> None:
        """Count a row now sealed (its `seal` column holds `seal`; `values`: its sealed
        columns, needed for a compact table) by this entry."""
        part = self._parts.setdefault(name, _Part())
        part.rows += 1
        part.total = (part.total + token(name, key, seal, values)) % MOD

    def add_many(self, name: str, keys, seals) -> None:
        """`add` for many rows at once: `keys` their one-integer keys, `seals` their seals."""
        sha, prefix, as_int = _sha512, f"{name}\x1f", int.from_bytes
        total = sum([as_int(sha(f"{prefix}{k}\x1f{s}".encode("utf-8")).digest(), "big")
                     for k, s in zip(keys, seals)])
        part = self._parts.setdefault(name, _Part())
        part.rows += len(seals)
        part.total = (part.total + total) % MOD

    def release(self, name: str, seq, key: tuple, seal, values=None) -> None:
        """Take a row over from entry `seq` (no-op for a row never sealed); `values` as
        it was stored, for a compact table."""
        if seq is None or seal is None:
            return
        part = self._parts.setdefault(name, _Part())
        n, s = part.released.get(int(seq), (0, 0))
        part.released[int(seq)] = (n + 1, (s + token(name, key, seal, values)) % MOD)

    def body(self) -> dict:
        """The JSON form kept in the entry's body (sums in hex)."""
        out = {}
        for name, part in sorted(self._parts.items()):
            item = {"rows": part.rows, "sum": f"{part.total:0128x}"}
            if part.released:
                item["released"] = {str(seq): [n, f"{s:0128x}"] for seq, (n, s) in sorted(part.released.items())}
            out[name] = item
        return out

    def reseal(self, conn: Connection, name: str, keys) -> None:
        """Seal the rows of `name` with these keys (one-column keys) as they are now: write
        their new `seal`, release their previous one; `stamp` later sets their `audit_seq`."""
        spec = REGISTRY[name]
        (key_col,) = spec.key
        t = spec.table
        keys = list(dict.fromkeys(keys))
        if not keys:
            return
        cols = [t.c[c] for c in spec.columns]
        rows = conn.execute(select(t.c[key_col], *cols, t.c.audit_seq, t.c.seal)
                            .where(t.c[key_col].in_(keys))).all()
        updates = []
        for row in rows:
            key, values, seq, old = (row[0],), row[1:-2], row[-2], row[-1]
            self.release(name, seq, key, old, values)
            new = seal_of(spec, values)
            self.add(name, key, new, values)
            self._parts[name].stamp.append(row[0])
            updates.append({"b_key": row[0], "v_seal": new})
        if not updates:
            return
        conn.execute(update(t).where(t.c[key_col] == bindparam("b_key")).values(seal=bindparam("v_seal")),
                     updates)

    def stamp(self, conn: Connection, seq: int) -> None:
        """Point the rows re-sealed with `reseal` at entry `seq`."""
        for name, part in self._parts.items():
            if part.stamp:
                spec = REGISTRY[name]
                t = spec.table
                key_col = t.c[spec.key[0]]
                conn.execute(update(t).where(key_col.in_(part.stamp)).values(audit_seq=seq))


def seal_unsealed(conn: Connection, book: SealBook, spec: Sealed, seq: int) -> int:
    """Seal the rows of `spec` without a seal, as they are, stamped with entry `seq` (which
    must take `book`); returns how many."""
    t = spec.table
    keys = [t.c[c] for c in spec.key]
    # A migration before the one that added a table's trailing `added` columns seals without them.
    present = {c["name"] for c in inspect(conn).get_columns(t.name)} if spec.added else set(spec.columns)
    values = [t.c[c] if c in present else null().label(c) for c in spec.columns]
    rows = conn.execute(select(*keys, *values).where(t.c.seal.is_(None))).all()
    if not rows:
        return 0
    nk, updates = len(keys), []
    for row in rows:
        key = tuple(row[:nk])
        seal = seal_of(spec, row[nk:])
        book.add(spec.name, key, seal, row[nk:])
        updates.append({**{f"b_{c}": v for c, v in zip(spec.key, key)}, "v_seal": seal})
    where = [t.c[c] == bindparam(f"b_{c}") for c in spec.key]
    conn.execute(update(t).where(*where).values(seal=bindparam("v_seal"), audit_seq=seq), updates)
    return len(rows)


@dataclass(frozen=True)
class Finding:
    """One thing `verify` found wrong with the sealed rows."""

    table: str
    problem: str
    key: str | None = None              # the row, as `col=value, ...`, when one row is named
    columns: tuple[str, ...] = ()       # the columns that changed, when known
    audit_seq: int | None = None        # the entry concerned

    def line(self) -> str:
        """One line for people."""
        where = f"{self.table} row {self.key}" if self.key else f"{self.table}"
        cols = f" (column{'s' if len(self.columns) != 1 else ''} {', '.join(self.columns)})" if self.columns else ""
        entry = f" [audit entry {self.audit_seq}]" if self.audit_seq is not None else ""
        return f"{where}: {self.problem}{cols}{entry}"

    def to_dict(self) -> dict:
        """JSON form."""
        return {"table": self.table, "key": self.key, "columns": list(self.columns),
                "audit_seq": self.audit_seq, "problem": self.problem}


def _changed_columns(spec: Sealed, fresh: str, stored: str) -> tuple[str, ...]:
    if spec.compact:
        if len(stored) != len(fresh):
            return ()
        return tuple(c for i, c in enumerate(spec.columns) if fresh[4 * i:4 * i + 4] != stored[4 * i:4 * i + 4])
    try:
        old = json.loads(stored)
    except ValueError:
        return ()
    new = json.loads(fresh)
    if not isinstance(old, list) or len(old) != len(new):
        return ()
    return tuple(c for c, a, b in zip(spec.columns, new, old) if a != b)


def _row_name(spec: Sealed, key: tuple, values=None) -> str:
    text = ", ".join(f"{c}={v!r}" for c, v in zip(spec.key, key))
    if spec.label is not None and values is not None:
        text += f" ({spec.label} {values[spec.columns.index(spec.label)]!r})"
    return text


def expected_sums(recorded: dict[int, dict]) -> tuple[dict[tuple[str, int], list], list[Finding]]:
    """(table, seq) -> [rows, sum] each entry must still vouch for, from the entries' `seals`;
    and a finding for each entry whose `seals` record cannot be read."""
    expected: dict[tuple[str, int], list] = {}
    bad = []
    for seq, parts in recorded.items():
        try:
            for name, item in parts.items():
                e = expected.setdefault((name, seq), [0, 0])
                e[0] += int(item["rows"])
                e[1] = (e[1] + int(item["sum"], 16)) % MOD
                for old, (n, s) in (item.get("released") or {}).items():
                    e = expected.setdefault((name, int(old)), [0, 0])
                    e[0] -= int(n)
                    e[1] = (e[1] - int(s, 16)) % MOD
        except (AttributeError, KeyError, TypeError, ValueError):
            bad.append(Finding("audit", "its record of the rows it sealed cannot be read", audit_seq=seq))
    return expected, bad


def sealed_tables(conn: Connection) -> list[Sealed]:
    """The registered tables this database has, with seal columns (none before revision 0010)."""
    out, found = [], inspect(conn)
    for spec in REGISTRY.values():
        if not found.has_table(spec.name):          # a table of a later revision
            continue
        names = {c["name"] for c in found.get_columns(spec.name)}
        if {"seal", "audit_seq"} <= names:
            out.append(spec)
    return out


def check(conn: Connection, recorded: dict[int, dict], chunk: int = 5000) -> tuple[list[Finding], dict]:
    """Check every sealed row against its seal, and each entry's sums against its rows.

    `recorded`: seq -> the `seals` part of that entry's body. Returns (findings, rows
    checked per table).
    """
    expected, findings = expected_sums(recorded)
    actual: dict[tuple[str, int], list] = {}
    checked: dict[str, int] = {}
    for spec in sealed_tables(conn):
        t, nk, n = spec.table, len(spec.key), len(spec.columns)
        present = {col["name"] for col in inspect(conn).get_columns(spec.name)} if spec.copies else set()
        copies = [c for c in spec.copies if c[0] in present]
        stmt = select(*(t.c[c] for c in spec.key), *(t.c[c] for c in spec.columns),
                      *(t.c[c[0]] for c in copies), t.c.audit_seq, t.c.seal)
        checked[spec.name] = 0
        for rows in conn.execute(stmt.order_by(*(t.c[c] for c in spec.key))).partitions(chunk):
            for row in rows:
                checked[spec.name] += 1
                key, values, seq, seal = tuple(row[:nk]), row[nk:nk + n], row[-2], row[-1]
                problem = _check_row(spec, key, values, seq, seal, expected, actual)
                if problem is None and copies:
                    problem = _check_copies(spec, key, values, copies, row[nk + n:nk + n + len(copies)], seq)
                if problem is not None:
                    findings.append(problem)
    named = {(f.table, f.audit_seq) for f in findings if f.key is not None}
    findings += _check_sums(expected, actual, named)
    return findings, checked


def _check_row(spec, key, values, seq, seal, expected, actual) -> Finding | None:
    name = spec.name
    if seal is None or seq is None:
        return Finding(name, "has no seal (it was added, or its seal removed, outside Arrears)",
                       _row_name(spec, key, values), audit_seq=seq)
    if (name, seq) not in expected:
        return Finding(name, f"points at audit entry {seq}, which sealed no {name} rows",
                       _row_name(spec, key, values), audit_seq=seq)
    a = actual.setdefault((name, seq), [0, 0])
    a[0] += 1
    a[1] = (a[1] + token(name, key, seal, values)) % MOD
    fresh = seal_of(spec, values)
    if fresh != seal:
        return Finding(name, "changed after it was recorded", _row_name(spec, key, values),
                       _changed_columns(spec, fresh, seal) or ("(seal)",), seq)
    return None


def copied_value(text, name: str) -> float:
    """The value a copy column holds for JSON `text`: its number `name`, else -1 (migration 0013)."""
    try:
        value = json.loads(text).get(name)
    except (ValueError, AttributeError):
        return -1.0
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1.0


def _check_copies(spec, key, values, copies, stored, seq) -> Finding | None:
    wrong = tuple(column for (column, source, name), value in zip(copies, stored)
                  if value != copied_value(values[spec.columns.index(source)], name))
    if wrong:
        return Finding(spec.name, "differs from the sealed value it copies", _row_name(spec, key, values),
                       wrong, seq)
    return None


def _check_sums(expected, actual, named: set) -> list[Finding]:
    """Entries whose rows no longer add up; `named`: (table, seq) of rows already named as
    changed (a compact row's token covers its values: its edit shows in the sum too)."""
    out = []
    for (name, seq), (n, s) in sorted(expected.items()):
        got_n, got_s = actual.get((name, seq), (0, 0))
        if (got_n, got_s) == (n, s % MOD) or (got_n == n and (name, seq) in named and REGISTRY[name].compact):
            continue
        if got_n < n:
            k = n - got_n
            problem = f"{k} row{'s' if k != 1 else ''} this entry recorded {'are' if k != 1 else 'is'} missing (deleted)"
        elif got_n > n:
            k = got_n - n
            problem = f"{k} row{'s' if k != 1 else ''} more than this entry recorded point at it (inserted)"
        else:
            problem = "a row was replaced or its seal rewritten to match an edit (the rows no longer add up)"
        out.append(Finding(name, problem, audit_seq=seq))
    return out
