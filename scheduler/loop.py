"""The running scheduler: APScheduler 3 drives the sweep, the due lists and delivery.

`Runtime.tick(now)` is one full step (leader: sweep and due lists; everyone: delivery) and is
what both the live loop and `seen simulate` call, so the simulation runs the real thing. At start
the loop ticks at once: whatever fell due while Seen was down goes out then, once, marked late.
Between sweeps, newly stored facts wake the sweep of their children at once (`Runtime.wake_job`,
driven by scheduler.wakeup).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.delivery import DeliveryReport, deliver_due, run_deadline, write_late_summaries
from scheduler.duelist import write_due_lists
from scheduler.leader import take_lease
from scheduler.messenger import Messenger
from scheduler.metrics import record_sweep, refresh_overdue
from scheduler.sweep import SweepReport, children_to_sweep, sweep
from scheduler.weekly_report import weekly_report_job
from storage.models import Outbox, Team
from storage.retention import PurgeReport, purge_closed

if TYPE_CHECKING:
    from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger("seen.loop")
SWEEP_LEASE = "sweep"
RETENTION_PURGE_AT = time(2, 15)  # local time: after the midnight sweep, before anyone is at work


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class TickReport:
    at: datetime
    leader: bool
    sweep: SweepReport | None = None
    due_lists: int = 0
    delivered: DeliveryReport = field(default_factory=DeliveryReport)


class Runtime:
    """The sweep, the due lists and delivery against one database and one messenger."""

    def __init__(
        self, factory: sessionmaker[Session], messenger: Messenger, holder: str | None = None
    ) -> None:
        self.factory = factory
        self.messenger = messenger
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        # the interval sweep and a wake-up's sweep take turns (one process, one sweep at a time),
        # and so do their updates of the overdue summary
        self._sweeping = threading.Lock()

    def release_own_claims(self) -> None:
        """Claims left by an earlier life of this same holder are in doubt: free them now."""
        with self.factory.begin() as session:
            session.execute(
                update(Outbox)
                .where(Outbox.status == "pending", Outbox.claimed_by == self.holder)
                .values(claimed_until=None)
            )

    def sweep_step(self, now: datetime) -> tuple[bool, SweepReport | None, int]:
        with self._sweeping:
            if not take_lease(self.factory, SWEEP_LEASE, self.holder, now):
                return False, None, 0
            report = sweep(self.factory, now)
            record_sweep(self.factory, now, report)  # last sweep time and overdue counts, for /metrics
        with self.factory.begin() as session:
            lists = write_due_lists(session, now)
        return True, report, lists

    def deliver_step(self, now: datetime, batch: int = 100) -> DeliveryReport:
        """Drain what is due; then tell managers of the reminders that went out late, and send that."""
        total = DeliveryReport()
        deadline = run_deadline()  # one budget for every batch: they are all claimed until now + LEASE
        self._drain(now, batch, deadline, total)
        if total.late and not total.out_of_time:
            with self.factory.begin() as session:
                total.summaries = write_late_summaries(session, now)
            if total.summaries:
                self._drain(now, batch, deadline, total)
        return total

    def _drain(self, now: datetime, batch: int, deadline: float, total: DeliveryReport) -> None:
        while True:
            report = deliver_due(
                self.factory, self.messenger, now, worker=self.holder, batch=batch, deadline=deadline
            )
            total.sent += report.sent
            total.retried += report.retried
            total.parked += report.parked
            total.deferred += report.deferred
            total.late.extend(report.late)
            if report.out_of_time or report.sent + report.retried + report.parked < batch:
                total.out_of_time = report.out_of_time
                return

    def wake_step(self, children: set[int], now: datetime) -> SweepReport | None:
        """Sweep just `children`, whose facts were just stored, if this process leads the sweep
        (None if it does not). A child the interval sweep has meanwhile swept is not evaluated
        again, and children that all were (the same commit heard of twice: from this process and
        from the database) cost one read, not the lease's write. The due lists wait for the
        interval sweep."""
        ids = sorted(children)
        with self._sweeping:
            with self.factory() as session:
                if not children_to_sweep(session, now, False, ids):
                    return SweepReport(at=now)
            if not take_lease(self.factory, SWEEP_LEASE, self.holder, now):
                return None
            return sweep(self.factory, now, child_ids=ids)

    def tick(self, now: datetime) -> TickReport:
        leader, report, lists = self.sweep_step(now)
        return TickReport(now, leader, report, lists, self.deliver_step(now))

    # -- the jobs run_forever runs: a failure is logged, never raised (the database or the chat
    # platform being away must not stop the scheduler; the next run tries again) -----------------
    def sweep_job(self, now: datetime) -> None:
        try:
            self.sweep_step(now)
        except Exception:
            log.exception("sweep failed; will try again at the next run")
        self.deliver_job(now)  # what the sweep decided goes now, not at the next delivery run

    def wake_job(
        self, children: set[int], now: datetime, deliver: Callable[[], object] | None = None
    ) -> SweepReport | None:
        """A wake-up (scheduler.wakeup): sweep the children, have what that wrote delivered
        (`deliver`, e.g. by waking a delivery thread; default: deliver_job here and now), then
        bring their overdue figures (/metrics) up to date."""
        try:
            report = self.wake_step(children, now)
        except Exception:
            log.exception("sweeping woken children failed; the next sweep will")
            return None
        if report is None or not report.evaluated:
            return report
        if report.written:
            (deliver or (lambda: self.deliver_job(now)))()
        try:
            with self._sweeping:  # the overdue summary is written by one at a time, too
                refresh_overdue(self.factory, now, known=report.overdue_by_child)
        except Exception:
            log.exception("could not refresh the overdue figures; the next sweep will")
        return report

    def retention_job(self, now: datetime) -> PurgeReport | None:
        """The daily purge of cases closed past the retention period, by the sweep's leader only."""
        try:
            if not take_lease(self.factory, SWEEP_LEASE, self.holder, now):
                return None
            return purge_closed(self.factory, now=now)
        except Exception:
            log.exception("retention purge failed; will try again tomorrow")
            return None

    def deliver_job(self, now: datetime) -> DeliveryReport | None:
        try:
            report = self.deliver_step(now)
        except Exception:
            log.exception("delivery failed; will try again at the next run")
            return None
        if report.late:
            log.warning("%d reminder(s) went out late: %s", len(report.late), ", ".join(report.late[:20]))
        return report


