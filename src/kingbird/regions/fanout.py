"""Bounded parallel calls to regions, with an overall deadline.

One pool per process bounds the calls in flight to all regions together
(``[regions] concurrency``); a slow region therefore holds at most its own calls.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

from kingbird.exceptions import RegionError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class FanOut:
    def __init__(self, concurrency: int):
        self._pool = cf.ThreadPoolExecutor(max_workers=concurrency,
                                           thread_name_prefix="kingbird-region")

    def run(self, tasks: Mapping[K, Callable[[], T]],
            deadline: float | None = None) -> tuple[dict[K, T], dict[K, str]]:
        """Run every task; ``(results, failures)`` keyed like ``tasks``.

        ``deadline`` is a ``time.monotonic()`` instant: tasks not finished by then
        are reported as failed ("no answer in time") and left to finish alone.
        """
        futures = {self._pool.submit(task): key for key, task in tasks.items()}
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
        for future in pending:
            failures[futures[future]] = "no answer in time"
        return results, failures

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
