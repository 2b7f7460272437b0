"""room on the pages of the tables whose rows change status in place (order items, package
items, shipments, orders, merchant order items): those updates change no indexed column, so
with free space on the row's page they are HOT (no new index entries); fillfactor 50

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:00:00.000000
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# each row is updated a few times in its life (packaging, the report, each poll move, the
# merchant's state machine); none of those updates touches an indexed column. A poll batch
# updates consecutive rows, every row of their pages at once: half a page free lets each row
# take its new version beside it. With 70 % most did not fit, and pg_stat_statements counted
# 15.8 WAL records per package in the batch's update against 10.7 at 50 % (docs/benchmarks.md)
TABLES = ("orders", "order_items", "package_items", "shipments", "merchant_order_items")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:  # new pages keep the room; existing ones as VACUUM FULL leaves them
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
