"""The caseload import: a good file, bad rows named by line and column with nothing written,
and importing again changing nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.policy_catalogue import bundled_catalogue
from storage import models
from storage.cases import case_for_child
from storage.importer import ImportFileError, import_csv, import_json

from .conftest import NOW, count_rows

HEADER = (
    "record_type,team,policy,name,role,email,qualified_registered,case_ref,initials,date_of_birth,"
    "lead_social_worker,plan_started,visit_interval_working_days,review_conferences,core_group_meetings,"
    "at,kind,by,by_staff,child_seen,seen_alone,seen_alone_reason,bedroom_seen,observations,agency,rule,outcome,"
    "within_working_days"
)
N = HEADER.count(",") + 1


def row(**cells: str) -> str:
    names = HEADER.split(",")
    return ",".join(cells.get(n, "") for n in names)


GOOD = (
    "\n".join(
        [
            HEADER,
            row(record_type="team", team="Hillingdon CP", policy="hillingdon"),
            row(record_type="team", team="Central Beds CP", policy="central-bedfordshire"),
            row(
                record_type="staff",
                team="Hillingdon CP",
                name="Aisha Khan",
                role="social_worker",
                email="aisha@hi.example.org",
            ),
            row(
                record_type="staff",
                team="Hillingdon CP",
                name="Dan Murphy",
                role="social_worker",
                qualified_registered="no",
            ),
            row(
                record_type="staff",
                team="Central Beds CP",
                name="Grace Obi",
                role="team_manager",
                email="grace@cb.example.org",
            ),
            row(
                record_type="child",
                team="Hillingdon CP",
                case_ref="C-3001",
                initials="E.W.",
                date_of_birth="09/01/2017",
                lead_social_worker="aisha@hi.example.org",
                plan_started="2026-11-04",
                review_conferences="2027-02-03",
                core_group_meetings="2026-12-03;2027-01-14",
            ),
            row(
                record_type="child",
                team="Central Beds CP",
                case_ref="C-2004",
                initials="RT",
                plan_started="2026-11-23",
                visit_interval_working_days="5",
            ),
            row(
                record_type="visit",
                case_ref="C-3001",
                at="2026-11-09T10:00:00+00:00",
                kind="home_visit",
                by_staff="Aisha Khan",
                child_seen="yes",
                seen_alone="yes",
                bedroom_seen="yes",
                observations='"settled, playing"',
            ),
            row(
                record_type="visit",
                case_ref="C-3001",
                at="2026-12-08 14:00",
                kind="home_visit",
                by_staff="Dan Murphy",
                child_seen="yes",
                seen_alone="no",
                seen_alone_reason="mother present",
            ),
            row(
                record_type="visit",
                case_ref="C-2004",
                at="2026-12-10T16:30:00+00:00",
                kind="home_visit",
                by="lead_social_worker",
                child_seen="no",
            ),
            row(record_type="sighting", case_ref="C-2004", at="2026-12-18T09:00:00+00:00", agency="school"),
            row(
                record_type="decision",
                case_ref="C-2004",
                at="2026-12-11T09:00:00+00:00",
                by="team_manager",
                by_staff="Grace Obi",
                rule="CB-NOTSEEN-DISCUSS",
                outcome="further_visit",
                within_working_days="2",
            ),
        ]
    )
    + "\n"
)


def test_a_good_file(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "caseload.csv"
    path.write_text(GOOD, encoding="utf-8")
    summary = import_csv(session, path, now=NOW, policies=bundled_catalogue())
    session.commit()
    assert summary.created == {
        "teams": 2,
        "staff": 3,
        "children": 2,
        "plans": 2,
        "visits": 3,
        "sightings": 1,
        "decisions": 1,
    }
    child = session.scalars(select(models.Child).where(models.Child.case_ref == "C-3001")).one()
    assert child.initials == "E.W." and child.date_of_birth == date(2017, 1, 9)
    assert child.lead_social_worker is not None and child.lead_social_worker.name == "Aisha Khan"
    case = case_for_child(session, child)
    assert case.plan.core_group_meetings == (date(2026, 12, 3), date(2027, 1, 14))
    first, second = case.contacts
    assert (first.by, first.qualified) == ("lead_social_worker", True)
    # Dan is not qualified and registered (HI-QUALIFIED); a London local time in winter is UTC
    assert (second.by, second.qualified) == ("duty_social_worker", False)
    assert second.at == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    row_ = session.scalars(select(models.Contact).where(models.Contact.child_id == child.id)).first()
    assert row_ is not None and row_.observations == "settled, playing"
    other = session.scalars(select(models.Child).where(models.Child.case_ref == "C-2004")).one()
    assert case_for_child(session, other).decisions[0].within_working_days == 2


def test_importing_again_changes_nothing(session: Session) -> None:
    import_csv(session, GOOD, now=NOW, policies=bundled_catalogue())
    session.commit()
    before = count_rows(session)
    versions = dict(session.execute(select(models.Child.case_ref, models.Child.facts_version)).all())
    summary = import_csv(session, GOOD, now=NOW, policies=bundled_catalogue())
    session.commit()
    assert not summary.created and not summary.updated
    after = count_rows(session)
    assert after.pop("audit_log") == before.pop("audit_log") + 1  # the import itself is audited
    assert after == before
    assert dict(session.execute(select(models.Child.case_ref, models.Child.facts_version)).all()) == versions


def test_a_later_export_updates_in_place_and_corrects_visits(session: Session) -> None:
    import_csv(session, GOOD, now=NOW, policies=bundled_catalogue())
    session.commit()
    later = GOOD.replace("2026-12-03;2027-01-14", "2027-01-21").replace(
        "mother present", "mother would not leave"
    )
    summary = import_csv(session, later, now=NOW, policies=bundled_catalogue())
    session.commit()
    assert summary.updated == {"plans": 1, "visits": 1}
    child = session.scalars(select(models.Child).where(models.Child.case_ref == "C-3001")).one()
    case = case_for_child(session, child)
    assert case.plan.core_group_meetings == (date(2027, 1, 21),)
    assert [c.seen_alone_reason for c in case.contacts] == [None, "mother would not leave"]
    assert len(session.scalars(select(models.Contact).where(models.Contact.child_id == child.id)).all()) == 3
    again = import_csv(session, later, now=NOW, policies=bundled_catalogue())
    assert not again.created and not again.updated


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_written(session: Session) -> None:
    import_csv(session, GOOD, now=NOW, policies=bundled_catalogue())
    session.commit()
    before = count_rows(session)
    lines = GOOD.splitlines()
    lines[6] = lines[6].replace("09/01/2017", "31/02/2017")  # line 7
    lines.append(
        row(
            record_type="visit",
            case_ref="C-3001",
            at="2026-12-09 10:00",
            kind="home_visit",
            by="lead_social_worker",
            child_seen="maybe",
        )
    )  # line 14
    lines.append(row(record_type="team", team="X", policy="hillingdon", agency="school"))  # line 15
    lines.append(
        row(
            record_type="child",
            team="Hillingdon CP",
            case_ref="C-1",
            initials="Alice Brown",
            plan_started="2026-11-01",
        )
    )  # line 16
    with pytest.raises(ImportFileError) as info:
        import_csv(session, "\n".join(lines), now=NOW, policies=bundled_catalogue())
    session.rollback()
    assert info.value.errors == [
        "line 7: date_of_birth: must be a date YYYY-MM-DD (or DD/MM/YYYY), not '31/02/2017'",
        "line 14: child_seen: must be yes or no, not 'maybe'",
        "line 15: agency: not used in a team row",
        "line 16: initials: must be initials (at most 4 letters), not 'Alice Brown': "
        "reminders name a child by case reference and initials only",
    ]
    assert count_rows(session) == before


def test_problems_found_against_the_database_are_named_too(session: Session) -> None:
    before = count_rows(session)
    text = "\n".join(
        [
            HEADER,
            row(record_type="team", team="Hillingdon CP", policy="hillingdon"),
            row(
                record_type="child", team="Nowhere", case_ref="C-1", initials="AB", plan_started="2026-11-01"
            ),
            row(
                record_type="child",
                team="Hillingdon CP",
                case_ref="C-2",
                initials="AB",
                plan_started="2026-11-01",
                lead_social_worker="nobody@example.org",
            ),
            row(
                record_type="visit",
                case_ref="C-2",
                at="2026-11-03T10:00:00+00:00",
                kind="home_visit",
                by="lead_social_worker",
                child_seen="yes",
                seen_alone="no",
            ),
            row(
                record_type="visit",
                case_ref="C-404",
                at="2026-11-03T10:00:00+00:00",
                kind="home_visit",
                by="lead_social_worker",
                child_seen="yes",
            ),
            row(record_type="team", team="Central", policy="central-bedfordshire"),
            row(
                record_type="child",
                team="Central",
                case_ref="C-3",
                initials="AB",
                plan_started="2026-11-01",
                visit_interval_working_days="12",
            ),
        ]
    )
    with pytest.raises(ImportFileError) as info:
        import_csv(session, text, now=NOW, policies=bundled_catalogue())
    session.rollback()
    assert info.value.errors == [
        "line 3: team: no team named 'Nowhere' (add a team row)",
        "line 4: lead_social_worker: no staff member with email 'nobody@example.org' (add a staff row)",
        "line 8: visit_interval_working_days: 12 is longer than the 10 working days "
        "central-bedfordshire allows (CB-FREQ-FLOOR)",
        'line 5: seen_alone_reason: required when seen_alone is "no"',
        "line 6: case_ref: no child C-404 (add a child row)",
    ]
    assert count_rows(session) == before


def test_the_header_is_checked(session: Session) -> None:
    with pytest.raises(ImportFileError, match=r"^line 1: colour: unknown column"):
        import_csv(session, "record_type,colour\nteam,red\n", policies=bundled_catalogue())
    with pytest.raises(ImportFileError, match=r"^line 1: record_type: missing column"):
        import_csv(session, "team,policy\nA,hillingdon\n", policies=bundled_catalogue())
    with pytest.raises(ImportFileError, match=r"^line 2: has 2 cells, the header has 3"):
        import_csv(session, "record_type,team,policy\nteam,A\n", policies=bundled_catalogue())


def test_json_caseload_of_case_files(session: Session) -> None:
    case = {
        "policy": "hillingdon",
        "as_of": "2026-12-22T09:00:00+00:00",
        "child": {"ref": "C-1042", "date_of_birth": "2025-09-01"},
        "plan": {"started": "2026-12-17", "review_conferences": ["2027-03-10"]},
        "contacts": [
            {
                "at": "2026-12-21T10:30:00+00:00",
                "kind": "home_visit",
                "by": "lead_social_worker",
                "child_seen": True,
                "seen_alone": "not_applicable",
            }
        ],
        "initials": "AB",
        "lead_social_worker": "sam@hi.example.org",
    }
    doc = {
        "teams": [{"name": "Hillingdon CP", "policy": "hillingdon", "slack_channel": "C0HI"}],
        "staff": [
            {
                "name": "Sam Patel",
                "role": "social_worker",
                "email": "sam@hi.example.org",
                "team": "Hillingdon CP",
                "chat_user_id": "U0SAM",
            }
        ],
        "cases": [case],
    }
    summary = import_json(session, json.dumps(doc), now=NOW, policies=bundled_catalogue())
    session.commit()
    assert summary.created["children"] == 1 and summary.created["visits"] == 1
    child = session.scalars(select(models.Child)).one()
    assert child.team.name == "Hillingdon CP" and child.initials == "AB"
    assert child.lead_social_worker is not None and child.lead_social_worker.chat_user_id == "U0SAM"
    # a bare list of case files goes to the one team following the case's policy
    bare = dict(case, child={"ref": "C-1043"})
    del bare["initials"], bare["lead_social_worker"]
    import_json(session, [bare], now=NOW, policies=bundled_catalogue())
    session.commit()
    assert session.scalars(select(models.Child).where(models.Child.case_ref == "C-1043")).one().team.name == (
        "Hillingdon CP"
    )
    again = import_json(session, json.dumps(doc), now=NOW, policies=bundled_catalogue())
    assert not again.created and not again.updated


def test_json_problems_name_their_place(session: Session) -> None:
    doc = {
        "teams": [{"name": "A", "policy": "nowhere"}],
        "staff": [{"name": "B", "role": "wizard"}],
        "cases": [
            {
                "policy": "hillingdon",
                "as_of": "2026-12-22T09:00:00+00:00",
                "child": {"ref": "C-1"},
                "plan": {"started": "2026-12-17"},
                "contacts": [
                    {
                        "at": "2026-12-21T10:30:00+00:00",
                        "kind": "home_visit",
                        "by": "lead_social_worker",
                        "child_seen": True,
                        "seen_alone": "no",
                    }
                ],
            },
            "not a case",
        ],
    }
    with pytest.raises(ImportFileError) as info:
        import_json(session, doc, policies=bundled_catalogue())
    assert info.value.errors == [
        "teams[0].policy: must be one of central-bedfordshire, hillingdon, not 'nowhere'",
        "staff[0].role: must be one of social_worker, duty_social_worker, team_manager, practice_manager, "
        "head_of_service, cp_chair, admin, not 'wizard'",
        'cases[0].contacts[0].seen_alone_reason: required when seen_alone is "no"',
        "cases[1]: must be a JSON object (a case file)",
    ]
    with pytest.raises(ImportFileError, match=r"^caseload.json: not valid JSON"):
        import_json(session, "{nope", policies=bundled_catalogue())
    with pytest.raises(
        ImportFileError, match=r"^cases\[0\].team: missing, and no team follows policy 'hillingdon'"
    ):
        import_json(
            session,
            [
                {
                    "policy": "hillingdon",
                    "as_of": "2026-12-22T09:00:00+00:00",
                    "child": {"ref": "C-1"},
                    "plan": {"started": "2026-12-17"},
                }
            ],
            policies=bundled_catalogue(),
        )


def test_a_value_unique_in_the_database_is_unique_within_the_file(session: Session) -> None:
    """Issue 9 item 4: two staff rows of one file with the same chat_user_id crashed the import
    with an IntegrityError and no line number. Every column the database keeps unique is checked
    within the file first, each repeat naming both lines; nothing is written."""
    before = count_rows(session)
    header = HEADER + ",chat_user_id"

    def row(**cells: str) -> str:
        return ",".join(cells.get(n, "") for n in header.split(","))

    text = "\n".join(
        [
            header,
            row(record_type="team", team="Hillingdon CP", policy="hillingdon"),
            row(record_type="staff", name="Aisha Khan", role="social_worker", chat_user_id="U0AAA"),
            row(record_type="staff", name="Dan Murphy", role="social_worker", chat_user_id="U0AAA"),
            row(record_type="staff", name="Ann Lee", role="social_worker", email="ann@hi.example.org"),
            row(record_type="staff", name="Ann Lee", role="team_manager", email="ANN@hi.example.org"),
            row(record_type="team", team="Hillingdon CP", policy="hillingdon"),
            row(
                record_type="child",
                team="Hillingdon CP",
                case_ref="C-1",
                initials="AB",
                plan_started="2026-11-01",
            ),
            row(
                record_type="child",
                team="Hillingdon CP",
                case_ref="C-1",
                initials="CD",
                plan_started="2026-11-02",
            ),
        ]
    )
    with pytest.raises(ImportFileError) as info:
        import_csv(session, text, now=NOW, policies=bundled_catalogue())
    session.rollback()
    assert info.value.errors == [
        "line 7: team: 'Hillingdon CP' is already listed (line 2)",
        "line 6: email: 'ANN@hi.example.org' is already listed (line 5)",
        "line 4: chat_user_id: 'U0AAA' is already listed (line 3)",
        "line 9: case_ref: 'C-1' is already listed (line 8)",
    ]
    assert count_rows(session) == before


@pytest.mark.parametrize("ref", ["C 1042", "c-1042", " C-1042x y", "-C1", "C-1042!"])
def test_one_case_reference_rule_for_csv_and_json(session: Session, ref: str) -> None:
    """Issue 9 item 4: a case reference with a space was accepted from JSON (and refused from CSV),
    and the child could then never be addressed in chat. Both formats, and the chat commands, use
    one rule: what `/seen child` can address."""
    csv_text = "\n".join(
        [
            HEADER,
            row(record_type="team", team="Hillingdon CP", policy="hillingdon"),
            row(
                record_type="child",
                team="Hillingdon CP",
                case_ref=ref,
                initials="AB",
                plan_started="2026-11-01",
            ),
        ]
    )
    case = {
        "policy": "hillingdon",
        "as_of": "2026-12-22T09:00:00+00:00",
        "child": {"ref": ref, "date_of_birth": "2025-09-01"},
        "plan": {"started": "2026-12-17"},
        "contacts": [],
    }
    with pytest.raises(ImportFileError) as from_csv:
        import_csv(session, csv_text, now=NOW, policies=bundled_catalogue())
    session.rollback()
    with pytest.raises(ImportFileError) as from_json:
        import_json(session, [case], now=NOW, policies=bundled_catalogue())
    session.rollback()
    assert from_csv.value.errors[0].startswith("line 3: case_ref: must be a case reference such as C-1042")
    assert from_json.value.errors[0].startswith("cases[0].child.ref: must be a case reference such as C-1042")


def test_a_bad_byte_is_named_by_its_line(session: Session, tmp_path: Path) -> None:
    """Issue 9 item 6: a byte that is not UTF-8 was reported by its offset in the file; every other
    problem is named by its line, and so is this."""
    path = tmp_path / "caseload.csv"
    text = "\n".join([HEADER, row(record_type="team", team="Hillingdon CP", policy="hillingdon")])
    path.write_bytes(
        text.encode() + b"\n" + row(record_type="team", team="Caf\xe9", policy="hillingdon").encode("latin-1")
    )
    with pytest.raises(ImportFileError) as info:
        import_csv(session, path, now=NOW, policies=bundled_catalogue())
    assert info.value.errors == ["line 3: not UTF-8 text (byte 0xe9): save the file as UTF-8"]
