"""Dependencies point one way (DESIGN.md): `bot` uses `scheduler`, never the other way round. The
Messenger port lives in `scheduler/messenger.py`, beside its consumer (issue 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.storage.test_layers import _imports

SCHEDULER = Path(__file__).resolve().parents[2] / "scheduler"


def test_scheduler_imports_nothing_of_bot() -> None:
    """Not even inside a function: `seen run` gets its chat messenger from bot.cli_commands."""
    wrong = {
        f"{path.relative_to(SCHEDULER)}: {name}"
        for path in sorted(SCHEDULER.rglob("*.py"))
        for name in _imports(path)
        if name == "bot" or name.startswith("bot.")
    }
    assert wrong == set()


def test_the_scheduler_loop_and_delivery_load_no_bot_module() -> None:
    probe = (
        "import sys\n"
        "import scheduler.loop, scheduler.delivery, scheduler.simulate, scheduler.commands\n"
        "assert not [m for m in sys.modules if m == 'bot' or m.startswith('bot.')], sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=SCHEDULER.parent
    )
    assert result.returncode == 0, result.stderr
