"""Encryption at rest of free text: case notes, the visit record's text and decision notes.

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256, `cryptography`) by the column type
`storage.types.EncryptedText`, so the code above it keeps reading and writing `str`. A stored value
is `$fernet$<key id>$<token>`: the marker tells an encrypted value from plaintext written before
encryption was turned on (still read as it is, and encrypted by `seen keys rotate`); the key id
(8 hex digits of a SHA-256 of the key, which tells nothing about the key) says which key wrote it,
so rotation finds the values still under an older key with plain SQL.

Keys: `SEEN_DATA_KEY`, one or more Fernet keys separated by commas, newest first. New values are
encrypted with the first; values under any of them are read. To rotate: put a new key first, run
`seen keys rotate` (re-encrypts every value under the newest key), then drop the old key.

Without `SEEN_DATA_KEY`:
- SQLite (development): a key is generated once into `var/seen-data.key` (or `SEEN_DATA_KEY_FILE`),
  readable by its owner only, and a warning is logged (never the key).
- PostgreSQL: Seen refuses to start (`DataKeyError`) unless `SEEN_ALLOW_PLAINTEXT=1`, in which case
  free text is stored in plaintext, with a warning; `seen keys rotate` encrypts it later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.files import private_folder

log = logging.getLogger("seen.crypto")

MARKER = "$fernet$"
KEY_ENV = "SEEN_DATA_KEY"
KEY_FILE_ENV = "SEEN_DATA_KEY_FILE"
PLAINTEXT_ENV = "SEEN_ALLOW_PLAINTEXT"
DEFAULT_KEY_FILE = Path("var") / "seen-data.key"


class DataKeyError(RuntimeError):
    """The data key is missing, malformed, or not the one a stored value was encrypted with.
    Messages never contain a key or a stored value."""


def key_id(key: bytes) -> str:
    """A short public name for a key: 8 hex digits of SHA-256("seen-data-key:" + key)."""
    return hashlib.sha256(b"seen-data-key:" + key).hexdigest()[:8]


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


class Keyring:
    """The keys in use, newest first. `encrypt` uses the newest; `decrypt` accepts any of them."""

    __slots__ = ("_by_id", "_multi", "keys", "prefix")

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if not keys:
            raise DataKeyError(f"{KEY_ENV}: no key given")
        self.keys = keys
        fernets = [Fernet(k) for k in keys]
        self._multi = MultiFernet(fernets)
        self._by_id = {key_id(k): f for k, f in zip(keys, fernets, strict=True)}
        self.prefix = f"{MARKER}{key_id(keys[0])}$"  # what every value under the newest key starts with

    @classmethod
    def parse(cls, text: str, source: str = KEY_ENV) -> Keyring:
        keys = []
        for n, part in enumerate((p.strip() for p in text.split(",")), start=1):
            if not part:
                continue
            try:
                raw = base64.urlsafe_b64decode(part.encode("ascii"))
            except (binascii.Error, ValueError, UnicodeEncodeError):
                raw = b""
            if len(raw) != 32:
                raise DataKeyError(
                    f"{source}: key {n} is not a Fernet key (32 bytes, url-safe base64; "
                    "make one with `seen keys generate`)"
                )
            keys.append(part.encode("ascii"))
        if len(set(keys)) != len(keys):
            raise DataKeyError(f"{source}: the same key is given twice")
        return cls(tuple(keys))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.keys)

    def encrypt(self, text: str) -> str:
        token = self._multi.encrypt(text.encode("utf-8")).decode("ascii")
        return self.prefix + token

    def decrypt(self, stored: str) -> str:
        """The text of a stored value: `$fernet$<id>$<token>`, or plaintext from before encryption."""
        if not stored.startswith(MARKER):
            return stored
        kid, _, token = stored[len(MARKER) :].partition("$")
        fernet = self._by_id.get(kid)
        if fernet is None:
            raise DataKeyError(
                f"a value was encrypted with key {kid}, which is not among {KEY_ENV}'s keys "
                f"({', '.join(self.ids)}); add that key back (after the newest) to read it"
            )
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise DataKeyError(f"a value under key {kid} does not decrypt: damaged or altered") from None

    def is_current(self, stored: str | None) -> bool:
        """Already encrypted under the newest key (or NULL): nothing for rotation to do."""
        return stored is None or stored.startswith(self.prefix)


# -- which keys apply ---------------------------------------------------------------------------
_lock = threading.Lock()
_cache: dict[tuple[str, ...], Keyring | None] = {}


def _env(name: str) -> str:
    return os.environ.get(name, "")


def plaintext_allowed() -> bool:
    return _env(PLAINTEXT_ENV).strip().lower() in ("1", "true", "yes")


def key_file() -> Path:
    return Path(_env(KEY_FILE_ENV) or DEFAULT_KEY_FILE)


def keyring(dialect: str) -> Keyring | None:
    """The keys for a database of this dialect ("sqlite", "postgresql"): SEEN_DATA_KEY; else, for
    SQLite, the development key file; else None when plaintext is allowed. Raises DataKeyError."""
    env = _env(KEY_ENV)
    backend = "sqlite" if dialect == "sqlite" else "server"
    if env:
        cache_key: tuple[str, ...] = (env,)
    else:
        cache_key = (backend, _env(KEY_FILE_ENV), _env(PLAINTEXT_ENV))
    cached = _cache.get(cache_key, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    with _lock:
        if env.strip():
            ring: Keyring | None = Keyring.parse(env)
        elif backend == "sqlite":
            ring = _development_keyring()
        elif plaintext_allowed():
            log.warning(
                "%s is not set and %s=1: free text is stored UNENCRYPTED in this database",
                KEY_ENV,
                PLAINTEXT_ENV,
            )
            ring = None
        else:
            raise DataKeyError(
                f"{KEY_ENV} is not set: Seen will not store case notes unencrypted in PostgreSQL. "
                f"Set {KEY_ENV} (make a key with `seen keys generate`), or {PLAINTEXT_ENV}=1 to "
                "accept plaintext"
            )
        _cache[cache_key] = ring
        return ring


def check_startup(dialect: str) -> None:
    """Fail now, not at the first write, when the database would need a key it has not got."""
    keyring(dialect)


def reset() -> None:
    """Forget the keys worked out so far (tests change the environment)."""
    with _lock:
        _cache.clear()


def _development_keyring() -> Keyring:
    path = key_file()
    generated = False
    if not path.exists():
        private_folder(path.parent)  # var/, beside the database: the owner's only
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(generate_key() + "\n")
            log.warning(
                "%s is not set: generated a development data key in %s (owner-only). "
                "Keep it with the database; set %s in production",
                KEY_ENV,
                path,
                KEY_ENV,
            )
            generated = True
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the data key file %s can be read by others (mode %o): chmod 600 it", path, mode)
    try:
        ring = Keyring.parse(path.read_text(encoding="ascii"), source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataKeyError(f"{path}: cannot read the data key ({type(exc).__name__})") from None
    if not generated:  # one line a start: the one above says so already
        log.warning("%s is not set: using the development data key in %s", KEY_ENV, path)
    return ring


# -- what the column type calls -----------------------------------------------------------------
def encrypt_value(text: str, dialect: str) -> str:
    ring = keyring(dialect)
    return text if ring is None else ring.encrypt(text)


def decrypt_value(stored: str, dialect: str) -> str:
    if not stored.startswith(MARKER):
        return stored
    ring = keyring(dialect)
    if ring is None:
        raise DataKeyError(f"an encrypted value was read but {KEY_ENV} is not set")
    return ring.decrypt(stored)
