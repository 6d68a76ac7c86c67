"""Bounded parallel calls to regions, with an overall deadline.

One ``FanOut`` per process bounds the calls in flight to all regions together
(``[regions] concurrency``). Calls run in lanes, one per region, each holding at
most ``per_lane`` of those slots: a slow region fills its own lane and delays only
the work that waits for it, while the calls to the other regions keep the
remaining slots busy. Calls still queued when their deadline passes are dropped
rather than sent late.

A region that times out ``trip_after`` times in a row is not called for
``cooldown`` seconds (its calls fail at once, as if it did not answer); then one
call probes it, and its first answer opens the lane again. So a region that has
become slow costs a few timeouts per cooldown instead of one per call. Only
timeouts count: a refused connection or an error answer fails fast by itself.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

from kingbird.core.exceptions import RegionError
from kingbird.regions.calls import RegionTimeout

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

NO_ANSWER = "no answer in time"


class _TooLate(Exception):
    """A queued call whose deadline passed before a slot freed up."""


class _Breaker:
    """Consecutive timeouts of one lane, and whether to call it at all."""

    def __init__(self, trip_after: int, cooldown: float):
        self.trip_after = trip_after
        self.cooldown = cooldown
        self.lock = threading.Lock()
        self.timeouts = 0
        self.open_until: float | None = None
        self.probing = False

    def admit(self) -> bool:
        """May a call go out now? (At most one probe while the breaker is open.)"""
        with self.lock:
            if self.open_until is None:
                return True
            if self.probing or time.monotonic() < self.open_until:
                return False
            self.probing = True
            return True

    def record(self, timed_out: bool) -> None:
        with self.lock:
            self.probing = False
            if not timed_out:
                self.timeouts, self.open_until = 0, None
                return
            self.timeouts += 1
            if self.timeouts >= self.trip_after:
                self.open_until = time.monotonic() + self.cooldown


class FanOut:
    """Runs calls to regions on bounded lanes.

    :param concurrency: calls in flight at once, all lanes together.
    :param per_lane: calls in flight at once in one lane (one region); default
        half of ``concurrency``, so one region never holds every slot.
    :param trip_after: timeouts in a row after which a lane is not called for
        ``cooldown`` seconds (0: never).
    """

    def __init__(self, concurrency: int, per_lane: int | None = None, trip_after: int = 3,
                 cooldown: float = 10.0):
        self.concurrency = concurrency
        self.per_lane = max(1, min(per_lane or (concurrency + 1) // 2, concurrency))
        self.trip_after = trip_after
        self.cooldown = cooldown
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lanes: dict[Hashable, cf.ThreadPoolExecutor] = {}
        self._breakers: dict[Hashable, _Breaker] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _lane(self, name: Hashable) -> cf.ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("fan-out is shut down")
            pool = self._lanes.get(name)
            if pool is None:
                workers = self.concurrency if name is None else self.per_lane
                pool = self._lanes[name] = cf.ThreadPoolExecutor(
                    max_workers=workers, thread_name_prefix=f"kingbird-region-{name or 'any'}")
            return pool

    def _breaker(self, name: Hashable) -> _Breaker | None:
        if name is None or not self.trip_after:
            return None
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = self._breakers[name] = _Breaker(self.trip_after, self.cooldown)
            return breaker

    def _slotted(self, name: Hashable, task: Callable[[], T], deadline: float | None) -> T:
        timeout = None if deadline is None else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise _TooLate()
        if not self._slots.acquire(timeout=timeout):
            raise _TooLate()
        try:
            if deadline is not None and time.monotonic() >= deadline:
                raise _TooLate()
            breaker = self._breaker(name)
            if breaker is None:
                return task()
            if not breaker.admit():
                raise RegionError(str(name), f"not called: timed out {breaker.trip_after} "
                                  "times in a row, tried again shortly", transient=True)
            try:
                result = task()
            except RegionTimeout:
                breaker.record(timed_out=True)
                raise
            except BaseException:
                breaker.record(timed_out=False)
                raise
            breaker.record(timed_out=False)
            return result
        finally:
            self._slots.release()

    def run(self, tasks: Mapping[K, Callable[[], T]], deadline: float | None = None,
            lane: Callable[[K], Hashable] | None = None) -> tuple[dict[K, T], dict[K, str]]:
        """Run every task; ``(results, failures)`` keyed like ``tasks``.

        :param deadline: a ``time.monotonic()`` instant: tasks not finished by then
            are reported as failed ("no answer in time"); those not yet started
            are dropped, those running are left to finish alone.
        :param lane: the lane of a task's key (its region); one shared lane when None.
        :returns: results of the tasks that succeeded, and the ``RegionError``
            message of those that failed.
        """
        futures = {}
        for key, task in tasks.items():
            name = lane(key) if lane else None
            futures[self._lane(name).submit(self._slotted, name, task, deadline)] = key
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0)
        done, pending = cf.wait(futures, timeout=timeout)
        results: dict[K, T] = {}
        failures: dict[K, str] = {}
        for future in done:
            key = futures[future]
            try:
                results[key] = future.result()
            except RegionError as exc:
                failures[key] = exc.message
            except _TooLate:
                failures[key] = NO_ANSWER
        for future in pending:
            future.cancel()
            failures[futures[future]] = NO_ANSWER
        return results, failures

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            lanes, self._lanes = list(self._lanes.values()), {}
        for pool in lanes:
            pool.shutdown(wait=False, cancel_futures=True)
