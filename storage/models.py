"""The tables. Facts (plans, contacts, sightings, decisions, acknowledgements, case notes) are
inserted, never updated or deleted: a correction or an edit is a new row pointing at the old one.
Obligations are not stored; the outbox, the sweep state and the leases are working state.

Every instant is a `UTCDateTime` (aware UTC in and out); days are `Date`. Free text about a child
(case notes, the visit record, reasons, decision notes) is `EncryptedText`: encrypted at rest.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, relationship

from storage.types import EncryptedText, UTCDateTime

STAFF_ROLES: tuple[str, ...] = (
    "social_worker",
    "duty_social_worker",
    "team_manager",
    "practice_manager",
    "head_of_service",
    "cp_chair",
    "admin",
)
MEETING_KINDS: tuple[str, ...] = ("review_conference", "core_group_meeting")
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "sent", "parked")
CASE_NOTE_SOURCES: tuple[str, ...] = (
    "slack_thread",
    "teams_thread",
    "command",
    "decision",
    "import",
    "system",
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


# -- people and children ----------------------------------------------------------------------
class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slack_channel_id: Mapped[str | None] = mapped_column(String(64))
    policy_id: Mapped[str] = mapped_column(String(64))


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    chat_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    qualified_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[Team | None] = relationship()


class Child(Base):
    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(64), unique=True)
    initials: Mapped[str] = mapped_column(String(16))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    lead_social_worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # Bumped in the same transaction as every new fact about the child: the sweep re-evaluates
    # a child whose facts_version differs from the one it last saw.
    facts_version: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship()
    lead_social_worker: Mapped[Staff | None] = relationship()


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("child_id", "started"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    started: Mapped[date] = mapped_column(Date)
    plan_number: Mapped[int] = mapped_column(Integer, default=1)
    visit_interval_working_days: Mapped[int | None] = mapped_column(Integer)
    cp_chair_agreed_interval_on: Mapped[date | None] = mapped_column(Date)
    cp_chair_agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    exploitation_concerns: Mapped[bool] = mapped_column(Boolean, default=False)
    ended: Mapped[date | None] = mapped_column(Date)

    meetings: Mapped[list[PlanMeeting]] = relationship(back_populates="plan", order_by="PlanMeeting.held_on")


class PlanMeeting(Base):
    __tablename__ = "plan_meetings"
    __table_args__ = (
        UniqueConstraint("plan_id", "kind", "held_on"),
        CheckConstraint(_in("kind", MEETING_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="meetings")


# -- facts ------------------------------------------------------------------------------------
class Contact(Base):
    """A visit or other contact with one child, with its record (RULES.md "Visit record")."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_child_id_at", "child_id", "at"),
        CheckConstraint(
            "seen_alone IS NULL OR seen_alone IN ('yes', 'no', 'not_applicable')", name="seen_alone"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    by_role: Mapped[str] = mapped_column(String(32))
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    qualified: Mapped[bool] = mapped_column(Boolean, default=True)
    child_seen: Mapped[bool] = mapped_column(Boolean)
    seen_alone: Mapped[str | None] = mapped_column(String(16))
    seen_alone_reason: Mapped[str | None] = mapped_column(EncryptedText)
    bedroom_seen: Mapped[bool | None] = mapped_column(Boolean)
    child_awake: Mapped[bool | None] = mapped_column(Boolean)
    recorded_at: Mapped[datetime | None]
    no_one_home: Mapped[bool] = mapped_column(Boolean, default=False)
    note_left: Mapped[bool | None] = mapped_column(Boolean)
    note_not_left_reason: Mapped[str | None] = mapped_column(EncryptedText)
    risk_worsened: Mapped[bool] = mapped_column(Boolean, default=False)
    new_injury: Mapped[bool] = mapped_column(Boolean, default=False)
    alone_concerns: Mapped[bool] = mapped_column(Boolean, default=False)
    # the visit record
    present: Mapped[str | None] = mapped_column(EncryptedText)
    spoken_with: Mapped[bool | None] = mapped_column(Boolean)
    observations: Mapped[str | None] = mapped_column(EncryptedText)
    family_circumstances: Mapped[str | None] = mapped_column(EncryptedText)
    new_adults: Mapped[str | None] = mapped_column(EncryptedText)
    sleeping_arrangements: Mapped[str | None] = mapped_column(EncryptedText)
    presentation: Mapped[str | None] = mapped_column(EncryptedText)
    wishes_feelings: Mapped[str | None] = mapped_column(EncryptedText)
    incident_or_injury: Mapped[str | None] = mapped_column(EncryptedText)
    contact_title: Mapped[str | None] = mapped_column(EncryptedText)
    # one visit to siblings records one row per child, sharing a visit group
    visit_group: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    correction_of_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]

    by_staff: Mapped[Staff | None] = relationship()


