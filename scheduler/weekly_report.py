"""The weekly timeliness post (issue 14, "In chat"), and the summary `/seen stats` answers with.

Each week, on the policy's `[reports] weekly_post_weekday` at `weekly_post_at` (local time), every
team's channel gets its summary: the four headline numbers of the month so far
(`scheduler.report_chart.HEADLINE`: statutory visits on time, children seen alone at their last
visit, not-seen discussions decided in time, records made in time), counts only, and the chart of
its statutory visits on time over the last CHART_MONTHS months against the council's target. A team
without a channel sends it to its team managers instead, as the due list does. Each practice manager
and head of service gets one message covering their teams (their own team, or every team when they
have none) with one chart of those teams together.

A post day that is not a working day (a bank holiday Monday) moves the post to the next working day,
same time. A post missed while Seen was down goes when it is back (marked late) until the end of the
working day after its day; later than that, the next week's post carries the figures.

Through the outbox like every message, under keys of the ISO week of the post's weekday
(`report:team<id>:<2026-W48>`, `…:s<staff>` to a manager of a team without a channel,
`report:staff<id>:<2026-W48>`), so a re-run, a restart or a second replica sends nothing twice. The
chart's PNG travels in the row's payload (`scheduler.messenger.with_image`).
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.messenger import Image, with_image
from scheduler.outbox import pending_row
from scheduler.policies import load_policy
from scheduler.rules.model import SENIOR_MANAGERS
from scheduler.rules.policy import WEEKDAYS, Policy
from storage.models import Outbox, SchedulerState, Staff, Team

if TYPE_CHECKING:
    from scheduler.loop import Runtime
    from scheduler.report_chart import TeamSummary
    from scheduler.reports import Row

log = logging.getLogger("seen.report")
STAGE = "weekly-report"
CHART_MONTHS = 3  # the chart's months, this one included
CHART_COLOURS = 32  # the PNG as a palette of this many colours: a third of the size, looks the same
LATE_NOTE = "_Sent late: Seen was not running at the usual time._"
_drawing = threading.Lock()  # matplotlib's pyplot is not thread-safe: one chart at a time


@dataclass(frozen=True, slots=True)
class Post:
    """A summary as a message: its words (mrkdwn, counts only) and its chart."""

    text: str
    image: Image


@dataclass(frozen=True, slots=True)
class Figures:
    """One team's rows of the measures over the chart's months, and its summary."""

    team: Team
    policy: Policy
    first: str
    last: str
    rows: list[Row]
    summary: TeamSummary


def covered_teams(session: Session, staff: Staff) -> list[Team]:
    """The teams whose figures `staff` sees: their own team; every team for a practice manager or
    head of service with no team (as they decide every team's prompts, bot.core.access)."""
    if staff.team_id is not None:
        team = session.get(Team, staff.team_id)
        return [team] if team is not None else []
    if staff.role in SENIOR_MANAGERS:
        return list(session.scalars(select(Team).order_by(Team.name)))
    return []


def figures(session: Session, team: Team, now: datetime) -> Figures:
    """The team's measures from CHART_MONTHS months back to this month (local), as known `now`."""
    from scheduler.report_chart import team_summary
    from scheduler.report_command import report_children
    from scheduler.reports import measures

    policy = load_policy(team.policy_id)
    first, last = _months(now.astimezone(policy.timezone).date())
    rows = measures(report_children(session, load_policy, team=team.name), first, last, now)
    target = policy.reports.on_time_target_percent
    with _drawing:
        summary = team_summary(rows, team.name, first, last, target)
    return Figures(team, policy, first, last, rows, summary)


def post(figs: list[Figures], heading: str, note: str = "") -> Post:
    """The message of a summary: `heading`, each team's four numbers, and the chart (the team's, or
    of all of `figs`' teams together)."""
    from scheduler.report_chart import HEADLINE, on_time_chart

    lines = [heading, *([note] if note else [])]
    month = _month_words(figs[0].last)
    for f in figs:
        lines.append(f"*{f.team.name}*, {month} so far:" if len(figs) > 1 else f"{month} so far:")
        lines += [f"• {words}: {_value(f.summary.headline[name])}" for name, words in HEADLINE]
    target = figs[0].policy.reports.on_time_target_percent
    label = figs[0].team.name if len(figs) == 1 else "All teams"
    if len(figs) == 1:
        png = figs[0].summary.png
    else:
        out = io.BytesIO()
        rows = [r for f in figs for r in f.rows]
        with _drawing:
            on_time_chart(rows, label, figs[0].first, figs[0].last, target, out)
        png = out.getvalue()
    period = f"{_month_words(figs[0].first)} to {month}"
    lines.append(f"The chart: statutory visits on time by month, {period}, against the {target}% target.")
    alt = f"{label}: statutory visits on time by month, {period}, as bars, against the {target}% target"
    name = f"{label} statutory visits on time {figs[0].last}.png"
    return Post("\n".join(lines), Image(_compact(png), name, alt))


def stats_post(session: Session, teams: list[Team], now: datetime) -> Post:
    """What `/seen stats` answers: the summary of `teams` (one at least) as known now."""
    figs = [figures(session, t, now) for t in teams]
    who = figs[0].team.name if len(figs) == 1 else "your teams"
    local = now.astimezone(figs[0].policy.timezone)
    return post(figs, f"*Timeliness of {who}* · {local.day} {local:%B %Y %H:%M}")


# -- the weekly post --------------------------------------------------------------------------
def post_due(policy: Policy, now: datetime) -> tuple[str, datetime] | None:
    """(the ISO week, the time the post is due) when this week's post is due by `now` and not past
    its catch-up (the end of the working day after its day), else None."""
    tz = policy.timezone
    today = now.astimezone(tz).date()
    named = today - timedelta(days=(today.weekday() - WEEKDAYS.index(policy.reports.weekly_post_weekday)) % 7)
    day = _working_on_or_after(policy, named)
    at = datetime.combine(day, policy.reports.weekly_post_at, tz)
    if now < at or today > _working_on_or_after(policy, day + timedelta(days=1)):
        return None
    year, week, _ = named.isocalendar()
    return f"{year}-W{week:02d}", at


def write_weekly_reports(factory: sessionmaker[Session], now: datetime) -> int:
    """Write the week's posts whose time has come and that are not written yet; returns the rows
    written. The figures are counted outside the write transaction, which only adds the rows."""
    rows: list[dict[str, Any]] = []
    markers: list[str] = []
    with factory() as session:
        due = []
        for team in session.scalars(select(Team).order_by(Team.id)):
            found = post_due(load_policy(team.policy_id), now)
            if found is not None and session.get(SchedulerState, f"report:team{team.id}:{found[0]}") is None:
                due.append((team, *found))
        if not due:
            return 0
        cache: dict[int, Figures] = {}

        def figs_of(team: Team) -> Figures:
            if team.id not in cache:
                cache[team.id] = figures(session, team, now)
            return cache[team.id]

        for team, week, at in due:
            note = _late(figs_of(team).policy, now, at)
            team_post = post([figs_of(team)], f"*Timeliness this week: {team.name}* · week {week}", note)
            key = f"report:team{team.id}:{week}"
            markers.append(key)
            if team.slack_channel_id:
                rows.append(_row(key, None, team.slack_channel_id, team_post, "team channel", now, note))
            else:  # no team channel: the team's managers get the team's post directly
                for m in _staff(session, team_id=team.id, roles=("team_manager",)):
                    to = f"team manager (staff {m.id})"
                    rows.append(_row(f"{key}:s{m.id}", m.id, None, team_post, to, now, note))
        due_ids = {team.id: (week, at) for team, week, at in due}
        for manager in _staff(session, team_id=None, roles=tuple(SENIOR_MANAGERS)):
            teams = covered_teams(session, manager)
            mine = [due_ids[t.id] for t in teams if t.id in due_ids]
            if not mine:
                continue
            week, at = mine[0]
            key = f"report:staff{manager.id}:{week}"
            if session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None:
                continue  # written when another of their teams' posts went this week
            note = _late(figs_of(teams[0]).policy, now, at)
            who = "your teams" if len(teams) > 1 else teams[0].name
            heading = f"*Timeliness this week: {who}* · week {week}"
            summary = post([figs_of(t) for t in teams], heading, note)
            to = f"{manager.role.replace('_', ' ')} (staff {manager.id})"
            rows.append(_row(key, manager.id, None, summary, to, now, note))
    with factory.begin() as session:
        done = set(session.scalars(select(SchedulerState.name).where(SchedulerState.name.in_(markers))))
        done |= set(session.scalars(select(Outbox.key).where(Outbox.key.in_([r["key"] for r in rows]))))
        # a team already posted (its marker: another run wrote it meanwhile) writes nothing again
        added = [r for r in rows if r["key"] not in done and ":".join(r["key"].split(":")[:3]) not in done]
        for row in added:
            session.add(Outbox(**row))
        for marker in markers:
            if marker not in done:
                session.add(SchedulerState(name=marker, value=now.isoformat(), updated_at=now))
    return len(added)


def weekly_report_job(runtime: Runtime, now: datetime) -> int:
    """The scheduler's job: by the sweep's leader only, write the posts that are due, then deliver
    them. A failure is logged, never raised; the next run tries again."""
    from scheduler.leader import take_lease
    from scheduler.loop import SWEEP_LEASE

    try:
        if not take_lease(runtime.factory, SWEEP_LEASE, runtime.holder, now):
            return 0
        written = write_weekly_reports(runtime.factory, now)
    except Exception:
        log.exception("weekly report failed; will try again at the next run")
        return 0
    if written:
        runtime.deliver_job(now)
    return written


# -- helpers ----------------------------------------------------------------------------------
def _row(
    key: str, staff_id: int | None, channel: str | None, message: Post, to: str, now: datetime, note: str
) -> dict[str, Any]:
    payload = with_image({"stage": STAGE, "to": to, "rule": None, "child": None}, message.image)
    return pending_row(
        key=key,
        stage=STAGE,
        recipient_staff_id=staff_id,
        recipient_channel=channel,
        text=message.text,
        payload=payload,
        now=now,
        late=bool(note),
    )


def _staff(session: Session, *, team_id: int | None, roles: tuple[str, ...]) -> list[Staff]:
    """Active staff of these roles (of the team, or of any team and none for senior managers) who
    can be reached in chat."""
    reachable = Staff.chat_user_id.is_not(None)
    query = select(Staff).where(Staff.active.is_(True), Staff.role.in_(roles), reachable)
    if team_id is not None:
        query = query.where(Staff.team_id == team_id)
    return list(session.scalars(query.order_by(Staff.id)))


def _late(policy: Policy, now: datetime, at: datetime) -> str:
    return LATE_NOTE if now - at > timedelta(minutes=policy.reminders.late_after_minutes) else ""


def _working_on_or_after(policy: Policy, day: date) -> date:
    while not policy.calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def _months(today: date) -> tuple[str, str]:
    """(first, last) 'YYYY-MM' of the chart: CHART_MONTHS months ending with today's."""
    index = today.year * 12 + today.month - 1 - (CHART_MONTHS - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}", f"{today:%Y-%m}"


def _month_words(month: str) -> str:
    return f"{date.fromisoformat(month + '-01'):%B %Y}"


def _value(value: float | int | str | None) -> str:
    return "nothing to count yet" if value is None or value == "" else str(value)


def _compact(png: bytes) -> bytes:
    """The chart as a palette PNG (CHART_COLOURS colours): about 10 KB instead of 35, small enough to
    go inline in a Teams card (whose whole message must stay under about 28 KB)."""
    from PIL import Image as Picture

    out = io.BytesIO()
    with Picture.open(io.BytesIO(png)) as picture:
        picture.convert("RGB").quantize(colors=CHART_COLOURS).save(out, "PNG", optimize=True)
    return out.getvalue()
