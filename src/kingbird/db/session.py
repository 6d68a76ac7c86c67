"""Engines, sessions and transactions.

Transactions open at the edge (an API request, one engine step) with
``transaction(sessionmaker)``; repository functions take the session as an
argument and never commit.

SQLite (the embedded default) runs in WAL mode with a busy timeout, so the API
and one or more engine processes can share the file: readers do not block the
writer, and a writer waits for another writer instead of failing at once.

On PostgreSQL and MySQL no wait on the server is unbounded: a new connection
(``connect_timeout``), a free connection of the pool (``pool_timeout``), and each
statement, commit or rollback (``read_timeout``; ``statement_timeout`` on PostgreSQL
lets the server cancel first). A call that times out raises SQLAlchemy's
``OperationalError`` or pool ``TimeoutError``, which the API answers with a 503.
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
                  read_timeout: float | None = None, statement_timeout: float | None = None,
                  pool_timeout: float = 30, keepalive_idle: int = 30,
                  echo: bool = False) -> Engine:
    """Build an Engine for a Kingbird database URL.

    :param url: SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg2://...``,
        ``mysql+pymysql://...``). The parent directory of a SQLite file is created.
    :param pool_size: connections kept open by the pool (server databases).
    :param connect_timeout: seconds to wait for a database server to answer.
    :param read_timeout: seconds a server may take over one statement, commit or
        rollback before the connection is closed and the call fails with
        ``OperationalError``: PyMySQL's read and write timeouts, and on PostgreSQL
        Kingbird's watchdog (``kingbird.db.deadline``). None: no limit (migrations).
    :param statement_timeout: PostgreSQL's ``statement_timeout`` in seconds for every
        connection. None or 0: the server's own setting.
    :param pool_timeout: seconds to wait for a free connection of the pool.
    :param keepalive_idle: seconds of silence before TCP keepalive probes start on a
        PostgreSQL connection (then one every third of it, three lost end it).
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
    connect_args: dict = {}
    if backend in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = connect_timeout
    if backend == "postgresql" and parsed.get_driver_name() == "psycopg2":
        connect_args.update(_postgresql_args(parsed, read_timeout, statement_timeout,
                                             keepalive_idle))
    elif backend in ("mysql", "mariadb") and read_timeout:
        connect_args.update(read_timeout=read_timeout, write_timeout=read_timeout)
    return sa.create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        # Recycle before MySQL's wait_timeout can close an idle connection.
        pool_recycle=3600,
        connect_args=connect_args,
    )


def _postgresql_args(url, read_timeout, statement_timeout, keepalive_idle: int) -> dict:
    args = {"keepalives": 1, "keepalives_idle": keepalive_idle,
            "keepalives_interval": max(1, keepalive_idle // 3), "keepalives_count": 3}
    if read_timeout:
        from kingbird.db import deadline  # psycopg2 is imported only for PostgreSQL

        args["connection_factory"] = deadline.connection_class(read_timeout)
        # Data sent and not acknowledged for that long: the host or the path is gone.
        args["tcp_user_timeout"] = int(read_timeout * 1000)
    if statement_timeout:
        server_options = [url.query["options"]] if "options" in url.query else []
        server_options.append(f"-c statement_timeout={int(statement_timeout * 1000)}")
        args["options"] = " ".join(server_options)
    return args


def engine_from_config(conf: cfg.ConfigOpts) -> Engine:
    """The Engine of the database configured in ``conf`` (``[database]``), with its
    timeouts: no call to the database server waits longer than they say."""
    db = conf.database
    return create_engine(options.database_url(conf), pool_size=db.pool_size,
                         connect_timeout=db.connect_timeout, read_timeout=db.read_timeout,
                         statement_timeout=db.statement_timeout,
                         pool_timeout=db.pool_timeout, keepalive_idle=db.keepalive_idle)


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