class AgencySighting(Base):
    """The child seen by another agency (school, nursery, health visitor…)."""

    __tablename__ = "agency_sightings"
    __table_args__ = (Index("ix_agency_sightings_child_id_at", "child_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    at: Mapped[datetime]
    agency: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]


class Decision(Base):
    """A recorded decision (or record of action) under a rule, e.g. CB-NOTSEEN-DISCUSS."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_child_id_at", "child_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    at: Mapped[datetime]
    rule: Mapped[str] = mapped_column(String(64))
    by_role: Mapped[str] = mapped_column(String(32))
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    outcome: Mapped[str] = mapped_column(String(64))
    within_working_days: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(EncryptedText)
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]


class Acknowledgement(Base):
    """A person acknowledged a message (outbox key) or an obligation (obligation key)."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("key", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]


class CaseNote(Base):
    """A reply, decision or note kept on the child's record. An edit or a deletion is a new note
    that `supersedes` the old one (with `deleted` true for a deletion)."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_child_id_at", "child_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(EncryptedText)
    source: Mapped[str] = mapped_column(String(32))
    thread_ref: Mapped[str | None] = mapped_column(String(255))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("case_notes.id"), index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)


# -- chat platforms ---------------------------------------------------------------------------
TEAMS_SCOPES: tuple[str, ...] = ("personal", "channel")


class TeamsConversation(Base):
    """Where Seen can reach someone on Microsoft Teams without being spoken to first: a person's 1:1
    chat with the bot (`aad_object_id`, their Entra object id) or a team's channel (`channel_id`).
    Written when the app is installed or a person messages it (`bot.teams.conversations`); working
    state, replaced when Teams sends a newer reference."""

    __tablename__ = "teams_conversations"
    __table_args__ = (
        CheckConstraint(_in("scope", TEAMS_SCOPES), name="scope"),
        CheckConstraint(
            "(scope = 'personal' AND aad_object_id IS NOT NULL)"
            " OR (scope = 'channel' AND channel_id IS NOT NULL)",
            name="target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    aad_object_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    team_id: Mapped[str | None] = mapped_column(String(255))
    conversation_id: Mapped[str] = mapped_column(String(255))
    service_url: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


# -- delivery and scheduling state ------------------------------------------------------------
class Outbox(Base):
    """A message decided by the sweep, delivered afterwards. `key` = obligation key + stage."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    rule: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(64))
    recipient_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recipient_channel: Mapped[str | None] = mapped_column(String(64))
    send_after: Mapped[datetime]
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    message_ref: Mapped[str | None] = mapped_column(String(255))


class ChildSweepState(Base):
    """When the sweep last evaluated the child, with what it saw: the facts' version and (a digest
    of) the policy, and the next instant its obligations or their messages can change (None:
    only a new fact or another policy changes them)."""

    __tablename__ = "child_sweep_state"

    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), primary_key=True)
    facts_version_seen: Mapped[int] = mapped_column(Integer)
    next_threshold_at: Mapped[datetime | None] = mapped_column(index=True)
    last_swept_at: Mapped[datetime]
    policy_digest: Mapped[str | None] = mapped_column(String(32))


class ChildOverdueSummary(Base):
    """Working state for the metrics: the child's overdue obligations by rule, as evaluated at
    `evaluated_at` (`scheduler.metrics.record_sweep`). Derived, never a fact; NULL when none."""

    __tablename__ = "child_overdue_summary"

    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), primary_key=True)
    evaluated_at: Mapped[datetime]
    overdue: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class SchedulerState(Base):
    """Named watermarks, e.g. the last instant the sweep covered."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LeaderLease(Base):
    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class AuditLog(Base):
    """Append-only: who did what, when. `actor` is "staff" (with actor_staff_id) or "system"."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_child_id_at", "child_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(32))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(64))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# Facts and the audit log are append-only through the ORM.
APPEND_ONLY = (Contact, AgencySighting, Decision, Acknowledgement, CaseNote, AuditLog)


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a fact or an audit row; add a correcting fact instead."""


def _refuse(action: str):  # type: ignore[no-untyped-def]
    def listener(_mapper: Any, _connection: Any, target: Any) -> None:
        raise AppendOnlyError(
            f"{type(target).__tablename__} rows are never {action}; record a new fact instead"
        )

    return listener


for _cls in APPEND_ONLY:
    event.listen(_cls, "before_update", _refuse("updated"))
    event.listen(_cls, "before_delete", _refuse("deleted"))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """`session.execute(update(Contact)...)` / `delete(CaseNote)` would bypass the listeners above.
    Only the retention purge deletes facts and only key rotation rewrites their ciphertext, both
    with Core statements on the connection (`storage.retention`, `storage.rotation`)."""
    if state.is_update or state.is_delete:
        for mapper in state.all_mappers:
            if mapper.class_ in APPEND_ONLY:
                action = "updated" if state.is_update else "deleted"
                raise AppendOnlyError(
                    f"{mapper.local_table.name} rows are never {action}; record a new fact instead"
                )


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted column, in a stable order."""
    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]
