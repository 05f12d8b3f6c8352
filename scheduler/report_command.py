"""seen report timeliness: the timeliness measures per team and month, read from the database
(scheduler.reports counts them; scheduler.report_chart draws them)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from datetime import UTC, datetime

from scheduler.usage import UsageError

FORMATS = ("text", "csv", "json")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", choices=["timeliness"], help="the report: timeliness")
    p.add_argument("--from", dest="first", required=True, help="first month, YYYY-MM")
    p.add_argument("--to", dest="last", required=True, help="last month, YYYY-MM")
    p.add_argument("--team", help="only this team (its name as imported)")
    p.add_argument("--by-worker", action="store_true", help="one set of rows per lead social worker")
    p.add_argument("--format", default="text", help="text (default), csv or json")
    p.add_argument("--chart", help="also draw the team's %% of visits on time by month to this PNG file")
    p.add_argument("--overdue-chart", help="also draw the overdue items by worker now to this PNG file")
    p.add_argument("--explain", action="store_true", help="print each measure's definition and stop")
    p.add_argument("--as-of", help="count as known at this instant (ISO 8601; default: now)")
    p.add_argument("--database-url", help="default: SEEN_DATABASE_URL, else the SQLite file")


def cmd_report(args: argparse.Namespace) -> int:
    from scheduler.policy_catalogue import bundled_catalogue
    from scheduler.reports import definitions, measures

    for flag, value in (("--from", args.first), ("--to", args.last)):
        if not _MONTH.match(value):
            raise UsageError(f"{flag}: {value!r} is not a month YYYY-MM")
    if args.last < args.first:
        raise UsageError("--to: is before --from")
    if args.format not in FORMATS:
        raise UsageError(f"--format: {args.format!r} is not one of {', '.join(FORMATS)}")
    for flag, path in (("--chart", args.chart), ("--overdue-chart", args.overdue_chart)):
        if path and not path.lower().endswith(".png"):
            raise UsageError(f"{flag}: {path!r} must name a .png file")
    as_of = datetime.now(UTC)
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise UsageError(f"--as-of: {args.as_of!r} is not an ISO 8601 instant") from None
        if as_of.tzinfo is None:
            raise UsageError("--as-of: give the offset (e.g. 2026-12-01T09:00+00:00)")
    if args.explain:
        catalogue = bundled_catalogue()
        for name, text in definitions(catalogue.load(n) for n in catalogue.names):
            print(f"{name}: {text}")
        return 0
    from scheduler.data_commands import _factory

    with _factory(args.database_url)() as session:
        children = report_children(session, bundled_catalogue().load, team=args.team)
    if args.team and not children:
        raise UsageError(f"--team: no team {args.team!r} with children")
    rows = measures(children, args.first, args.last, as_of, by_worker=args.by_worker)
    print(render(rows, args.format), end="")
    team = args.team or "All teams"
    if args.chart:
        from scheduler.report_chart import on_time_chart

        target = children[0].policy.reports.on_time_target_percent if children else 90
        _draw("--chart", args.chart, on_time_chart, rows, team, args.first, args.last, target)
    if args.overdue_chart:
        from scheduler.report_chart import overdue_by_worker_chart
        from scheduler.reports import overdue_by_worker

        counts = overdue_by_worker(children, as_of)
        _draw(
            "--overdue-chart",
            args.overdue_chart,
            overdue_by_worker_chart,
            counts,
            team,
            f"{as_of:%Y-%m-%d}",
        )
    return 0


def _draw(flag: str, path: str, draw, *args) -> None:  # type: ignore[no-untyped-def]
    """Draw a chart to `path`; a file that cannot be written is one line naming it."""
    try:
        draw(*args, path)
    except OSError as exc:
        raise UsageError(f"{flag}: cannot write {path}: {exc.strerror or exc}") from None


def report_children(session, load_policy, team: str | None = None) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Every child with a plan (of `team`), with its team, lead social worker and policy."""
    from sqlalchemy import select

    from scheduler.reports import Child as ReportChild
    from storage.cases import cases_for_children
    from storage.models import Child, Staff, Team

    query = (
        select(Child.id, Team.name, Team.policy_id, Staff.name)
        .join(Team, Child.team_id == Team.id)
        .outerjoin(Staff, Child.lead_social_worker_id == Staff.id)
    )
    if team:
        query = query.where(Team.name == team)
    rows = session.execute(query).all()
    cases = cases_for_children(session, [r[0] for r in rows])
    policies: dict = {}  # type: ignore[type-arg]
    out = []
    for child_id, team_name, policy_id, worker in rows:
        if child_id in cases:
            policy = policies.get(policy_id) or policies.setdefault(policy_id, load_policy(policy_id))
            out.append(ReportChild(team_name, worker or "no lead social worker", policy, cases[child_id]))
    return out


def render(rows: list, fmt: str) -> str:  # type: ignore[type-arg]
    """The rows as tidy CSV, a JSON list, or text: one block per team (and worker) and month."""
    fields = ("team", "worker", "month", "measure", "value")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for r in rows:
            writer.writerow([r.team, r.worker, r.month, r.measure, "" if r.value is None else r.value])
        return out.getvalue()
    if fmt == "json":
        return json.dumps([{f: getattr(r, f) for f in fields} for r in rows], indent=2) + "\n"
    lines: list[str] = []
    head = None
    for r in rows:
        if (r.team, r.worker, r.month) != head:
            head = (r.team, r.worker, r.month)
            lines.append(f"{r.team}{' / ' + r.worker if r.worker else ''} {r.month}")
        lines.append(f"  {r.measure}: {'-' if r.value in (None, '') else r.value}")
    return "\n".join(lines) + "\n" if lines else "no children\n"
