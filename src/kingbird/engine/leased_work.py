"""The one way an engine does work it holds under a lease in the database:

    claim  →  run, while a background renewer keeps the lease  →  finish | retry later | fail

A ``LeasedWorker`` claims as many items as it has free workers (``claim``: the
feature's repository takes their leases, ``kingbird.db.leases``), runs each on a
bounded pool, and keeps the leases of every running item alive from one
background thread, every third of ``lease_seconds`` (``renew``). An item whose
lease could not be renewed was taken over by another engine: its ``Lease`` is
flagged lost and its work stops at the next ``Lease.check`` (long work calls it
often; writes made under a lease name the owner, so a late one changes nothing).

When an item's work ends, its outcome is recorded through the item
(``LeasedWork``): ``finish`` on success; on a failure ``retry`` (put it back for a
later attempt) or else ``fail``, with the reason the user is shown. When the lease
was lost, the engine is stopping or the database went away, nothing is recorded:
the lease expires and whichever engine claims the item next does it again — every
item's work is idempotent, so doing part of it twice is harmless. So an item once
claimed is finished or recorded as failed even if its engine dies. A worker that
frees up claims the next item at once rather than at the next tick.

Because leases are renewed in the background, an item keeps its lease for as long
as its engine lives and works on it, however long one step takes (each region call
is bounded by its own timeout); an engine that dies or stops stops renewing.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Hashable
from contextlib import AbstractContextManager
from typing import ClassVar

from sqlalchemy.exc import SQLAlchemyError

from kingbird.core.exceptions import KingbirdError, LeaseLost, WorkFailed

LOG = logging.getLogger(__name__)


class Lease:
    """This engine's hold on one claimed item while its work runs.

    :param name: the item, for log lines and ``LeaseLost`` messages.
    """

    def __init__(self, name: str):
        self.name = name
        self.lost = threading.Event()
        self._why = ""

    def lose(self, why: str) -> None:
        """Flag the lease lost: the work stops at its next ``check``."""
        self._why = why
        self.lost.set()

    def check(self) -> None:
        """:raises LeaseLost: the item is no longer ours; long work calls this often."""
        if self.lost.is_set():
            raise LeaseLost(f"{self.name}: {self._why}")


class LeasedWork(ABC):
    """One claimed item: its work, and how each of its outcomes is recorded.

    :param key: the item among its worker's (what ``LeasedWorker.renew`` is given).
    :param name: the item in log lines (``sync entry 12``).
    :param lease: the item's lease (a new one if None).
    """

    #: Failures whose message is the recorded reason; any other exception is a bug,
    #: logged with its traceback and recorded as ``internal error: <type>``.
    expected: ClassVar[tuple[type[Exception], ...]] = (WorkFailed, KingbirdError)

    def __init__(self, key: Hashable, name: str, lease: Lease | None = None):
        self.key = key
        self.name = name
        self.lease = lease or Lease(name)

    def context(self) -> AbstractContextManager[object]:
        """Entered around the work and the record of its outcome (e.g. to bind the
        request id of the log lines)."""
        return contextlib.nullcontext()

    @abstractmethod
    def run(self) -> None:
        """Do the work.

        :raises WorkFailed: it cannot succeed (or another of ``expected``).
        :raises LeaseLost: the lease was lost.
        """

    @abstractmethod
    def finish(self) -> None:
        """Record the success and give the lease back.

        :raises LeaseLost: the lease was lost meanwhile; nothing was recorded.
        """

    @abstractmethod
    def fail(self, reason: str) -> None:
        """Record the failure with ``reason`` and give the lease back.

        :raises LeaseLost: the lease was lost meanwhile; nothing was recorded.
        """

    def retry(self, exc: Exception, reason: str) -> bool:
        """Put the item back for a later attempt if ``exc`` is worth one.

        :returns: True if it was put back (``fail`` is then not called); by default
            a failure is final.
        """
        return False

    def lost(self, exc: LeaseLost | SQLAlchemyError) -> None:
        """The work stopped without an outcome: the lease was lost (or the engine is
        stopping), or the database went away. Nothing is recorded; the lease expires
        and whoever claims the item next does the work again."""
        if isinstance(exc, LeaseLost):
            LOG.info("%s left to another engine: %s", self.name, exc)
        else:
            LOG.warning("%s interrupted by the database (its lease will expire): %s",
                        self.name, exc)

    def reason(self, exc: Exception) -> str:
        """What the user is told of a failure: an expected one's message; for a bug,
        its type only (the traceback goes to the log)."""
        if isinstance(exc, self.expected):
            return getattr(exc, "message", None) or str(exc) or type(exc).__name__
        LOG.error("%s crashed", self.name, exc_info=exc)
        return f"internal error: {type(exc).__name__}"


class LeasedWorker(ABC):
    """Claims leased work for its free workers and carries it out; the engine ticks it.

    :param owner: this engine's name in leases.
    :param workers: items run at once.
    :param lease_seconds: how long a claim lasts without renewal; running items'
        leases are renewed every third of it.
    :param name: names the worker's threads (``kingbird-<name>``).
    """

    def __init__(self, owner: str, *, workers: int, lease_seconds: float, name: str):
        self.owner = owner
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.stopping = threading.Event()
        self._pool = cf.ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix=f"kingbird-{name}")
        self._running: dict[Hashable, Lease] = {}
        self._lock = threading.Lock()
        self._claiming = threading.Lock()  # one claim at a time: never over the bound
        self._renewer = threading.Thread(target=self._renew_loop, daemon=True,
                                         name=f"kingbird-{name}-leases")
        self._renewer.start()

    # -- what a feature provides --------------------------------------------------------

    @abstractmethod
    def claim(self, limit: int) -> list[LeasedWork]:
        """Take the leases of up to ``limit`` items, in a transaction of its own."""

    @abstractmethod
    def renew(self, keys: list[Hashable]) -> Collection[Hashable]:
        """Extend this engine's leases on the items of ``keys``, in a transaction of
        its own; the keys whose lease is still ours."""

    # -- worker protocol ----------------------------------------------------------------

    def tick(self) -> None:
        """Claim items for the free workers and start them; returns at once."""
        self.fill()

    def fill(self) -> None:
        """Claim items for the free workers and start them on the pool."""
        if self.stopping.is_set():
            return
        with self._claiming:
            with self._lock:
                free = self.workers - len(self._running)
            if free <= 0:
                return
            for work in self.claim(free):
                if self._start(work):
                    self._pool.submit(self._run_then_fill, work)

    def carry_out(self, work: LeasedWork) -> None:
        """Carry out a claimed item in this thread (its lease renewed meanwhile), and
        record its outcome; nothing happens if this worker already runs it."""
        if not self._start(work):
            return
        try:
            self._carry_out(work)
        finally:
            self._end(work)

    def busy_with(self, key: Hashable) -> bool:
        """Whether this worker runs the item ``key`` now."""
        with self._lock:
            return key in self._running

    def idle(self) -> bool:
        with self._lock:
            return not self._running

    def shutdown(self) -> None:
        """Stop: running work stops at its next lease check and records nothing; the
        leases expire and another engine (or this one, restarted) resumes it."""
        self.stopping.set()
        with self._lock:
            for lease in self._running.values():
                lease.lose("this engine is stopping")
        self._pool.shutdown(wait=True, cancel_futures=True)

    def renew_leases(self) -> None:
        """Extend the leases of the running items; flag those taken over."""
        with self._lock:
            running = dict(self._running)
        if not running:
            return
        try:
            kept = set(self.renew(list(running)))
        except SQLAlchemyError as exc:
            LOG.warning("could not renew the leases of %s: %s", type(self).__name__, exc)
            return
        for key, lease in running.items():
            if key not in kept:
                lease.lose("taken over by another engine")

    # -- one item -----------------------------------------------------------------------

    def _start(self, work: LeasedWork) -> bool:
        with self._lock:
            if work.key in self._running:
                return False  # ours already (its lease had run out while it ran here)
            if self.stopping.is_set():
                work.lease.lose("this engine is stopping")
            self._running[work.key] = work.lease
        return True

    def _end(self, work: LeasedWork) -> None:
        with self._lock:
            if self._running.get(work.key) is work.lease:
                del self._running[work.key]

    def _run_then_fill(self, work: LeasedWork) -> None:
        try:
            self._carry_out(work)
        finally:
            self._end(work)
        if self.stopping.is_set():
            return
        try:
            self.fill()
        except SQLAlchemyError as exc:
            LOG.warning("cannot claim more work now: %s", exc)
        except RuntimeError:
            pass  # the pool was shut down meanwhile

    def _carry_out(self, work: LeasedWork) -> None:
        try:
            with work.context():
                self._run_and_record(work)
        except (LeaseLost, SQLAlchemyError) as exc:
            work.lost(exc)
        except Exception:
            LOG.exception("%s: its outcome could not be recorded (its lease will expire)",
                          work.name)

    @staticmethod
    def _run_and_record(work: LeasedWork) -> None:
        try:
            work.lease.check()
            work.run()
        except (LeaseLost, SQLAlchemyError):
            raise
        except Exception as exc:
            reason = work.reason(exc)
            if not work.retry(exc, reason):
                work.fail(reason)
        else:
            work.finish()

    def _renew_loop(self) -> None:
        while not self.stopping.wait(self.lease_seconds / 3):
            self.renew_leases()
