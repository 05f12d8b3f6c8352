"""The `seen` command's one table and its one dispatch: every failure one line, never a traceback
(issue 9 item 6, issue 10's command table)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scheduler import cli
from storage import crypto
from tests.rules.builders import REPO, WORKED_EXAMPLE, seen_cli

PASSWORD = "hunter2-s3cret"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_subcommand_is_one_row_of_the_table_and_scheduler_does_not_import_bot() -> None:
    """Issue 10: the parser is built from COMMANDS alone; importing scheduler.cli imports no
    command module, and no command module imports scheduler.cli (the old import circle)."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [c.name for c in cli.COMMANDS]
    modules = sorted({c.run.partition(":")[0] for c in cli.COMMANDS})
    probe = (
        "import sys, importlib\n"
        "import scheduler.cli\n"
        "assert not [m for m in sys.modules if m.startswith('bot')], 'scheduler.cli imported bot'\n"
        f"for name in {modules!r}:\n"
        "    sys.modules.pop('scheduler.cli', None)\n"
        "    importlib.import_module(name)\n"
        "    assert 'scheduler.cli' not in sys.modules, name + ' imports scheduler.cli'\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "upgrade"],
        ["import", "caseload.csv"],
        ["keys", "rotate"],
        ["retention", "purge", "--dry-run"],
        ["export", "C-1042"],
    ],
    ids=lambda a: a[0],
)
def test_an_unreachable_database_is_one_line_naming_it_without_its_password(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 9 item 6: each command printed a 117-line traceback when the database was not there;
    now one line naming the database, its password hidden, exit 1."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "caseload.csv").write_text("record_type,team,policy\nteam,A,hillingdon\n")
    monkeypatch.setenv("SEEN_ALLOW_PLAINTEXT", "1")
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    crypto.reset()
    url = f"postgresql+psycopg://seen:{PASSWORD}@127.0.0.1:{_closed_port()}/seen"
    try:
        code = cli.main([*argv, "--database-url", url])
    finally:
        crypto.reset()
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if "UNENCRYPTED" not in line]
    assert len(lines) == 1, err
    assert lines[0].startswith(
        f"seen {argv[0]}: cannot reach the database postgresql+psycopg://seen:***@127.0.0.1:"
    )
    assert "Connection refused" in lines[0] or "connection failed" in lines[0]
    assert PASSWORD not in err and "Traceback" not in err


def test_seen_run_waits_for_its_database_then_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 item 6: `seen run` exited when its database was not there yet; it tries again,
    saying so, and starts once it answers (a SQLite path that cannot be opened, for a while)."""
    from scheduler.commands import upgrade_when_reachable
    from storage.db import make_engine

    path = tmp_path / "var" / "seen.sqlite"
    path.mkdir(parents=True)  # a folder where the file should be: "unable to open database file"
    engine = make_engine(f"sqlite:///{path}")
    timer = threading.Timer(1.5, shutil.rmtree, args=(path,))
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="seen"):
            upgrade_when_reachable(engine, wait_seconds=60)
    finally:
        timer.cancel()
        engine.dispose()
    tries = [r.getMessage() for r in caplog.records if r.name == "seen"]
    assert tries and all(t.startswith(f"cannot reach the database sqlite:///{path}: ") for t in tries)
    assert path.is_file()


def test_seen_run_gives_up_after_its_wait_with_one_line(tmp_path: Path) -> None:
    """Issue 9 item 6: past SEEN_DATABASE_WAIT_SECONDS, `seen run` ends with the one line, exit 1,
    its tries logged as JSON lines; the password appears nowhere."""
    url = f"postgresql+psycopg://seen:{PASSWORD}@127.0.0.1:{_closed_port()}/seen"
    env = {
        **os.environ,
        "SEEN_DATABASE_URL": url,
        "SEEN_ALLOW_PLAINTEXT": "1",
        "SEEN_DATABASE_WAIT_SECONDS": "2",
    }
    env.pop("SEEN_DATA_KEY", None)
    env.pop("SLACK_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "run", "--no-demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("seen run: cannot reach the database postgresql+psycopg://seen:***@")
    tries = [json.loads(line) for line in result.stderr.splitlines()[:-1]]
    assert any("trying again in 1 s" in t["message"] for t in tries)
    assert PASSWORD not in result.stderr and "Traceback" not in result.stderr


def test_a_reader_that_stops_early_ends_seen_quietly(tmp_path: Path) -> None:
    """Issue 9 item 6: `seen evaluate f.json | head -1` ended with a BrokenPipe traceback."""
    path = tmp_path / "c.json"
    path.write_text(WORKED_EXAMPLE, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "evaluate", str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before seen writes
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert err == ""


def test_an_endless_case_file_is_refused_not_read_into_memory() -> None:
    """Issue 9 item 6: `seen evaluate /dev/zero` ended with MemoryError; the input is read up to
    10 MiB and refused beyond, in one line, exit 2."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    result = seen_cli("evaluate", "/dev/zero")
    assert result.returncode == 2
    assert result.stderr == "seen evaluate: case file: /dev/zero is over 10 MiB\n"
