"""queue_depth_samples: each pipeline queue's depth every few seconds over the last 15 minutes,
written and pruned by the dead-letter keeper, drawn by the Back Office's queues page (spec 12).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "queue_depth_samples",
        sa.Column("id", KEY, nullable=False),
        sa.Column("sampled_at", STAMP, nullable=False),
        sa.Column("queue_name", sa.String(length=255), nullable=False),
        sa.Column("ready", sa.Integer(), nullable=False),
        sa.Column("unacked", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_depth_samples")),
    )
    op.create_index(
        op.f("ix_queue_depth_samples_sampled_at"), "queue_depth_samples", ["sampled_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_queue_depth_samples_sampled_at"), table_name="queue_depth_samples")
    op.drop_table("queue_depth_samples")
