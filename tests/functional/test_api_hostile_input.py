"""Hostile input: each case gets a 4xx and changes nothing.

Python expressions and ``__import__`` strings where the original Kingbird called
``eval()`` (bodies, ``force``), bodies over ``[api] max_request_body_size``,
deeply nested JSON, unicode and NUL bytes in names, negative and enormous
numbers, wrong content types, path traversal in ids. The table runs against the
routes whose validation we own (sync jobs, quotas); the hostile bodies that any
route must refuse run against every POST and PUT route of /openapi.json.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from api_security_support import kb, people  # noqa: F401 (fixtures)

pytestmark = pytest.mark.functional

CANARY = Path(f"/tmp/kingbird-hostile-{uuid.uuid4().hex}")
RUN = f"__import__('os').system('touch {CANARY}')"
MAX_BODY = 114688  # [api] max_request_body_size of the demo (the default)
NESTED = '{"resource_set": ' + "[" * 30000 + "]" * 30000 + "}"
HUGE = json.dumps({"resource_set": {"resources": ["x" * (MAX_BODY + 10)]}})

SYNC = "/v1.0/{victim}/os-sync"
QUOTA = "/v1.0/{admin}/os-quota-sets/{victim}"
CLASS = "/v1.0/{admin}/os-quota-class-sets/hostile-class"


def _sync(**fields) -> str:
    body = {"resources": ["kp-hostile"], "resource_type": "keypair", "source": "RegionOne",
            "target": ["RegionTwo"], "force": False}
    body.update(fields)
    return json.dumps({"resource_set": body})


# name -> (method, path, raw body, content type, acceptable statuses)
CASES = {
    "python call in force": ("POST", SYNC, _sync(force=RUN), None, {400}),
    "python expression in force": ("POST", SYNC, _sync(force="True and 1"), None, {400}),
    "python call in a resource name": ("POST", SYNC, _sync(resources=[RUN]), None,
                                       {400, 404}),
    "python call as resource type": ("POST", SYNC, _sync(resource_type=RUN), None, {400}),
    "python call as target": ("POST", SYNC, _sync(target=RUN), None, {400}),
    "python literal body": ("POST", SYNC, "{'resource_set': {'force': True}}", None, {400}),
    "bare python call body": ("POST", SYNC, RUN, None, {400}),
    "deeply nested json": ("POST", SYNC, NESTED, None, {400}),
    "body over the size limit": ("POST", SYNC, HUGE, None, {413}),
    "nul byte in a name": ("POST", SYNC, _sync(resources=["kp\u0000x"]), None, {400, 404}),
    "unicode name": ("POST", SYNC, _sync(resources=["\u202ekp\U0001f600" * 100]), None,
                     {400, 404}),
    "nul byte in a region": ("POST", SYNC, _sync(source="Region\u0000One"), None, {400}),
    "plain text": ("POST", SYNC, "resources=kp", "text/plain", {400, 415}),
    "form encoded": ("POST", SYNC, "resource_set=1", "application/x-www-form-urlencoded",
                     {400, 415}),
    "xml": ("POST", SYNC, "<resource_set/>", "application/xml", {400, 415}),
    "invalid utf-8": ("POST", SYNC, b'{"resource_set": "\xff\xfe"}', None, {400}),
    "negative limit": ("PUT", QUOTA, '{"quota_set": {"cores": -5}}', None, {400}),
    "enormous limit": ("PUT", QUOTA, '{"quota_set": {"cores": 1' + "0" * 40 + "}}", None,
                       {400}),
    "infinite limit": ("PUT", QUOTA, '{"quota_set": {"cores": 1e400}}', None, {400}),
    "nan limit": ("PUT", QUOTA, '{"quota_set": {"cores": NaN}}', None, {400}),
    "python call as a limit": ("PUT", QUOTA, json.dumps({"quota_set": {"cores": RUN}}), None,
                               {400}),
    "nul byte in a quota key": ("PUT", QUOTA, '{"quota_set": {"cor\\u0000es": 1}}', None,
                                {400}),
    "nested quota set": ("PUT", QUOTA, '{"quota_set": ' + "{\"a\": " * 15000 + "1"
                         + "}" * 15000 + "}", None, {400}),
    "negative class limit": ("PUT", CLASS, '{"quota_class_set": {"cores": -7}}', None, {400}),
    "python call in a class": ("PUT", CLASS, json.dumps({"quota_class_set": {"ram": RUN}}),
                               None, {400}),
    "traversal in a job id": ("GET", "/v1.1/os-sync/..%2F..%2Fetc%2Fpasswd", None, None,
                              {400, 404}),
    "nul byte in a job id": ("DELETE", "/v1.1/os-sync/%00", None, None, {400, 404}),
    "traversal in a project id": ("GET", "/v1.1/os-quota-sets/..%2F..%2Fetc%2Fpasswd", None,
                                  None, {400}),
    "traversal in the tenant": ("GET", "/v1.0/..%2F..%2Fetc/os-sync", None, None, {400}),
    "traversal in a class name": ("PUT", "/v1.0/{admin}/os-quota-class-sets/..%2F..%2Fetc",
                                  '{"quota_class_set": {"cores": 1}}', None, {400}),
    "raw traversal": ("GET", "/v1.1/../../../etc/passwd", None, None, {400, 404}),
}


def _snapshot(kb, people) -> dict:  # noqa: F811
    admin = people.tokens["admin"]
    paths = [f"/v1.1/os-quota-sets/{people.victim}",
             f"/v1.0/{people.admin_project}/os-quota-class-sets/hostile-class",
             f"/v1.0/{people.victim}/os-sync", f"/v1.0/{people.victim}/os-global-networks"]
    return {p: (r.status_code, r.text) for p in paths
            for r in [kb.call("GET", p, admin)]}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_is_refused_and_changes_nothing(kb, people, case):  # noqa: F811
    method, template, body, content_type, statuses = CASES[case]
    path = template.format(victim=people.victim, admin=people.admin_project)
    before = _snapshot(kb, people)
    headers = {"Content-Type": content_type} if content_type else {}
    data = body.encode() if isinstance(body, str) else body
    answer = kb.call(method, path, people.tokens["admin"], data=data, headers=headers)
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"]["code"] == answer.status_code
    assert _snapshot(kb, people) == before
    assert not CANARY.exists(), "a request body was executed"


AGENTS_ONLY = "/os-fernet-keys/nodes/{node}/sync"
HOSTILE_BODIES = {
    "deeply nested json": ("[" * 30000 + "]" * 30000, None, {400}),
    "body over the size limit": ('{"x": "' + "y" * (MAX_BODY + 10) + '"}', None, {413}),
    "python call": (RUN, None, {400}),
    "wrong content type": ('{"x": 1}', "text/plain", {400, 415}),
}


@pytest.fixture(scope="module")
def writes(kb):  # noqa: F811
    doc = kb.call("GET", "/openapi.json").json()
    # Routes without a request body (PUT .../sync) do not read one.
    return [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops
            if m in ("post", "put") and ops[m].get("security") and "requestBody" in ops[m]]


@pytest.mark.parametrize("body_name", list(HOSTILE_BODIES))
def test_every_write_route_refuses_hostile_bodies(kb, people, writes, body_name):  # noqa: F811
    body, content_type, statuses = HOSTILE_BODIES[body_name]
    headers = {"Content-Type": content_type} if content_type else {}
    before = _snapshot(kb, people)
    wrong = []
    for method, template in writes:
        path = template.replace("{tenant}", people.victim).replace(
            "{project_id}", people.victim)
        path = path.replace("{class_name}", "hostile-class")
        path = "/".join(str(uuid.uuid4()) if part.startswith("{") else part
                        for part in path.split("/"))
        answer = kb.call(method, path, people.tokens["admin"], data=body.encode(),
                         headers=headers)
        # A route about a made-up object may answer 404 before reading the body; the
        # admin may not call the agents' route (test_fernet_agents sends it these
        # bodies as an agent).
        refused = {403} if template.endswith(AGENTS_ONLY) else set()
        if answer.status_code not in statuses | {404} | refused:
            wrong.append(f"{method} {template}: {answer.status_code} {answer.text[:120]}")
    assert not wrong, "\n".join(wrong)
    assert _snapshot(kb, people) == before
    assert not CANARY.exists()
