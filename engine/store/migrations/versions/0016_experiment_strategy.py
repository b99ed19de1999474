"""Each decision and contact records the experiment and strategy it was made under; an experiment
can be paused, with the reason.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

`decisions.experiment_id`, `decisions.strategy` and the same two on `outbox`: the running
experiment's id and the debtor's strategy in it (`champion`, a challenger's name, `ineligible`)
when the tick made the decision and queued the contact; NULL outside an experiment (and on the
rows stored before this revision, whose strategy only `policy_digest` tells). Both are sealed
(store/seals.py): a sealed table's trailing columns added later leave a NULL out of the seal, so
the rows sealed before keep their seals. The KPIs group by the decision's strategy
(`group_by=strategy`).

`experiments.paused_reason`: why the tick paused a running experiment (a challenger's stored
text tampered with or no longer loading, its eligibility no longer fitting the champion); the
status `paused` decides everyone under the champion until it is stopped.
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("experiments", sa.Column("paused_reason", sa.Text))
    for table in ("decisions", "outbox"):
        op.add_column(table, sa.Column("experiment_id", sa.Integer))
        op.add_column(table, sa.Column("strategy", sa.Text))


def downgrade() -> None:
    for table in ("outbox", "decisions"):
        op.drop_column(table, "strategy")
        op.drop_column(table, "experiment_id")
    op.drop_column("experiments", "paused_reason")
