"""The engine: loops that find work in the database and do it.

It holds no work in memory that is not also in the database; killing it at any
moment loses nothing, because leases expire and another engine (or this one,
restarted) takes the work over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

LOG = logging.getLogger(__name__)


class Worker(Protocol):
    """Something the engine ticks: it queues or does due work, then returns."""

    def tick(self) -> None: ...

    def shutdown(self) -> None: ...


class Engine:
    """Ticks each worker every ``poll_interval`` seconds, or at once when woken."""

    def __init__(self, workers: list[Worker], poll_interval: float,
                 on_error: Callable[[Exception], None] | None = None):
        self.workers = workers
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_error = on_error

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kingbird-engine", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New work was recorded: look now rather than at the next poll."""
        self._wake.set()

    def run_forever(self) -> None:
        self._loop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            for worker in self.workers:
                try:
                    worker.tick()
                except Exception as exc:  # a database outage must not kill the loop
                    LOG.warning("engine tick of %s failed: %s", type(worker).__name__, exc)
                    if self._on_error:
                        self._on_error(exc)
            self._wake.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        for worker in self.workers:
            worker.shutdown()
