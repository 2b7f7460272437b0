"""The relational schema (SQLAlchemy Core). Alembic migrations are the only way it is created;
tests/integration checks that the migrations and these tables agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from domain.model import TOTAL_NAMES

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
Key = BigInteger().with_variant(Integer(), "sqlite")
TimeStamp = DateTime(timezone=True)


def _totals() -> list[Column[int]]:
    return [Column(name, BigInteger, nullable=False) for name in TOTAL_NAMES]


channels = Table(
    "channels",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("channel_type", String(64), nullable=False),
    Column("created_at", TimeStamp, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Key, primary_key=True),
    Column("channel_id", ForeignKey("channels.id"), nullable=False),
    Column("number", String(128), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("date_placed", TimeStamp, nullable=False),
    Column("tracking_number", String(128)),
    Column("cargo_company", JSON),
    Column("customer", JSON),
    Column("shipping_address", JSON),
    Column("billing_address", JSON),
    Column("extra", JSON, nullable=False),
    *_totals(),
    Column("split", Boolean, nullable=False, server_default=text("false")),
    Column("received_at", TimeStamp, nullable=False),
    UniqueConstraint("channel_id", "number"),
    Index("ix_orders_number", "number"),  # a number without its channel (0013)
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Key, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("omnitron_id", BigInteger, nullable=False, unique=True),
    Column("sku", String(255), nullable=False),
    Column("name", String(512), nullable=False),
    Column("barcode", String(128)),
    Column("merchant_reference", String(128), nullable=False),
    Column("product_offer_reference", String(255)),
    Column("quantity", Integer, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("tax_rate", String(40), nullable=False),
    Column("discount_amount", BigInteger, nullable=False),
    Column("tracking_number", String(128)),
    Column("status", SmallInteger, nullable=False),
    Column("extra", JSON, nullable=False),
)

expenses = Table(
    "expenses",
    metadata,
    Column("id", Key, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("tax_rate", String(40), nullable=False),
    Column("merchant_reference", String(128)),
    Column("discount_amount", BigInteger, nullable=False),
    Column("canceled", Boolean, nullable=False),
    Column("refunded", Boolean, nullable=False),
)

merchant_orders = Table(
    "merchant_orders",
    metadata,
    Column("id", Key, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("channel_id", ForeignKey("channels.id"), nullable=False),
    Column("reference", String(300), nullable=False),
    Column("merchant_reference", String(128), nullable=False),
    *_totals(),
    Column("created_at", TimeStamp, nullable=False),
    UniqueConstraint("channel_id", "reference"),
    Index("ix_merchant_orders_reference", "reference"),
    Index(
        "ix_merchant_orders_merchant", "merchant_reference", "id"
    ),  # one merchant's, newest first
)

packages = Table(
    "packages",
    metadata,
    Column("id", Key, primary_key=True),
    Column("merchant_order_id", ForeignKey("merchant_orders.id"), nullable=False, unique=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("channel_id", ForeignKey("channels.id"), nullable=False),
    Column("number", String(300), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    Column("updated_at", TimeStamp, nullable=False),
    Column("polled_at", TimeStamp),
    UniqueConstraint("channel_id", "number"),
    Index(None, "status"),
    Index("ix_packages_number", "number"),
    # the poll claim reads only due packages, in id order from its cursor: its cost follows
    # them, not all packages
    Index(
        "ix_packages_due",
        "id",
        postgresql_where=text("status IN (500, 700, 720)"),
        sqlite_where=text("status IN (500, 700, 720)"),
    ),
)

package_items = Table(
    "package_items",
    metadata,
    Column("id", Key, primary_key=True),
    Column("package_id", ForeignKey("packages.id"), nullable=False, index=True),
    Column("order_item_id", ForeignKey("order_items.id"), nullable=False, unique=True),
    Column("quantity", Integer, nullable=False),
    Column("status", SmallInteger, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Key, primary_key=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("command", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    Column("published_at", TimeStamp),
    Index(
        "ix_outbox_unpublished",
        "created_at",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Key, primary_key=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("queue_name", String(255), nullable=False, index=True),
    Column("actor_name", String(255), nullable=False),
    Column("message", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("first_failed_at", TimeStamp, nullable=False),
    Column("last_failed_at", TimeStamp, nullable=False),
    Column("replayed_at", TimeStamp),
    # resolved: will never be valid; kept for audit with the operator's note, no longer open
    Column("resolved_at", TimeStamp),
    Column("resolution_note", Text),
    # the order the message concerned, when the recorder knew it (log context or ingest body)
    Column("order_number", String(128), index=True),
    Column("order_channel_id", BigInteger),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Key, primary_key=True),
    Column("slug", String(100), nullable=False),
    Column("from_status", SmallInteger, nullable=False),
    Column("to_status", SmallInteger, nullable=False),
    UniqueConstraint("slug", "from_status"),
)

transition_log = Table(
    "transition_log",
    metadata,
    Column("id", Key, primary_key=True),
    Column("package_id", ForeignKey("packages.id"), index=True),
    Column("package_ref", String(300), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("from_status", SmallInteger),
    Column("to_status", SmallInteger),
    Column("outcome", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("message_id", String(64)),
    Column("created_at", TimeStamp, nullable=False),
    # sha256 (hex) of the command's canonical JSON: the same id with another body is no
    # redelivery (spec 9.3); NULL on rows of no message and rows from before migration 0012
    Column("body_sha256", String(64)),
    # one row per command message; the poll's rows (no message) are not in it (migration 0011)
    Index(
        "uq_transition_log_message_id",
        "message_id",
        unique=True,
        postgresql_where=text("message_id IS NOT NULL"),
        sqlite_where=text("message_id IS NOT NULL"),
    ),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Key, primary_key=True),
    Column("package_id", ForeignKey("packages.id"), nullable=False, unique=True),
    Column("tracking_number", String(128)),
    Column("cargo_company", JSON),
    Column("client", String(255), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    Column("updated_at", TimeStamp, nullable=False),
)

cargo_conditions = Table(
    "cargo_conditions",
    metadata,
    Column("cargo_company_id", BigInteger, primary_key=True, autoincrement=False),
    Column("rules", JSON, nullable=False),
    Column("updated_at", TimeStamp, nullable=False),
)

status_reports = Table(
    "status_reports",
    metadata,
    Column("id", Key, primary_key=True),
    Column("package_id", ForeignKey("packages.id"), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("item_ids", JSON, nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    Column("sent_at", TimeStamp),
    # every try to send it: how many, when the last one ended, Omnitron's answer (short text)
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_attempt_at", TimeStamp),
    Column("last_answer", Text),
    # several reports per package and status: 450 once, then 100/600 per merchant event
    Index(None, "package_id"),
)

poll_cycles = Table(
    "poll_cycles",
    metadata,
    # the tick's time bucket (epoch seconds // interval): two schedulers make one cycle
    Column("cycle", BigInteger, primary_key=True, autoincrement=False),
    Column("started_at", TimeStamp, nullable=False),
)

# one planner message's part of a poll cycle (the due packages above package id `after_id`):
# written in the claim's transaction, so a part is planned once (migration 0010)
poll_cycle_parts = Table(
    "poll_cycle_parts",
    metadata,
    Column("cycle", BigInteger, primary_key=True, autoincrement=False),
    Column("after_id", BigInteger, primary_key=True, autoincrement=False),
    Column("planned_at", TimeStamp, nullable=False),
)

runtime_flags = Table(
    "runtime_flags",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("updated_at", TimeStamp, nullable=False),
)

merchants = Table(
    "merchants",
    metadata,
    Column("reference", String(128), primary_key=True),
    Column("name", String(255)),
    Column("oms_process", String(100), nullable=False),
    Column("created_at", TimeStamp, nullable=False),
)

merchant_transitions = Table(
    "merchant_transitions",
    metadata,
    Column("id", Key, primary_key=True),
    Column("process", String(100), nullable=False),
    Column("source_state", String(100), nullable=False),
    Column("event", String(100), nullable=False),
    Column("target_state", String(100), nullable=False),
    Column("manual", Boolean, nullable=False),
    UniqueConstraint("process", "source_state", "event"),
)

# reserved flag per (process, state) (spec 9.5), data like the transitions: seeded by migration
# 0014 for the shipped processes; a state without a row is not reserved
merchant_process_states = Table(
    "merchant_process_states",
    metadata,
    Column("process", String(100), primary_key=True),
    Column("state", String(100), primary_key=True),
    Column("reserved", Boolean, nullable=False),
)

# per merchant and offer (kind "offer": product_offer_reference; kind "sku": the SKU of items
# with no offer), what its reserved merchant order items hold (spec 9.5); changed by deltas in
# the transaction of every state change (docs/reservations.md)
product_offer_reservations = Table(
    "product_offer_reservations",
    metadata,
    Column("merchant_reference", String(128), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("reference", String(255), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("open_items", BigInteger, nullable=False),
)

# the merchant order items in a reserved state now, by offer and order: a reservation's
# oldest open order is the first row of its key (written beside the figures, same writers)
reserved_items = Table(
    "reserved_items",
    metadata,
    Column("merchant_order_item_id", BigInteger, primary_key=True, autoincrement=False),
    Column("merchant_reference", String(128), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("reference", String(255), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Index("ix_reserved_items_offer_order", "merchant_reference", "kind", "reference", "order_id"),
)

merchant_order_items = Table(
    "merchant_order_items",
    metadata,
    Column("id", Key, primary_key=True),
    Column("merchant_order_id", ForeignKey("merchant_orders.id"), nullable=False, index=True),
    Column("order_item_id", ForeignKey("order_items.id"), nullable=False, unique=True),
    Column("reference", String(400), nullable=False, unique=True),
    Column("state", String(100), nullable=False),
    Column("process", String(100), nullable=False),
)

merchant_transition_log = Table(
    "merchant_transition_log",
    metadata,
    Column("id", Key, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), index=True),
    Column("merchant_order_reference", String(300), nullable=False),
    # "" for a whole request's rejection (no item)
    Column("item_reference", String(400), nullable=False),
    Column("event", String(100), nullable=False),
    Column("source", String(20), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("from_state", String(100)),
    Column("to_state", String(100)),
    Column("reason", Text, nullable=False),
    Column("message_id", String(64)),
    Column("created_at", TimeStamp, nullable=False),
    # sha256 (hex) of the event's canonical JSON: the same id with another body is no
    # redelivery (spec 9.3); NULL on rows of no message and rows from before migration 0012
    Column("body_sha256", String(64)),
    # a redelivered message finds its first outcomes; rows of no message (the pipeline's and
    # the poll's events) never clash, and are not in the index (migration 0011)
    Index("ix_merchant_transition_log_reference", "merchant_order_reference"),  # 0013
    Index(
        "uq_merchant_transition_log_message_id_item_reference",
        "message_id",
        "item_reference",
        unique=True,
        postgresql_where=text("message_id IS NOT NULL"),
        sqlite_where=text("message_id IS NOT NULL"),
    ),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Key, primary_key=True),
    # "operator" or "merchant"; a merchant token carries its merchant_reference
    Column("kind", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("merchant_reference", String(128)),
    # sha256 of the key (hex); the key itself is never stored
    Column("key_hash", String(64), nullable=False, unique=True),
    # the key's first characters, not secret: tells keys apart in `oms tokens list`
    Column("prefix", String(16), nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    Column("revoked_at", TimeStamp),
)

# people of the web interface (spec 12, migration 0015)
users = Table(
    "users",
    metadata,
    Column("id", Key, primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    # "operator" or "merchant"; a merchant user carries its merchant_reference
    Column("kind", String(16), nullable=False),
    Column("merchant_reference", String(128)),
    # Argon2id (argon2-cffi's PHC string); the password itself is never stored
    Column("password_hash", String(255), nullable=False),
    Column("created_at", TimeStamp, nullable=False),
    # sessions issued before this are refused (a new password ends the old sessions)
    Column("password_changed_at", TimeStamp, nullable=False),
    # a disabled user's open sessions are refused at their next request
    Column("disabled_at", TimeStamp),
)

# failed logins in a row per user name, existing or not (the lockout answers the same for both)
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("username", String(150), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", TimeStamp, nullable=False),
    Column("locked_until", TimeStamp),
)

# sessions ended by logging out, until their cookie would have expired anyway
ended_sessions = Table(
    "ended_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("ended_at", TimeStamp, nullable=False),
    Column("expires_at", TimeStamp, nullable=False),
)

# the key that signs session cookies: random, made by migration 0015, shared by every process
session_keys = Table(
    "session_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", TimeStamp, nullable=False),
)

# each pipeline queue's depth every few seconds, the last 15 minutes only (the Back Office's
# queue charts); written and pruned by the dead-letter keeper (`oms dlq keep --loop`)
queue_depth_samples = Table(
    "queue_depth_samples",
    metadata,
    Column("id", Key, primary_key=True),
    Column("sampled_at", TimeStamp, nullable=False, index=True),
    Column("queue_name", String(255), nullable=False),
    Column("ready", Integer, nullable=False),
    Column("unacked", Integer),  # None: read without the management API
)
