"""The work after acknowledgements (Bolt's lazy listeners): a few threads of its own, taking first
the work that opens a form. Slack accepts a request's trigger to open a form for 3 seconds only;
under a burst of commands the rest (answers through the response_url, valid for 30 minutes) can
wait its turn, a form cannot.

A command opens a form when it is `/seen log` or `/seen record`; a button when it is one of
FORM_BUTTONS (bot.listeners.commands and bot.listeners.prompts open them). This is an order of
work only: what is not listed here is done all the same, after the forms.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable

from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.lazy_listener.runner import LazyListenerRunner
from slack_bolt.request import BoltRequest

FORM_COMMANDS = frozenset({"log", "record"})
FORM_BUTTONS = frozenset({"seen_decide", "seen_log_visit", "seen_open_record"})
FORM_FIRST, THE_REST = 0, 1


def opens_form(request: BoltRequest) -> bool:
    """Whether the work after this request opens a form with the request's trigger."""
    body = request.body or {}
    if body.get("command"):
        words = str(body.get("text") or "").split()
        return bool(words) and words[0].lower() in FORM_COMMANDS
    actions = body.get("actions")
    return isinstance(actions, list) and any(
        isinstance(a, dict) and a.get("action_id") in FORM_BUTTONS for a in actions
    )


class FollowUps(LazyListenerRunner):
    """Bolt's lazy listener runner on `workers` threads, forms first, otherwise in arrival order."""

    def __init__(self, logger: logging.Logger, workers: int, name: str = "seen-bot") -> None:
        self.logger = logger
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], None]]] = queue.PriorityQueue()
        self._order = itertools.count()
        for n in range(workers):
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True).start()

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        work = build_runnable_function(func=function, logger=self.logger, request=request)
        self._queue.put((FORM_FIRST if opens_form(request) else THE_REST, next(self._order), work))

    def waiting(self) -> int:
        return self._queue.qsize()

    def _work(self) -> None:
        while True:
            _, _, work = self._queue.get()
            try:
                work()  # Bolt's wrapper logs what the listener raises
            except Exception:
                self.logger.exception("follow-up work failed")
