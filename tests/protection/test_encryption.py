"""Free text is encrypted at rest: case notes, the visit record's text and reasons, decision notes.
The raw database (plain SQL, no ORM, no column types) never holds the text; rotation keeps
everything readable and leaves no value under the old key."""

from __future__ import annotations

import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from scheduler.rules import model
from storage import crypto, models
from storage.cases import case_for_child
from storage.db import make_engine, session_factory
from storage.facts import VisitRecord, add_case_note, record_contact, record_decision
from storage.rotation import rotate_keys, stale_values
from tests.protection.helpers import root_logging_restored
from tests.storage.conftest import NOW, make_child

VISIT_AT = datetime(2026, 12, 21, 10, 30, tzinfo=UTC)

# Every free-text value written, each one unique so a raw scan can look for it.
SECRETS = {
    "present": "Mother Jolene Quartermaine and her partner Brannigan",
    "observations": "Bruise on the left forearm, explanation inconsistent",
    "family_circumstances": "Uncle Mortimer Vexley moved in last week",
    "new_adults": "Partner Brannigan Oduya, aged 34",
    "sleeping_arrangements": "Shares a mattress with two siblings",
    "presentation": "Quiet, flinched when the door slammed",
    "wishes_feelings": "I want Nana Philippa to come back",
    "incident_or_injury": "Burn mark on the wrist, reported by Zebedee",
    "contact_title": "Visit to Kestrel Primary School",
}
REASON = "Stepfather Thaddeus refused to leave the room"
NOTE_REASON = "Domestic abuse: a note would alert Thaddeus"
DECISION_NOTE = "Discussed with Ravensworth; revisit on Thursday"
CASE_NOTE = "Child said Grandad Evander hits her with a belt"
ALL_SECRETS = [*SECRETS.values(), REASON, NOTE_REASON, DECISION_NOTE, CASE_NOTE]


def key() -> str:
    return Fernet.generate_key().decode("ascii")


def write_everything(factory: sessionmaker[Session]) -> int:
    """A visit with its record (not seen alone, no-one-home note not left), a decision with a note
    and a case note; returns the child's id."""
    with factory() as session:
        child, lead, manager = make_child(session)
    with factory.begin() as session:
        record_contact(
            session,
            child.id,
            model.Contact(
                at=VISIT_AT,
                kind="home_visit",
                by="lead_social_worker",
                child_seen=True,
                seen_alone="no",
                seen_alone_reason=REASON,
                recorded_at=VISIT_AT + timedelta(hours=2),
            ),
            record=VisitRecord(spoken_with=True, **SECRETS),
            by_staff=lead.id,
            now=NOW,
        )
        record_contact(
            session,
            child.id,
            model.Contact(
                at=VISIT_AT + timedelta(days=1),
                kind="home_visit",
                by="lead_social_worker",
                child_seen=False,
                no_one_home=True,
                note_left=False,
                note_not_left_reason=NOTE_REASON,
            ),
            by_staff=lead.id,
            now=NOW,
        )
        record_decision(
            session,
            child.id,
            model.Decision(
                at=NOW,
                rule="HI-NOTSEEN-REVISIT",
                by="team_manager",
                outcome="further_visit",
                within_working_days=2,
            ),
            by_staff=manager.id,
            note=DECISION_NOTE,
            now=NOW,
        )
        add_case_note(session, child.id, lead.id, CASE_NOTE, at=NOW, now=NOW)
    return child.id


def raw_dump(engine: Engine) -> str:
    """Every value of every table, read with plain SQL (no column types involved)."""
    out = []
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            for row in conn.exec_driver_sql(f"SELECT * FROM {table.name}"):
                out.append(" | ".join(str(v) for v in row))
    return "\n".join(out)


