"""Wake long-polling `GET /submissions/{id}?wait=S` requests when a grade lands.

A waiter is an asyncio.Event on the server's loop, not a thread or a DB connection. Workers in
this process wake it through `notify` (thread-safe); with separate Redis workers nothing
notifies, and the request falls back to re-reading the database with a growing interval."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator


class GradeWaiters:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self, submission_id: str) -> None:
        """Callable from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, submission_id)

    def _wake(self, submission_id: str) -> None:
        for event in self._events.get(submission_id, ()):
            event.set()

    @contextmanager
    def subscribe(self, submission_id: str) -> Iterator[asyncio.Event]:
        """An event set when `submission_id` finishes. Subscribe before reading the status,
        so that a grade landing in between is not missed."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._events[submission_id].add(event)
        try:
            yield event
        finally:
            waiting = self._events.get(submission_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._events[submission_id]
