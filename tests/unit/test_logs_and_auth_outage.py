"""Log lines carry the request id and never a secret; an identity outage is a JSON
503 from the API, whatever auth_token raised or answered."""

from __future__ import annotations

import json
import logging

import pytest
from keystoneauth1 import exceptions as ks_exc

from kingbird.api.middleware import KeystoneUnavailable, RequestId
from kingbird.cmd import logs
from kingbird.core import requestlog

TOKEN = "gAAAAABmZXJuZXR0b2tlbnRoYXRtdXN0bmV2ZXJiZWxvZ2dlZGFueXdoZXJlX19fXw"


@pytest.mark.parametrize("line", [
    f"validating {TOKEN}",
    "headers {'X-Auth-Token': 'abcdef0123456789'}",
    "auth: password=s3cr3t-Passw0rd user=admin",
    '{"password": "s3cr3t-Passw0rd"}',
    "connecting to postgresql://kingbird:s3cr3t-Passw0rd@db/kingbird",
])
def test_secrets_are_masked(line):
    cleaned = logs.redact(line)
    for secret in (TOKEN, "abcdef0123456789", "s3cr3t-Passw0rd"):
        assert secret not in cleaned
    assert "***" in cleaned


def test_ordinary_lines_are_left_alone():
    line = "sync entry 12: SUCCESS (token_expiration=3600, 3 regions)"
    assert logs.redact(line) == line


def test_a_log_line_carries_the_request_id_and_no_token(tmp_path):
    path = tmp_path / "kingbird.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("INFO", str(path))
        with requestlog.bound("req-42"):
            logging.getLogger("kingbird.test").info("token %s refused", TOKEN)
        logging.getLogger("kingbird.test").info("outside")
        for handler in root.handlers:
            handler.flush()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    first, second = path.read_text().splitlines()
    assert "[req-42]" in first and TOKEN not in first
    assert "[-]" in second


def test_tracebacks_and_stacks_are_masked_too(tmp_path):
    path = tmp_path / "kingbird.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    log = logging.getLogger("kingbird.test")
    try:
        logs.setup("INFO", str(path))
        try:
            raise RuntimeError(f"cannot reach postgresql://kb:s3cr3t-Passw0rd@db/kb ({TOKEN})")
        except RuntimeError:
            log.exception("copy crashed")
            log.error("again", exc_info=True, stack_info=True)
        log.warning("a stack", stack_info=True)
        for handler in root.handlers:
            handler.flush()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    text = path.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: cannot reach" in text
    assert "Stack (most recent call last)" in text
    assert TOKEN not in text and "s3cr3t-Passw0rd" not in text


def _call(app, environ=None):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ or {"PATH_INFO": "/v1.1/x"}, start_response))
    return seen["status"], seen["headers"], body


def test_auth_tokens_text_503_becomes_a_json_503():
    def auth_token(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"The Keystone service is temporarily unavailable."]

    status, headers, body = _call(KeystoneUnavailable(auth_token))
    assert status.startswith("503") and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == 503


def test_a_connection_error_from_auth_token_is_a_503_not_a_500():
    def auth_token(environ, start_response):
        raise ks_exc.UnknownConnectionError("connection reset", ConnectionResetError())

    status, _, body = _call(KeystoneUnavailable(auth_token))
    assert status.startswith("503") and json.loads(body)["error"]["code"] == 503


def test_the_apis_own_json_503_passes_through():
    def app(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [b'{"error": {"code": 503, "message": "the database is unavailable"}}']

    _, _, body = _call(KeystoneUnavailable(app))
    assert b"database" in body


def test_the_request_id_is_bound_while_the_request_is_handled():
    seen = []

    def app(environ, start_response):
        seen.append(requestlog.current())
        start_response("200 OK", [])
        return [b""]

    _, headers, _ = _call(RequestId(app))
    assert seen == [headers["x-openstack-request-id"]]
    assert requestlog.current() == requestlog.NONE
