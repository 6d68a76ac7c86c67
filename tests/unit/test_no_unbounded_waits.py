"""No wait without a bound (issue #15): Keystone's timeout and the auth slots, the
request body read whole with a strict Content-Length, the database timeouts.

The behaviour against a really hung Keystone, PostgreSQL or client is in
``tests/functional/test_hung_dependencies.py``."""

from __future__ import annotations

import io
import json
import threading

import pytest
import sqlalchemy as sa
from keystonemiddleware import auth_token

from kingbird import config
from kingbird.api.middleware import AuthSlots, BodyLimit, auth_slots
from kingbird.db import deadline
from kingbird.db.session import create_engine, engine_from_config


def _call(app, environ):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return int(seen["status"][:3]), seen["headers"], body


# -- Keystone ------------------------------------------------------------------------


def test_auth_token_waits_on_keystone_for_a_bounded_time_by_default():
    conf = config.load_config([])
    auth_token.AuthProtocol(lambda e, s: [], {"oslo_config_config": conf,
                                              "www_authenticate_uri": "http://ks/v3"})
    assert conf.keystone_authtoken.http_connect_timeout == 5
    assert conf.keystone_authtoken.http_request_max_retries == 1


@pytest.mark.parametrize(("threads", "configured", "slots"),
                         [(16, 0, 12), (8, 0, 6), (4, 0, 3), (2, 0, 1), (1, 0, 1), (16, 5, 5)])
def test_auth_slots_leave_threads_for_the_public_paths(threads, configured, slots):
    assert auth_slots(threads, configured) == slots


def test_a_request_beyond_the_auth_slots_gets_a_503_at_once_and_the_slot_comes_back():
    keystone_waits, release = threading.Event(), threading.Event()

    def validate(inner):
        def auth(environ, start_response):
            if environ.get("HTTP_X_AUTH_TOKEN") == "new":
                keystone_waits.set()
                release.wait(10)
            return inner(environ, start_response)
        return auth

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    slots = AuthSlots(validate, app, 1)
    waiting = threading.Thread(target=_call, args=(slots, {"HTTP_X_AUTH_TOKEN": "new"}))
    waiting.start()
    assert keystone_waits.wait(5)
    status, headers, body = _call(slots, {"HTTP_X_AUTH_TOKEN": "cached"})
    assert status == 503 and headers["Retry-After"] == "1"
    assert "identity service" in json.loads(body)["error"]["message"]
    release.set()
    waiting.join(5)
    assert _call(slots, {"HTTP_X_AUTH_TOKEN": "cached"})[0] == 200


def test_an_auth_slot_is_held_during_validation_only():
    nested = []

    def app(environ, start_response):
        if not environ.get("nested"):  # while the application runs, the slot is free
            nested.append(_call(slots, {"nested": True})[0])
        start_response("200 OK", [])
        return [b""]

    slots = AuthSlots(lambda inner: inner, app, 1)
    assert _call(slots, {})[0] == 200
    assert nested == [200]


def test_a_request_refused_by_auth_token_gives_its_slot_back():
    def validate(inner):
        def auth(environ, start_response):
            start_response("401 Unauthorized", [])
            return [b""]
        return auth

    slots = AuthSlots(validate, lambda e, s: [], 1)
    assert [_call(slots, {})[0] for _ in range(3)] == [401, 401, 401]


# -- the request body ---------------------------------------------------------------


def _echo(environ, start_response):
    data = environ["wsgi.input"].read()
    start_response("200 OK", [])
    return [data]


def _body_call(length: str | None, stream, limit: int = 1024):
    environ = {"wsgi.input": stream}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return _call(BodyLimit(_echo, limit), environ)


@pytest.mark.parametrize("length", ["-5", "+5", "5_0", "abc", "1e3", "0x10", "²"])
def test_a_content_length_that_is_not_a_plain_integer_is_a_400(length):
    status, _, body = _body_call(length, io.BytesIO(b"x" * 50))
    assert status == 400
    assert "Content-Length" in json.loads(body)["error"]["message"]


def test_the_body_is_read_whole_before_the_application_runs():
    assert _body_call("5", io.BytesIO(b"hello, and more"))[::2] == (200, b"hello")
    assert _body_call("", io.BytesIO(b""))[::2] == (200, b"")
    assert _body_call(None, io.BytesIO(b""))[::2] == (200, b"")


