"""merchants: merchants, merchant processes as data, merchant order items and their log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:30:00.000000

Seeds MerchantDefaultStateMachine and MainMerchantStateMachine (spec 9.2) and backfills what
orders split before this revision lack: their merchants (the main merchant, named by
MAIN_MERCHANT_REFERENCE as the workers read it, gets MainMerchantStateMachine) and one merchant
order item per order item, in the state its order item's status says.
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_DEFAULT = [
    ("created", "initiate", "new", False),
    ("new", "cancel by merchant", "canceled by merchant", True),
    ("new", "cancel", "canceled", False),
    ("new", "ship", "shipped", True),
    ("shipped", "deliver", "delivered", True),
    ("delivered", "start-return", "waiting for return", True),
    ("waiting for return", "execute-return", "returned", True),
    ("waiting for return", "cancel-return", "delivered", True),
    ("delivered", "refund", "refunded", True),
    ("returned", "refund", "refunded", True),
    ("canceled by merchant", "close", "closed", True),
    ("canceled", "close", "closed", True),
    ("delivered", "close", "closed", True),
    ("refunded", "close", "closed", True),
]
_MAIN = [
    *_DEFAULT,
    ("new", "send to distribution", "left the merchant location", True),
    ("left the merchant location", "confirm at center", "arrived at distribution center", True),
    ("arrived at distribution center", "ship", "shipped", True),
]
PROCESSES = {"MerchantDefaultStateMachine": _DEFAULT, "MainMerchantStateMachine": _MAIN}


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("oms_process", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_merchants")),
    )
    op.create_table(
        "merchant_transitions",
        sa.Column("id", Key, nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.Column("source_state", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("target_state", sa.String(length=100), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_transitions")),
        sa.UniqueConstraint(
            "process",
            "source_state",
            "event",
            name=op.f("uq_merchant_transitions_process_source_state_event"),
        ),
    )
    op.create_table(
        "merchant_order_items",
        sa.Column("id", Key, nullable=False),
        sa.Column("merchant_order_id", Key, nullable=False),
        sa.Column("order_item_id", Key, nullable=False),
        sa.Column("reference", sa.String(length=400), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_order_id"],
            ["merchant_orders.id"],
            name=op.f("fk_merchant_order_items_merchant_order_id_merchant_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_merchant_order_items_order_item_id_order_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_order_items")),
        sa.UniqueConstraint("order_item_id", name=op.f("uq_merchant_order_items_order_item_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_merchant_order_items_reference")),
    )
    with op.batch_alter_table("merchant_order_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_order_items_merchant_order_id"),
            ["merchant_order_id"],
            unique=False,
        )
    op.create_table(
        "merchant_transition_log",
        sa.Column("id", Key, nullable=False),
        sa.Column("order_id", Key, nullable=True),
        sa.Column("merchant_order_reference", sa.String(length=300), nullable=False),
        sa.Column("item_reference", sa.String(length=400), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("from_state", sa.String(length=100), nullable=True),
        sa.Column("to_state", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_merchant_transition_log_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_transition_log")),
        sa.UniqueConstraint(
            "message_id",
            "item_reference",
            name=op.f("uq_merchant_transition_log_message_id_item_reference"),
        ),
    )
    with op.batch_alter_table("merchant_transition_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_transition_log_order_id"), ["order_id"], unique=False
        )
    with op.batch_alter_table("status_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_status_reports_package_id_status", type_="unique")
        batch_op.create_index(
            batch_op.f("ix_status_reports_package_id"), ["package_id"], unique=False
        )

    transitions = sa.table(
        "merchant_transitions",
        sa.column("process", sa.String),
        sa.column("source_state", sa.String),
        sa.column("event", sa.String),
        sa.column("target_state", sa.String),
        sa.column("manual", sa.Boolean),
    )
    op.bulk_insert(
        transitions,
        [
            {"process": name, "source_state": a, "event": e, "target_state": b, "manual": m}
            for name, rows in PROCESSES.items()
            for a, e, b, m in rows
        ],
    )
    _backfill()


def _backfill() -> None:
    """Merchants and merchant order items for orders split before this revision."""
    main = os.environ.get("MAIN_MERCHANT_REFERENCE", "MAIN")
    op.execute(
        sa.text(
            "INSERT INTO merchants (reference, oms_process, created_at) "
            "SELECT merchant_reference, CASE WHEN merchant_reference = :main "
            "THEN 'MainMerchantStateMachine' ELSE 'MerchantDefaultStateMachine' END, "
            "MIN(created_at) FROM merchant_orders GROUP BY merchant_reference"
        ).bindparams(main=main)
    )
    # the state an order item's status says: cancelled/refunded as they are, shipped and
    # delivered as the poll left them, new for everything before
    op.execute(
        "INSERT INTO merchant_order_items "
        "(merchant_order_id, order_item_id, reference, state, process) "
        "SELECT mo.id, oi.id, mo.reference || '--' || CAST(oi.omnitron_id AS VARCHAR(20)), "
        "CASE WHEN oi.status = 100 THEN 'canceled' WHEN oi.status = 600 THEN 'refunded' "
        "WHEN oi.status = 550 THEN 'delivered' "
        "WHEN oi.status IN (500, 510, 520, 540) THEN 'shipped' ELSE 'new' END, m.oms_process "
        "FROM order_items oi "
        "JOIN merchant_orders mo ON mo.order_id = oi.order_id "
        "AND mo.merchant_reference = oi.merchant_reference "
        "JOIN merchants m ON m.reference = mo.merchant_reference "
        "ORDER BY oi.id"
    )


def downgrade() -> None:
    with op.batch_alter_table("status_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_reports_package_id"))
        batch_op.create_unique_constraint(
            "uq_status_reports_package_id_status", ["package_id", "status"]
        )
    with op.batch_alter_table("merchant_transition_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_transition_log_order_id"))
    op.drop_table("merchant_transition_log")
    with op.batch_alter_table("merchant_order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_order_items_merchant_order_id"))
    op.drop_table("merchant_order_items")
    op.drop_table("merchant_transitions")
    op.drop_table("merchants")
