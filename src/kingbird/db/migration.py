"""Schema migrations: Alembic, configured in code.

The migration scripts live inside the package (``kingbird/db/migrations``), so
they are found the same way from a source tree and from an installed package;
there is no ``alembic.ini`` to ship or to point at.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kingbird.db.session import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for Kingbird's migrations (and ``url``, if given)."""
    conf = Config()
    # ConfigParser interpolation: a literal '%' in the path must be doubled.
    conf.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        conf.attributes["url"] = url
    return conf


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``.

    :raises sqlalchemy.exc.ArgumentError: bad URL.
    :raises sqlalchemy.exc.OperationalError: the database cannot be reached.
    :raises alembic.util.CommandError: unknown revision.
    """
    _run(url, command.upgrade, revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base``: empty)."""
    _run(url, command.downgrade, revision)


def current_version(url: str) -> str | None:
    """The revision the database at ``url`` is at; None if never migrated."""
    engine = create_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _run(url: str, operation, revision: str) -> None:
    conf = alembic_config(url)
    engine = create_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            conf.attributes["connection"] = connection
            operation(conf, revision)
    finally:
        engine.dispose()