def test_a_body_shorter_than_its_content_length_is_a_400():
    status, _, body = _body_call("100", io.BytesIO(b'{"a":'))
    assert status == 400 and "shorter" in json.loads(body)["error"]["message"]


class _Late(io.RawIOBase):
    def read(self, size=-1):
        raise TimeoutError("timed out")


def test_a_body_that_does_not_arrive_in_time_is_a_408():
    status, _, body = _body_call("10", _Late())
    assert status == 408 and json.loads(body)["error"]["code"] == 408


def test_too_large_and_chunked_bodies_are_refused_unread():
    assert _body_call("2048", _Late())[0] == 413
    assert _body_call("9" * 5000, _Late())[0] == 413
    environ = {"wsgi.input": _Late(), "HTTP_TRANSFER_ENCODING": "chunked"}
    assert _call(BodyLimit(_echo, 1024), environ)[0] == 411


# -- the database --------------------------------------------------------------------


class _Captured(Exception):
    pass


def _connect_args(engine) -> dict:
    """What the engine would give the DBAPI's connect(), without connecting."""
    seen = {}

    @sa.event.listens_for(engine, "do_connect")
    def _capture(dialect, conn_rec, cargs, cparams):
        seen.update(cparams)
        raise _Captured

    with pytest.raises(_Captured):
        engine.connect()
    return seen


def test_postgresql_connections_have_keepalives_a_statement_timeout_and_a_watchdog():
    url = "postgresql+psycopg2://kb@db/kingbird?options=-c%20search_path%3Dkb"
    engine = create_engine(url, connect_timeout=3, read_timeout=7, statement_timeout=4,
                           pool_timeout=2, keepalive_idle=9)
    args = _connect_args(engine)
    assert args["connect_timeout"] == 3
    assert (args["keepalives"], args["keepalives_idle"], args["keepalives_interval"],
            args["keepalives_count"]) == (1, 9, 3, 3)
    assert args["options"] == "-c search_path=kb -c statement_timeout=4000"
    assert args["tcp_user_timeout"] == 7000
    assert issubclass(args["connection_factory"], deadline.BoundedConnection)
    assert args["connection_factory"].kingbird_read_timeout == 7
    assert engine.pool.timeout() == 2


def test_migrations_get_no_statement_timeout_and_no_watchdog():
    args = _connect_args(create_engine("postgresql+psycopg2://kb@db/kingbird"))
    assert "options" not in args and "connection_factory" not in args


def test_mysql_connections_have_read_and_write_timeouts():
    args = _connect_args(create_engine("mysql+pymysql://kb@db/kingbird", read_timeout=7))
    assert (args["read_timeout"], args["write_timeout"]) == (7, 7)


def test_the_engine_of_the_configuration_has_its_timeouts():
    conf = config.load_config([])
    conf.set_override("connection", "postgresql+psycopg2://kb@db/kingbird", "database")
    args = _connect_args(engine_from_config(conf))
    assert args["connect_timeout"] == 5
    assert args["options"] == "-c statement_timeout=10000"
    assert args["connection_factory"].kingbird_read_timeout == 15
    assert conf.database.read_timeout > conf.database.statement_timeout


class _FakeConnection:
    """Stands for a psycopg2 connection whose server never answers."""

    def __init__(self, timeout):
        self.kingbird_read_timeout = timeout
        self.shut = threading.Event()
        self.closed = 0

    def fileno(self):
        raise deadline.psycopg2.InterfaceError("no socket in a unit test")

    def close(self):
        self.closed = 1


def test_the_watchdog_fails_a_call_that_outlives_its_timeout(monkeypatch):
    connection = _FakeConnection(0.05)
    monkeypatch.setattr(deadline, "_shut_down", lambda conn: conn.shut.set())

    def call():
        with deadline._bounded(connection):
            assert connection.shut.wait(5)  # libpq fails once its socket is shut down
            raise deadline.psycopg2.OperationalError("server closed the connection")

    with pytest.raises(deadline.psycopg2.OperationalError, match="did not answer within 0.05 s"):
        call()


def test_the_watchdog_leaves_a_quick_call_alone(monkeypatch):
    connection = _FakeConnection(5)
    monkeypatch.setattr(deadline, "_shut_down", lambda conn: conn.shut.set())
    with deadline._bounded(connection):
        pass
    assert not connection.shut.is_set() and connection.closed == 0
