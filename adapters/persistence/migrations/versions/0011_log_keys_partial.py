"""the transition logs' message keys as partial unique indexes (WHERE message_id IS NOT NULL):
the rows of no message (the poll's moves and merchant events, the pipeline's) were in those
indexes for nothing, an index entry per row (NULLs never clash)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 21:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KEYED = sa.text("message_id IS NOT NULL")
LOGS = (
    ("transition_log", "uq_transition_log_message_id", ["message_id"]),
    (
        "merchant_transition_log",
        "uq_merchant_transition_log_message_id_item_reference",
        ["message_id", "item_reference"],
    ),
)


def upgrade() -> None:
    for table, name, columns in LOGS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="unique")
            batch.create_index(
                name, columns, unique=True, postgresql_where=KEYED, sqlite_where=KEYED
            )


def downgrade() -> None:
    for table, name, columns in LOGS:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(name, postgresql_where=KEYED, sqlite_where=KEYED)
            batch.create_unique_constraint(name, columns)
