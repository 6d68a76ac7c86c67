"""Fixtures shared by the unit tests: a fresh, migrated SQLite database per test.

Migrating takes a while, so the migrations run once per session into a template file
and each test gets its own copy of it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kingbird.db import migration
from kingbird.db.session import create_engine, make_sessionmaker, transaction


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """A SQLite file at the migrations' head, never written by a test."""
    path = tmp_path_factory.mktemp("template") / "kingbird.sqlite"
    migration.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def db_url(tmp_path, migrated_template) -> str:
    """This test's own migrated database."""
    path = tmp_path / "kingbird.sqlite"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def factory(db_url) -> Iterator[sessionmaker[Session]]:
    """Sessions on this test's database."""
    engine = create_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def tx(factory) -> Callable[[], AbstractContextManager[Session]]:
    """``with tx() as session:`` one committed transaction on this test's database."""
    return partial(transaction, factory)
