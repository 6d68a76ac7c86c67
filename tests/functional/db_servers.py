"""Throwaway databases on this machine's database servers, for the tests that run
Kingbird on them: the PostgreSQL server at 127.0.0.1:5432 (user ``postgres``,
trust authentication) and the MariaDB/MySQL server at 127.0.0.1:3306 (``root``, no
password). Each database has a random name and is dropped afterwards; a test is
skipped only when its server cannot be reached."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from kingbird.demo.extra_api import scratch_database

POSTGRESQL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"


@contextlib.contextmanager
def _database(server_url: str, what: str) -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database(server_url))
        except OperationalError as exc:
            pytest.skip(f"{what} is not reachable: {exc.orig}")
        yield url


def postgresql_database():
    return _database(POSTGRESQL, "PostgreSQL at 127.0.0.1:5432")


def mariadb_database():
    return _database(MARIADB, "MariaDB/MySQL at 127.0.0.1:3306")
