"""A caseload as a council exports it, whatever the file format: its records, their checks
against the file and the database, and writing them.

The parsers (`caseload_csv`, `caseload_json`) turn a file into a `Caseload`; `apply_caseload`
checks every reference (teams, staff, children), refuses the whole file if anything is wrong, and
otherwise writes it in a savepoint of the caller's transaction. Applying the same caseload twice
changes nothing the second time:

- teams are matched by name, staff by email (else by name), children by case reference, plans by
  (child, start date); their fields are updated in place when the file says otherwise (a value
  the file leaves out keeps what is stored, except for plan fields: a child's row states the
  whole plan);
- a plan's review conferences and core group meetings become exactly those of the file;
- visits, sightings and decisions are facts with a `source_key` derived from the file
  ("import:C-1042:<visit ref or time and kind>"); a visit whose record changed in a later export
  is written as a correction of the earlier one, never as a second visit.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.rules import model
from storage import models
from storage.audit import write_audit
from storage.facts import (
    CONTACT_FIELDS,
    VISIT_RECORD_FIELDS,
    FactError,
    VisitRecord,
    bump_facts_version,
    check_new_contact,
    check_new_decision,
    record_contact,
    record_decision,
    record_sighting,
)

if TYPE_CHECKING:
    from scheduler.rules.policy import Policy

IMPORT_ACTOR = "import"
MANAGER_ROLES = model.DECIDERS


@dataclass(frozen=True, slots=True)
class PolicyCatalogue:
    """The policies a caseload may name, given by the caller: storage loads no policy itself
    (scheduler.policy_catalogue gives the bundled ones). `load` raises PolicyError."""

    names: Collection[str]
    load: Callable[[str], Policy]


class ImportFileError(ValueError):
    """A file that was not imported; `errors` lists every problem, each naming where it is."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:50]
        more = f"\n… and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__("\n".join(shown) + more)


@dataclass(frozen=True, slots=True)
class At:
    """Where a record came from: `line 5` (CSV: `line 5: at: …`) or `cases[2]` (JSON:
    `cases[2].at: …`)."""

    prefix: str
    sep: str = ": "

    def __call__(self, name: str = "") -> str:
        return f"{self.prefix}{self.sep}{name}" if name else self.prefix


# -- text the database can hold ----------------------------------------------------------------
# Longest value of each field, as the parsers name them (CSV columns; the JSON fields of the same
# meaning): the database columns' lengths, and for `agency` and `visit_ref` what leaves room for
# them in a fact's source_key (255 characters, storage.models).
TEXT_LIMITS = {
    "team": 200,
    "name": 200,
    "email": 320,
    "chat_user_id": 64,
    "slack_channel": 64,
    "case_ref": 64,
    "initials": 16,
    "rule": 64,
    "agency": 150,
    "visit_ref": 100,
}


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (PostgreSQL refuses NUL in text; an unpaired surrogate is not
    UTF-8), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not UTF-8 text)"
    return None


def text_problem(text: str, field: str) -> str | None:
    """What is wrong with `text` as the value of `field`, or None."""
    limit = TEXT_LIMITS.get(field)
    if limit is not None and len(text) > limit:
        return f"longer than {limit} characters"
    return unstorable(text)


# One rule for a case reference, whatever brings it (a CSV or JSON import, a chat command): what
# `/seen child C-1042` and the other commands can address (they read a reference in capitals), so
# no child is stored out of reach.
CASE_REF = re.compile(r"[A-Z0-9][A-Z0-9_/.-]{0,63}")


def case_ref_problem(text: str) -> str | None:
    """What is wrong with `text` as a case reference, or None."""
    if CASE_REF.fullmatch(text):
        return None
    return (
        "must be a case reference such as C-1042 (a capital letter or digit, then capitals, "
        f"digits, '_', '/', '.' or '-': no spaces, at most 64), not {text!r}"
    )


def initials_problem(text: str, shown: str) -> str | None:
    """What is wrong with `text` as a child's initials (`shown` as the file would quote it), or None."""
    letters = re.sub(r"[\s.\-']", "", text)
    if letters.isalpha() and len(letters) <= 4:
        return None
    return (
        f"must be initials (at most 4 letters), not {shown}: "
        "reminders name a child by case reference and initials only"
    )


# -- records ----------------------------------------------------------------------------------
@dataclass
class TeamRecord:
    at: At
    name: str
    policy: str
    slack_channel: str | None = None


