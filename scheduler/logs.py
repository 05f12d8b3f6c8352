"""Structured logs without personal data: one JSON object per line on standard error.

    {"time": "2026-12-22T09:00:00.123Z", "level": "INFO", "logger": "seen.sweep",
     "message": "sweep at ...: 12 children evaluated, ...", "child": "C-1042"}

Keys: time (UTC), level, logger, message, any `extra={...}` fields, and `exception` (the
traceback) when there is one. `configure_logging()` installs it (`seen run` and `seen serve` do;
`seen serve` gives uvicorn no logging configuration of its own, so uvicorn's records come here too);
`SEEN_LOG_FORMAT=text` gives one plain line per record instead, with the same filtering;
`SEEN_LOG_LEVEL` sets the level (default INFO).

Every record passes `PersonalDataFilter` before it is written. Logs are for operating Seen, so they
carry case references, rule IDs, outbox keys, counts and times, and never:
- an email address (any, known or not): `[email]`;
- a staff member's name or any part of it (the names are read from the database, see
  `watch_staff`): `[name]`;
- free text: an argument or extra field that is a string of words (a note, a reason, a visit
  record, a name typed by someone) is replaced by `[text withheld]`. Identifiers pass: a string of
  one or more tokens such as `C-1042`, `CB-VISIT-10WD`, `C-1042:HI-VISIT-20WD:lead_social_worker:…`.
  Exceptions keep their type and message with quoted text withheld, names and emails removed.
The format string itself is the code's own words; it is checked for names and emails too.
SQL parameters never reach a log: engines are made with `hide_parameters` (storage.db).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any, TextIO

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Linear time: a match starts only where a run of local-part characters starts (the look-behind),
# so each character is scanned a bounded number of times; without it a long run with no "@" was
# scanned again from every one of its positions (quadratic: 1 MB of letters held the process for
# minutes).
EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# one identifier: letters, digits and the punctuation of keys, references, times and paths
_TOKEN = r"[\w.:/#+=\-\[\]()@|]{1,200}"
IDENTIFIERS = re.compile(rf"{_TOKEN}(?:,? {_TOKEN})*")
_HAS_MARK = re.compile(r"[\d:_\-/#=]")  # what tells an identifier from a plain word
QUOTED = re.compile(r"""'[^'\n]*'|"[^"\n]*\"""")
WITHHELD = "[text withheld]"
MAX_TEXT = 500
MAX_LOG_TEXT = 20_000  # characters of a message looked at and kept; the rest is cut
CUT = " [… cut]"