def raw_values(engine: Engine) -> list[str]:
    """The stored values of the encrypted columns, with plain SQL."""
    values = []
    with engine.connect() as conn:
        for table, column in models.encrypted_columns():
            values += [
                v for (v,) in conn.exec_driver_sql(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
            ]
    return values


def test_encrypted_columns_are_the_free_text_ones() -> None:
    assert set(models.encrypted_columns()) == {
        ("case_notes", "text"),
        ("decisions", "note"),
        *(("contacts", c) for c in SECRETS),
        ("contacts", "seen_alone_reason"),
        ("contacts", "note_not_left_reason"),
    }


def test_raw_database_holds_no_free_text(engine: Engine, factory: sessionmaker[Session]) -> None:
    child_id = write_everything(factory)
    dump = raw_dump(engine)
    assert "C-1042" in dump  # the scan does see the rows
    for secret in ALL_SECRETS:
        assert secret not in dump
        # nor any distinctive word of it
        assert max(secret.split(), key=len) not in dump
    values = raw_values(engine)
    assert len(values) == len(ALL_SECRETS)
    assert all(v.startswith(crypto.MARKER) for v in values)

    # ... while the code reads the text as written
    with factory() as session:
        contacts = session.scalars(select(models.Contact).order_by(models.Contact.id)).all()
        assert {name: getattr(contacts[0], name) for name in SECRETS} == SECRETS
        assert contacts[0].seen_alone_reason == REASON
        assert contacts[1].note_not_left_reason == NOTE_REASON
        assert session.scalar(select(models.Decision.note)) == DECISION_NOTE
        assert session.scalar(select(models.CaseNote.text)) == CASE_NOTE
        case = case_for_child(session, child_id)  # the sweep's fast path decrypts too
        assert case.contacts[0].seen_alone_reason == REASON
        assert case.contacts[1].note_not_left_reason == NOTE_REASON


def test_sqlite_file_holds_no_free_text(tmp_path: Path) -> None:
    """The bytes of the database file and its write-ahead log, not only what SQL returns."""
    engine = make_engine(f"sqlite:///{tmp_path / 'raw.sqlite'}")
    from storage.db import upgrade

    upgrade(engine)
    write_everything(session_factory(engine))
    data = b"".join(p.read_bytes() for p in tmp_path.glob("raw.sqlite*"))
    engine.dispose()
    assert b"C-1042" in data
    for secret in ALL_SECRETS:
        assert secret.encode() not in data


def test_same_text_encrypts_differently_each_time() -> None:
    ring = crypto.Keyring.parse(key())
    assert ring.encrypt("same") != ring.encrypt("same")
    assert ring.decrypt(ring.encrypt("same")) == "same"
    assert ring.decrypt(ring.encrypt("")) == ""


def test_rotation_keeps_everything_readable_and_removes_old_tokens(
    engine: Engine, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = key(), key()
    monkeypatch.setenv("SEEN_DATA_KEY", old)
    write_everything(factory)
    old_id = crypto.key_id(old.encode())
    assert all(f"$fernet${old_id}$" in v for v in raw_values(engine))

    monkeypatch.setenv("SEEN_DATA_KEY", f"{new},{old}")  # newest first
    with factory() as session:  # before rotating: old values still read, new writes use the new key
        assert session.scalar(select(models.CaseNote.text)) == CASE_NOTE
    report = rotate_keys(factory, batch=2, now=NOW)
    assert report.total == len(ALL_SECRETS)
    assert report.key == crypto.key_id(new.encode())
    assert stale_values(factory) == 0
    values = raw_values(engine)
    assert values and not any(old_id in v for v in values)
    assert all(v.startswith(f"$fernet${report.key}$") for v in values)

    again = rotate_keys(factory, now=NOW)  # idempotent
    assert again.total == 0
    assert raw_values(engine) == values

    monkeypatch.setenv("SEEN_DATA_KEY", new)  # the old key can go now
    with factory() as session:
        contact = session.scalars(select(models.Contact).order_by(models.Contact.id)).first()
        assert contact is not None
        assert {n: getattr(contact, n) for n in SECRETS} == SECRETS
        assert contact.seen_alone_reason == REASON
        assert session.scalar(select(models.Decision.note)) == DECISION_NOTE
        assert session.scalar(select(models.CaseNote.text)) == CASE_NOTE
        audits = session.scalars(
            select(models.AuditLog).where(models.AuditLog.action == "keys.rotated")
        ).all()
        assert [sum(a.detail["reencrypted"].values()) for a in audits] == [len(ALL_SECRETS), 0]
        for audit in audits:  # counts and key ids only
            assert new not in str(audit.detail) and old not in str(audit.detail)
            assert not any(s in str(audit.detail) for s in ALL_SECRETS)


def test_rotation_encrypts_plaintext_written_before_encryption(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    with factory() as session:
        child, lead, _ = make_child(session)
    with engine.begin() as conn:  # as a row from before encryption was turned on
        conn.execute(
            text(
                "INSERT INTO case_notes (child_id, author_id, at, text, source, deleted) "
                "VALUES (:c, :a, :at, :t, 'command', :d)"
            ),
            {"c": child.id, "a": lead.id, "at": NOW, "t": CASE_NOTE, "d": False},
        )
    with factory() as session:  # plaintext still reads
        assert session.scalar(select(models.CaseNote.text)) == CASE_NOTE
    assert stale_values(factory) == 1
    report = rotate_keys(factory, now=NOW)
    assert report.encrypted_plaintext["case_notes.text"] == 1
    assert CASE_NOTE not in raw_dump(engine)
    with factory() as session:
        assert session.scalar(select(models.CaseNote.text)) == CASE_NOTE


def test_a_missing_key_is_a_clear_error_without_the_text(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEN_DATA_KEY", key())
    write_everything(factory)
    monkeypatch.setenv("SEEN_DATA_KEY", key())  # a different key, the old one dropped too soon
    with factory() as session, pytest.raises(crypto.DataKeyError) as caught:
        session.scalar(select(models.CaseNote.text))
    message = str(caught.value)
    assert "not among SEEN_DATA_KEY" in message
    assert CASE_NOTE not in message and "$fernet$" not in message


def test_a_tampered_value_does_not_decrypt() -> None:
    ring = crypto.Keyring.parse(key())
    stored = ring.encrypt("hello")
    tampered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(crypto.DataKeyError, match="damaged or altered"):
        ring.decrypt(tampered)


@pytest.mark.parametrize("value", ["not-a-key", "abc,", "QUJDRA=="])
def test_a_malformed_key_is_refused_without_echoing_it(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEN_DATA_KEY", value)
    with pytest.raises(crypto.DataKeyError) as caught:
        crypto.keyring("sqlite")
    assert "key 1" in str(caught.value)
    assert value.rstrip(",") not in str(caught.value)


def test_same_key_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    k = key()
    monkeypatch.setenv("SEEN_DATA_KEY", f"{k}, {k}")
    with pytest.raises(crypto.DataKeyError, match="twice"):
        crypto.keyring("postgresql")


PG_URL = "postgresql+psycopg://seen@127.0.0.1:1/seen"  # never connected to


def test_postgres_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    monkeypatch.delenv("SEEN_ALLOW_PLAINTEXT", raising=False)
    with pytest.raises(crypto.DataKeyError, match="SEEN_DATA_KEY is not set"):
        make_engine(PG_URL)


def test_postgres_plaintext_only_when_allowed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    monkeypatch.setenv("SEEN_ALLOW_PLAINTEXT", "1")
    with caplog.at_level(logging.WARNING, logger="seen.crypto"):
        make_engine(PG_URL).dispose()
    assert "UNENCRYPTED" in caplog.text
    assert crypto.encrypt_value("plain", "postgresql") == "plain"


def test_development_key_file_is_made_once_owner_only_and_never_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    key_file = tmp_path / "var" / "seen-data.key"
    monkeypatch.setenv("SEEN_DATA_KEY_FILE", str(key_file))
    with caplog.at_level(logging.WARNING, logger="seen.crypto"):
        engine = make_engine(f"sqlite:///{tmp_path / 'dev.sqlite'}")
        engine.dispose()
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    written = key_file.read_text().strip()
    assert "generated a development data key" in caplog.text
    assert written not in caplog.text
    token = crypto.encrypt_value("hello", "sqlite")
    crypto.reset()  # another process: the same file, the same key
    assert crypto.decrypt_value(token, "sqlite") == "hello"
    assert key_file.read_text().strip() == written


def test_default_development_key_file_is_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    monkeypatch.delenv("SEEN_DATA_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    crypto.keyring("sqlite")
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "seen-data.key").st_mode) == 0o600


def test_cli_keys_generate_and_rotate(
    db_url: str,
    engine: Engine,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scheduler.cli import main

    old = key()
    monkeypatch.setenv("SEEN_DATA_KEY", old)
    write_everything(factory)
    assert main(["keys", "generate"]) == 0
    new = capsys.readouterr().out.strip()
    crypto.Keyring.parse(new)  # a valid key
    monkeypatch.setenv("SEEN_DATA_KEY", f"{new},{old}")
    assert main(["keys", "rotate", "--batch", "3", "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    assert f"{len(ALL_SECRETS)} value(s) re-encrypted" in out and crypto.key_id(new.encode()) in out
    assert new not in out and old not in out
    assert not any(crypto.key_id(old.encode()) in v for v in raw_values(engine))
    monkeypatch.setenv("SEEN_DATA_KEY", "not a key")
    assert main(["keys", "rotate", "--database-url", db_url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SEEN_DATA_KEY: key 1 is not a Fernet key" in err


def test_seen_run_refuses_postgres_without_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.cli import main

    monkeypatch.delenv("SEEN_DATA_KEY", raising=False)
    monkeypatch.delenv("SEEN_ALLOW_PLAINTEXT", raising=False)
    monkeypatch.setenv("SEEN_DATABASE_URL", PG_URL)
    with root_logging_restored():
        assert main(["run", "--no-demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seen run: SEEN_DATA_KEY is not set") and err.count("\n") == 1
