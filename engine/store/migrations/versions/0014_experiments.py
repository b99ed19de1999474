"""Champion/challenger experiments and each debtor's sticky strategy in them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

`experiments`: one row per experiment started (`arrears experiment start`, `POST
/v1/experiments`): its name (unique), the file's text and digest, the salt, the champion's
policy digest when it started, its status (running, stopped, promoted), who started and
ended it and when. `experiment_assignments`: one row per debtor per experiment, written by
the tick at the debtor's first evaluation during the experiment and never changed: the
strategy (`arm`: champion, a challenger's name, or `ineligible`).
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("salt", sa.Text, nullable=False),
        sa.Column("champion_digest", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("ended_at", sa.BigInteger),
        sa.Column("ended_by", sa.Text),
        sa.Column("promoted", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "experiment_assignments",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("debtor", sa.Text, nullable=False),
        sa.Column("arm", sa.Text, nullable=False),
        sa.Column("assigned_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "debtor", name="pk_experiment_assignments"),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"],
                                name="fk_experiment_assignments_experiment_id_experiments"),
    )


def downgrade() -> None:
    op.drop_table("experiment_assignments")
    op.drop_table("experiments")
