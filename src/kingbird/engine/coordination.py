"""Coordination between engines: one quota scheduler at a time, one engine per
project sync.

With ``[coordination] backend_url`` set, this goes through tooz: on PostgreSQL a
lock is an advisory lock held by a connection of its own (released by the server
the moment its engine dies), on Redis a key with a time to live that a heartbeat
thread renews. Without a backend (the embedded mode: one engine) coordination is
in-process.

These locks are the fast path; correctness does not rest on them alone. Job
entries and project syncs are also claimed with leases in the database, so when
the coordination backend is unreachable an engine carries on with the leases
only (and does not schedule: scheduling is not urgent, syncing is).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Protocol

LOG = logging.getLogger(__name__)

SCHEDULER = "quota-scheduler"


class Coordinator(Protocol):
    """What the engine needs from coordination."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def is_leader(self, role: str) -> bool:
        """Whether this engine holds ``role`` now, taking it if nobody does."""

    def exclusive(self, name: str) -> contextlib.AbstractContextManager[bool]:
        """Try to hold the lock ``name`` for the ``with`` block (never waits).

        The block receives False when another engine holds it: skip the work.
        """


class LocalCoordinator:
    """In-process coordination: this engine leads every role; locks are threads'."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def is_leader(self, role: str) -> bool:
        return True

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        got = lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                lock.release()


def _still_held(lock) -> bool:
    """Whether a tooz lock we acquired is still ours (its backend may have dropped it:
    a PostgreSQL restart ends the connection that held it, a Redis key may expire)."""
    import tooz

    try:
        return bool(lock.is_still_owner())  # Redis
    except tooz.NotImplemented:
        pass
    except tooz.ToozError:
        return False
    conn = getattr(lock, "_conn", None)  # PostgreSQL: held as long as its connection lives
    if conn is not None:
        if conn.closed:
            return False
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:  # psycopg2.Error or anything the dead socket raises
            return False
    return bool(getattr(lock, "acquired", True))


class ToozCoordinator:
    """Coordination through a tooz backend.

    :param url: the tooz URL (``[coordination] backend_url``).
    :param member_id: this engine's name (its lease owner id).
    """

    def __init__(self, url: str, member_id: str):
        from tooz import coordination

        self.url = url
        with warnings.catch_warnings():
            # tooz marks its PostgreSQL driver deprecated; it is the one that needs
            # nothing but the database Kingbird already has.
            warnings.simplefilter("ignore", DeprecationWarning)
            self._coordinator = coordination.get_coordinator(url, member_id.encode())
        self._started = False
        self._leading: dict[str, object] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._start()

    def _start(self) -> bool:
        import tooz

        if self._started:
            return True
        try:
            self._coordinator.start(start_heart=True)
        except tooz.ToozError as exc:
            LOG.warning("coordination backend unreachable (carrying on with database "
                        "leases only): %s", exc)
            return False
        self._started = True
        return True

    def stop(self) -> None:
        import tooz

        with self._lock:
            for lock in self._leading.values():
                with contextlib.suppress(tooz.ToozError, Exception):
                    lock.release()
            self._leading.clear()
            if self._started:
                with contextlib.suppress(tooz.ToozError):
                    self._coordinator.stop()
                self._started = False

    def is_leader(self, role: str) -> bool:
        import tooz

        with self._lock:
            held = self._leading.get(role)
            if held is not None:
                if _still_held(held):
                    return True
                LOG.warning("lost the %s role (coordination backend restarted?)", role)
                self._leading.pop(role)
                with contextlib.suppress(Exception):
                    held.release()
            if not self._start():
                return False
            lock = self._coordinator.get_lock(f"kingbird-{role}".encode())
            try:
                got = lock.acquire(blocking=False)
            except tooz.ToozError as exc:
                LOG.warning("cannot reach the coordination backend for the %s role: %s",
                            role, exc)
                return False
            if got:
                self._leading[role] = lock
                LOG.info("this engine now holds the %s role", role)
            return bool(got)

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        import tooz

        with self._lock:
            started = self._start()
        if not started:
            yield True  # the database lease alone guards the work
            return
        lock = self._coordinator.get_lock(f"kingbird-{name}".encode())
        try:
            got = lock.acquire(blocking=False)
        except tooz.ToozError as exc:
            LOG.warning("coordination backend unreachable, %s guarded by its database "
                        "lease only: %s", name, exc)
            yield True
            return
        try:
            yield bool(got)
        finally:
            if got:
                with contextlib.suppress(tooz.ToozError, Exception):
                    lock.release()


def build_coordinator(backend_url: str | None, member_id: str) -> Coordinator:
    """The coordinator for ``[coordination] backend_url`` (in-process when empty)."""
    if not backend_url:
        return LocalCoordinator()
    return ToozCoordinator(backend_url, member_id)
