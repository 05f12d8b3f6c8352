"""Prometheus metrics and the health check, computed from the database when asked.

The HTTP server (`bot/slack/server.py`) serves `render(factory)` (bytes; content type `CONTENT_TYPE`) at
/metrics to a bearer of SEEN_METRICS_TOKEN, and `health` at /healthz (503 when the sweep is
overdue).

Metrics (no personal data: counts, ages and rule IDs only):

    seen_database_up                                1 when the database answered the scrape
    seen_outbox_messages{status}                    outbox rows: pending, sent, parked
    seen_outbox_parked_messages                     parked rows (gave up after retries; need a person)
    seen_outbox_oldest_pending_age_seconds          how long the oldest due, undelivered message has waited
    seen_last_sweep_timestamp_seconds               when the last sweep ran (Unix time)
    seen_last_sweep_age_seconds                     seconds since then
    seen_last_sweep_duration_seconds                how long it took
    seen_last_sweep_children_evaluated              children it evaluated
    seen_overdue_obligations{rule}                  open overdue obligations by rule ID
    seen_overdue_summary_stale_children             children whose overdue summary is not yet refreshed

The sweep step (`scheduler.loop.Runtime.sweep_step`) calls `record_sweep`, which stores the sweep's
time and duration in `scheduler_state` and refreshes each swept child's overdue obligations by rule
(`child_overdue_summary`), then the totals by rule (`scheduler_state`, a small JSON document), so a
scrape never evaluates anything. The refresh re-evaluates only the children the sweep evaluated,
within a time budget (`max(5 s, half the sweep's own time)`); children left over are refreshed at
the next sweeps, so after the nightly full sweep of a large caseload the counts may lag for a while
(`seen_overdue_summary_stale_children` says how many are behind). A sweep report that carries
`overdue_by_child` ({child id: {rule: count}} for the children it evaluated) is used as it is, and
those children are not evaluated a second time.
"""

from __future__ import annotations

import json
import logging
import os
import time as clock
import weakref
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Child, ChildOverdueSummary, ChildSweepState, Outbox, SchedulerState, Team

log = logging.getLogger("seen.metrics")

LAST_SWEEP = "metrics.last_sweep"
OVERDUE = "metrics.overdue"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BATCH = 500
MIN_BUDGET_SECONDS = 5.0


# -- written by the sweep step --------------------------------------------------------------------
def record_sweep(
    factory: sessionmaker[Session], now: datetime, report: Any, *, budget_seconds: float | None = None
) -> None:
    """Store the sweep's time and figures, and refresh the overdue summary. Never raises: metrics
    must not stop the scheduler."""
    try:
        _record_sweep(factory, now, report, budget_seconds)
    except Exception:
        log.exception("could not record the sweep's metrics")


def _record_sweep(
    factory: sessionmaker[Session], now: datetime, report: Any, budget_seconds: float | None
) -> None:
    seconds = float(getattr(report, "seconds", 0.0) or 0.0)
    figures = {
        "at": now.isoformat(),
        "seconds": round(seconds, 3),
        "evaluated": getattr(report, "evaluated", 0),
        "obligations": getattr(report, "obligations", 0),
        "written": getattr(report, "written", 0),
        "late": getattr(report, "late", 0),
    }
    if not figures["evaluated"]:
        with factory.begin() as session:
            _put(session, LAST_SWEEP, figures, now)
            if _caught_up.get(factory):
                return  # nothing evaluated and nothing behind: the totals stand
            previous = _state(session, OVERDUE)
            if previous is not None and not previous[0].get("stale", 1):
                _caught_up[factory] = True
                return
    budget = budget_seconds if budget_seconds is not None else max(MIN_BUDGET_SECONDS, seconds / 2)
    # A sweep that reports each evaluated child's overdue counts by rule saves evaluating again.
    known = getattr(report, "overdue_by_child", None)
    refresh_overdue(factory, now, budget_seconds=budget, known=known, last_sweep=figures)


