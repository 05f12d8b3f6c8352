"""Dependencies point one way (DESIGN.md): storage uses only scheduler.rules' domain model. The
policies an import or an export needs are given by the caller (issue 10)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_storage_imports_nothing_of_scheduler_but_its_rules() -> None:
    """storage/caseload*.py, export.py and the rest imported scheduler.policies to check and load
    a team's policy; now nothing in storage does, even inside a function."""
    wrong = {
        f"{path.name}: {name}"
        for path in sorted(STORAGE.glob("*.py"))
        for name in _imports(path)
        if (name == "scheduler" or name.startswith("scheduler.")) and not name.startswith("scheduler.rules")
    }
    assert wrong == set()


def test_importing_and_exporting_load_no_policy_module() -> None:
    probe = (
        "import sys\n"
        "import storage.importer, storage.export, storage.demo\n"
        "assert 'scheduler.policies' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=STORAGE.parent)
    assert result.returncode == 0, result.stderr
