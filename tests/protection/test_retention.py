"""Retention: closed cases are purged SEEN_RETENTION_YEARS after closure, completely, one child per
transaction, leaving an audit row with counts only; nothing else deletes facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.cli import main
from scheduler.rules import model
from storage import models, retention
from storage.facts import (
    VisitRecord,
    acknowledge,
    add_case_note,
    record_contact,
    record_decision,
    record_sighting,
)
from storage.retention import DEFAULT_RETENTION_YEARS, RetentionError, child_tables, purge_closed
from tests.protection.helpers import root_logging_restored
from tests.storage.conftest import count_rows, make_child

NOW = datetime(2033, 3, 1, 9, 0, tzinfo=UTC)
NOTE = "Grandmother Ottoline says the boyfriend is back"


def child_with_everything(factory: sessionmaker[Session], case_ref: str, closed_at: datetime | None) -> int:
    """A child with a row in every table that holds data about a child."""
    with factory() as session:
        child, lead, manager = make_child(session, case_ref=case_ref)
    at = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
    with factory.begin() as session:
        plan = session.scalar(select(models.Plan).where(models.Plan.child_id == child.id))
        session.add(models.PlanMeeting(plan_id=plan.id, kind="review_conference", held_on=at.date()))
        first = record_contact(
            session,
            child.id,
            model.Contact(at=at, child_seen=True, seen_alone="no", seen_alone_reason=NOTE),
            record=VisitRecord(observations=NOTE),
            by_staff=lead.id,
            now=at,
        )
        record_contact(
            session,
            child.id,
            model.Contact(at=at, child_seen=True, seen_alone="yes", recorded_at=at),
            correction_of=first,
            by_staff=lead.id,
            now=at,
        )
        record_sighting(session, child.id, model.AgencySighting(at=at, agency="school"), now=at)
        record_decision(
            session,
            child.id,
            model.Decision(at=at, rule="HI-SEEN-ALONE", by="team_manager", outcome="reviewed"),
            by_staff=manager.id,
            note=NOTE,
            now=at,
        )
        note = add_case_note(session, child.id, lead.id, NOTE, at=at, now=at)
        add_case_note(session, child.id, lead.id, NOTE + " (edited)", at=at, supersedes=note, now=at)
        acknowledge(session, child.id, manager.id, f"{case_ref}:HI-SEEN-ALONE:team_manager:x", at=at, now=at)
        session.add(
            models.Outbox(
                key=f"{case_ref}:HI-VISIT-20WD:x:remind:s{lead.id}",
                child_id=child.id,
                rule="HI-VISIT-20WD",
                stage="remind",
                recipient_staff_id=lead.id,
                send_after=at,
                created_at=at,
                text=f"Reminder: {case_ref} (AB) ...",
                payload={"child": case_ref},
                next_attempt_at=at,
            )
        )
        session.add(models.ChildSweepState(child_id=child.id, facts_version_seen=1, last_swept_at=at))
        session.add(
            models.ChildOverdueSummary(child_id=child.id, evaluated_at=at, overdue={"HI-VISIT-20WD": 1})
        )
        session.execute(update(models.Child).where(models.Child.id == child.id).values(closed_at=closed_at))
    return child.id


def rows_about(session: Session, child_id: int) -> dict[str, int]:
    out = {}
    for table, condition in child_tables():
        out[table.name] = session.execute(
            select(func.count()).select_from(table).where(condition), {"child_id": child_id}
        ).scalar_one()
    return out


@pytest.fixture
def three(factory: sessionmaker[Session]) -> dict[str, int]:
    return {
        "expired": child_with_everything(factory, "C-0001", NOW - timedelta(days=365 * 7)),
        "recent": child_with_everything(factory, "C-0002", NOW - timedelta(days=400)),
        "open": child_with_everything(factory, "C-0003", None),
    }


def test_every_table_about_a_child_is_covered(factory: sessionmaker[Session], three: dict[str, int]) -> None:
    with factory() as session:
        held = rows_about(session, three["expired"])
    # the set-up puts at least one row in each: a new table referring to children is covered too
    assert {t for t, n in held.items() if n == 0} == set(), held
    assert {t.name for t, _ in child_tables()} >= {
        "children",
        "plans",
        "plan_meetings",
        "contacts",
        "agency_sightings",
        "decisions",
        "case_notes",
        "acknowledgements",
        "outbox",
        "child_sweep_state",
        "child_overdue_summary",
        "audit_log",
    }


def test_dry_run_counts_and_changes_nothing(factory: sessionmaker[Session], three: dict[str, int]) -> None:
    with factory() as session:
        before = count_rows(session)
        expected = rows_about(session, three["expired"])
    report = purge_closed(factory, now=NOW, years=6, dry_run=True)
    assert report.children == 1
    assert dict(report.deleted) == expected
    assert "would delete" in str(report)
    with factory() as session:
        assert count_rows(session) == before


def test_purge_deletes_expired_closed_cases_only_with_a_counts_only_audit_row(
    factory: sessionmaker[Session], three: dict[str, int]
) -> None:
    with factory() as session:
        expected = rows_about(session, three["expired"])
        kept = {k: rows_about(session, three[k]) for k in ("recent", "open")}
    report = purge_closed(factory, now=NOW, years=6)
    assert report.children == 1
    assert dict(report.deleted) == expected
    with factory() as session:
        assert all(n == 0 for n in rows_about(session, three["expired"]).values())
        for k in ("recent", "open"):
            assert rows_about(session, three[k]) == kept[k]
        assert session.scalar(select(models.Child).where(models.Child.case_ref == "C-0001")) is None
        audits = session.scalars(
            select(models.AuditLog).where(models.AuditLog.action == "retention.purged")
        ).all()
    assert len(audits) == 1
    audit = audits[0]
    assert audit.child_id is None and audit.actor == "retention"
    assert audit.detail["deleted"] == {t: n for t, n in expected.items() if n}
    assert audit.detail["retention_years"] == 6
    text = json.dumps(audit.detail)
    for personal in ("C-0001", "AB", NOTE, "Lead C-0001"):
        assert personal not in text
    assert set(audit.detail) == {"retention_years", "closed_before", "deleted"}  # no id, no reference

    again = purge_closed(factory, now=NOW, years=6)
    assert again.children == 0 and sum(again.deleted.values()) == 0


def test_a_child_is_purged_whole_or_not_at_all(
    factory: sessionmaker[Session], three: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    second = child_with_everything(factory, "C-0004", NOW - timedelta(days=365 * 8))
    with factory() as session:
        before = rows_about(session, second)
    real = retention.write_audit
    calls = []

    def failing_on_second(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(session, *args, **kwargs)

    monkeypatch.setattr(retention, "write_audit", failing_on_second)
    with pytest.raises(RuntimeError):
        purge_closed(factory, now=NOW, years=6)
    with factory() as session:
        assert all(n == 0 for n in rows_about(session, three["expired"]).values())  # committed
        assert rows_about(session, second) == before  # rolled back entirely


def test_the_period_is_a_setting_with_a_documented_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEN_RETENTION_YEARS", raising=False)
    assert retention.retention_years() == DEFAULT_RETENTION_YEARS == 6
    monkeypatch.setenv("SEEN_RETENTION_YEARS", "10")
    assert retention.retention_years() == 10
    for bad in ("ten", "0", "-1", "2.5"):
        monkeypatch.setenv("SEEN_RETENTION_YEARS", bad)
        with pytest.raises(RetentionError, match="SEEN_RETENTION_YEARS"):
            retention.retention_years()


def test_longer_period_keeps_the_case(factory: sessionmaker[Session], three: dict[str, int]) -> None:
    assert purge_closed(factory, now=NOW, years=8).children == 0
    assert purge_closed(factory, now=NOW, years=1, dry_run=True).children == 2


def test_facts_cannot_be_deleted_or_rewritten_through_the_orm(
    factory: sessionmaker[Session], three: dict[str, int]
) -> None:
    for statement in (
        delete(models.Contact),
        delete(models.CaseNote).where(models.CaseNote.child_id == three["open"]),
        update(models.Decision).values(note="changed"),
        delete(models.AuditLog),
    ):
        with factory.begin() as session, pytest.raises(models.AppendOnlyError):
            session.execute(statement)


def test_cli_purge(db_url: str, factory: sessionmaker[Session], capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(UTC)
    child_with_everything(factory, "C-0005", today - timedelta(days=3 * 366))
    child_with_everything(factory, "C-0006", today - timedelta(days=300))
    monkeypatch.setenv("SEEN_RETENTION_YEARS", "2")
    assert main(["retention", "purge", "--dry-run", "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    assert "retention 2 years: 1 closed case(s)" in out and "would delete" in out
    assert main(["retention", "purge", "--database-url", db_url]) == 0
    assert "deleted: " in capsys.readouterr().out
    with factory() as session:
        assert session.scalars(select(models.Child.case_ref)).all() == ["C-0006"]
    monkeypatch.setenv("SEEN_RETENTION_YEARS", "soon")
    assert main(["retention", "purge", "--database-url", db_url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SEEN_RETENTION_YEARS" in err


def test_the_leader_purges_daily_others_do_not(
    factory: sessionmaker[Session], three: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """`seen run`'s 02:15 job: the sweep's leader purges; a replica that is not the leader does
    nothing; a bad setting is logged and the job tries again the next day (never raises)."""
    from scheduler.leader import take_lease
    from scheduler.loop import SWEEP_LEASE, Runtime

    assert take_lease(factory, SWEEP_LEASE, "leader", NOW)
    follower = Runtime(factory, messenger=None, holder="follower")  # type: ignore[arg-type]
    assert follower.retention_job(NOW) is None
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(models.Child)) == 3
    leader = Runtime(factory, messenger=None, holder="leader")  # type: ignore[arg-type]
    report = leader.retention_job(NOW)
    assert report is not None and report.children == 1 and report.years == DEFAULT_RETENTION_YEARS
    with factory() as session:
        assert sorted(session.scalars(select(models.Child.case_ref))) == ["C-0002", "C-0003"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEEN_RETENTION_YEARS", "0")
        assert leader.retention_job(NOW + timedelta(days=1)) is None
    assert "retention purge failed" in caplog.text


def test_the_purge_is_scheduled_at_0215_london_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler.loop import Runtime, build_scheduler, retention_schedule

    runtime = Runtime(None, None, holder="x")  # type: ignore[arg-type]
    clock = lambda: datetime(2026, 6, 30, 12, 0, tzinfo=UTC)  # noqa: E731 (British Summer Time)
    monkeypatch.delenv("SEEN_RETENTION_PURGE", raising=False)
    scheduler = build_scheduler(runtime, clock=clock, retention_at=retention_schedule())
    trigger = scheduler.get_job("retention").trigger
    assert trigger.get_next_fire_time(None, clock()) == datetime(2026, 7, 1, 1, 15, tzinfo=UTC)
    monkeypatch.setenv("SEEN_RETENTION_PURGE", "off")
    assert retention_schedule() is None
    assert build_scheduler(runtime, clock=clock, retention_at=None).get_job("retention") is None


def test_seen_run_refuses_a_bad_retention_period_unless_the_purge_is_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:

    import scheduler.loop

    started: list[dict[str, object]] = []
    monkeypatch.setattr(scheduler.loop, "run_forever", lambda runtime, **kw: started.append(kw))
    monkeypatch.setenv("SEEN_DATABASE_URL", f"sqlite:///{tmp_path / 'seen.sqlite'}")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SEEN_RETENTION_YEARS", "six")
    monkeypatch.delenv("SEEN_RETENTION_PURGE", raising=False)
    with root_logging_restored():
        assert main(["run", "--no-demo"]) == 2
        assert started == []
        assert main(["run", "--no-demo", "--no-retention-purge"]) == 0
        monkeypatch.setenv("SEEN_RETENTION_PURGE", "off")
        assert main(["run", "--no-demo"]) == 0
        assert [kw["retention_at"] for kw in started] == [None, None]
    err = capsys.readouterr().err
    assert err.startswith("seen run: SEEN_RETENTION_YEARS: must be a whole number") and err.count("\n") == 1
