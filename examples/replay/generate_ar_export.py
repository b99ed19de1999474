"""Write a synthetic accounts-receivable export in the shape real ones come in (seeded, invented).

    python examples/replay/generate_ar_export.py --invoices 400 --seed 3 --out examples/replay/ar_export.csv

Not the replay CSV's own shape, on purpose: it is what `arrears replay --map` reads
(docs/replay.md, "Reading another file's shape"; the mapping is `ar_export.map.yaml`).
The quirks of such exports, all here:

- US dates without leading zeros (`3/7/2013`), in every date column;
- no currency column (every amount is in the company's currency);
- columns the replay does not need (`PaperlessDate`, `DaysToSettle`, `DaysLate`);
- disputes as a `Yes`/`No` flag, without the day the dispute was raised;
- numeric ISO 3166 country codes (`840`, `826` ...) instead of `US`, `GB`;
- billing per invoice, `Paper` or `Electronic`: a customer switches to paperless on a day,
  so its invoices before that day say Paper and later ones Electronic.

Every figure is invented; the same arguments always write the same bytes.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import date, timedelta

HEADER = ("countryCode", "customerID", "PaperlessDate", "invoiceNumber", "InvoiceDate", "DueDate",
          "InvoiceAmount", "Disputed", "SettledDate", "PaperlessBill", "DaysToSettle", "DaysLate")
COUNTRIES = (("840", 50), ("826", 20), ("276", 15), ("250", 15))     # US, GB, DE, FR
FIRST, LAST = date(2012, 9, 1), date(2013, 12, 31)                   # invoice dates
KNOWN_UNTIL = date(2014, 1, 31)                                      # the export's date


def us(day: date | None) -> str:
    """`3/7/2013`: month/day/year, no leading zeros."""
    return "" if day is None else f"{day.month}/{day.day}/{day.year}"


def customers(rng: random.Random, n: int) -> list[dict]:
    """`n` customers: country, payment habit, paperless switch day."""
    out = []
    for i in range(n):
        code = rng.choices([c for c, _ in COUNTRIES], [w for _, w in COUNTRIES])[0]
        switch = FIRST + timedelta(days=rng.randrange(-200, 600))
        out.append({"id": f"{rng.randrange(1000, 9999)}-{chr(65 + i % 26)}{rng.randrange(100, 999)}",
                    "country": code, "paperless": switch, "late": rng.choice((0, 3, 8, 15, 30, 60)),
                    "terms": rng.choice((30, 30, 30, 45))})
    return out


def rows(rng: random.Random, invoices: int, n_customers: int) -> list[tuple]:
    """The export's data rows, in the order such a file is often written: by invoice number."""
    people = customers(rng, n_customers)
    out = []
    span = (LAST - FIRST).days
    for k in range(invoices):
        c = people[rng.randrange(len(people))]
        issued = FIRST + timedelta(days=rng.randrange(span + 1))
        due = issued + timedelta(days=c["terms"])
        amount = f"{max(rng.lognormvariate(4, 0.6), 5):.2f}"
        delay = max(-10, int(rng.gauss(c["late"], 6)))
        disputed = rng.random() < 0.12
        settled = due + timedelta(days=delay + (20 if disputed else 0))
        settled = max(settled, issued)
        if settled > KNOWN_UNTIL:
            settled = None
        paper = "Electronic" if issued >= c["paperless"] else "Paper"
        to_settle = "" if settled is None else str((settled - issued).days)
        late = "" if settled is None else str(max(0, (settled - due).days))
        out.append((c["country"], c["id"], us(c["paperless"]), str(1_000_000 + k * 7 + rng.randrange(7)),
                    us(issued), us(due), amount, "Yes" if disputed else "No", us(settled), paper, to_settle,
                    late))
    return out


def main(argv=None) -> int:
    """Write the export (to --out, else stdout)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=400)
    ap.add_argument("--customers", type=int, default=60)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", help="the CSV file to write (default: stdout)")
    args = ap.parse_args(argv)
    data = rows(random.Random(args.seed), args.invoices, args.customers)
    if not args.out:
        _write(sys.stdout, data)
        return 0
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        _write(fh, data)
    return 0


def _write(fh, data: list[tuple]) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(data)


if __name__ == "__main__":
    sys.exit(main())