def refresh_overdue(
    factory: sessionmaker[Session],
    now: datetime,
    *,
    budget_seconds: float = 5.0,
    known: dict[int, dict[str, int]] | None = None,
    last_sweep: dict[str, Any] | None = None,
) -> int:
    """Bring the overdue summary of the open children swept since it was made up to date (as many
    batches as fit in the budget; `known`: counts by rule already worked out, by child id), then
    store the totals by rule. Returns the children still behind."""
    from scheduler.evaluation import Unevaluable, evaluate_child
    from scheduler.policies import load_policy
    from storage.cases import cases_for_children

    known = known or {}
    _caught_up.pop(factory, None)
    started = clock.perf_counter()
    while True:
        with factory.begin() as session:
            stale = list(session.execute(_stale(select(Child.id, Team.policy_id)).limit(BATCH)))
            if not stale:
                break
            ids = [c for c, _ in stale]
            cases = cases_for_children(session, [c for c in ids if c not in known], free_text=False)
            existing = {
                s.child_id: s
                for s in session.scalars(
                    select(ChildOverdueSummary).where(ChildOverdueSummary.child_id.in_(ids))
                )
            }
            for child_id, policy_id in stale:
                overdue: Counter[str] = Counter(known.get(child_id, {}))
                case = cases.get(child_id)
                obligations = evaluate_child(load_policy(policy_id), case, now) if case is not None else []
                if not isinstance(obligations, Unevaluable):  # the sweep tells its manager of those
                    overdue.update(ob.rule for ob in obligations if ob.status == "overdue")
                row = existing.get(child_id)
                if row is None:
                    row = ChildOverdueSummary(child_id=child_id)
                    session.add(row)
                row.evaluated_at = now
                row.overdue = dict(sorted(overdue.items())) or None
        if clock.perf_counter() - started > budget_seconds:
            break
    with factory.begin() as session:
        behind = session.scalar(_stale(select(func.count(Child.id)))) or 0
        totals: Counter[str] = Counter()
        children = 0
        for (overdue,) in session.execute(
            select(ChildOverdueSummary.overdue)
            .join(Child, Child.id == ChildOverdueSummary.child_id)
            .where(Child.closed_at.is_(None), ChildOverdueSummary.overdue.is_not(None))
        ):
            children += 1
            totals.update(overdue)
        _put(
            session,
            OVERDUE,
            {
                "at": now.isoformat(),
                "rules": dict(sorted(totals.items())),
                "children": children,
                "stale": behind,
            },
            now,
        )
        if not behind:
            _caught_up[factory] = True
        if last_sweep is not None:
            _put(session, LAST_SWEEP, last_sweep, now)
    return behind


def _stale(query):  # type: ignore[no-untyped-def]
    """Open children swept after their summary was made (or without one)."""
    return (
        query.select_from(Child)
        .join(Team, Team.id == Child.team_id)
        .join(ChildSweepState, ChildSweepState.child_id == Child.id)
        .outerjoin(ChildOverdueSummary, ChildOverdueSummary.child_id == Child.id)
        .where(
            Child.closed_at.is_(None),
            or_(
                ChildOverdueSummary.child_id.is_(None),
                ChildOverdueSummary.evaluated_at < ChildSweepState.last_swept_at,
            ),
        )
    )


# Factories whose overdue summary this process last left with nothing behind: a sweep that
# evaluates nothing then only records its time (one statement).
_caught_up: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _put(session: Session, name: str, value: dict[str, Any], now: datetime) -> None:
    values = {"value": json.dumps(value), "updated_at": now}
    if not session.execute(
        update(SchedulerState).where(SchedulerState.name == name).values(**values)
    ).rowcount:
        session.add(SchedulerState(name=name, **values))


def _state(session: Session, name: str) -> tuple[dict[str, Any], datetime] | None:
    row = session.get(SchedulerState, name)
    if row is None:
        return None
    try:
        return json.loads(row.value), row.updated_at
    except ValueError:
        return None


