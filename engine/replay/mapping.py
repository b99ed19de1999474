"""Reading a file of another shape: the replay mapping (`arrears replay FILE --map MAPPING`).

An accounts-receivable export rarely has the replay CSV's own columns: its dates are
`3/7/2013`, it has no currency column, a dispute is a Yes/No flag without a date, countries
are numeric codes, billing is Paper or Electronic per invoice, and it carries columns the
replay does not need. A mapping (YAML, checked against `engine/policy/schemas/replaymap.schema.json`
with the policies' own machinery, so every mistake is `file:line:col: message`, all at once)
says how to read it:

    columns: {customerID: account_id, InvoiceDate: issued_date, ...}   # renames
    ignore: [DaysLate, DaysToSettle]                                    # read past
    dates: {default: "%m/%d/%Y"}                                        # per column, or default
    currency: USD                                                       # where a row gives none
    defaults: {debtor_type: business}                                   # other account columns
    disputes: {raised: due_date, resolved: settled_date}                # an undated flag
    values: {jurisdiction: {"391": US, "770": GB}, preferred_channels: {Paper: letter}}
    varying: {preferred_channels: latest}                               # per-invoice account values

`Mapping.rows(lines, allowed, required)` turns the file into the replay's `(line, cells,
problem)` rows (arrears.engine.store.readers.account_records reads them), keeping the file's
line numbers; a cell the mapping cannot read (a date not in its format) rejects its row,
naming the replay column and the file's. docs/replay.md, "Reading another file's shape".
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime

from arrears.engine.domain.errors import PolicyError, Problem
from arrears.engine.policy.yamlsrc import load_file, pointer
from arrears.engine.replay.csvmap import TRUE_WORDS
from arrears.engine.store.readers import Unusable

SCHEMA = "replaymap"        # engine/policy/schemas/replaymap.schema.json
KIND = "replay mapping"
DATE_COLUMNS = ("issued_date", "due_date", "settled_date", "written_off_date", "disputed_date",
                "dispute_resolved_date")
_PROBE = date(2013, 11, 27)  # day, month and year all differ: a format that loses one shows it


@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping (see the module docstring for each part)."""

    filename: str
    columns: dict = field(default_factory=dict)       # the file's column -> the replay's
    ignore: frozenset = frozenset()
    dates: dict = field(default_factory=dict)         # replay date column -> strptime format
    currency: str | None = None
    defaults: dict = field(default_factory=dict)      # account column -> value where a row gives none
    raised: str = "due_date"
    resolved: str = "settled_date"
    values: dict = field(default_factory=dict)        # replay column -> {file value: value}
    varying: dict = field(default_factory=dict)       # account column -> "first" | "latest"

    def target(self, column: str) -> str:
        """The replay column a file column holds (itself when it is not renamed)."""
        return self.columns.get(column, column)

    def header(self, header: list[str], allowed: tuple, required: tuple) -> list[str | None]:
        """The replay column of each file column (None: ignored); Unusable naming every problem."""
        targets = [None if h in self.ignore else self.target(h) for h in header]
        unknown = [h for h, t in zip(header, targets) if t is not None and t not in allowed]
        named = [t for t in targets if t is not None]
        twice = sorted({t for t in named if named.count(t) > 1})
        have = set(named) | ({"currency"} if self.currency else set()) | set(self.defaults)
        missing = [c for c in required if c not in have]
        problems = []
        if unknown:
            problems.append(f"column(s) {', '.join(unknown)} neither mapped nor ignored (add them to "
                            f"`columns` or `ignore` in {self.filename})")
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)} (map a column to them)")
        if twice:
            problems.append(f"more than one column holds {', '.join(twice)}")
        if problems:
            raise Unusable(f"CSV header: {'; '.join(problems)}")
        return targets

    def rows(self, lines, allowed: tuple, required: tuple):
        """Yield `(line, cells, problem)` per record of the file, cells under the replay's
        column names with dates as YYYY-MM-DD; Unusable if the header cannot be mapped."""
        reader = csv.reader(lines)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise Unusable("the file is empty (a CSV file needs a header row)") from None
        targets = self.header(header, allowed, required)
        out, previous = [], reader.line_num
        for raw in reader:
            start, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in raw):
                continue
            if len(raw) != len(header):
                out.append((start, None, f"expected {len(header)} cells, found {len(raw)}"))
                continue
            cells = {t: c.strip() or None for t, c in zip(targets, raw) if t is not None}
            out.append((start, cells, self._row(cells, dict(zip(targets, header)))))
        self._settle_varying([r for r in out if r[1] is not None])
        yield from out

    def _row(self, cells: dict, source: dict) -> str | None:
        """Map one row's cells in place; the first problem found, or None."""
        for column, table in self.values.items():
            value = cells.get(column)
            if value is not None and value in table:
                cells[column] = table[value]
        problem = None
        for column in DATE_COLUMNS:
            value, fmt = cells.get(column), self.dates.get(column, self.dates.get("default"))
            if value is None or fmt is None:
                continue
            try:
                cells[column] = datetime.strptime(value, fmt).date().isoformat()
            except ValueError:
                shown = f" (the file's column {source[column]})" if source.get(column, column) != column else ""
                problem = problem or f"{column}: {value!r} is not a date in the format {fmt}{shown}"
        if self.currency and not cells.get("currency"):
            cells["currency"] = self.currency
        for column, value in self.defaults.items():
            if not cells.get(column):
                cells[column] = value
        if (cells.get("disputed") or "").lower() in TRUE_WORDS and not cells.get("disputed_date"):
            self._date_dispute(cells)
        return problem

    def _date_dispute(self, cells: dict) -> None:
        """Date a dispute the file gives only as a flag (the mapping's `disputes`)."""
        raised, settled = cells.get(self.raised), cells.get("settled_date")
        if raised is None:
            return
        if settled is not None and settled < raised:     # ISO dates sort as days do
            raised = settled
        cells["disputed_date"] = raised
        if self.resolved == "settled_date" and settled is not None and not cells.get("dispute_resolved_date"):
            cells["dispute_resolved_date"] = settled

    def _settle_varying(self, rows: list) -> None:
        """Give every row of an account the one value `varying` picks for each such column."""
        if not self.varying:
            return
        accounts: dict = {}
        for number, cells, _ in rows:
            accounts.setdefault(cells.get("account_id"), []).append((number, cells))
        for group in accounts.values():
            for column, rule in self.varying.items():
                given = [(cells.get("issued_date") or "", number, cells[column]) for number, cells in group
                         if cells.get(column) is not None]
                if not given:
                    continue
                value = max(given)[2] if rule == "latest" else min(given, key=lambda g: g[1])[2]
                for _, cells in group:
                    cells[column] = value


