"""Messages and forms of the kinds Seen sends, for the renderer tests (both platforms)."""

from __future__ import annotations

from datetime import date, time

from bot.core.model import Action, Field, Form, FormField, Message, Option

KEY = {"k": "CB-NOTSEEN-DISCUSS:C-1042:prompt", "c": "C-1042", "r": "CB-NOTSEEN-DISCUSS"}

PROMPT = Message(
    fallback="C-1042 (A.B.) was not seen on the visit of 21 Dec: decide what next [CB-NOTSEEN-DISCUSS]",
    header="Child not seen: C-1042 (A.B.)",
    sections=(
        "The visit on 21 Dec did not see the child. Discuss with the social worker and record a decision"
        " by 22 Dec 17:00 under CB-NOTSEEN-DISCUSS.",
    ),
    fields=(
        Field("Rule", "CB-NOTSEEN-DISCUSS"),
        Field("Due", "22 Dec 17:00"),
        Field("Owner", "team manager"),
    ),
    context="Reply in this thread to keep a case note on this child.",
    actions=(
        Action("seen_ack", "Acknowledge", value=KEY, primary=True),
        Action("seen_decision", "Record decision", kind="open_form", value=KEY),
    ),
)
REMINDER = Message(
    fallback="C-2001 (J.K.) home visit due by 14 Jan [HI-VISIT-20WD]",
    sections=("C-2001 (J.K.): home visit due by 14 Jan under HI-VISIT-20WD.",),
    actions=(
        Action("seen_log_visit", "Log visit", kind="open_form", value={"c": "C-2001"}, primary=True),
        Action("seen_snooze", "Snooze until tomorrow", value={"c": "C-2001"}),
    ),
)
DUE_LIST = Message(
    fallback="Due this week for Team North: 3 children",
    header="Due this week: Team North",
    sections=("Overdue\n- C-1042 (A.B.) home visit, 2 days overdue", "Due\n1. C-2001 (J.K.) by 14 Jan"),
)
# Text that a Markdown renderer or a card template would change: it must be shown as written.
AWKWARD = Message(
    fallback="*not bold* _not italic_ [not a link](http://x) <at>x</at> {{DATE(2026-12-21T10:00:00Z)}}",
    sections=("# not a heading\n> not a quote\n+ not a list\n2. not numbered\n`code` ~strike~ \\ & < >",),
    fields=(Field("A & B <c>", "*x* {{TIME(2026-12-21T10:00:00Z)}}"),),
    context="_small_ print",
)
BARE = Message(fallback="Only a fallback line.")

OUTCOMES = (Option("seen", "Seen"), Option("not-seen", "Not seen"), Option("no-one-home", "No one home"))
VISIT_FORM = Form(
    id="seen_visit_record",
    title="Record a visit",
    submit="Save",
    metadata={"c": "C-1042", "from": "CB-VISIT-10WD:C-1042:reminder"},
    fields=(
        FormField("date", "Date of the visit", "date", required=True, initial=date(2026, 12, 21)),
        FormField("time", "Time", "time", required=True, initial=time(10, 30)),
        FormField("outcome", "Outcome", "select", required=True, options=OUTCOMES, initial="seen"),
        FormField("bedroom", "Bedroom seen", "checkbox", initial=True),
        FormField("alone", "Seen alone", "checkbox"),
        FormField("reason", "Why not seen alone", "text", hint="Only when the child was not seen alone"),
        FormField("note", "What you saw", "multiline", initial="Child well, playing."),
    ),
)
DECISION_FORM = Form(
    id="seen_decision",
    title="Decision: C-1042 (A.B.) not seen",
    submit="Record decision",
    metadata={"c": "C-1042", "r": "CB-NOTSEEN-DISCUSS"},
    fields=(
        FormField(
            "outcome",
            "Decision",
            "select",
            required=True,
            options=(
                Option("further_visit", "A further visit"),
                Option("emergency_action", "Emergency action"),
            ),
            initial="not-an-option",
        ),
        FormField("within", "Within (working days)", "text", required=True, initial="3", max_length=2),
        FormField("note", "Note", "multiline", required=True),
    ),
)
MESSAGES = (PROMPT, REMINDER, DUE_LIST, AWKWARD, BARE)
FORMS = (VISIT_FORM, DECISION_FORM)
