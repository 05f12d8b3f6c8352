"""`seen teams package`: the Teams app package, its manifest validated against Microsoft's Teams
manifest JSON schema of its version (npm @microsoft/app-manifest), and its icons (issue 12)."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.teams.package import COMMANDS, MANIFEST_VERSION, RSC_CHANNEL_MESSAGES, manifest
from scheduler.cli import main
from tests.teams import npm_tools
from tests.teams.conftest import APP_ID

ENV = {"TEAMS_CLIENT_ID": APP_ID, "SEEN_TEAMS_WEBSITE_URL": "https://council.example.gov.uk/seen"}


def _pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, RGBA pixels) of an 8-bit RGBA PNG with unfiltered rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert (
            zlib.crc32(kind + body) & 0xFFFFFFFF
            == struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        )
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 6)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * 4
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels += [tuple(row[1 + 4 * x : 5 + 4 * x]) for x in range(width)]
    return width, height, pixels


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "seen-teams.zip"
    assert main(["teams", "package", "--out", str(out)]) == 0
    return zipfile.ZipFile(out)


def test_the_manifest_validates_against_the_teams_schema_of_its_version(package: zipfile.ZipFile) -> None:
    folder = npm_tools.install()
    data = json.loads(package.read("manifest.json"))
    schema = npm_tools.manifest_schema(folder, data["manifestVersion"])
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []
    # the check could fail: the same schema refuses an unknown scope
    data["bots"][0]["scopes"] = ["personal", "everywhere"]
    assert list(validator.iter_errors(data))


def test_the_manifest_names_the_bot_scopes_commands_consent_and_the_message_extension(package) -> None:
    data = json.loads(package.read("manifest.json"))
    assert data["manifestVersion"] == MANIFEST_VERSION and float(MANIFEST_VERSION) >= 1.25
    (bot,) = data["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team"]
    assert [c["title"] for c in bot["commandLists"][0]["commands"]] == [
        "log",
        "record",
        "due",
        "team",
        "child",
        "note",
        "help",
    ]
    assert [c[0] for c in COMMANDS] == ["log", "record", "due", "team", "child", "note", "help"]
    rsc = data["authorization"]["permissions"]["resourceSpecific"]
    assert rsc == [{"name": RSC_CHANNEL_MESSAGES, "type": "Application"}]
    (command,) = data["composeExtensions"][0]["commands"]
    assert (command["type"], command["title"], command["fetchTask"]) == ("action", "Record a visit", True)
    assert data["developer"]["privacyUrl"] == "https://council.example.gov.uk/seen/privacy"


def test_the_icons_are_pngs_of_the_required_sizes_and_the_outline_is_white_on_transparent(package) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    width, height, colour = _pixels(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(p[3] == 255 for p in colour)  # the colour icon is opaque
    width, height, outline = _pixels(package.read("outline.png"))
    assert (width, height) == (32, 32)
    assert {p[:3] for p in outline} == {(255, 255, 255)}
    assert {p[3] for p in outline} == {0, 255}


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "TEAMS_CLIENT_ID"),
        ({"TEAMS_CLIENT_ID": "not-a-guid"}, "TEAMS_CLIENT_ID"),
        ({"TEAMS_CLIENT_ID": APP_ID}, "SEEN_TEAMS_WEBSITE_URL"),
        ({**ENV, "SEEN_TEAMS_WEBSITE_URL": "http://council.example.gov.uk"}, "https://"),
    ],
)
def test_a_missing_or_bad_setting_is_named_in_one_line_and_nothing_is_written(
    tmp_path, monkeypatch, capsys, env, says
) -> None:
    for name in ("TEAMS_CLIENT_ID", "SEEN_TEAMS_WEBSITE_URL", "SEEN_TEAMS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "seen-teams.zip"
    assert main(["teams", "package", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_manifest_is_built_from_the_environment_given() -> None:
    assert manifest({**ENV, "SEEN_TEAMS_APP_ID": "22222222-2222-4222-8222-222222222222"})["id"] != APP_ID
