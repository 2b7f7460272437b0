"""one order's history: report attempts, the order of a dead letter, package numbers in the
transition log for poll moves

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

POLL_SLUG = "SHIP_THE_PACKAGE"  # domain.polling.POLL_SLUG when this revision was written


def upgrade() -> None:
    with op.batch_alter_table("status_reports") as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_answer", sa.Text(), nullable=True))
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("order_number", sa.String(128), nullable=True))
        batch.add_column(sa.Column("order_channel_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_dead_letters_order_number", ["order_number"])
    # poll moves logged the package's id as package_ref: now its number, as commands by number
    op.execute(
        sa.text(
            "UPDATE transition_log SET package_ref = (SELECT packages.number FROM packages"
            " WHERE packages.id = transition_log.package_id)"
            " WHERE slug = :slug AND message_id IS NULL AND package_id IS NOT NULL"
        ).bindparams(slug=POLL_SLUG)
    )


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_index("ix_dead_letters_order_number")
        batch.drop_column("order_channel_id")
        batch.drop_column("order_number")
    with op.batch_alter_table("status_reports") as batch:
        batch.drop_column("last_answer")
        batch.drop_column("last_attempt_at")
        batch.drop_column("attempts")