DEFAULT_MORNINGS = frozenset({("Europe/London", time(8, 30))})


def policy_mornings(factory: sessionmaker[Session]) -> frozenset[tuple[str, time]]:
    """The reminder mornings (time zone, local time) of the policies the teams use: the sweep
    runs on the dot at each, working days only; the default when there are no teams yet."""
    from scheduler.policies import load_policy

    with factory() as session:
        policies = [load_policy(p) for p in set(session.scalars(select(Team.policy_id)))]
    return frozenset((p.timezone.key, p.reminders.morning_of) for p in policies) or DEFAULT_MORNINGS


def retention_schedule() -> tuple[str, time] | None:
    """When the daily retention purge runs: 02:15 London time, or never with SEEN_RETENTION_PURGE=off."""
    if os.environ.get("SEEN_RETENTION_PURGE", "").strip().lower() == "off":
        return None
    return ("Europe/London", RETENTION_PURGE_AT)


def run_forever(runtime: Runtime, *, wake: bool = True, **settings: Any) -> None:
    """Block, running the jobs of `build_scheduler` until interrupted. Ticks once at start to
    catch up. `wake`: newly stored facts wake the sweep of their children (scheduler.wakeup)."""
    from scheduler.wakeup import Waker

    runtime.release_own_claims()
    scheduler = build_scheduler(runtime, **settings)
    waker = Waker(runtime, settings.get("clock", utcnow)).start() if wake else None
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("Seen scheduler stopped")
    finally:
        if waker is not None:
            waker.stop()


def build_scheduler(
    runtime: Runtime,
    *,
    sweep_minutes: float = 5,
    deliver_seconds: float = 15,
    clock: Callable[[], datetime] = utcnow,
    mornings: frozenset[tuple[str, time]] = DEFAULT_MORNINGS,
    retention_at: tuple[str, time] | None,
) -> BlockingScheduler:
    """The jobs: the sweep every few minutes, at start and on each policy's reminder morning;
    delivery; and the daily retention purge at `retention_at` (`retention_schedule()`; None:
    never, run it by hand)."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    def sweep_job() -> None:
        runtime.sweep_job(clock())

    def deliver_job() -> None:
        runtime.deliver_job(clock())

    def retention_job() -> None:
        runtime.retention_job(clock())

    scheduler = BlockingScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    now = clock()
    scheduler.add_job(sweep_job, IntervalTrigger(minutes=sweep_minutes), id="sweep", next_run_time=now)
    for i, (tz, at) in enumerate(sorted(mornings)):  # reminders and due lists on the dot
        scheduler.add_job(
            sweep_job,
            CronTrigger(day_of_week="mon-fri", hour=at.hour, minute=at.minute, timezone=tz),
            id=f"morning-sweep-{i}",
        )
    scheduler.add_job(deliver_job, IntervalTrigger(seconds=deliver_seconds), id="deliver", next_run_time=now)
    weekly = IntervalTrigger(minutes=1)  # each team's weekly timeliness post, within a minute of its time
    scheduler.add_job(lambda: weekly_report_job(runtime, clock()), weekly, id="weekly", next_run_time=now)
    running = "Seen scheduler running: sweep every %s min, delivery every %s s"
    if retention_at is None:  # log arguments are checked for personal data: words stay in the format
        log.info(running + ", retention purge off", sweep_minutes, deliver_seconds)
        return scheduler
    tz, at = retention_at
    scheduler.add_job(retention_job, CronTrigger(hour=at.hour, minute=at.minute, timezone=tz), id="retention")
    log.info(running + ", retention purge daily at %s %s", sweep_minutes, deliver_seconds, f"{at:%H:%M}", tz)
    return scheduler
