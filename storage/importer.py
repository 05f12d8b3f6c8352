"""Import a caseload as a council exports it from its case-management system: CSV or JSON.

    import_csv(session, "caseload.csv", policies=bundled_catalogue())   # a path, or the text
    import_json(session, "caseload.json", policies=...)  # a path, JSON text, or the document

Both take the policies a team may follow from the caller (`policies=`, see
`scheduler.policy_catalogue`), check the whole file first (a value of a unique column given twice is
named with both places) and write nothing when any row is bad: `ImportFileError` lists
every problem (`line 7: seen_alone_reason: required when seen_alone is "no"` for CSV,
`cases[2].plan.started: missing` for JSON). Otherwise everything is written in one savepoint of the
caller's transaction, which the caller commits. Importing the same file again changes nothing;
a later export of the same caseload updates teams, staff, children and plans in place and records
changed visits as corrections (see `storage.caseload`).

CSV
---
One file, UTF-8 (a BOM is fine), a header row, and a `record_type` column saying what each row
is: `team`, `staff`, `child` (the child with their current plan), `visit`, `sighting` or
`decision`. Rows may come in any order. The header may hold any of the columns below; a row
fills those of its record type and leaves the others blank (a value in a column its type does
not use is an error). Blank means "not given".

Values: yes/no (also y/n, true/false, 1/0); dates `YYYY-MM-DD` or `DD/MM/YYYY`; several dates in
one cell separated by `;`; times ISO 8601 with an offset (`2026-12-21T10:30:00+00:00`) or a
London local time (`2026-12-21 10:30`, `21/12/2026 10:30`). A staff member is named by email or
by name (a name shared by two people must be given as the email).

Columns by record type (* required):

team
    team*: the team's name; policy*: `central-bedfordshire` or `hillingdon`;
    slack_channel: the channel id for the team's due list, e.g. `C0123ABCD`.
staff
    name*; role*: social_worker, duty_social_worker, team_manager, practice_manager,
    head_of_service, cp_chair or admin; email, chat_user_id (the Slack member id): each unique;
    qualified_registered: default yes, except for admin (HI-QUALIFIED); team; active (default yes).
child
    case_ref*, e.g. `C-1042`: a capital letter or digit, then capitals, digits, `_ / . -` (what the
    chat commands address; the same rule for JSON); initials*: at most 4 letters (reminders never
    carry names);
    date_of_birth; team*; lead_social_worker; plan_started*: the date of the initial conference;
    plan_number (default 1); visit_interval_working_days; plan_ended; cp_chair_agreed_interval_on
    and cp_chair_agreed_by (CB-FREQ-CHANGE); exploitation_concerns (default no);
    review_conferences, core_group_meetings: the plan's meetings become exactly these dates
    (when the column is in the header).
visit
    case_ref*; at*; kind*: home_visit, school_visit, office or other; child_seen*;
    visit_ref: the council's id of the visit (without it a visit is known by its time and kind);
    by: lead_social_worker, duty_social_worker, team_manager, … (may be left out when by_staff
    is given: the child's lead social worker, another social worker, or a manager's own role);
    by_staff: who visited; qualified: default the visitor's qualified_registered (yes when no
    visitor is named); seen_alone: yes, no (then seen_alone_reason) or not_applicable;
    bedroom_seen, child_awake, recorded_at, no_one_home, note_left, note_not_left_reason,
    risk_worsened, new_injury, alone_concerns: as in the case file; the visit record: present,
    spoken_with (yes/no), observations, family_circumstances, new_adults, sleeping_arrangements,
    presentation, wishes_feelings, incident_or_injury, contact_title; visit_group: the same
    value on the rows of siblings seen at one visit.
sighting
    case_ref*; at*; agency*; recorded_by.
decision
    case_ref*; at*; rule*; by*; outcome*; within_working_days (required for further_visit and
    interval_changed); by_staff; note.

JSON
----
Either a list of DESIGN.md case files, or

    {"teams": [{"name": "…", "policy": "hillingdon", "slack_channel": "C0…"}],
     "staff": [{"name": "…", "role": "social_worker", "email": "…", "chat_user_id": "U0…",
                "qualified_registered": true, "team": "…", "active": true}],
     "cases": [<case file>, …]}

where a case file may carry three more keys: `team` (else the one team following the case
file's `policy`), `initials` and `lead_social_worker`. Its `as_of` is not used.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.caseload import ImportFileError, ImportSummary, PolicyCatalogue, apply_caseload
from storage.caseload_csv import parse_csv
from storage.caseload_json import parse_json_caseload

__all__ = ["ImportFileError", "ImportSummary", "PolicyCatalogue", "import_csv", "import_json"]


def _read(source: str | Path, suffix: str) -> tuple[str, str]:
    """(text, name). A Path is read. A str is the text itself when it holds a newline or starts
    like JSON; otherwise it is a path."""
    if isinstance(source, str):
        head = source.lstrip()[:1]
        if "\n" in source or head in ("{", "[") or not head:
            return source, f"caseload{suffix}"
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        return data.decode("utf-8-sig"), path.name
    except UnicodeDecodeError as exc:  # named by its line, as every other problem of the file
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        raise ImportFileError(
            [f"line {line}: not UTF-8 text (byte 0x{bad:02x}): save the file as UTF-8"]
        ) from None


def import_csv(
    session: Session, source: str | Path, *, policies: PolicyCatalogue, now: datetime | None = None
) -> ImportSummary:
    """Import a caseload CSV (a path or the text). See the module docstring for the columns.
    `policies`: those a team may follow (the caller's: storage loads none)."""
    text, name = _read(source, ".csv")
    load = parse_csv(text, name, policy_names=policies.names)
    return apply_caseload(session, load, policies=policies, now=now)


def import_json(
    session: Session,
    source: str | Path | dict[str, Any] | list[Any],
    *,
    policies: PolicyCatalogue,
    now: datetime | None = None,
) -> ImportSummary:
    """Import a caseload JSON document (a path, the text, or the parsed document)."""
    name = "caseload.json"
    if isinstance(source, str | Path):
        text, name = _read(source, ".json")
        try:
            source = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError([f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})"]) from None
        except RecursionError:
            raise ImportFileError([f"{name}: not valid JSON (nested too deeply)"]) from None
        except ValueError:  # an integer of more digits than int() converts
            raise ImportFileError([f"{name}: not valid JSON (a number has too many digits)"]) from None
    load = parse_json_caseload(source, name, policy_names=policies.names)
    return apply_caseload(session, load, policies=policies, now=now)
