"""the poll's due index on package id alone, and room on the packages' pages: a claim (which
writes only `poll_cycle`, now in no index) is a HOT update

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DUE = sa.text("status IN (500, 700, 720)")


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.drop_index("ix_packages_due", postgresql_where=DUE, sqlite_where=DUE)
        batch.create_index("ix_packages_due", ["id"], postgresql_where=DUE, sqlite_where=DUE)
    if op.get_bind().dialect.name == "postgresql":
        # a package is updated several times in its life (status, the poll's claim): free space
        # on its page lets an update that changes no indexed column stay there (HOT)
        op.execute("ALTER TABLE packages SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE packages RESET (fillfactor)")
    with op.batch_alter_table("packages") as batch:
        batch.drop_index("ix_packages_due", postgresql_where=DUE, sqlite_where=DUE)
        batch.create_index(
            "ix_packages_due", ["poll_cycle", "id"], postgresql_where=DUE, sqlite_where=DUE
        )