@dataclass
class StaffRecord:
    at: At
    name: str
    role: str
    email: str | None = None
    chat_user_id: str | None = None
    qualified_registered: bool | None = None
    team: str | None = None
    active: bool | None = None


@dataclass
class ChildRecord:
    at: At
    case_ref: str
    initials: str
    plan: model.Plan
    date_of_birth: date | None = None
    team: str | None = None
    policy: str | None = None  # a JSON case file names its policy; it must match the team's
    lead_social_worker: str | None = None
    cp_chair_agreed_by: str | None = None
    # the meeting kinds the file states: those of the plan become exactly the file's dates
    meetings_stated: tuple[str, ...] = ("review_conference", "core_group_meeting")


@dataclass
class VisitRecordIn:
    at: At
    case_ref: str
    ident: str  # the council's visit reference, or the time and kind of the visit
    contact: model.Contact  # `by` "" and `qualified` None-like until resolved (see below)
    by_given: bool = True
    qualified_given: bool = True
    record: VisitRecord = field(default_factory=VisitRecord)
    by_staff: str | None = None
    visit_group: uuid.UUID | None = None


@dataclass
class SightingRecord:
    at: At
    case_ref: str
    sighting: model.AgencySighting
    recorded_by: str | None = None


@dataclass
class DecisionRecord:
    at: At
    case_ref: str
    decision: model.Decision
    by_staff: str | None = None
    note: str | None = None


@dataclass
class Caseload:
    source: str = "caseload"
    teams: list[TeamRecord] = field(default_factory=list)
    staff: list[StaffRecord] = field(default_factory=list)
    children: list[ChildRecord] = field(default_factory=list)
    visits: list[VisitRecordIn] = field(default_factory=list)
    sightings: list[SightingRecord] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What an import did, per kind of record ("teams", "staff", "children", "plans", "visits",
    "sightings", "decisions")."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        kinds = ("teams", "staff", "children", "plans", "visits", "sightings", "decisions")
        parts = []
        for kind in kinds:
            c, u, s = self.created[kind], self.updated[kind], self.unchanged[kind]
            if c or u or s:
                parts.append(f"{kind}: {c} new, {u} updated, {s} unchanged")
        return "; ".join(parts) or "nothing to import"

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
        }


# -- people -----------------------------------------------------------------------------------
@dataclass
class _Person:
    name: str
    role: str
    qualified: bool
    email: str | None = None
    db: models.Staff | None = None
    record: StaffRecord | None = None


def default_qualified(role: str) -> bool:
    """A social worker, manager or chair is taken to be qualified and registered unless the file
    says otherwise (HI-QUALIFIED); an administrator is not."""
    return role != "admin"


