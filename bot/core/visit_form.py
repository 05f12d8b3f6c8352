"""The Record of a Child Protection Visit (RULES.md "Visit record") as a chat-neutral `Form`, and
its submission checked: one contact and record per child visited, or `FormErrors` (field id ->
message). No I/O: Slack shows the form as a modal (`bot.slack.views`), Teams as a dialog
(`bot.teams.dialogs`), and both read the answers through `bot.core.form_answers.Answers`.

Field ids: `at_date`, `at_time`, `kind`, `title`, `present`, `siblings`; for each child `outcome__<ref>`,
`alone__<ref>`, `alone_reason__<ref>`, `alone_concerns__<ref>`, `spoken__<ref>`, `bedroom__<ref>`,
`awake__<ref>` (a baby only), `presentation__<ref>`, `wishes__<ref>`; then `observations`,
`risk_worsened`, `family`, `new_adults`, `sleeping`, `incident`, `new_injury`, and with a
no-one-home note rule (HI-NOONE-NOTE) `note_left`, `note_reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from bot.core.form_answers import Answers, FormErrors, yes_no
from bot.core.model import Form, FormField, Option
from bot.core.parse import TIME_FORMAT
from scheduler.rules import model
from storage.facts import VisitRecord

VISIT_FORM = "seen_visit_record"  # the form's id (Slack's callback id)
SIBLINGS_ACTION = "seen_siblings"  # the sibling choice reports each change: the form gains a part
CONTACT_KIND_TEXT = {
    "home_visit": "Home visit",
    "school_visit": "Visit at school",
    "office": "Seen at the office",
    "other": "Other contact",
}
OUTCOME_TEXT = {
    "seen": "Seen",
    "not-seen": "Not seen",
    "no-one-home": "No one home",
}
YES_NO = (Option("yes", "Yes"), Option("no", "No"))
ALONE = (*YES_NO, Option("not_applicable", "Not applicable (age or understanding)"))


def _options(texts: dict[str, str]) -> tuple[Option, ...]:
    return tuple(Option(v, t) for v, t in texts.items())


# -- the form ------------------------------------------------------------------------------------
@dataclass
class ChildRow:
    ref: str
    initials: str
    baby: bool = False  # under the policy's baby age: "seen awake?" is asked
    outcome: str | None = None  # prefill: seen / not-seen / no-one-home
    alone: str | None = None  # prefill: yes / no / not_applicable
    alone_reason: str | None = None
    bedroom: bool | None = None
    awake: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.initials})" if self.initials else self.ref


@dataclass
class VisitForm:
    """What the form shows: its children (the first is the one it is for; the others siblings seen
    on the same visit), the local wall time to prefill, and its private metadata."""

    children: list[ChildRow]
    at: datetime  # local wall time to prefill
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (ref, label) of siblings
    kind: str = "home_visit"
    no_one_home_note: str | None = None  # rule ID asking for the note (HI-NOONE-NOTE), if any
    metadata: dict[str, Any] = field(default_factory=dict)


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _child_fields(child: ChildRow) -> list[FormField]:
    r = child.ref
    fields = [
        FormField(f"child__{r}", child.label, "heading"),
        FormField(
            f"outcome__{r}", f"{r}: outcome", "radio", options=_options(OUTCOME_TEXT), initial=child.outcome
        ),
        FormField(f"alone__{r}", f"{r}: seen alone?", "select", options=ALONE, initial=child.alone),
        FormField(f"alone_reason__{r}", f"{r}: why not seen alone", "multiline", initial=child.alone_reason),
        FormField(
            f"alone_concerns__{r}",
            "Not seen alone, and I have concerns (the team manager is told)",
            "checkbox",
        ),
        FormField(f"spoken__{r}", f"{r}: spoken with?", "radio", options=YES_NO),
        FormField(
            f"bedroom__{r}", f"{r}: bedroom seen?", "radio", options=YES_NO, initial=_yes_no(child.bedroom)
        ),
    ]
    if child.baby:
        fields.append(
            FormField(
                f"awake__{r}", f"{r}: baby seen awake?", "radio", options=YES_NO, initial=_yes_no(child.awake)
            )
        )
    return [
        *fields,
        FormField(f"presentation__{r}", f"{r}: presentation and behaviour", "multiline"),
        FormField(
            f"wishes__{r}",
            f"{r}: wishes and feelings",
            "multiline",
            hint="Best written in the child's own words",
        ),
    ]


def visit_form(form: VisitForm) -> Form:
    """The Record of a Child Protection Visit, one part per child; every answer is checked on
    submission (read_visit), none by the platform, so both show the same messages."""
    fields = [
        FormField("intro", f"Record of a Child Protection Visit for {form.children[0].label}", "heading"),
        FormField(
            "intro_siblings",
            "Brothers or sisters seen on the same visit can be added below, one outcome each.",
            "section",
        ),
        FormField("at_date", "Date of the visit", "date", initial=form.at.date()),
        FormField(
            "at_time", "Time of the visit", "time", initial=form.at.time().replace(second=0, microsecond=0)
        ),
        FormField(
            "kind", "Kind of contact", "select", options=_options(CONTACT_KIND_TEXT), initial=form.kind
        ),
        FormField(
            "title",
            "Title (for a contact other than a home visit)",
            "text",
            hint='e.g. "visit to a child at school"',
        ),
        FormField("present", "Who was present", "multiline"),
    ]
    if form.candidates:
        fields.append(
            FormField(
                "siblings",
                "Other children seen on this visit (one outcome each)",
                "multiselect",
                options=tuple(Option(ref, label) for ref, label in form.candidates[:100]),
                initial=tuple(c.ref for c in form.children[1:]),
                dispatch=SIBLINGS_ACTION,
            )
        )
    shown: set[str] = set()
    for child in form.children:
        if child.ref not in shown:  # a child named twice has one part
            shown.add(child.ref)
            fields += _child_fields(child)
    fields += [
        FormField("risks", "Risks and the family", "heading"),
        FormField("observations", "Observations on the identified risks", "multiline"),
        FormField("risk_worsened", "The risks have worsened greatly (a manager is told at once)", "checkbox"),
        FormField("family", "Circumstances of all family members", "multiline"),
        FormField("new_adults", "New adults or young people in the home", "multiline"),
        FormField("sleeping", "Sleeping arrangements", "multiline"),
        FormField("incident", "New incident or injury", "multiline"),
        FormField("new_injury", "There is a new incident or injury (full CP enquiries start)", "checkbox"),
    ]
    if form.no_one_home_note:
        fields += [
            FormField(
                "note_left",
                f"No one home: was a note left? [{form.no_one_home_note}]",
                "radio",
                options=YES_NO,
                hint="With the call-back time and contact details",
            ),
            FormField("note_reason", "Why no note was left", "multiline"),
        ]
    return Form(VISIT_FORM, "Child protection visit", "Save record", tuple(fields), dict(form.metadata))


# -- the answers ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChildMeta:
    ref: str
    baby: bool
    by: str  # engine role of the visitor for this child (lead or duty social worker, or a manager)


@dataclass(frozen=True, slots=True)
class VisitEntry:
    ref: str
    contact: model.Contact
    record: VisitRecord


def read_visit(
    answers: Answers,
    children: list[ChildMeta],
    *,
    tz: tzinfo,
    now: datetime,
    qualified: bool,
    note_rule: str | None,
) -> list[VisitEntry]:
    """The contacts of a submitted visit record, one per child visited; `FormErrors` otherwise."""
    errors: dict[str, str] = {}
    at = _visit_time(answers, tz, now, errors)
    kind = answers.choice("kind") or "home_visit"
    title = answers.text("title")
    if kind != "home_visit" and not title:
        errors["title"] = 'Give the contact a title, e.g. "visit to a child at school"'
    present = answers.text("present")
    incident = answers.text("incident")
    new_injury = answers.checked("new_injury")
    if new_injury and not incident:
        errors["incident"] = "Describe the new incident or injury"
    risk_worsened = answers.checked("risk_worsened")
    observations = answers.text("observations")
    if risk_worsened and not observations:
        errors["observations"] = "Say how the risks have worsened"
    note_left = yes_no(answers, "note_left")
    note_reason = answers.text("note_reason")

    entries: list[tuple[ChildMeta, dict[str, Any]]] = []
    any_no_one_home = False
    for child in children:
        i = child.ref
        outcome = answers.choice(f"outcome__{i}")
        if outcome is None:
            errors[f"outcome__{i}"] = "Say whether the child was seen"
            continue
        seen = outcome == "seen"
        no_one_home = outcome == "no-one-home"
        if no_one_home and kind != "home_visit":
            errors[f"outcome__{i}"] = "No one home applies to a home visit only"
        any_no_one_home |= no_one_home
        alone = answers.choice(f"alone__{i}")
        reason = answers.text(f"alone_reason__{i}")
        if seen and alone is None:
            errors[f"alone__{i}"] = "Say whether the child was seen alone"
        if not seen and alone in ("yes", "not_applicable"):
            errors[f"alone__{i}"] = "The child was not seen, so cannot have been seen alone"
        if alone == "no" and not reason:
            errors[f"alone_reason__{i}"] = "Say why the child was not seen alone"
        bedroom = yes_no(answers, f"bedroom__{i}")
        if seen and kind == "home_visit" and bedroom is None:
            errors[f"bedroom__{i}"] = "Say whether the child's bedroom was seen"
        awake = yes_no(answers, f"awake__{i}") if child.baby else None
        if child.baby and seen and awake is None:
            errors[f"awake__{i}"] = "Say whether the baby was seen awake"
        entries.append(
            (
                child,
                {
                    "child_seen": seen,
                    "no_one_home": no_one_home,
                    "seen_alone": alone if seen else ("no" if alone == "no" else None),
                    "seen_alone_reason": reason if alone == "no" else None,
                    "alone_concerns": answers.checked(f"alone_concerns__{i}") and alone == "no",
                    "bedroom_seen": bedroom if kind == "home_visit" else None,
                    "child_awake": awake,
                    "spoken_with": yes_no(answers, f"spoken__{i}"),
                    "presentation": answers.text(f"presentation__{i}"),
                    "wishes_feelings": answers.text(f"wishes__{i}"),
                },
            )
        )
    if any_no_one_home and note_rule:
        if note_left is None:
            errors["note_left"] = f"Say whether a note was left ({note_rule})"
        elif not note_left and not note_reason:
            errors["note_reason"] = f"Say why no note was left ({note_rule})"
    if errors:
        raise FormErrors(errors)
    assert at is not None
    out = []
    for child, e in entries:
        contact = model.Contact(
            at=at,
            kind=kind,
            by=child.by,
            qualified=qualified,
            child_seen=e["child_seen"],
            seen_alone=e["seen_alone"],
            seen_alone_reason=e["seen_alone_reason"],
            bedroom_seen=e["bedroom_seen"],
            child_awake=e["child_awake"],
            recorded_at=max(now, at),
            no_one_home=e["no_one_home"],
            note_left=note_left if e["no_one_home"] else None,
            note_not_left_reason=note_reason if e["no_one_home"] and note_left is False else None,
            risk_worsened=risk_worsened,
            new_injury=new_injury,
            alone_concerns=e["alone_concerns"],
        )
        record = VisitRecord(
            present=present,
            spoken_with=e["spoken_with"],
            observations=observations,
            family_circumstances=answers.text("family"),
            new_adults=answers.text("new_adults"),
            sleeping_arrangements=answers.text("sleeping"),
            presentation=e["presentation"],
            wishes_feelings=e["wishes_feelings"],
            incident_or_injury=incident,
            contact_title=title,
        )
        out.append(VisitEntry(child.ref, contact, record))
    return out


def _visit_time(answers: Answers, tz: tzinfo, now: datetime, errors: dict[str, str]) -> datetime | None:
    day, clock = answers.day("at_date"), answers.clock("at_time")
    if not day:
        errors["at_date"] = "Give the date of the visit"
        return None
    if not clock:
        errors["at_time"] = "Give the time of the visit"
        return None
    try:
        at = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tz)
    except ValueError:
        errors["at_date"] = "time must be like 2026-12-21 10:30"
        return None
    if at > now:
        errors["at_date"] = (
            f"a visit cannot be in the future ({at.strftime(TIME_FORMAT)} is after "
            f"{now.astimezone(tz).strftime(TIME_FORMAT)})"
        )
        return None
    return at
