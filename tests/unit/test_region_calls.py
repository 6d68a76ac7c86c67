"""One call to a region through ``RegionRest``: how many times it is made, and the
``RegionError`` its failure becomes (status kept, transient or not). A fake
region session answers from a script; no sockets, no sleeping."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc

from kingbird import config
from kingbird.core.exceptions import RegionError
from kingbird.core.retry import RetryPolicy
from kingbird.regions import calls
from kingbird.regions.images import Images
from kingbird.regions.rest import MISSING, RegionRest

NO_WAIT = RetryPolicy(retries=2, backoff=0)


def _answer(status: int, body: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body or {}).encode()
    response.headers["content-type"] = "application/json"
    response.reason = "scripted"
    return response


class ScriptedSession:
    """The proxies of one region: each request takes the next scripted outcome (an
    HTTP status, or an exception to raise); the last one repeats."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[tuple[str, str]] = []

    def connection(self, region: str):
        return self

    def __getattr__(self, service: str):
        return self

    def request(self, path: str, method: str, **kwargs):
        self.requests.append((method, path))
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, Exception):
            raise outcome
        return _answer(outcome, {"ok": True} if outcome < 400 else {"message": "no"})


def _get(session: ScriptedSession, policy: RetryPolicy = NO_WAIT, **kwargs):
    return RegionRest(session, policy).call("R1", "compute", "GET", "/thing", "read thing",
                                            **kwargs)


def test_the_default_policy_makes_a_call_at_most_three_times():
    defaults = RetryPolicy.from_conf(config.load_config([]))
    assert (defaults.retries, defaults.attempts) == (2, 3)
    session = ScriptedSession(503)
    with pytest.raises(RegionError) as failed:
        _get(session, dataclasses.replace(defaults, backoff=0))
    assert len(session.requests) == defaults.attempts
    assert failed.value.transient and failed.value.status == 503


def test_a_call_failing_transiently_fewer_times_than_the_retries_succeeds():
    session = ScriptedSession(503, 502, 200)
    assert _get(session) == {"ok": True}
    assert len(session.requests) == 3


@pytest.mark.parametrize("outcome", [429, ks_exc.ConnectFailure("refused"),
                                     ks_exc.UnknownConnectionError("reset", OSError())])
def test_throttling_and_lost_connections_are_transient(outcome):
    session = ScriptedSession(outcome, 200)
    assert _get(session) == {"ok": True}
    assert len(session.requests) == 2


@pytest.mark.parametrize("status", [400, 403, 409, 413])
def test_a_refusal_is_made_once_and_keeps_its_status(status):
    session = ScriptedSession(status)
    with pytest.raises(RegionError) as failed:
        _get(session)
    assert len(session.requests) == 1
    assert failed.value.status == status and not failed.value.transient
    assert failed.value.message.startswith(f"R1: read thing: HTTP {status}: ")


def test_a_missing_resource_may_be_an_answer():
    assert _get(ScriptedSession(404), missing_ok=True) is MISSING


def test_a_timeout_has_no_status_and_is_a_region_timeout():
    session = ScriptedSession(ks_exc.ConnectTimeout("too slow"))
    with pytest.raises(calls.RegionTimeout) as failed:
        _get(session)
    assert len(session.requests) == NO_WAIT.attempts
    assert failed.value.status is None and failed.value.transient
    assert failed.value.message == "R1: read thing: timed out"


def test_no_retry_starts_after_the_deadline():
    session = ScriptedSession(503)
    slow = RetryPolicy(retries=5, backoff=10)
    with pytest.raises(RegionError):
        _get(session, slow, deadline=time.monotonic() + 1)
    assert len(session.requests) == 1


def test_an_image_upload_is_sent_once_even_when_its_failure_is_transient():
    session = ScriptedSession(503)
    images = Images(RegionRest(session, NO_WAIT))
    with pytest.raises(RegionError) as failed:
        images.upload("R1", "i1", [b"data"], 4)
    assert session.requests == [("PUT", "/images/i1/file")]
    assert failed.value.transient and failed.value.status == 503


def test_what_is_not_a_call_failure_is_not_mapped():
    with pytest.raises(KeyError):
        calls.region_error("R1", "read thing", KeyError("bug"))
