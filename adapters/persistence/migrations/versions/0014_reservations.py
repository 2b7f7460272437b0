"""product offer reservations (spec 9.5): a reserved flag per (process, state), seeded for the
two shipped processes; a reservation per merchant and offer (or SKU), backfilled from the
merchant order items stored before; the reserved items by offer and order (a reservation's
oldest open order).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# this revision's own copy of the data (spec 9.5); domain.merchant_oms.SHIPPED_RESERVED agrees
# (tests/integration/test_reservations_pg.py checks it)
RESERVED = ("created", "new", "left the merchant location", "arrived at distribution center")


def upgrade() -> None:
    op.create_table(
        "merchant_process_states",
        sa.Column("process", sa.String(100), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("reserved", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("process", "state", name=op.f("pk_merchant_process_states")),
    )
    op.create_table(
        "product_offer_reservations",
        sa.Column("merchant_reference", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("open_items", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "merchant_reference", "kind", "reference", name=op.f("pk_product_offer_reservations")
        ),
    )
    op.create_table(
        "reserved_items",
        sa.Column("merchant_order_item_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("merchant_reference", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_order_item_id", name=op.f("pk_reserved_items")),
    )
    op.create_index(
        "ix_reserved_items_offer_order",
        "reserved_items",
        ["merchant_reference", "kind", "reference", "order_id"],
    )
    # every state the transitions name, for every process there is: reserved or not
    reserved = ", ".join(f"'{state}'" for state in RESERVED)
    op.execute(
        "INSERT INTO merchant_process_states (process, state, reserved) "
        f"SELECT process, state, state IN ({reserved}) FROM ("
        "SELECT process, source_state AS state FROM merchant_transitions "
        "UNION SELECT process, target_state FROM merchant_transitions) AS s"
    )
    op.execute(
        "INSERT INTO product_offer_reservations "
        "(merchant_reference, kind, reference, quantity, open_items) "
        "SELECT mo.merchant_reference, "
        "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
        "THEN 'sku' ELSE 'offer' END, "
        "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
        "THEN oi.sku ELSE oi.product_offer_reference END, "
        "SUM(oi.quantity), COUNT(*) "
        "FROM merchant_order_items moi "
        "JOIN merchant_process_states s ON s.process = moi.process AND s.state = moi.state "
        "AND s.reserved "
        "JOIN merchant_orders mo ON mo.id = moi.merchant_order_id "
        "JOIN order_items oi ON oi.id = moi.order_item_id "
        "GROUP BY 1, 2, 3"
    )
    op.execute(
        "INSERT INTO reserved_items "
        "(merchant_order_item_id, merchant_reference, kind, reference, order_id) "
        "SELECT moi.id, mo.merchant_reference, "
        "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
        "THEN 'sku' ELSE 'offer' END, "
        "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
        "THEN oi.sku ELSE oi.product_offer_reference END, mo.order_id "
        "FROM merchant_order_items moi "
        "JOIN merchant_process_states s ON s.process = moi.process AND s.state = moi.state "
        "AND s.reserved "
        "JOIN merchant_orders mo ON mo.id = moi.merchant_order_id "
        "JOIN order_items oi ON oi.id = moi.order_item_id"
    )


def downgrade() -> None:
    op.drop_index("ix_reserved_items_offer_order", table_name="reserved_items")
    op.drop_table("reserved_items")
    op.drop_table("product_offer_reservations")
    op.drop_table("merchant_process_states")
