"""Charts of `seen report` (issue 14), drawn headless (matplotlib's Agg backend) at chat size:
a team's % of statutory visits on time by month against the council's target, and the overdue
items by worker. Colour-blind safe colours (Okabe-Ito), a title naming the team, the period and
the measure, and no child data beyond counts. `team_summary` gives the chat side a team's four
headline numbers and its chart in one call."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from scheduler.reports import Row

BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#555555"  # Okabe-Ito: safe for colour-blind readers
SIZE_INCHES, DPI = (8, 4.5), 100  # 800 x 450 pixels: legible in a chat message


def _value(rows: Iterable[Row], team: str, month: str, measure: str) -> float | int | str | None:
    for r in rows:
        if (r.team == team or team == "All teams") and r.month == month and r.measure == measure:
            return r.value
    return None


def on_time_percents(rows: list[Row], team: str) -> tuple[list[str], list[float | None]]:
    """Each month's % of statutory visits on time (None: no visit fell due that month)."""
    months = sorted({r.month for r in rows})
    percents: list[float | None] = []
    for m in months:
        due = sum(r.value for r in rows if r.month == m and r.measure == "visits_due" and _of(r, team))  # type: ignore[misc]
        ok = sum(r.value for r in rows if r.month == m and r.measure == "visits_on_time" and _of(r, team))  # type: ignore[misc]
        percents.append(100 * ok / due if due else None)  # None: no visit fell due that month
    return months, percents


def on_time_chart(
    rows: list[Row], team: str, first: str, last: str, target: int, path: str | Path | IO[bytes]
) -> None:
    """Bars: the % of statutory visits on time each month (all rows' teams summed for 'All
    teams'); a dashed line: the council's target."""
    months, percents = on_time_percents(rows, team)
    fig, ax = plt.subplots(figsize=SIZE_INCHES, dpi=DPI)
    bars = ax.bar(months, [p or 0.0 for p in percents], color=BLUE, label="visits on time")
    # a month with nothing due says so, rather than showing a 0% that reads as failure
    ax.bar_label(bars, labels=["none due" if p is None else f"{p:.0f}%" for p in percents], fontsize=12)
    ax.axhline(target, color=ORANGE, linestyle="--", linewidth=2.5, label=f"target {target}%")
    ax.set_ylim(0, 110)
    ax.set_ylabel("% on time", fontsize=12)
    ax.tick_params(labelsize=12)
    ax.set_title(f"{team}: statutory visits on time, {first} to {last}", fontsize=14)
    ax.legend(loc="lower right", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def overdue_by_worker_chart(counts: dict[str, int], team: str, as_of: str, path: str | Path) -> None:
    """Horizontal bars: the overdue items of each worker (counts only)."""
    workers = sorted(counts, key=lambda w: (-counts[w], w))
    fig, ax = plt.subplots(figsize=SIZE_INCHES, dpi=DPI)
    bars = ax.barh(workers, [counts[w] for w in workers], color=BLUE)
    ax.bar_label(bars, fontsize=12)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*counts.values(), 1]) * 1.15)
    ax.set_xlabel("overdue items", fontsize=12)
    ax.tick_params(labelsize=12)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{team}: overdue items by worker, {as_of}", fontsize=14)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


HEADLINE = (  # the four headline numbers: visits on time, seen alone, not-seen, records
    ("visits_on_time_percent", "statutory visits on time (%)"),
    ("seen_alone_at_last_visit", "children seen alone at their last visit"),
    ("not_seen_discussions_decided_in_time", "not-seen discussions decided in time"),
    ("records_within_window", "records made in time"),
)


@dataclass(frozen=True, slots=True)
class TeamSummary:
    """A team's month for a chat message: its four headline numbers, a line of text saying them
    (counts only, no child), and the on-time chart of the period as PNG bytes."""

    headline: dict[str, float | int | str | None]
    text: str
    png: bytes


def team_summary(rows: list[Row], team: str, first: str, last: str, target: int) -> TeamSummary:
    """The summary of `team` for the chat side (the weekly post, /seen stats): the headline of
    the period's last month and the chart of the period, from `scheduler.reports.measures` rows."""
    headline = {name: _value(rows, team, last, name) for name, _ in HEADLINE}
    said = "; ".join(f"{words}: {'-' if headline[n] in (None, '') else headline[n]}" for n, words in HEADLINE)
    png = io.BytesIO()
    on_time_chart(rows, team, first, last, target, png)
    return TeamSummary(headline, f"{team}, {last}: {said}", png.getvalue())


def _of(row: Row, team: str) -> bool:
    return team == "All teams" or row.team == team
