"""A bound on every round trip to PostgreSQL, kept by Kingbird itself.

Once connected, libpq waits for the server's answer without a limit of its own.
TCP keepalives and ``tcp_user_timeout`` notice a host that vanished or a network
that drops packets, and ``statement_timeout`` a statement the server runs too long,
but none of them notices a server that still has a kernel acknowledging packets and
no process answering (stopped, stuck, or a proxy whose backend hangs): a request
would wait as long as the server does.

So psycopg2 connections of an engine built with a ``read_timeout`` are of a class
whose statements, commits and rollbacks run under a watchdog. One thread per
process keeps the deadlines; when one passes, it shuts the connection's socket
down: libpq fails at once, the call raises ``OperationalError("the database did not
answer within N s")``, the connection is closed, and SQLAlchemy drops it from the
pool (a closed psycopg2 connection is a disconnect to it).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions


class _Watch:
    __slots__ = ("connection", "deadline", "fired")

    def __init__(self, connection, deadline: float):
        self.connection = connection
        self.deadline = deadline
        self.fired = False


class Watchdog:
    """Deadlines of the calls in flight, and the thread that enforces them."""

    def __init__(self):
        self._reset()
        # A forked child (a gunicorn worker) has neither the thread nor a usable lock.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = float("inf")  # when the thread looks again, unless notified

    @contextlib.contextmanager
    def guard(self, connection, timeout: float) -> Iterator[_Watch]:
        """Shut ``connection``'s socket down if the block lasts over ``timeout`` s."""
        watch = _Watch(connection, time.monotonic() + timeout)
        with self._cond:
            self._ensure_thread()
            self._watches.add(watch)
            if watch.deadline < self._wake_at:  # usually not: deadlines come in order
                self._cond.notify()
        try:
            yield watch
        finally:
            with self._cond:
                self._watches.discard(watch)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kingbird-db-watchdog",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for watch in [w for w in self._watches if w.deadline <= now]:
                    self._watches.discard(watch)
                    watch.fired = True
                    _shut_down(watch.connection)
                self._wake_at = min((w.deadline for w in self._watches),
                                    default=float("inf"))
                self._cond.wait(None if self._wake_at == float("inf")
                                else max(0.0, self._wake_at - now))


def _shut_down(connection) -> None:
    """End the TCP (or Unix) stream of ``connection`` under libpq's feet."""
    with contextlib.suppress(OSError, psycopg2.Error):
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()


WATCHDOG = Watchdog()


@contextlib.contextmanager
def _bounded(connection) -> Iterator[None]:
    timeout = connection.kingbird_read_timeout
    with WATCHDOG.guard(connection, timeout) as watch:
        try:
            yield
        except psycopg2.Error as exc:
            if watch.fired:
                raise psycopg2.OperationalError(
                    f"the database did not answer within {timeout:g} s") from exc
            raise
    if watch.fired:
        # The answer came as the socket was being shut: the connection is unusable
        # now, so close it (the pool replaces it at its next checkout).
        connection.close()


class BoundedCursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):  # noqa: A002 (psycopg2's name)
        with _bounded(self.connection):
            return super().execute(query, vars)

    def executemany(self, query, vars_list):
        with _bounded(self.connection):
            return super().executemany(query, vars_list)

    def callproc(self, procname, parameters=None):
        with _bounded(self.connection):
            return super().callproc(procname, parameters)


class BoundedConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose calls that wait on the server are bounded by
    ``kingbird_read_timeout`` seconds (set on a subclass by ``connection_class``)."""

    kingbird_read_timeout: float = 0.0

    def cursor(self, *args, **kwargs):
        kwargs.setdefault("cursor_factory", BoundedCursor)
        return super().cursor(*args, **kwargs)

    def commit(self):
        with _bounded(self):
            return super().commit()

    def rollback(self):
        with _bounded(self):
            return super().rollback()


def connection_class(read_timeout: float) -> type[BoundedConnection]:
    """A ``connection_factory`` for psycopg2 whose calls last at most ``read_timeout``."""
    return type("BoundedConnection", (BoundedConnection,),
                {"kingbird_read_timeout": float(read_timeout)})
