"""The text of `/seen …` commands, parsed without I/O. Every mistake is a `ParseError` whose message
says exactly what was wrong and how to write it; the caller shows it ephemerally and stores nothing.

    /seen log C-1042 seen|not-seen|no-one-home [alone|not-alone] [bedroom|no-bedroom]
              [awake|not-awake] [at 2026-12-21 10:30] [because <why not seen alone>]
    /seen record C-1042
    /seen due | /seen team | /seen child C-1042 | /seen note C-1042 <text> | /seen help
    /seen stats [team]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from storage.caseload import CASE_REF

TIME_FORMAT = "%Y-%m-%d %H:%M"
TIME_EXAMPLE = "2026-12-21 10:30"
OUTCOMES = ("seen", "not-seen", "no-one-home")

HELP = """*Seen: every child on a plan seen on time*
• `/seen log C-1042 seen|not-seen|no-one-home [alone|not-alone] [bedroom|no-bedroom] [awake|not-awake] \
[at 2026-12-21 10:30]` \
logs a visit outcome, then opens the Record of a Child Protection Visit form (add `because …` after \
`not-alone` to say why the child was not seen alone)
• `/seen record C-1042` opens the visit record form (the latest unrecorded visit, or a new one)
• `/seen due`: your children, by deadline
• `/seen team`: your team's list, overdue first
• `/seen child C-1042`: the child's next deadlines, open prompts and last visits
• `/seen note C-1042 text`: a case note on the child
• `/seen stats [team]`: your team's timeliness this month, four numbers and a chart (practice \
managers and heads of service: their teams)
• `/seen help`: this message
Reply in the thread of any reminder or prompt to keep the reply as a case note on that child."""

USAGE = {
    "log": "/seen log C-1042 seen|not-seen|no-one-home [alone|not-alone] [bedroom|no-bedroom] "
    f"[awake|not-awake] [at {TIME_EXAMPLE}]",
    "record": "/seen record C-1042",
    "child": "/seen child C-1042",
    "note": "/seen note C-1042 what happened",
    "due": "/seen due",
    "team": "/seen team",
    "help": "/seen help",
    "stats": "/seen stats [team]",
}


WallTime = tuple[date, time]  # a local date and clock time, before a time zone makes it an instant


class ParseError(ValueError):
    """A command that cannot be carried out as written; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Log:
    case_ref: str
    outcome: str  # one of OUTCOMES
    alone: bool | None = None  # True: seen alone; False: not seen alone; None: not said
    alone_reason: str | None = None
    bedroom: bool | None = None
    at: WallTime | None = None  # local date and time as written (see `visit_time`)
    awake: bool | None = None  # a baby seen awake (CB-BABY-AWAKE)


@dataclass(frozen=True, slots=True)
class Record:
    case_ref: str


@dataclass(frozen=True, slots=True)
class Child:
    case_ref: str


@dataclass(frozen=True, slots=True)
class Note:
    case_ref: str
    text: str


@dataclass(frozen=True, slots=True)
class Due:
    pass


@dataclass(frozen=True, slots=True)
class Team:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Stats:
    team: str | None = None  # a team's name as written; None: the asker's own team(s)


Command = Log | Record | Child | Note | Due | Team | Help | Stats


def parse(text: str) -> Command:
    """`/seen` text -> a command, or `ParseError` saying what to write instead."""
    words = (text or "").split()
    if not words:
        return Help()
    name, rest = words[0].lower(), words[1:]
    if name == "help":
        return Help()
    if name in ("due", "team"):
        if rest:
            raise ParseError(f"`/seen {name}` takes nothing after it; write `{USAGE[name]}`")
        return Due() if name == "due" else Team()
    if name == "log":
        return _log(rest)
    if name == "stats":
        named = (text or "").strip().split(None, 1)
        return Stats(" ".join(named[1].split()) if len(named) > 1 else None)
    if name in ("record", "child"):
        ref = _ref(rest, name)
        if len(rest) > 1:
            raise ParseError(f"unexpected {' '.join(rest[1:])!r}; write `{USAGE[name]}`")
        return Record(ref) if name == "record" else Child(ref)
    if name == "note":
        ref = _ref(rest, name)
        body = (text or "").strip().split(None, 2)
        note = body[2].strip() if len(body) > 2 else ""
        if not note:
            raise ParseError(f"write the note after the case reference: `{USAGE['note']}`")
        return Note(ref, note)
    raise ParseError(
        f"unknown command {words[0]!r}: use log, record, due, team, child, note, stats or help "
        "(`/seen help` shows them all)"
    )


