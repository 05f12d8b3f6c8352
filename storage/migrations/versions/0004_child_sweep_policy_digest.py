"""The policy each child was last swept under (a digest of it), beside its next change: a child
swept under a policy that has changed since is due again (scheduler.sweep).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("child_sweep_state") as batch:
        batch.add_column(sa.Column("policy_digest", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("child_sweep_state") as batch:
        batch.drop_column("policy_digest")
