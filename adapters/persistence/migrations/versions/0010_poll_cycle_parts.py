"""the poll plans a cycle in parts, each recorded once (poll_cycle_parts), instead of marking
every claimed package with its cycle (packages.poll_cycle): a claim writes one row, not one per
package

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 21:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll_cycle_parts",
        sa.Column("cycle", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("after_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cycle", "after_id", name=op.f("pk_poll_cycle_parts")),
    )
    with op.batch_alter_table("packages") as batch:
        batch.drop_column("poll_cycle")
    if op.get_bind().dialect.name == "postgresql":
        # the room 0008 left was for the claim's update; every other update of a package
        # changes its status, which two indexes hold: never HOT, so no room is of use
        op.execute("ALTER TABLE packages RESET (fillfactor)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE packages SET (fillfactor = 70)")
    with op.batch_alter_table("packages") as batch:
        batch.add_column(
            sa.Column("poll_cycle", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    op.drop_table("poll_cycle_parts")