# -- read on scrape ------------------------------------------------------------------------------
def collect(factory: sessionmaker[Session], now: datetime | None = None) -> list[Any]:
    """The metric families, read from the database."""
    from prometheus_client.core import GaugeMetricFamily

    now = now or datetime.now(UTC)
    up = GaugeMetricFamily("seen_database_up", "1 when the database answered this scrape")
    try:
        with factory() as session:
            counts = dict(session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
            oldest = session.scalar(
                select(func.min(Outbox.send_after)).where(
                    Outbox.status == "pending", Outbox.send_after <= now
                )
            )
            last = _state(session, LAST_SWEEP)
            overdue = _state(session, OVERDUE)
    except Exception as exc:  # the database is away: say so, and nothing else
        log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    families = [up]

    outbox = GaugeMetricFamily("seen_outbox_messages", "Outbox messages by status", labels=["status"])
    for status in ("pending", "sent", "parked"):
        outbox.add_metric([status], counts.get(status, 0))
    families.append(outbox)
    families.append(
        GaugeMetricFamily(
            "seen_outbox_parked_messages",
            "Messages given up after retries (need a person to look)",
            value=counts.get("parked", 0),
        )
    )
    families.append(
        GaugeMetricFamily(
            "seen_outbox_oldest_pending_age_seconds",
            "Seconds the oldest due, undelivered message has waited (0 when none)",
            value=max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0,
        )
    )
    if last is not None:
        figures, at = last
        families += [
            GaugeMetricFamily(
                "seen_last_sweep_timestamp_seconds",
                "When the last sweep ran (Unix time)",
                value=at.timestamp(),
            ),
            GaugeMetricFamily(
                "seen_last_sweep_age_seconds",
                "Seconds since the last sweep",
                value=max((now - at).total_seconds(), 0.0),
            ),
            GaugeMetricFamily(
                "seen_last_sweep_duration_seconds",
                "How long the last sweep took",
                value=float(figures.get("seconds", 0.0)),
            ),
            GaugeMetricFamily(
                "seen_last_sweep_children_evaluated",
                "Children the last sweep evaluated",
                value=float(figures.get("evaluated", 0)),
            ),
        ]
    rules = GaugeMetricFamily(
        "seen_overdue_obligations",
        "Open overdue obligations by rule ID (as of the last sweep)",
        labels=["rule"],
    )
    stale = 0
    if overdue is not None:
        for rule, count in sorted(overdue[0].get("rules", {}).items()):
            rules.add_metric([rule], count)
        stale = overdue[0].get("stale", 0)
    families.append(rules)
    families.append(
        GaugeMetricFamily(
            "seen_overdue_summary_stale_children",
            "Children swept but not yet counted in seen_overdue_obligations",
            value=stale,
        )
    )
    return families


class _Collector:
    def __init__(self, factory: sessionmaker[Session], now: datetime | None) -> None:
        self.factory, self.now = factory, now

    def collect(self):  # type: ignore[no-untyped-def]
        yield from collect(self.factory, self.now)


def render(factory: sessionmaker[Session], now: datetime | None = None) -> bytes:
    """The metrics in Prometheus' text exposition format (`CONTENT_TYPE`)."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(factory, now))  # type: ignore[arg-type]
    return generate_latest(registry)


# -- health ---------------------------------------------------------------------------------------
def default_max_sweep_age() -> timedelta:
    """3 × the sweep interval (SEEN_SWEEP_MINUTES, default 5)."""
    try:
        minutes = float(os.environ.get("SEEN_SWEEP_MINUTES", 5))
    except ValueError:
        minutes = 5.0
    return timedelta(minutes=3 * minutes)


def health(
    factory: sessionmaker[Session], now: datetime | None = None, max_sweep_age: timedelta | None = None
) -> tuple[bool, dict[str, Any]]:
    """(ok, details): not ok when the database does not answer, or no sweep has run (by any replica)
    within `max_sweep_age` (default 3 × the sweep interval)."""
    now = now or datetime.now(UTC)
    limit = max_sweep_age if max_sweep_age is not None else default_max_sweep_age()
    details: dict[str, Any] = {"max_sweep_age_seconds": int(limit.total_seconds())}
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
            last = _state(session, LAST_SWEEP)
    except Exception as exc:
        details.update(database="unreachable", error=type(exc).__name__)
        return False, details
    details["database"] = "ok"
    if last is None:
        details["sweep"] = "never swept"
        return False, details
    age = (now - last[1]).total_seconds()
    details.update(last_sweep=last[1].isoformat(), sweep_age_seconds=int(age))
    if age > limit.total_seconds():
        details["sweep"] = "overdue"
        return False, details
    details["sweep"] = "ok"
    return True, details
