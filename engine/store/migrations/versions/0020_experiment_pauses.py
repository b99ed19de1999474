"""Each stretch an experiment was paused, where its results can read it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

`experiment_pauses`: one row per pause of an experiment (the tick pauses one it cannot run; the
champion decides every debtor until it is resumed): when it was paused and why, when it was
resumed (null while it is still paused). The results leave out what the debtors did during a
paused stretch (engine/experiments/results.py). Filled here from the audit log, which held the
pauses until now: each `experiment.paused` entry opens a stretch, the next `experiment.resumed`
of the same experiment closes it.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment_pauses",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("paused_at", sa.BigInteger, nullable=False),
        sa.Column("resumed_at", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_pauses"),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"],
                                name="fk_experiment_pauses_experiment_id_experiments"),
    )
    op.create_index("ix_experiment_pauses_experiment_id", "experiment_pauses", ["experiment_id"])
    _fill(op.get_bind())


def _fill(conn) -> None:
    """The stretches the audit log records, as this revision reads its entries."""
    experiments = sa.table("experiments", sa.column("id", sa.Integer), sa.column("name", sa.Text))
    audit = sa.table("audit", sa.column("seq", sa.BigInteger), sa.column("at", sa.BigInteger),
                     sa.column("kind", sa.Text), sa.column("subject", sa.Text), sa.column("body", sa.Text))
    pauses = sa.table("experiment_pauses", sa.column("experiment_id", sa.Integer),
                      sa.column("paused_at", sa.BigInteger), sa.column("resumed_at", sa.BigInteger),
                      sa.column("reason", sa.Text))
    ids = dict(conn.execute(sa.select(experiments.c.name, experiments.c.id)).all())
    open_, rows = {}, []
    entries = conn.execute(sa.select(audit.c.at, audit.c.kind, audit.c.subject, audit.c.body)
                           .where(audit.c.kind.in_(("experiment.paused", "experiment.resumed")))
                           .order_by(audit.c.seq)).all()
    for at, kind, subject, body in entries:
        if subject not in ids:
            continue
        if kind == "experiment.paused" and subject not in open_:
            open_[subject] = {"experiment_id": ids[subject], "paused_at": int(at), "resumed_at": None,
                              "reason": str(json.loads(body).get("reason") or "")}
            rows.append(open_[subject])
        elif kind == "experiment.resumed" and subject in open_:
            open_.pop(subject)["resumed_at"] = int(at)
    if rows:
        conn.execute(pauses.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_experiment_pauses_experiment_id", "experiment_pauses")
    op.drop_table("experiment_pauses")
