"""``kingbird-manage``: operator commands that act on Kingbird's database.

Usage::

    kingbird-manage [--config-file FILE]... [--config-dir DIR]
                    [--database-connection URL] db upgrade [REVISION]
    kingbird-manage [...] db version

``db upgrade`` migrates the schema to REVISION (default ``head``, the newest).
``db version`` prints the revision the database is at, ``base`` if it was never
migrated.

The database is, first match wins: ``--database-connection URL``; the
``[database] connection`` option of the configuration files (``--config-file``,
``--config-dir``, or oslo.config's default locations such as
``/etc/kingbird/kingbird.conf``); the embedded SQLite file ``kingbird.sqlite`` in
``state_dir``.

Exit status: 0 on success, 1 when the configuration, the URL, the database or
the revision is wrong (one line on stderr, no traceback), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys

import sqlalchemy.exc
from alembic.util import CommandError
from oslo_config import cfg
from sqlalchemy.engine import make_url

from kingbird import config
from kingbird.db import migration

PROG = "kingbird-manage"


class _Failure(Exception):
    """A failure explained to the operator in one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Manage Kingbird's database.",
    )
    parser.add_argument(
        "--config-file", action="append", default=[], metavar="FILE",
        help="Configuration file; may be repeated, later files override earlier ones.",
    )
    parser.add_argument(
        "--config-dir", action="append", default=[], metavar="DIR",
        help="Directory of *.conf configuration files read after the files.",
    )
    parser.add_argument(
        "--database-connection", metavar="URL",
        help="SQLAlchemy URL of the database, overriding [database] connection.",
    )
    commands = parser.add_subparsers(dest="category", metavar="CATEGORY", required=True)
    db = commands.add_parser("db", help="Database schema.")
    db_commands = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="Migrate the schema up to a revision.")
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="Target revision (default: head, the newest).")
    upgrade.set_defaults(func=_db_upgrade)
    version = db_commands.add_parser("version", help="Print the schema revision.")
    version.set_defaults(func=_db_version)
    return parser


def _database_url(args: argparse.Namespace) -> str:
    if args.database_connection:
        return args.database_connection
    oslo_args: list[str] = []
    for path in args.config_file:
        oslo_args += ["--config-file", path]
    for path in args.config_dir:
        oslo_args += ["--config-dir", path]
    try:
        conf = config.load_config(oslo_args, prog=PROG)
    except cfg.Error as exc:
        raise _Failure(f"bad configuration: {exc}") from exc
    return config.database_url(conf)


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "<unparsable URL>"


def _db_upgrade(url: str, args: argparse.Namespace) -> None:
    migration.upgrade(url, args.revision)
    print(f"Database {_masked(url)} is at revision {migration.current_version(url) or 'base'}.")


def _db_version(url: str, args: argparse.Namespace) -> None:
    print(migration.current_version(url) or "base")


def _explain(exc: Exception, url: str) -> str:
    """One line telling the operator what is wrong, without a traceback."""
    if isinstance(exc, sqlalchemy.exc.NoSuchModuleError):
        return f"unknown database type or driver in {_masked(url)}: {exc}"
    if isinstance(exc, sqlalchemy.exc.ArgumentError):
        return f"invalid database URL {_masked(url)!r}: {exc}"
    if isinstance(exc, ImportError):
        return f"the driver of {_masked(url)} is not installed: {exc}"
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"cannot use the database {_masked(url)}: {detail}"
    if isinstance(exc, CommandError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kingbird-manage``; returns the exit status."""
    args = _parser().parse_args(argv)
    # Alembic reports each migration it runs at INFO.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: record.getMessage().startswith("Running "))
    alembic_log = logging.getLogger("alembic.runtime.migration")
    alembic_log.addHandler(handler)
    alembic_log.setLevel(logging.INFO)
    url = ""
    try:
        url = _database_url(args)
        args.func(url, args)
    except _Failure as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except (sqlalchemy.exc.SQLAlchemyError, CommandError, ImportError, OSError) as exc:
        print(f"{PROG}: error: {_explain(exc, url)}", file=sys.stderr)
        return 1
    finally:
        alembic_log.removeHandler(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