class _People:
    """Staff of the database and of the file, looked up by email or by name."""

    def __init__(self) -> None:
        self.by_email: dict[str, _Person] = {}
        self.by_name: dict[str, list[_Person]] = {}

    def add(self, person: _Person) -> None:
        if person.email:
            self.by_email[person.email.lower()] = person
        self.by_name.setdefault(person.name.strip().lower(), []).append(person)

    def find(self, ref: str) -> _Person:
        """The person `ref` (an email, or a name) names; ValueError saying why not."""
        key = ref.strip().lower()
        if "@" in key:
            if key in self.by_email:
                return self.by_email[key]
            raise ValueError(f"no staff member with email {ref!r} (add a staff row)")
        found = self.by_name.get(key, [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(f"no staff member named {ref!r} (add a staff row)")
        raise ValueError(f"{len(found)} staff members are named {ref!r}: give the email instead")


# -- checking and writing ---------------------------------------------------------------------
class _Apply:
    def __init__(self, session: Session, load: Caseload, policies: PolicyCatalogue, now: datetime) -> None:
        self.s = session
        self.load = load
        self.policies = policies
        self.now = now
        self.problems: list[str] = []
        self.summary = ImportSummary()

    def problem(self, at: At, name: str, message: str) -> None:
        self.problems.append(f"{at(name)}: {message}")

    # - checks (read only) -
    def check(self) -> None:
        self._check_unique_within_file()
        self._check_teams()
        self._check_staff()
        self._check_children()
        self._check_facts()

    def _check_unique_within_file(self) -> None:
        """Each value of a column the database keeps unique (a team's name, a staff member's email
        and chat user id, a child's case reference) appears once in the file: a repeat names both
        places. Checked first, so that the database never refuses a write half-way (a repeated
        chat_user_id was an IntegrityError with no line number)."""
        columns: tuple[tuple[str, list[Any], Callable[[str], str]], ...] = (
            ("team", self.load.teams, str),
            ("email", self.load.staff, str.lower),
            ("chat_user_id", self.load.staff, str),
            ("case_ref", self.load.children, str),
        )
        for column, records, key in columns:
            first: dict[str, At] = {}
            for r in records:
                value = getattr(r, "name" if column == "team" else column)
                if value is None:
                    continue
                if key(value) in first:
                    self.problem(r.at, column, f"{value!r} is already listed ({first[key(value)]()})")
                else:
                    first[key(value)] = r.at

    def _check_teams(self) -> None:
        self.db_teams = {t.name: t for t in self.s.scalars(select(models.Team))}
        self.file_teams = {t.name: t for t in self.load.teams}
        self.team_policy = {n: t.policy_id for n, t in self.db_teams.items()}
        self.team_policy.update({n: t.policy for n, t in self.file_teams.items()})

    def _team_exists(self, at: At, name: str, team: str) -> bool:
        if team in self.team_policy:
            return True
        self.problem(at, name, f"no team named {team!r} (add a team row)")
        return False

    def _check_staff(self) -> None:
        db_staff = list(self.s.scalars(select(models.Staff)))
        by_email = {s.email.lower(): s for s in db_staff if s.email}
        by_name: dict[str, list[models.Staff]] = {}
        for s in db_staff:
            by_name.setdefault(s.name.strip().lower(), []).append(s)
        chat_ids = {s.chat_user_id: s for s in db_staff if s.chat_user_id}
        self.staff_target: dict[int, models.Staff | None] = {}
        matched: set[int] = set()
        for r in self.load.staff:
            if r.team is not None:
                self._team_exists(r.at, "team", r.team)
            if r.email:
                target = by_email.get(r.email.lower())
            else:
                same = by_name.get(r.name.strip().lower(), [])
                target = same[0] if len(same) == 1 else None
                if len(same) > 1:
                    self.problem(
                        r.at, "email", f"{len(same)} staff members are named {r.name!r}: give the email"
                    )
            if r.chat_user_id and r.chat_user_id in chat_ids and chat_ids[r.chat_user_id] is not target:
                self.problem(
                    r.at, "chat_user_id", f"{r.chat_user_id!r} belongs to {chat_ids[r.chat_user_id].name}"
                )
            self.staff_target[id(r)] = target
            if target is not None:
                matched.add(target.id)
        people = _People()
        for s in db_staff:
            if s.id not in matched:
                people.add(_Person(s.name, s.role, s.qualified_registered, s.email, db=s))
        for r in self.load.staff:
            target = self.staff_target[id(r)]
            qualified = r.qualified_registered
            if qualified is None:
                qualified = target.qualified_registered if target else default_qualified(r.role)
            email = r.email or (target.email if target else None)
            people.add(_Person(r.name, r.role, qualified, email, db=target, record=r))
        self.people = people

    def _person(self, at: At, name: str, ref: str | None) -> _Person | None:
        if ref is None:
            return None
        try:
            return self.people.find(ref)
        except ValueError as exc:
            self.problem(at, name, str(exc))
            return None

    def _check_children(self) -> None:
        self.file_children = {c.case_ref: c for c in self.load.children}
        refs = {c.case_ref for c in self.load.children}
        refs |= {r.case_ref for r in (*self.load.visits, *self.load.sightings, *self.load.decisions)}
        self.db_children = _children_by_ref(self.s, refs)
        self.lead: dict[str, _Person | None] = {}
        for c in self.load.children:
            if c.team is None:
                c.team = self._team_for_policy(c)
            elif (
                self._team_exists(c.at, "team", c.team) and c.policy and c.policy != self.team_policy[c.team]
            ):
                self.problem(
                    c.at, "policy", f"{c.policy!r}, but team {c.team!r} follows {self.team_policy[c.team]!r}"
                )
            self.lead[c.case_ref] = self._person(c.at, "lead_social_worker", c.lead_social_worker)
            self._person(c.at, "cp_chair_agreed_by", c.cp_chair_agreed_by)
            if c.team in self.team_policy and c.plan.visit_interval_working_days is not None:
                self._check_interval(c)
        for ref, child in self.db_children.items():
            if ref not in self.lead:
                lead = child.lead_social_worker
                self.lead[ref] = self._db_person(lead) if lead else None

    def _db_person(self, staff: models.Staff) -> _Person | None:
        for person in self.people.by_name.get(staff.name.strip().lower(), []):
            if person.db is staff:
                return person
        return _Person(staff.name, staff.role, staff.qualified_registered, staff.email, db=staff)

    def _team_for_policy(self, c: ChildRecord) -> str | None:
        teams = sorted(n for n, p in self.team_policy.items() if p == c.policy)
        if len(teams) == 1:
            return teams[0]
        why = "no team follows" if not teams else f"{len(teams)} teams follow"
        self.problem(c.at, "team", f"missing, and {why} policy {c.policy!r}")
        return None

    def _check_interval(self, c: ChildRecord) -> None:
        policy = self.policies.load(self.team_policy[c.team or ""])
        limit = policy.max_interval()
        interval = c.plan.visit_interval_working_days
        if limit is not None and interval is not None and interval > limit[0]:
            self.problem(
                c.at,
                "visit_interval_working_days",
                f"{interval} is longer than the {limit[0]} working days {policy.id} allows ({limit[1]})",
            )

    def _child_known(self, at: At, case_ref: str) -> bool:
        if case_ref in self.file_children or case_ref in self.db_children:
            return True
        self.problem(at, "case_ref", f"no child {case_ref} (add a child row)")
        return False

    def _check_facts(self) -> None:
        seen: dict[tuple[str, str], At] = {}
        for v in self.load.visits:
            known = self._child_known(v.at, v.case_ref)
            if (v.case_ref, v.ident) in seen:
                self.problem(
                    v.at,
                    "visit_ref" if not v.ident.startswith("at:") else "at",
                    f"the same visit is already listed ({seen[(v.case_ref, v.ident)]()})",
                )
            seen[(v.case_ref, v.ident)] = v.at
            person = self._person(v.at, "by_staff", v.by_staff)
            if not v.by_given:
                by = self._visitor_role(v, person) if known else None
                if by is None:
                    continue
                v.contact = v.contact._replace(by=by)
                v.by_given = True
            if not v.qualified_given:
                v.contact = v.contact._replace(qualified=person.qualified if person else True)
                v.qualified_given = True
            try:
                check_new_contact(v.contact, "\0")
            except FactError as exc:
                self.problems.append(_placed(str(exc), v.at))
        for s in self.load.sightings:
            self._child_known(s.at, s.case_ref)
            self._person(s.at, "recorded_by", s.recorded_by)
        for d in self.load.decisions:
            self._child_known(d.at, d.case_ref)
            self._person(d.at, "by_staff", d.by_staff)
            try:
                check_new_decision(d.decision, "\0")
            except FactError as exc:
                self.problems.append(_placed(str(exc), d.at))

    def _visitor_role(self, v: VisitRecordIn, person: _Person | None) -> str | None:
        if person is None:
            if v.by_staff is None:
                self.problem(v.at, "by", "missing (give the visitor's role, or by_staff)")
            return None
        if person is self.lead.get(v.case_ref):
            return "lead_social_worker"
        if person.role in ("social_worker", "duty_social_worker"):
            return "duty_social_worker"
        if person.role in MANAGER_ROLES:
            return person.role
        self.problem(v.at, "by", f"missing, and {person.name} ({person.role}) is not a visiting role")
        return None

    # - writing -
    def write(self) -> None:
        team_ids = self._write_teams()
        staff_ids = self._write_staff(team_ids)
        child_ids = self._write_children(team_ids, staff_ids)
        changed: set[int] = set()
        for c in self.load.children:
            if self._write_plan(c, child_ids[c.case_ref], staff_ids):
                changed.add(child_ids[c.case_ref])
        changed |= self.children_changed
        for child_id in sorted(changed):
            bump_facts_version(self.s, child_id)
        for v in self.load.visits:
            self._write_visit(v, child_ids[v.case_ref], staff_ids)
        for s in self.load.sightings:
            self._fact(
                "sightings",
                f"import:{s.case_ref}:sighting:{_utc(s.sighting.at)}:{s.sighting.agency}",
                models.AgencySighting,
                record_sighting,
                child_ids[s.case_ref],
                s.sighting,
                recorded_by=self._staff_id(s.recorded_by, staff_ids),
            )
        for d in self.load.decisions:
            dec = d.decision
            self._fact(
                "decisions",
                f"import:{d.case_ref}:decision:{_utc(dec.at)}:{dec.rule}:{dec.outcome}",
                models.Decision,
                record_decision,
                child_ids[d.case_ref],
                dec,
                by_staff=self._staff_id(d.by_staff, staff_ids),
                note=d.note,
            )

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        (self.summary.created if created else self.summary.updated if changed else self.summary.unchanged)[
            kind
        ] += 1

    def _imported(
        self, kind: str, action: str, created: bool, changed: bool, child_id: int | None = None, **ids: int
    ) -> bool:
        """Count a team, staff, child or plan row; audit it (`ids` and whether it is new) if the
        import created or changed it, and say so."""
        self._count(kind, created, changed)
        if created or changed:
            detail = {**ids, "created": created}
            write_audit(self.s, action, child_id=child_id, actor=IMPORT_ACTOR, at=self.now, detail=detail)
        return created or changed

    def _write_teams(self) -> dict[str, int]:
        ids = {n: t.id for n, t in self.db_teams.items()}
        for r in self.load.teams:
            row = self.db_teams.get(r.name)
            created = row is None
            if row is None:
                row = models.Team(name=r.name, policy_id=r.policy)
                self.s.add(row)
            changed = _set(row, policy_id=r.policy)
            if r.slack_channel is not None:
                changed |= _set(row, slack_channel_id=r.slack_channel)
            self.s.flush()
            ids[r.name] = row.id
            self._imported("teams", "team.imported", created, changed, team_id=row.id)
        return ids

    def _write_staff(self, team_ids: dict[str, int]) -> dict[int, int]:
        """id(_Person) -> staff id, for everyone a reference may name."""
        for r in self.load.staff:
            row = self.staff_target[id(r)]
            created = row is None
            if row is None:
                row = models.Staff(
                    name=r.name, role=r.role, active=True, qualified_registered=default_qualified(r.role)
                )
                self.s.add(row)
            values: dict[str, Any] = {"name": r.name, "role": r.role}
            for name in ("email", "chat_user_id", "qualified_registered", "active"):
                if getattr(r, name) is not None:
                    values[name] = getattr(r, name)
            if r.team is not None:
                values["team_id"] = team_ids[r.team]
            changed = _set(row, **values)
            self.s.flush()
            self.staff_target[id(r)] = row
            self._imported("staff", "staff.imported", created, changed, staff_id=row.id)
        ids: dict[int, int] = {}
        for people in self.people.by_name.values():
            for p in people:
                row = self.staff_target[id(p.record)] if p.record is not None else p.db
                if row is not None:
                    ids[id(p)] = row.id
        return ids

    def _staff_id(self, ref: str | None, staff_ids: dict[int, int]) -> int | None:
        return None if ref is None else staff_ids[id(self.people.find(ref))]

    def _write_children(self, team_ids: dict[str, int], staff_ids: dict[int, int]) -> dict[str, int]:
        ids = {ref: c.id for ref, c in self.db_children.items()}
        self.children_changed: set[int] = set()
        for r in self.load.children:
            row = self.db_children.get(r.case_ref)
            created = row is None
            if row is None:
                row = models.Child(case_ref=r.case_ref, facts_version=0)
                self.s.add(row)
            values: dict[str, Any] = {"team_id": team_ids[r.team or ""]}
            if r.initials or created:
                values["initials"] = r.initials
            if r.date_of_birth is not None:
                values["date_of_birth"] = r.date_of_birth
            if r.lead_social_worker is not None:
                values["lead_social_worker_id"] = self._staff_id(r.lead_social_worker, staff_ids)
            changed = _set(row, **values)
            self.s.flush()
            ids[r.case_ref] = row.id
            if self._imported("children", "child.imported", created, changed, child_id=row.id):
                self.children_changed.add(row.id)
        return ids

    def _write_plan(self, r: ChildRecord, child_id: int, staff_ids: dict[int, int]) -> bool:
        p = r.plan
        row = self.s.scalar(
            select(models.Plan).where(models.Plan.child_id == child_id, models.Plan.started == p.started)
        )
        created = row is None
        if row is None:
            row = models.Plan(child_id=child_id, started=p.started)
            self.s.add(row)
        changed = _set(
            row,
            plan_number=p.plan_number,
            visit_interval_working_days=p.visit_interval_working_days,
            cp_chair_agreed_interval_on=p.cp_chair_agreed_interval_on,
            cp_chair_agreed_by_id=self._staff_id(r.cp_chair_agreed_by, staff_ids),
            exploitation_concerns=p.exploitation_concerns,
            ended=p.ended,
        )
        self.s.flush()
        wanted = {("review_conference", d) for d in p.review_conferences}
        wanted |= {("core_group_meeting", d) for d in p.core_group_meetings}
        have = (
            {}
            if created
            else {
                (m.kind, m.held_on): m
                for m in self.s.scalars(
                    select(models.PlanMeeting).where(models.PlanMeeting.plan_id == row.id)
                )
            }
        )
        for kind, day in sorted(wanted - set(have)):
            self.s.add(models.PlanMeeting(plan_id=row.id, kind=kind, held_on=day))
            changed = True
        for key in sorted(k for k in set(have) - wanted if k[0] in r.meetings_stated):
            self.s.delete(have[key])
            changed = True
        return self._imported("plans", "plan.imported", created, changed, child_id=child_id, plan_id=row.id)

    def _write_visit(self, v: VisitRecordIn, child_id: int, staff_ids: dict[int, int]) -> None:
        key = f"import:{v.case_ref}:{v.ident}"
        staff_id = self._staff_id(v.by_staff, staff_ids)
        chain = _correction_chain(self.s, key)
        if chain:
            ours = [row for row in chain if (row.source_key or "").startswith(key)]
            if _same_visit(ours[-1], v, staff_id):
                self._count("visits", False, False)
                return
        record_contact(
            self.s,
            child_id,
            v.contact,
            record=v.record,
            by_staff=staff_id,
            visit_group=v.visit_group,
            correction_of=chain[-1].id if chain else None,
            source_key=f"{key}#{ours[-1].id}" if chain else key,
            actor=IMPORT_ACTOR,
            now=self.now,
        )
        self._count("visits", not chain, bool(chain))

    def _fact(
        self,
        kind: str,
        key: str,
        table: Any,
        record: Callable[..., object],
        child_id: int,
        fact: Any,
        **extra: Any,
    ) -> None:
        """`record(session, child_id, fact, **extra)` under the source key `key`, unless a fact of
        `table` already has it."""
        exists = self.s.scalar(select(table.id).where(table.source_key == key)) is not None
        if not exists:
            record(self.s, child_id, fact, source_key=key, actor=IMPORT_ACTOR, now=self.now, **extra)
        self._count(kind, not exists, False)


def apply_caseload(
    session: Session, load: Caseload, *, policies: PolicyCatalogue, now: datetime | None = None
) -> ImportSummary:
    """Check `load` against itself and the database, then write it (see the module docstring).
    Raises `ImportFileError` listing every problem, having written nothing."""
    now = now or datetime.now(UTC)
    job = _Apply(session, load, policies, now)
    with session.no_autoflush:
        job.check()
    if job.problems:
        raise ImportFileError(job.problems)
    with session.begin_nested():
        job.write()
        write_audit(
            session,
            "import.applied",
            actor=IMPORT_ACTOR,
            at=now,
            detail={"source": load.source, **job.summary.as_dict()},
        )
    return job.summary


# -- helpers ----------------------------------------------------------------------------------
def _placed(message: str, at: At) -> str:
    """A FactError message made with the placeholder "\\0" as its `where`, placed at `at`."""
    if message.startswith("\0."):
        return at(message[2:])
    return f"{at()}: {message}"


def _set(row: Any, **values: Any) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def visit_ident(at: datetime, kind: str, visit_ref: str | None = None) -> str:
    """How an imported visit is known again on the next import."""
    return f"ref:{visit_ref}" if visit_ref else f"at:{_utc(at)}:{kind}"


def _children_by_ref(session: Session, refs: Iterable[str]) -> dict[str, models.Child]:
    out: dict[str, models.Child] = {}
    refs = sorted(refs)
    for i in range(0, len(refs), 1000):
        for child in session.scalars(
            select(models.Child).where(models.Child.case_ref.in_(refs[i : i + 1000]))
        ):
            out[child.case_ref] = child
    return out


def _correction_chain(session: Session, key: str) -> list[models.Contact]:
    """The first imported version of a visit and every correction of it, oldest first."""
    first = session.scalar(select(models.Contact).where(models.Contact.source_key == key))
    chain: list[models.Contact] = []
    row = first
    while row is not None:
        chain.append(row)
        row = session.scalar(select(models.Contact).where(models.Contact.correction_of_id == row.id))
    return chain


def _same_visit(row: models.Contact, v: VisitRecordIn, staff_id: int | None) -> bool:
    mine = {name: getattr(v.contact, name) for name in CONTACT_FIELDS}
    mine["by_role"] = mine.pop("by")
    mine |= {name: getattr(v.record, name) for name in VISIT_RECORD_FIELDS}
    mine |= {"by_staff_id": staff_id, "visit_group": v.visit_group}
    return all(getattr(row, name) == value for name, value in mine.items())
