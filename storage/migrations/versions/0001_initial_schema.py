"""Initial schema: facts, outbox, sweep state, leases, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )
    op.create_table(
        "scheduler_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_state")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=64), nullable=True),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("chat_user_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("qualified_registered", sa.Boolean(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('social_worker', 'duty_social_worker', 'team_manager', 'practice_manager', "
            "'head_of_service', 'cp_chair', 'admin')",
            name=op.f("ck_staff_role"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_staff_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("chat_user_id", name=op.f("uq_staff_chat_user_id")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    op.create_index(op.f("ix_staff_team_id"), "staff", ["team_id"], unique=False)

    op.create_table(
        "children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("initials", sa.String(length=16), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("lead_social_worker_id", sa.Integer(), nullable=True),
        sa.Column("facts_version", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_social_worker_id"],
            ["staff.id"],
            name=op.f("fk_children_lead_social_worker_id_staff"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_children_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_children")),
        sa.UniqueConstraint("case_ref", name=op.f("uq_children_case_ref")),
    )
    op.create_index(
        op.f("ix_children_lead_social_worker_id"),
        "children",
        ["lead_social_worker_id"],
        unique=False,
    )
    op.create_index(op.f("ix_children_team_id"), "children", ["team_id"], unique=False)

    op.create_table(
        "acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_acknowledgements_child_id_children")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_acknowledgements_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgements")),
        sa.UniqueConstraint("key", "staff_id", name=op.f("uq_acknowledgements_key_staff_id")),
    )
    op.create_index(op.f("ix_acknowledgements_child_id"), "acknowledgements", ["child_id"], unique=False)

    op.create_table(
        "agency_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_agency_sightings_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_agency_sightings_recorded_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_sightings")),
        sa.UniqueConstraint("source_key", name=op.f("uq_agency_sightings_source_key")),
    )
    op.create_index("ix_agency_sightings_child_id_at", "agency_sightings", ["child_id", "at"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("actor_staff_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_staff_id"], ["staff.id"], name=op.f("fk_audit_log_actor_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_audit_log_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_child_id_at", "audit_log", ["child_id", "at"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("thread_ref", sa.String(length=255), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_case_notes_author_id_staff")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_case_notes_child_id_children")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["case_notes.id"],
            name=op.f("fk_case_notes_supersedes_id_case_notes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
        sa.UniqueConstraint("source_key", name=op.f("uq_case_notes_source_key")),
    )
    op.create_index("ix_case_notes_child_id_at", "case_notes", ["child_id", "at"], unique=False)
    op.create_index(op.f("ix_case_notes_supersedes_id"), "case_notes", ["supersedes_id"], unique=False)

    op.create_table(
        "child_sweep_state",
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("facts_version_seen", sa.Integer(), nullable=False),
        sa.Column("next_threshold_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_swept_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_child_sweep_state_child_id_children")
        ),
        sa.PrimaryKeyConstraint("child_id", name=op.f("pk_child_sweep_state")),
    )
    op.create_index(
        op.f("ix_child_sweep_state_next_threshold_at"),
        "child_sweep_state",
        ["next_threshold_at"],
        unique=False,
    )

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by_role", sa.String(length=32), nullable=False),
        sa.Column("by_staff_id", sa.Integer(), nullable=True),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("child_seen", sa.Boolean(), nullable=False),
        sa.Column("seen_alone", sa.String(length=16), nullable=True),
        sa.Column("seen_alone_reason", sa.Text(), nullable=True),
        sa.Column("bedroom_seen", sa.Boolean(), nullable=True),
        sa.Column("child_awake", sa.Boolean(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("no_one_home", sa.Boolean(), nullable=False),
        sa.Column("note_left", sa.Boolean(), nullable=True),
        sa.Column("note_not_left_reason", sa.Text(), nullable=True),
        sa.Column("risk_worsened", sa.Boolean(), nullable=False),
        sa.Column("new_injury", sa.Boolean(), nullable=False),
        sa.Column("alone_concerns", sa.Boolean(), nullable=False),
        sa.Column("present", sa.Text(), nullable=True),
        sa.Column("spoken_with", sa.Boolean(), nullable=True),
        sa.Column("observations", sa.Text(), nullable=True),
        sa.Column("family_circumstances", sa.Text(), nullable=True),
        sa.Column("new_adults", sa.Text(), nullable=True),
        sa.Column("sleeping_arrangements", sa.Text(), nullable=True),
        sa.Column("presentation", sa.Text(), nullable=True),
        sa.Column("wishes_feelings", sa.Text(), nullable=True),
        sa.Column("incident_or_injury", sa.Text(), nullable=True),
        sa.Column("contact_title", sa.Text(), nullable=True),
        sa.Column("visit_group", sa.Uuid(), nullable=True),
        sa.Column("correction_of_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "seen_alone IS NULL OR seen_alone IN ('yes', 'no', 'not_applicable')",
            name=op.f("ck_contacts_seen_alone"),
        ),
        sa.ForeignKeyConstraint(["by_staff_id"], ["staff.id"], name=op.f("fk_contacts_by_staff_id_staff")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_contacts_child_id_children")),
        sa.ForeignKeyConstraint(
            ["correction_of_id"],
            ["contacts.id"],
            name=op.f("fk_contacts_correction_of_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("source_key", name=op.f("uq_contacts_source_key")),
    )
    op.create_index(op.f("ix_contacts_by_staff_id"), "contacts", ["by_staff_id"], unique=False)
    op.create_index("ix_contacts_child_id_at", "contacts", ["child_id", "at"], unique=False)
    op.create_index(op.f("ix_contacts_correction_of_id"), "contacts", ["correction_of_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("by_role", sa.String(length=32), nullable=False),
        sa.Column("by_staff_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("within_working_days", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_staff_id"], ["staff.id"], name=op.f("fk_decisions_by_staff_id_staff")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_decisions_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
        sa.UniqueConstraint("source_key", name=op.f("uq_decisions_source_key")),
    )
    op.create_index("ix_decisions_child_id_at", "decisions", ["child_id", "at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("recipient_staff_id", sa.Integer(), nullable=True),
        sa.Column("recipient_channel", sa.String(length=64), nullable=True),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("message_ref", sa.String(length=255), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'parked')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_outbox_child_id_children")),
        sa.ForeignKeyConstraint(
            ["recipient_staff_id"], ["staff.id"], name=op.f("fk_outbox_recipient_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index(op.f("ix_outbox_child_id"), "outbox", ["child_id"], unique=False)
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("started", sa.Date(), nullable=False),
        sa.Column("plan_number", sa.Integer(), nullable=False),
        sa.Column("visit_interval_working_days", sa.Integer(), nullable=True),
        sa.Column("cp_chair_agreed_interval_on", sa.Date(), nullable=True),
        sa.Column("cp_chair_agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("exploitation_concerns", sa.Boolean(), nullable=False),
        sa.Column("ended", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_plans_child_id_children")),
        sa.ForeignKeyConstraint(
            ["cp_chair_agreed_by_id"],
            ["staff.id"],
            name=op.f("fk_plans_cp_chair_agreed_by_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("child_id", "started", name=op.f("uq_plans_child_id_started")),
    )
    op.create_index(op.f("ix_plans_child_id"), "plans", ["child_id"], unique=False)

    op.create_table(
        "plan_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('review_conference', 'core_group_meeting')",
            name=op.f("ck_plan_meetings_kind"),
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_plan_meetings_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_meetings")),
        sa.UniqueConstraint("plan_id", "kind", "held_on", name=op.f("uq_plan_meetings_plan_id_kind_held_on")),
    )
    op.create_index(op.f("ix_plan_meetings_plan_id"), "plan_meetings", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_meetings_plan_id"), table_name="plan_meetings")

    op.drop_table("plan_meetings")
    op.drop_index(op.f("ix_plans_child_id"), table_name="plans")

    op.drop_table("plans")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.drop_index(op.f("ix_outbox_child_id"), table_name="outbox")

    op.drop_table("outbox")
    op.drop_index("ix_decisions_child_id_at", table_name="decisions")

    op.drop_table("decisions")
    op.drop_index(op.f("ix_contacts_correction_of_id"), table_name="contacts")
    op.drop_index("ix_contacts_child_id_at", table_name="contacts")
    op.drop_index(op.f("ix_contacts_by_staff_id"), table_name="contacts")

    op.drop_table("contacts")
    op.drop_index(op.f("ix_child_sweep_state_next_threshold_at"), table_name="child_sweep_state")

    op.drop_table("child_sweep_state")
    op.drop_index(op.f("ix_case_notes_supersedes_id"), table_name="case_notes")
    op.drop_index("ix_case_notes_child_id_at", table_name="case_notes")

    op.drop_table("case_notes")
    op.drop_index("ix_audit_log_child_id_at", table_name="audit_log")

    op.drop_table("audit_log")
    op.drop_index("ix_agency_sightings_child_id_at", table_name="agency_sightings")

    op.drop_table("agency_sightings")
    op.drop_index(op.f("ix_acknowledgements_child_id"), table_name="acknowledgements")

    op.drop_table("acknowledgements")
    op.drop_index(op.f("ix_children_team_id"), table_name="children")
    op.drop_index(op.f("ix_children_lead_social_worker_id"), table_name="children")

    op.drop_table("children")
    op.drop_index(op.f("ix_staff_team_id"), table_name="staff")

    op.drop_table("staff")
    op.drop_table("teams")
    op.drop_table("scheduler_state")
    op.drop_table("leader_lease")
