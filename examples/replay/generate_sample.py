"""Write a synthetic, seeded replay CSV: customers with several invoices and what became of them.

    python examples/replay/generate_sample.py --invoices 300 --seed 7 > examples/replay/sample.csv
    python examples/replay/generate_sample.py --invoices 100000 --out /tmp/big.csv

Every figure is invented (no real data set is copied). Customers across several countries
and time zones; most pay late-ish, some on time, some very late, a few never (and some of
those are written off); a few invoices are disputed, some of the disputes resolved. The
file describes invoices issued from `--start` (less three months of older invoices) to
`--end`; what happened after `--end` is not known, so those cells are blank.
The same arguments always write the same bytes.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import date, timedelta
from decimal import Decimal

# (jurisdiction, time zone, currency, language, minor-unit digits, typical amount)
COUNTRIES = (
    ("GB-ENG", "Europe/London", "GBP", "en", 2, 400), ("GB-SCT", "Europe/London", "GBP", "en", 2, 300),
    ("US-NY", "America/New_York", "USD", "en", 2, 600), ("US-CA", "America/Los_Angeles", "USD", "en", 2, 500),
    ("US-MA", "America/New_York", "USD", "en", 2, 450), ("AU-NSW", "Australia/Sydney", "AUD", "en", 2, 700),
    ("FR", "Europe/Paris", "EUR", "fr", 2, 450), ("DE", "Europe/Berlin", "EUR", "de", 2, 500),
    ("IN", "Asia/Kolkata", "INR", "en", 2, 30000), ("JP", "Asia/Tokyo", "JPY", "en", 0, 60000),
)
WEIGHTS = (18, 6, 12, 10, 4, 10, 12, 12, 8, 8)
# Payment behaviour: (share of customers, days late: (low, mode, high), chance an invoice is never paid)
BEHAVIOURS = {"punctual": (0.30, (-5, 0, 4), 0.00), "late": (0.42, (2, 14, 60), 0.02),
              "very_late": (0.17, (20, 55, 200), 0.10), "defaulter": (0.11, (40, 90, 300), 0.60)}
HEADER = ("account_id", "debtor_type", "jurisdiction", "timezone", "language", "currency", "invoice_id",
          "issued_date", "due_date", "amount", "settled_date", "written_off_date", "disputed", "disputed_date",
          "dispute_resolved_date")


def customer(rng: random.Random, number: int) -> dict:
    """One customer: country, debtor type, payment behaviour and invoicing rhythm."""
    jur, tz, cur, lang, digits, typical = rng.choices(COUNTRIES, WEIGHTS)[0]
    business = rng.random() < 0.55
    behaviour = rng.choices(list(BEHAVIOURS), [b[0] for b in BEHAVIOURS.values()])[0]
    return {"id": f"C{number:06d}", "jurisdiction": jur, "timezone": tz if rng.random() < 0.95 else "",
            "currency": cur, "language": lang, "digits": digits, "typical": typical * (3 if business else 1),
            "type": "business" if business else "consumer", "behaviour": behaviour,
            "terms": rng.choice((30, 30, 45, 60)) if business else rng.choice((14, 14, 30)),
            "every": rng.choice((14, 30, 30, 30, 60, 90))}


def invoice_rows(rng: random.Random, cust: dict, count: int, first: date, end: date) -> list[dict]:
    """`count` invoices of one customer issued from `first`, with their fate as known at `end`."""
    rows, issued = [], first
    _, (low, mode, high), never = BEHAVIOURS[cust["behaviour"]]
    for k in range(count):
        due = issued + timedelta(days=cust["terms"])
        scale = 10 ** cust["digits"]
        minor = max(int(rng.lognormvariate(0, 0.8) * cust["typical"] * scale), 5 * scale)
        amount = Decimal(minor).scaleb(-cust["digits"])
        row = {"account_id": cust["id"], "debtor_type": cust["type"], "jurisdiction": cust["jurisdiction"],
               "timezone": cust["timezone"], "language": cust["language"], "currency": cust["currency"],
               "invoice_id": f"{cust['id']}-{k + 1:03d}", "issued_date": issued, "due_date": due,
               "amount": f"{amount:f}", "settled_date": "", "written_off_date": "", "disputed": "",
               "disputed_date": "", "dispute_resolved_date": ""}
        disputed = rng.random() < 0.04
        paid = due + timedelta(days=round(rng.triangular(low, high, mode)))
        if disputed:
            row["disputed"] = "true"
            opened = due + timedelta(days=rng.randint(-10, 20))
            row["disputed_date"] = max(opened, issued)
            if rng.random() < 0.6:
                resolved = row["disputed_date"] + timedelta(days=rng.randint(10, 60))
                row["dispute_resolved_date"] = resolved if resolved <= end else ""
                paid = max(paid, resolved + timedelta(days=rng.randint(0, 20)))
            else:
                paid = end + timedelta(days=1)          # still argued about at the end of the file
        if rng.random() < never:
            if rng.random() < 0.5:
                off = due + timedelta(days=rng.randint(150, 300))
                row["written_off_date"] = off if off <= end else ""
        elif paid <= end:
            row["settled_date"] = max(paid, issued)
        rows.append(row)
        issued += timedelta(days=max(7, round(rng.gauss(cust["every"], cust["every"] / 6))))
        if issued > end:
            break
    return rows


def generate(invoices: int, seed: int, start: date, end: date) -> list[dict]:
    """About `invoices` rows, customer after customer, in a deterministic order."""
    rng = random.Random(seed)
    span = (end - start).days + 90
    rows, number = [], 0
    while len(rows) < invoices:
        number += 1
        cust = customer(rng, number)
        first = start - timedelta(days=90) + timedelta(days=rng.randint(0, max(span - 30, 0)))
        count = min(rng.randint(2, 12), invoices - len(rows))
        rows += invoice_rows(rng, cust, count, first, end)
    return rows


def main(argv=None) -> int:
    """Command line: write the CSV to --out or stdout."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=300, help="about how many invoices (default 300)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    ap.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    ap.add_argument("--out", help="output file (default: stdout)")
    args = ap.parse_args(argv)
    rows = generate(args.invoices, args.seed, args.start, args.end)
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as fh:
            write(rows, fh)
    else:
        write(rows, sys.stdout)
    return 0


def write(rows: list[dict], stream) -> None:
    """The rows as CSV with the header, dates in ISO form."""
    writer = csv.DictWriter(stream, HEADER, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})


if __name__ == "__main__":
    sys.exit(main())
