"""seen report timeliness over the demo caseload (issue 14): tidy CSV, JSON, text, --explain,
the charts as valid PNGs of chat size, and a bad argument as one line with exit 2."""

from __future__ import annotations

import csv
import io
import json
import struct
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.policy_catalogue import bundled_catalogue
from storage.db import make_engine, session_factory, upgrade
from storage.demo import DEMO_AS_OF, load_demo

CB = "Central Bedfordshire CP Team"
BASE = ["report", "timeliness", "--from", "2026-11", "--to", "2026-12", "--as-of", DEMO_AS_OF.isoformat()]


@pytest.fixture
def demo_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as s:
        load_demo(s, as_of=DEMO_AS_OF.date(), policies=bundled_catalogue(), now=DEMO_AS_OF)
    engine.dispose()
    return url


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_csv_is_tidy_one_row_per_team_month_and_measure_cb_visit_10wd_cb_20cd_lsw(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, "--format", "csv", "--database-url", demo_url]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    keys = [(r["team"], r["month"], r["measure"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["team"] for r in rows} == {CB, "Hillingdon CP Team"}
    value = {(r["team"], r["month"], r["measure"]): r["value"] for r in rows}
    # CB-VISIT-10WD in December: 9 of the 11 due by 22 December met on time, 2 still overdue
    assert value[(CB, "2026-12", "visits_due")] == "11"
    assert value[(CB, "2026-12", "visits_overdue")] == "2"
    assert value[(CB, "2026-12", "visits_on_time_percent")] == "81.8"
    assert value[(CB, "2026-12", "lapses_raised")] == "CB-20CD-LSW: 1 (open: 1)"


def test_json_and_text_carry_the_same_values(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--format", "json", "--team", CB, "--database-url", demo_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["team"] for r in rows} == {CB}
    assert main([*BASE, "--team", CB, "--database-url", demo_url]) == 0
    text = capsys.readouterr().out
    for r in rows:
        shown = "-" if r["value"] in (None, "") else str(r["value"])
        assert f"  {r['measure']}: {shown}" in text


def test_by_worker_splits_the_team_rows(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--format", "json", "--team", CB, "--by-worker", "--database-url", demo_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["worker"] for r in rows} == {"Priya Shah", "Tom Reid"}
    due = sum(r["value"] for r in rows if r["month"] == "2026-12" and r["measure"] == "visits_due")
    assert due == 11


def test_the_charts_are_valid_pngs_of_chat_size(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on_time, overdue = tmp_path / "on-time.png", tmp_path / "overdue.png"
    argv = [*BASE, "--team", CB, "--chart", str(on_time), "--overdue-chart", str(overdue)]
    assert main([*argv, "--database-url", demo_url]) == 0
    for path in (on_time, overdue):
        assert png_size(path) == (800, 450)
        assert 5_000 < path.stat().st_size < 200_000


def test_explain_names_the_rule_ids_of_each_measure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "visits_due: " in out and "CB-VISIT-10WD" in out and "HI-VISIT-20WD" in out
    assert "lapses_raised: " in out and "CB-20CD-LSW, CB-30WD-ANY" in out
    assert "not_seen_discussions_decided_in_time: " in out and "CB-NOTSEEN-DISCUSS" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--from", "2026-13"], "--from: '2026-13' is not a month YYYY-MM"),
        (["--to", "2026-08"], "--to: is before --from"),
        (["--format", "xml"], "--format: 'xml' is not one of text, csv, json"),
        (["--chart", "out.jpg"], "--chart: 'out.jpg' must name a .png file"),
        (["--as-of", "2026-12-01T09:00"], "--as-of: give the offset"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    change: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*BASE]
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_an_unknown_team_is_one_line(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--team", "Nowhere", "--database-url", demo_url]) == 2
    assert capsys.readouterr().err == "seen report: --team: no team 'Nowhere' with children\n"


def test_the_team_summary_for_the_chat_side_says_four_numbers_and_draws_the_chart(demo_url: str) -> None:
    """What the weekly post and /seen stats will send: counts only, no case reference or initials."""
    from scheduler.report_chart import team_summary
    from scheduler.report_command import report_children
    from scheduler.reports import measures

    engine = make_engine(demo_url)
    with session_factory(engine)() as session:
        children = report_children(session, bundled_catalogue().load, team=CB)
    engine.dispose()
    rows = measures(children, "2026-11", "2026-12", DEMO_AS_OF)
    summary = team_summary(rows, CB, "2026-11", "2026-12", 90)
    assert summary.text == (
        f"{CB}, 2026-12: statutory visits on time (%): 81.8; "
        "children seen alone at their last visit: 3/4; not-seen discussions decided in time: 1/1; "
        "records made in time: 8/9"
    )
    assert summary.png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", summary.png[16:24]) == (800, 450)
    assert "C-" not in summary.text


def test_a_month_with_no_visit_due_is_none_not_zero_percent_cb_visit_10wd() -> None:
    """CB-VISIT-10WD: the on-time chart's month with no statutory visit due is "none due", not a 0%
    bar that reads as failure; a month with visits due and none on time is 0%."""
    from scheduler.report_chart import on_time_percents
    from scheduler.reports import Row

    rows = [
        Row("North", "", "2026-09", "visits_due", 0),
        Row("North", "", "2026-09", "visits_on_time", 0),
        Row("North", "", "2026-10", "visits_due", 4),
        Row("North", "", "2026-10", "visits_on_time", 0),
        Row("North", "", "2026-11", "visits_due", 4),
        Row("North", "", "2026-11", "visits_on_time", 3),
    ]
    assert on_time_percents(rows, "North") == (["2026-09", "2026-10", "2026-11"], [None, 0.0, 75.0])
