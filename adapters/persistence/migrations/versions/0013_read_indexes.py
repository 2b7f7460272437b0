"""the read path's lookups by what a caller holds (issue 22): an order number, a merchant order
reference or a package number without its channel, and one merchant's merchant orders newest
first, the merchant events naming a merchant order. The unique keys lead with channel_id, so
these reads scanned the whole table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00.000000
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_orders_number", "orders", ["number"]),
    ("ix_merchant_orders_reference", "merchant_orders", ["reference"]),
    ("ix_merchant_orders_merchant", "merchant_orders", ["merchant_reference", "id"]),
    ("ix_packages_number", "packages", ["number"]),
    # an order's history: merchant events that name one of its merchant orders
    (
        "ix_merchant_transition_log_reference",
        "merchant_transition_log",
        ["merchant_order_reference"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table) as batch:
            batch.create_index(name, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(name)
