"""Engines, sessions and transactions.

Transactions open at the edge (an API request, one engine step) with
``transaction(sessionmaker)``; repository functions take the session as an
argument and never commit.

SQLite (the embedded default) runs in WAL mode with a busy timeout, so the API
and one or more engine processes can share the file: readers do not block the
writer, and a writer waits for another writer instead of failing at once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from kingbird.core import options

SQLITE_BUSY_TIMEOUT_MS = 30000


def _on_sqlite_connect(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # SQLite enforces foreign keys (and so ON DELETE CASCADE) only when asked.
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def create_engine(url: str, *, pool_size: int = 5, connect_timeout: int = 10,
                  echo: bool = False) -> Engine:
    """Build an Engine for a Kingbird database URL.

    :param url: SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg2://...``,
        ``mysql+pymysql://...``). The parent directory of a SQLite file is created.
    :param pool_size: connections kept open by the pool (server databases).
    :param connect_timeout: seconds to wait for a database server to answer.
    :returns: the Engine; no connection is made yet.
    :raises sqlalchemy.exc.ArgumentError: the URL cannot be parsed.
    :raises sqlalchemy.exc.NoSuchModuleError: unknown dialect or driver.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if not memory:
            parent = os.path.dirname(os.path.abspath(database))
            os.makedirs(parent, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False,
                          "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    connect_args = {}
    if backend in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = connect_timeout
    return sa.create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        pool_pre_ping=True,
        # Recycle before MySQL's wait_timeout can close an idle connection.
        pool_recycle=3600,
        connect_args=connect_args,
    )


def engine_from_config(conf: cfg.ConfigOpts) -> Engine:
    """The Engine of the database configured in ``conf`` (``[database]``)."""
    return create_engine(options.database_url(conf), pool_size=conf.database.pool_size)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``.

    ``expire_on_commit`` is off: repositories return plain values, and nothing
    should lazily reload a row after the transaction that read it is over.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session in a transaction: commit on success, roll back on error.

    :param factory: a session factory (``make_sessionmaker``).
    :returns: a context manager yielding the Session.
    """
    with factory() as session, session.begin():
        yield session
