"""The authorization matrix (issue 4 "Who may do what", RULES.md, README "Who can see what"), as a
table: every role × every action × a child of the person's own team (North, C-1042) and a child of
another team (South, C-2001), over real HTTP against the real Bolt app.

- A worker logs visits, opens and submits records, adds notes and snoozes reminders only for
  children of their own team (anyone in the team but an administrator).
- Only managers of the child's team (team manager, practice manager, head of service), or a
  practice manager or head of service with no team (they cover every team), acknowledge and decide
  the team's prompts; a prompt owned by the CP chair (CB-30WD-ANY's chair stage) is for a CP chair
  of the team or with no team.
- A child's deadlines (/seen child, /seen team, App Home) are shown to the child's team, and to
  managers and chairs with no team; an administrator or worker with no team sees no child.
- App Home lists a worker's own children (those they lead), a manager's or chair's team.
- Staff unknown to Seen, or no longer active, are told to ask an administrator.

Every allowed cell writes what the action writes and an audit row naming it. Every refused cell
answers with the refusal and changes nothing: every table has the rows it had, except the audit
log's own `slack.refused` row for the refusal (a refusal is audited too).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import AuditLog
from tests.bot.conftest import Running, radio, seen_form, text, view_state
from tests.bot.conftest import select as choose
from tests.storage.conftest import count_rows

OWN, OTHER = "C-1042", "C-2001"  # North (the staff's team) and South

# A: allowed, R: refused; the first letter for the own team's child, the second for the other
# team's child. (* no team: the person covers every team, or none.)
TABLE = """
role               user     log open submit note ack decide chair-ack chair-decide snooze child team home
social_worker      U0SW     AR  AR   AR     AR   RR  RR     RR        RR           AR     AR    AR   AR
duty_social_worker U0DSW    AR  AR   AR     AR   RR  RR     RR        RR           AR     AR    AR   RR
team_manager       U0TM     AR  AR   AR     AR   AR  AR     RR        RR           AR     AR    AR   AR
practice_manager   U0PMN    AR  AR   AR     AR   AR  AR     RR        RR           AR     AR    AR   AR
head_of_service    U0HOSN   AR  AR   AR     AR   AR  AR     RR        RR           AR     AR    AR   AR
cp_chair           U0CHAIRN AR  AR   AR     AR   RR  RR     AR        AR           AR     AR    AR   AR
admin              U0ADMN   RR  RR   RR     RR   RR  RR     RR        RR           RR     AR    AR   RR
practice_manager*  U0PM     RR  RR   RR     RR   AA  AA     RR        RR           RR     AA    AA   AA
head_of_service*   U0HOS    RR  RR   RR     RR   AA  AA     RR        RR           RR     AA    AA   AA
cp_chair*          U0CHAIR  RR  RR   RR     RR   RR  RR     AA        AA           RR     AA    AA   AA
admin*             U0ADM    RR  RR   RR     RR   RR  RR     RR        RR           RR     RR    RR   RR
unknown            U0NOBODY RR  RR   RR     RR   RR  RR     RR        RR           RR     RR    RR   RR
inactive           U0GONE   RR  RR   RR     RR   RR  RR     RR        RR           RR     RR    RR   RR
"""
_lines = [line.split() for line in TABLE.strip().splitlines()]
ACTIONS = _lines[0][2:]
MATRIX = {(row[0], row[1]): dict(zip(ACTIONS, row[2:], strict=True)) for row in _lines[1:]}
UNKNOWN = "Ask an administrator"
_n = itertools.count(1)


@dataclass
class Outcome:
    allowed: bool
    message: str
    new_audit: list[str] = field(default_factory=list)
    delta: dict[str, int] = field(default_factory=dict)


def _wait(app: Running, before: dict[str, int], timeout: float = 10) -> str:
    """Wait until one of the Web API methods in `before` was called once more; its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for method, count in before.items():
            if len(app.fake.of(method)) > count:
                return method
        time.sleep(0.01)
    raise AssertionError(f"no answer: none of {sorted(before)} was called")


def _counts(app: Running, *methods: str) -> dict[str, int]:
    return {m: len(app.fake.of(m)) for m in methods}