def bounded(text: str, limit: int = MAX_LOG_TEXT) -> str:
    """`text` cut to `limit` characters at a space, so that no word (an email, a name) is cut in
    two and half of it kept; the patterns below then never look at more than `limit`."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head[: max(head.rfind(" "), 0)] + CUT


class Redactor:
    """Takes personal data out of what is about to be logged."""

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self._names: re.Pattern[str] | None = None
        self.set_terms(terms)

    def set_terms(self, terms: Iterable[str]) -> None:
        """Names to remove wherever they appear (whole words, as written)."""
        words = sorted({t.strip() for t in terms if t and len(t.strip()) >= 3}, key=len, reverse=True)
        self._names = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)") if words else None
        )

    def text(self, text: str) -> str:
        """Code-written text: emails and known names removed."""
        text = bounded(text)
        text = EMAIL.sub("[email]", text)
        if self._names is not None:
            text = self._names.sub("[name]", text)
        return text

    def free(self, text: str) -> str:
        """Text that may hold someone's words (an exception message): quoted parts withheld too."""
        text = bounded(text)
        text = QUOTED.sub(lambda m: m.group(0) if _is_identifier(m.group(0)[1:-1]) else WITHHELD, text)
        text = self.text(text)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"

    def value(self, value: Any) -> Any:
        """An argument or extra field: identifiers, numbers and times pass; words do not."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, PurePath):  # where a file is (the development key): not personal data
            return self.text(str(value))
        if isinstance(value, BaseException):
            return f"{type(value).__name__}: {self.free(str(value))}" if str(value) else type(value).__name__
        if isinstance(value, str):
            return self.text(value) if _is_identifier(value) else WITHHELD
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {str(k): self.value(v) for k, v in value.items()}
        return f"[{type(value).__name__} withheld]"


def _is_identifier(text: str) -> bool:
    if not text:
        return True
    if len(text) > MAX_LOG_TEXT:  # no identifier is that long
        return False
    if EMAIL.search(text) or not IDENTIFIERS.fullmatch(text):
        return False
    return all(_HAS_MARK.search(part) for part in text.replace(",", " ").split())


class PersonalDataFilter(logging.Filter):
    """Rewrites each record so that it carries no personal data (see the module docstring).
    `terms`: called now and then (every `refresh_seconds`) for the names to remove."""

    def __init__(
        self,
        terms: Callable[[], Iterable[str]] | None = None,
        refresh_seconds: float = 300,
    ) -> None:
        super().__init__()
        self.redactor = Redactor()
        self.refresh_seconds = refresh_seconds
        self._terms = terms
        self._loaded_at = -float("inf")
        self._busy = threading.local()
        self._lock = threading.Lock()

    def set_terms_source(self, terms: Callable[[], Iterable[str]] | None) -> None:
        self._terms = terms
        self._loaded_at = -float("inf")

    def _refresh(self) -> None:
        if self._terms is None or getattr(self._busy, "on", False):
            return
        if time.monotonic() - self._loaded_at < self.refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self.refresh_seconds:
                return
            self._busy.on = True  # loading the names may log (the database): not again from here
            try:
                self.redactor.set_terms(self._terms())
            except Exception:  # the database is away: keep the names we had, try again later
                pass
            finally:
                self._loaded_at = time.monotonic()
                self._busy.on = False

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_seen_clean", False):
            return True
        if _from_slack_library(record):
            if record.levelno < logging.WARNING:
                return False
            _library_clause(record)
        self._refresh()
        r = self.redactor
        args = record.args
        if isinstance(args, dict):
            safe_args: Any = {k: r.value(v) for k, v in args.items()}
        elif args:
            safe_args = tuple(r.value(a) for a in args)
        else:
            safe_args = None
        try:
            message = str(record.msg) % safe_args if safe_args is not None else str(record.msg)
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} {safe_args}"
        record.msg, record.args = r.text(message), None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and not name.startswith("_"):
                setattr(record, name, r.value(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._traceback(record.exc_info)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = r.free(record.exc_text)
        if record.stack_info:
            record.stack_info = r.text(record.stack_info)
        record._seen_clean = True
        return True

    def _traceback(self, exc_info: Any) -> str:
        """The frames as they are (the code's own lines; names and emails still removed), and each
        exception's message treated as free text."""
        r = self.redactor
        chunks = traceback.TracebackException(*exc_info).format(chain=True)
        return "".join(
            r.text(chunk) if chunk.startswith(("  File ", "Traceback ")) else r.free(chunk)
            for chunk in chunks
        ).rstrip()


# The loggers of slack_bolt and slack_sdk; bolt's listener and middleware loggers are named
# "<app name>:<function>" (Seen's app is "seen", so "seen:…", never one of Seen's own "seen.…").
SLACK_LIBRARIES = ("slack_bolt", "slack_sdk")
LIBRARY_DETAILS = " (details withheld)"
BODY = "[request body withheld]"
_CLAUSE_END = re.compile(r"[(:{\[\n]")
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


def _from_slack_library(record: logging.LogRecord) -> bool:
    name = record.name
    return name.split(".", 1)[0] in SLACK_LIBRARIES or ":" in name


def _library_clause(record: logging.LogRecord) -> None:
    """A record of the Slack libraries, by its structure rather than its words: their messages are
    f-strings that carry the request (`Invalid request signature detected (signature: …, body: …)`,
    `Unhandled request ({…})`, `request body: …`), the payload or the answer after the library's own
    clause, with no argument to tell them by. Only that first clause is kept; arguments (a body, a
    payload: a mapping or bytes) are withheld; an exception keeps its type and frames (below).
    Records below WARNING are not kept at all (the caller drops them): bolt gives each logger it
    makes the root's level, so the WARNING set on "slack_bolt" does not hold for them."""
    message = str(record.msg)
    cut = _CLAUSE_END.search(message)
    args = record.args
    if cut is not None or isinstance(args, Mapping):  # a mapping: logger.x("%s", body)
        head = message[: cut.start()] if cut is not None else message
        message, args = _PLACEHOLDER.sub("…", head).rstrip() + LIBRARY_DETAILS, None
    elif args:
        args = tuple(a if a is None or isinstance(a, bool | int | float | str) else BODY for a in args)
    record.msg, record.args = message, args


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and name not in out:
                out[name] = value
        if record.exc_text:
            out["exception"] = record.exc_text
        elif record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")


def configure_logging(
    *,
    level: str | int | None = None,
    stream: TextIO | None = None,
    fmt: str | None = None,
    terms: Callable[[], Iterable[str]] | None = None,
) -> logging.Handler:
    """Install the filtered JSON-lines handler on the root logger (replacing one installed before).
    Returns the handler; its filter is `handler.seen_filter`."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "seen_filter", None) is not None]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    fmt = (fmt or os.environ.get("SEEN_LOG_FORMAT") or "json").lower()
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    personal = PersonalDataFilter(terms)
    handler.addFilter(personal)
    handler.seen_filter = personal  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("SEEN_LOG_LEVEL", "INFO").upper())
    # Quiet libraries; Slack's, at debug, would log request bodies and event payloads (message text
    # and form answers), which the filter could not tell from our own words.
    for noisy in ("alembic", "apscheduler", "slack_sdk", "slack_bolt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def staff_terms(factory: Any) -> Callable[[], list[str]]:
    """The names and emails of every staff member, read from the database when called."""

    def load() -> list[str]:
        # A plain read on a raw connection: no transaction is begun, so it never waits on (or
        # for) a write transaction that is open in this same thread when something logs.
        connection = factory.kw["bind"].raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT name, email FROM staff")
            rows = cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
        terms: list[str] = []
        for name, email in rows:
            terms.append(name)
            terms.extend(name.split())
            if email:
                terms.append(email)
        return terms

    return load


def watch_staff(factory: Any) -> None:
    """Have the installed filter(s) remove the names of the staff in this database."""
    for handler in logging.getLogger().handlers:
        personal = getattr(handler, "seen_filter", None)
        if personal is not None:
            personal.set_terms_source(staff_terms(factory))
