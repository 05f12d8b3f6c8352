"""Work done after an activity is acknowledged. The Teams SDK answers the Bot Connector's HTTP
request only once the handler returns, so a handler that ran a command and posted its answer first
made a burst of messages wait for each other's database work (the Slack app acknowledges at once
and runs its listeners after, the same way). `Later.run` starts the work as a task on the server's
event loop and returns; the task's failure is logged, never raised. `wait_idle` (for tests and the
load check) blocks another thread until no work is under way."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("seen.teams")


class Later:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = threading.Condition()
        self._busy = 0

    def run(self, work: Coroutine[Any, Any, Any]) -> None:
        with self._idle:
            self._busy += 1
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # a task nobody holds may be collected before it is done
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("work after an acknowledgement failed: %s", type(exc).__name__)
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block (another thread than the server's) until no work is under way; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)