def _ref(rest: list[str], name: str) -> str:
    if not rest:
        raise ParseError(f"which child? Give the case reference: `{USAGE[name]}`")
    ref = rest[0]
    if not CASE_REF.fullmatch(ref.upper()):
        raise ParseError(f"{ref!r} is not a case reference like C-1042; write `{USAGE[name]}`")
    return ref.upper()


def _log(rest: list[str]) -> Log:
    ref = _ref(rest, "log")
    words = rest[1:]
    if not words:
        raise ParseError(f"say how the visit went (seen, not-seen or no-one-home): `{USAGE['log']}`")
    outcome = words[0].lower()
    if outcome not in OUTCOMES:
        raise ParseError(
            f"{words[0]!r} is not an outcome: write seen, not-seen or no-one-home after the case "
            f"reference, e.g. `/seen log {ref} seen`"
        )
    alone: bool | None = None
    reason: str | None = None
    bedroom: bool | None = None
    awake: bool | None = None
    at: WallTime | None = None
    i = 1
    while i < len(words):
        word = words[i].lower()
        if word in ("alone", "not-alone"):
            if alone is not None:
                raise ParseError("say alone or not-alone once")
            alone = word == "alone"
        elif word in ("bedroom", "no-bedroom"):
            if bedroom is not None:
                raise ParseError("say bedroom or no-bedroom once")
            bedroom = word == "bedroom"
        elif word in ("awake", "not-awake"):
            if awake is not None:
                raise ParseError("say awake or not-awake once")
            awake = word == "awake"
        elif word == "at":
            if at is not None:
                raise ParseError("give the time once")
            at = parse_time(" ".join(words[i + 1 : i + 3]))
            i += 2
        elif word == "because":
            reason = " ".join(words[i + 1 :]).strip()
            if not reason:
                raise ParseError("write the reason after `because`")
            break
        else:
            raise ParseError(
                f"unexpected {words[i]!r}: after the outcome write alone or not-alone, bedroom or "
                f"no-bedroom, awake or not-awake (a baby), and `at {TIME_EXAMPLE}`; "
                f"e.g. `/seen log {ref} seen alone bedroom`"
            )
        i += 1
    if outcome != "seen":
        if alone:
            raise ParseError("the child was not seen, so cannot have been seen alone: leave out `alone`")
        if bedroom is not None and outcome == "no-one-home":
            raise ParseError("no one was home, so the bedroom was not seen: leave out `bedroom`")
        if awake is not None:
            raise ParseError("the child was not seen, so leave out awake or not-awake")
    if reason is not None and alone is not False:
        raise ParseError(
            "`because …` gives the reason the child was not seen alone: write `not-alone because …`"
        )
    return Log(ref, outcome, alone, reason, bedroom, at, awake)


def parse_time(text: str) -> WallTime:
    """`2026-12-21 10:30` -> (date, time) on the local clock; anything else is refused."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}", text.strip()):
            raise ValueError
        day, clock = text.split()
        return date.fromisoformat(day), time.fromisoformat(clock.zfill(5))
    except ValueError:
        shown = f" (not {text!r})" if text.strip() else ""
        raise ParseError(f"time must be like {TIME_EXAMPLE}{shown}") from None


def visit_time(local: WallTime | None, tz: tzinfo, now: datetime) -> datetime:
    """The visit's instant: `local` (on the clock of `tz`) or `now`; a time after `now` is refused."""
    if local is None:
        return now
    at = datetime.combine(local[0], local[1], tz)
    if at > now:
        raise ParseError(
            f"a visit cannot be in the future ({at.strftime(TIME_FORMAT)} is after "
            f"{now.astimezone(tz).strftime(TIME_FORMAT)})"
        )
    return at
