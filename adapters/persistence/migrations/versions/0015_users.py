"""people of the web interface (spec 12): users with Argon2id password hashes, a per-name
login throttle (10 failures in a row lock a name for 15 minutes, whether the user exists or not),
the sessions ended by logging out (a copied cookie is refused after it, until it would have
expired anyway) and the key that signs session cookies (random, made here, shared by every
`oms api` process). The portal's order list, a merchant's newest merchant orders first, uses
migration 0013's index on merchant_orders (merchant_reference, id).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00.000000
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", KEY, nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("merchant_reference", sa.String(length=128), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("password_changed_at", STAMP, nullable=False),
        sa.Column("disabled_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", STAMP, nullable=False),
        sa.Column("locked_until", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "ended_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("ended_at", STAMP, nullable=False),
        sa.Column("expires_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_ended_sessions")),
    )
    keys = op.create_table(
        "session_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_session_keys")),
    )
    op.bulk_insert(
        keys,
        [{"name": "session", "secret": secrets.token_urlsafe(48), "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table("session_keys")
    op.drop_table("ended_sessions")
    op.drop_table("login_throttle")
    op.drop_table("users")
