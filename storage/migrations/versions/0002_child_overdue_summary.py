"""Overdue obligations by child and rule, for the metrics (scheduler.metrics).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_overdue_summary",
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_child_overdue_summary_child_id_children")
        ),
        sa.PrimaryKeyConstraint("child_id", name=op.f("pk_child_overdue_summary")),
    )


def downgrade() -> None:
    op.drop_table("child_overdue_summary")
