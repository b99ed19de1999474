"""The contacts a replay sent in the reported period, as CSV rows (for auditing a backtest)."""
from __future__ import annotations

import csv

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.money import from_minor

CONTACT_CSV = ("account_id", "day", "at", "stage", "attempt", "channel", "early_payment_discount",
               "settlement_discount", "template")


def contact_rows(run) -> list[tuple]:
    """One tuple per contact (CONTACT_CSV order), by account id, then time, stage and channel
    (the same rows in the same order whatever the order of the file's rows): the debtor's local
    day, the UTC instant, the stage, attempt and policy channel, the discount an offer in it
    gave ("" without one), and the template the message used (the stage's or event message's
    template for that channel's kind, as the decision's action names it)."""
    c = run.record.contacts.view()
    base, policy = run.history.base, run.policy
    by_id = np.argsort(np.argsort(np.asarray(base.ids, dtype=object), kind="stable"), kind="stable")
    order = np.lexsort((c["channel"], c["stage"], c["at"], by_id[c["acct"]])) if len(c["acct"]) else c["acct"]
    channels = list(policy.channels)
    out = []
    for i in order.tolist():
        acct = int(c["acct"][i])
        cur = base.currency[acct]
        offers = [("" if c[k][i] < 0 else str(from_minor(int(c[k][i]), cur))) for k in ("early", "settle")]
        stage, channel = policy.actions[int(c["stage"][i])], channels[int(c["channel"][i])]
        template = stage.templates[int(c["position"][i])]
        out.append((base.ids[acct], day_to_date(int(c["day"][i])).isoformat(), rfc3339(from_epoch(int(c["at"][i]))),
                    stage.id, int(c["attempt"][i]), channel, *offers, template))
    return out


def write_contacts(run, path) -> int:
    """Write the contacts to `path` as CSV with a header; returns how many were written."""
    rows = contact_rows(run)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CONTACT_CSV)
        writer.writerows(rows)
    return len(rows)