def _command(app: Running, user: str, line: str) -> tuple[bool, str]:
    answers = _counts(app, "response_url")
    reply = app.slack.command(user, line)
    assert reply.status == 200, reply.body
    _wait(app, answers)
    message = app.fake.of("response_url")[answers["response_url"]].body["text"]
    return not message.startswith(":warning:"), message


def _click(app: Running, user: str, action_id: str, value: dict[str, Any]) -> tuple[bool, str]:
    before = _counts(app, "response_url", "chat.update")
    n = next(_n)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0001"},
        "trigger_id": app.fake.trigger(),
        "container": {"type": "message", "channel_id": "D0MATRIX", "message_ts": f"{n}.000100"},
        "channel": {"id": "D0MATRIX"},
        "message": {"ts": f"{n}.000100", "text": "A prompt"},
        "response_url": app.fake.response_url(f"matrix{n}"),
        "actions": [
            {"action_id": action_id, "block_id": "seen_actions", "type": "button", "value": json.dumps(value)}
        ],
    }
    assert app.slack.interaction(payload).status == 200
    if _wait(app, before) == "chat.update":
        return True, app.fake.of("chat.update")[-1].body["text"]
    return False, app.fake.of("response_url")[before["response_url"]].body["text"]


def _submit(
    app: Running, user: str, callback: str, meta: dict[str, Any], values: dict[str, Any]
) -> tuple[bool, str]:
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0001"},
        "trigger_id": app.fake.trigger(),
        "view": {
            **(form := seen_form(callback, meta)),
            "id": f"V0MATRIX{next(_n)}",
            "hash": "h",
            "state": {"values": view_state(form, values)},
        },
    }
    reply = app.slack.interaction(payload)
    assert reply.status == 200, reply.body
    if reply.body == "":
        return True, ""
    errors = reply.json()["errors"]
    return False, " ".join(errors.values())


def _listed(app: Running, user: str, ref: str, line: str) -> tuple[bool, str]:
    allowed, message = _command(app, user, line)
    return allowed and ref in message, message


def _home(app: Running, user: str, ref: str) -> tuple[bool, str]:
    before = _counts(app, "views.publish")
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    assert app.slack.event(event, f"Ev{next(_n)}").status == 200
    _wait(app, before)
    view = json.dumps(app.fake.of("views.publish")[-1].body["view"])
    return UNKNOWN not in view and ref in view, view


def _visit_values(ref: str) -> dict[str, Any]:
    return {
        "at_date": {"v": {"type": "datepicker", "selected_date": "2026-11-23"}},
        "at_time": {"v": {"type": "timepicker", "selected_time": "10:30"}},
        "kind": choose("home_visit"),
        f"outcome__{ref}": radio("seen"),
        f"alone__{ref}": choose("yes"),
        f"bedroom__{ref}": radio("yes"),
    }


def _prompt(ref: str, rule: str, owner: str) -> dict[str, Any]:
    key = f"{ref}:{rule}:{owner}:matrix-{next(_n)}"
    return {"k": f"{key}:prompt", "o": key, "c": ref, "r": rule, "w": owner}


