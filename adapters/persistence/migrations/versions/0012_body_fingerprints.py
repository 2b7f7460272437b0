"""the transition logs remember a fingerprint of the body each message id came with (sha256 of
its canonical JSON, hex): a message id used again with another body is not a redelivery and is
dead-lettered (spec 9.3). Rows from before (NULL) count as a match.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LOGS = ("transition_log", "merchant_transition_log")


def upgrade() -> None:
    for table in LOGS:  # nullable, no default: no table rewrite
        op.add_column(table, sa.Column("body_sha256", sa.String(64)))


def downgrade() -> None:
    for table in LOGS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("body_sha256")
