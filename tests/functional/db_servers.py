"""Throwaway databases on this machine's database servers, for the tests that run
Kingbird on them: the PostgreSQL server at 127.0.0.1:5432 (user ``postgres``,
trust authentication) and the MariaDB/MySQL server at 127.0.0.1:3306 (``root``, no
password). Each database has a random name and is dropped afterwards; a test is
skipped only when its server cannot be reached."""

from __future__ import annotations

import contextlib
import secrets

import pytest


@contextlib.contextmanager
def postgresql_database():
    import psycopg2

    try:
        admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres",
                                 dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    admin.autocommit = True
    name = f"kingbird_test_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def mariadb_database():
    import pymysql

    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                                connect_timeout=5, autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB/MySQL at 127.0.0.1:3306 is not reachable: {exc}")
    name = f"kingbird_test_{secrets.token_hex(6)}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
