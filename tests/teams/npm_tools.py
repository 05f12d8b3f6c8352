"""Microsoft's own checkers, installed from npm at test time into an ignored cache folder.

`adaptivecards` parses every card; `@microsoft/app-manifest` ships the Teams manifest JSON schemas.
They are installed once into `.cache/npm` (or SEEN_NPM_CACHE) and reused. Without node or npm, or
without the registry, the tests that need them are skipped, except under CI (`CI=true`), where
that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"adaptivecards": "3.0.6", "@microsoft/app-manifest": "1.1.2"}


def cache_dir() -> Path:
    return Path(os.environ.get("SEEN_NPM_CACHE") or ROOT / ".cache" / "npm")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"npm tools: {reason}", pytrace=False)
    pytest.skip(f"npm tools: {reason}")


def install() -> Path:
    """The folder holding node_modules with the pinned packages (installing them when missing)."""
    folder = cache_dir()
    stamp = folder / "installed.json"
    if stamp.exists() and json.loads(stamp.read_text()) == PACKAGES:
        return folder
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are not installed")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(
        json.dumps({"name": "seen-test-tools", "private": True, "dependencies": PACKAGES}, indent=2)
    )
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(folder)],
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"npm install failed: {exc}")
    if done.returncode != 0:
        _unavailable(f"npm install failed: {done.stderr.strip()[-500:]}")
    stamp.write_text(json.dumps(PACKAGES))
    return folder


def parse_cards(folder: Path, cards: list[dict]) -> list[dict]:
    """Each card through the adaptivecards library at 1.5: its events, validation and round trip."""
    done = subprocess.run(
        ["node", str(Path(__file__).with_name("check_cards.cjs"))],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
        check=True,
    )
    return json.loads(done.stdout)


def manifest_schema(folder: Path, version: str) -> dict:
    path = (
        folder
        / "node_modules/@microsoft/app-manifest/build/json-schemas/teams"
        / f"v{version}"
        / "MicrosoftTeams.schema.json"
    )
    return json.loads(path.read_text(encoding="utf-8-sig"))
