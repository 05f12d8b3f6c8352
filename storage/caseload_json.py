"""The caseload JSON: teams, staff and DESIGN.md case files -> `Caseload`.

The shape is documented in `storage.importer`. Every problem names its place in the document,
e.g. `cases[2].contacts[0].seen_alone_reason: required when seen_alone is "no"`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from scheduler.rules.casefile import CaseFileError, field_name, parse_case_mapping
from storage.caseload import (
    At,
    Caseload,
    ChildRecord,
    DecisionRecord,
    ImportFileError,
    SightingRecord,
    StaffRecord,
    TeamRecord,
    VisitRecordIn,
    case_ref_problem,
    initials_problem,
    text_problem,
    unstorable,
    visit_ident,
)
from storage.models import STAFF_ROLES

CASE_EXTRAS = ("team", "initials", "lead_social_worker")


class _Bad(ValueError):
    pass


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{name}: must be a non-empty string")
    return value.strip()


def _fits(value: str | None, field: str, name: str) -> str | None:
    """`value`, if the database can hold it as `field` (storage.caseload.TEXT_LIMITS)."""
    problem = None if value is None else text_problem(value, field)
    if problem:
        raise _Bad(f"{name}: {problem}")
    return value


def _unstorable(value: Any, where: str) -> list[str]:
    """Every string of an entry the database cannot hold (NUL, unpaired surrogates), by place."""
    if isinstance(value, str):
        problem = unstorable(value)
        return [f"{where}: {problem}"] if problem else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unstorable(v, f"{where}.{field_name(str(k))}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unstorable(v, f"{where}[{i}]")]
    return []


def _opt_str(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    return None if value is None else _str(value, f"{where}.{key}")


def _opt_bool(data: dict[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Bad(f"{where}.{key}: must be true or false, not {json.dumps(value)}")
    return value


def _object(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: must be a JSON object")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _Bad(f"{where}.{field_name(unknown[0])}: unknown field")
    return value


def _team(value: Any, where: str, policy_names: Collection[str]) -> TeamRecord:
    data = _object(value, where, ("name", "policy", "slack_channel"))
    policy = _str(data.get("policy"), f"{where}.policy")
    if policy not in policy_names:
        raise _Bad(f"{where}.policy: must be one of {', '.join(sorted(policy_names))}, not {policy!r}")
    return TeamRecord(
        At(where, "."),
        name=_fits(_str(data.get("name"), f"{where}.name"), "team", f"{where}.name"),
        policy=policy,
        slack_channel=_fits(
            _opt_str(data, "slack_channel", where), "slack_channel", f"{where}.slack_channel"
        ),
    )


def _staff(value: Any, where: str) -> StaffRecord:
    keys = ("name", "role", "email", "chat_user_id", "qualified_registered", "team", "active")
    data = _object(value, where, keys)
    role = _str(data.get("role"), f"{where}.role")
    if role not in STAFF_ROLES:
        raise _Bad(f"{where}.role: must be one of {', '.join(STAFF_ROLES)}, not {role!r}")
    return StaffRecord(
        At(where, "."),
        name=_fits(_str(data.get("name"), f"{where}.name"), "name", f"{where}.name"),
        role=role,
        email=_fits(_opt_str(data, "email", where), "email", f"{where}.email"),
        chat_user_id=_fits(_opt_str(data, "chat_user_id", where), "chat_user_id", f"{where}.chat_user_id"),
        qualified_registered=_opt_bool(data, "qualified_registered", where),
        team=_opt_str(data, "team", where),
        active=_opt_bool(data, "active", where),
    )


def _case(value: Any, where: str, load: Caseload) -> None:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: must be a JSON object (a case file)")
    extras = {k: value[k] for k in CASE_EXTRAS if k in value}
    try:
        case_file = parse_case_mapping({k: v for k, v in value.items() if k not in CASE_EXTRAS})
    except CaseFileError as exc:
        raise _Bad(f"{where}.{exc}") from None
    case = case_file.case
    if problem := case_ref_problem(case.child.ref):
        raise _Bad(f"{where}.child.ref: {problem}")
    ref = case.child.ref
    initials = _opt_str(extras, "initials", where) or ""
    if initials and (problem := initials_problem(initials, json.dumps(initials))):
        raise _Bad(f"{where}.initials: {problem}")
    _fits(initials, "initials", f"{where}.initials")
    for i, sighting in enumerate(case.agency_sightings):
        _fits(sighting.agency, "agency", f"{where}.agency_sightings[{i}].agency")
    for i, decision in enumerate(case.decisions):
        _fits(decision.rule, "rule", f"{where}.decisions[{i}].rule")
    load.children.append(
        ChildRecord(
            At(where, "."),
            case_ref=ref,
            initials=initials,
            plan=case.plan,
            date_of_birth=case.child.date_of_birth,
            team=_opt_str(extras, "team", where),
            policy=case_file.policy,
            lead_social_worker=_opt_str(extras, "lead_social_worker", where),
        )
    )
    for i, contact in enumerate(case.contacts):
        load.visits.append(
            VisitRecordIn(
                At(f"{where}.contacts[{i}]", "."),
                case_ref=ref,
                ident=visit_ident(contact.at, contact.kind),
                contact=contact,
            )
        )
    for i, sighting in enumerate(case.agency_sightings):
        load.sightings.append(SightingRecord(At(f"{where}.agency_sightings[{i}]", "."), ref, sighting))
    for i, decision in enumerate(case.decisions):
        load.decisions.append(DecisionRecord(At(f"{where}.decisions[{i}]", "."), ref, decision))


def parse_json_caseload(
    data: Any, source: str = "caseload.json", *, policy_names: Collection[str]
) -> Caseload:
    """Every record of the document, or `ImportFileError` listing every bad entry. A team's
    policy is one of `policy_names`."""
    if isinstance(data, list):
        data = {"cases": data}
    if not isinstance(data, dict):
        raise ImportFileError(["caseload: must be a JSON object or a list of case files"])
    problems: list[str] = []
    unknown = sorted(set(data) - {"teams", "staff", "cases"})
    if unknown:
        problems.append(f"{field_name(unknown[0])}: unknown field (expected teams, staff, cases)")
    load = Caseload(source=source)
    for part in ("teams", "staff", "cases"):
        entries = data.get(part, [])
        if not isinstance(entries, list):
            problems.append(f"{part}: must be a list")
            continue
        for i, value in enumerate(entries):
            where = f"{part}[{i}]"
            unfit = _unstorable(value, where)
            if unfit:
                problems += unfit
                continue
            try:
                if part == "teams":
                    load.teams.append(_team(value, where, policy_names))
                elif part == "staff":
                    load.staff.append(_staff(value, where))
                else:
                    _case(value, where, load)
            except _Bad as exc:
                problems.append(str(exc).replace(f"{where}.case file", where))
    if problems:
        raise ImportFileError(problems)
    return load