def load_mapping(path) -> Mapping:
    """Load and check a mapping file; raise PolicyError with every problem (file:line:col)."""
    from arrears.engine.policy.validation import validate_document

    filename = str(path)
    doc = load_file(path, filename)
    problems = validate_document(doc, filename, schema=SCHEMA)
    if problems:
        raise PolicyError(problems)
    data = doc.data
    problems = _semantic(doc, filename)
    if problems:
        raise PolicyError(problems)
    disputes = data.get("disputes") or {}
    return Mapping(filename=filename, columns=dict(data.get("columns") or {}),
                   ignore=frozenset(data.get("ignore") or ()), dates=dict(data.get("dates") or {}),
                   currency=data.get("currency"), defaults=dict(data.get("defaults") or {}), raised=disputes.get("raised", "due_date"),
                   resolved=disputes.get("resolved", "settled_date"),
                   values={k: dict(v) for k, v in (data.get("values") or {}).items()},
                   varying=dict(data.get("varying") or {}))


def _semantic(doc, filename: str) -> list[Problem]:
    """What the schema cannot say: one file column per replay column, a column not both
    renamed and ignored, date formats that read a whole date."""
    data, out = doc.data, []

    def add(path, message, key=False):
        line, col = doc.key_position(path) if key else doc.position(path)
        out.append(Problem(filename, line, col, message, pointer(path)))
    seen: dict = {}
    for source, target in (data.get("columns") or {}).items():
        if target in seen:
            add(("columns", source), f"{source!r} and {seen[target]!r} both hold {target}", key=True)
        seen.setdefault(target, source)
    for i, name in enumerate(data.get("ignore") or ()):
        if name in (data.get("columns") or {}):
            add(("ignore", i), f"{name!r} is both renamed (columns) and ignored")
    for column, fmt in (data.get("dates") or {}).items():
        try:
            back = datetime.strptime(_PROBE.strftime(fmt), fmt).date()
        except ValueError:
            back = None
        if back != _PROBE:
            add(("dates", column), f"{fmt!r} does not read a whole date (it needs a year, a month and a "
                                   f"day, e.g. '%m/%d/%Y')")
    return sorted(out)
