"""Microsoft Teams conversation references: a person's 1:1 chat with the bot, a team's channel.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("channel_id", sa.String(length=255), nullable=True),
        sa.Column("team_id", sa.String(length=255), nullable=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("service_url", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('personal', 'channel')", name=op.f("ck_teams_conversations_scope")),
        sa.CheckConstraint(
            "(scope = 'personal' AND aad_object_id IS NOT NULL)"
            " OR (scope = 'channel' AND channel_id IS NOT NULL)",
            name=op.f("ck_teams_conversations_target"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_conversations")),
        sa.UniqueConstraint("aad_object_id", name=op.f("uq_teams_conversations_aad_object_id")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_teams_conversations_channel_id")),
    )


def downgrade() -> None:
    op.drop_table("teams_conversations")