# action -> (perform, what an allowed one writes (table -> rows added), the audit action it writes,
#            what a refusal says (besides UNKNOWN for people Seen does not know))
Perform = Callable[[Running, str, str], tuple[bool, str]]
SPEC: dict[str, tuple[Perform, dict[str, int], str | None, str]] = {
    "log": (
        lambda app, user, ref: _command(app, user, f"log {ref} seen alone bedroom at 2026-11-23 10:00"),
        {"contacts": 1},
        "contact.recorded",
        "only for children of your own team",
    ),
    "open": (
        lambda app, user, ref: _command(app, user, f"record {ref}"),
        {},
        "record_form.opened",
        "only for children of your own team",
    ),
    "submit": (
        lambda app, user, ref: _submit(
            app, user, "seen_visit_record", {"c": ref, "s": [], "x": None}, _visit_values(ref)
        ),
        {"contacts": 1},
        "contact.recorded",
        "only for children of your own team",
    ),
    "note": (
        lambda app, user, ref: _command(app, user, f"note {ref} Spoke to the school nurse"),
        {"case_notes": 1},
        "case_note.added",
        "only for children of your own team",
    ),
    "ack": (
        lambda app, user, ref: _click(
            app, user, "seen_ack", _prompt(ref, "CB-NOTSEEN-DISCUSS", "team_manager")
        ),
        {"acknowledgements": 1},
        "acknowledged",
        "Only a manager of the child's team can acknowledge or decide this prompt",
    ),
    "decide": (
        lambda app, user, ref: _submit(
            app,
            user,
            "seen_decision",
            _prompt(ref, "CB-NOTSEEN-DISCUSS", "team_manager"),
            {"outcome": radio("further_visit"), "days": choose("3"), "note": text("Revisit on Thursday")},
        ),
        {"decisions": 1, "case_notes": 1},
        "decision.recorded",
        "Only a manager of the child's team can acknowledge or decide this prompt",
    ),
    "chair-ack": (
        lambda app, user, ref: _click(app, user, "seen_ack", _prompt(ref, "CB-30WD-ANY", "cp_chair")),
        {"acknowledgements": 1},
        "acknowledged",
        "Only a CP chair can acknowledge or decide this prompt",
    ),
    "chair-decide": (
        lambda app, user, ref: _submit(
            app,
            user,
            "seen_decision",
            _prompt(ref, "CB-30WD-ANY", "cp_chair"),
            {"outcome": radio("chair_notified")},
        ),
        {"decisions": 1, "case_notes": 1},
        "decision.recorded",
        "Only a CP chair can acknowledge or decide this prompt",
    ),
    "snooze": (
        lambda app, user, ref: _click(
            app,
            user,
            "seen_snooze",
            {"k": f"{ref}:CB-VISIT-10WD:matrix-{next(_n)}", "c": ref, "r": "CB-VISIT-10WD"},
        ),
        {"acknowledgements": 1},
        "reminder.snoozed",
        "only for children of your own team",
    ),
    "child": (
        lambda app, user, ref: _command(app, user, f"child {ref}"),
        {},
        "case.viewed",
        "is not a child of your team",
    ),
    # seeing a list: "refused" for a child means the child is not on it
    "team": (lambda app, user, ref: _listed(app, user, ref, "team"), {}, "team_list.viewed", "in no team"),
    "home": (_home, {}, "home.viewed", ""),
}
assert set(SPEC) == set(ACTIONS)

CELLS = [
    pytest.param(who, user, action, scope, cells[action][i] == "A", id=f"{who}-{action}-{scope}")
    for (who, user), cells in MATRIX.items()
    for action in ACTIONS
    for i, scope in enumerate(("own team", "other team"))
]


def _audit_after(app: Running, last_id: int) -> list[str]:
    with app.factory() as s:
        return list(s.scalars(select(AuditLog.action).where(AuditLog.id > last_id).order_by(AuditLog.id)))


@pytest.mark.parametrize(("who", "user", "action", "scope", "allowed"), CELLS)
def test_authorization_matrix(
    app: Running, who: str, user: str, action: str, scope: str, allowed: bool
) -> None:
    ref = OWN if scope == "own team" else OTHER
    perform, writes, audit_action, refusal = SPEC[action]
    with app.factory() as s:
        before = count_rows(s)
        last_id = s.scalar(select(func.max(AuditLog.id))) or 0
    done, message = perform(app, user, ref)
    with app.factory() as s:
        after = count_rows(s)
    audit = _audit_after(app, last_id)
    delta = {t: after[t] - before[t] for t in after if after[t] != before[t] and t != "audit_log"}

    if allowed:
        assert done, f"{who} should be able to {action} for a child of the {scope}: {message[:300]}"
        assert audit_action in audit, audit
        assert delta == writes, delta
        return
    assert not done, f"{who} should not be able to {action} for a child of the {scope}"
    if action in ("team", "home") and user not in ("U0NOBODY", "U0GONE") and "slack.refused" not in audit:
        # a list the person may see, without the child: only the viewing is recorded
        assert ref not in message and delta == {} and audit == [audit_action], (audit, delta)
        return
    assert (UNKNOWN if user in ("U0NOBODY", "U0GONE") else refusal) in message, message
    assert delta == {}, f"a refused {action} wrote {delta}"
    assert set(audit) <= {"slack.refused"} and len(audit) <= 1, audit
