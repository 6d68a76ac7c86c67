"""Hostile input: each case gets a 4xx and changes nothing.

Python expressions and ``__import__`` strings where the original Kingbird called
``eval()`` (bodies, ``force``), bodies over ``[api] max_request_body_size``,
deeply nested JSON, unicode, lone UTF-16 surrogates and NUL bytes in names and
ids, negative, enormous and non-finite numbers, wrong content types, path
traversal in ids. The table runs against the routes whose validation it names;
the hostile bodies that any route must refuse run against every POST and PUT
route of /openapi.json, and hostile path parameters against every route that has
one.

Everything runs twice: against the demo's API on SQLite, and against a second
``kingbird-api`` with the demo's configuration on a private PostgreSQL database
(which refuses NUL in text and integers beyond its columns, where SQLite stores
anything), with Fernet key management on.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from api_security_support import people  # noqa: F401 (fixtures)
from db_servers import postgresql_database
from kb_http import KingbirdHTTP

from kingbird.demo.extra_api import kingbird_api

pytestmark = pytest.mark.functional

CANARY = Path(f"/tmp/kingbird-hostile-{uuid.uuid4().hex}")
RUN = f"__import__('os').system('touch {CANARY}')"
MAX_BODY = 114688  # [api] max_request_body_size of the demo (the default)
NESTED = '{"resource_set": ' + "[" * 30000 + "]" * 30000 + "}"
HUGE = json.dumps({"resource_set": {"resources": ["x" * (MAX_BODY + 10)]}})

SYNC = "/v1.0/{victim}/os-sync"
QUOTA = "/v1.0/{admin}/os-quota-sets/{victim}"
CLASS = "/v1.0/{admin}/os-quota-class-sets/hostile-class"
NETS = "/v1.0/{victim}/os-global-networks"
RULES = "/v1.0/{victim}/os-global-security-group-rules"
ROUTERS = "/v1.0/{victim}/os-global-routers"
PLANS = "/v1.1/os-dr/plans"  # a plan is created with a token of its project: the admin's
NODE = "/v1.1/os-fernet-keys/nodes/hostile-node/sync"
LONE = "\ud800"  # a lone UTF-16 surrogate: JSON can write it, UTF-8 cannot


def _wrapped(wrapper: str, **fields) -> str:
    return json.dumps({wrapper: fields})


def _network(**fields) -> str:
    return _wrapped("global_network", **{"name": "hostile", "cidr": "10.251.0.0/24",
                                         "regions": ["RegionOne"], **fields})


def _rule(**fields) -> str:
    return _wrapped("global_security_group_rule", **{
        "region": "RegionOne", "security_group_id": "sg-hostile", "direction": "ingress",
        "remote_region": "RegionTwo", "remote_group_id": "sg-remote", **fields})


def _router(**fields) -> str:
    return _wrapped("global_router", **{
        "name": "hostile", "transit": {"networks": {"RegionOne": "n1", "RegionTwo": "n2"}},
        "subnets": {"RegionOne": "s1", "RegionTwo": "s2"}, **fields})


def _plan(**fields) -> str:
    return _wrapped("plan", **{"name": "hostile", "servers": [str(uuid.uuid4())],
                               "source_region": "RegionOne", "recovery_region": "RegionTwo",
                               **fields})


def _node(**fields) -> str:
    return _wrapped("node", **{"region": "RegionOne", **fields})


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
    "nul byte in a job id": ("DELETE", "/v1.1/os-sync/%00", None, None, {400}),
    "traversal in a project id": ("GET", "/v1.1/os-quota-sets/..%2F..%2Fetc%2Fpasswd", None,
                                  None, {400}),
    "traversal in the tenant": ("GET", "/v1.0/..%2F..%2Fetc/os-sync", None, None, {400}),
    "traversal in a class name": ("PUT", "/v1.0/{admin}/os-quota-class-sets/..%2F..%2Fetc",
                                  '{"quota_class_set": {"cores": 1}}', None, {400}),
    "raw traversal": ("GET", "/v1.1/../../../etc/passwd", None, None, {400, 404}),
    # Lone surrogates reach no database and no region; NUL reaches no PostgreSQL text.
    "lone surrogate in a resource name": ("POST", SYNC, _sync(resources=[LONE]), None, {400}),
    "lone surrogate in a network name": ("POST", NETS, _network(name=LONE), None, {400}),
    "nul byte in a network name": ("POST", NETS, _network(name="net\u0000"), None, {400}),
    "lone surrogate in a rule": ("POST", RULES, _rule(security_group_id=LONE), None, {400}),
    "nul byte in a rule": ("POST", RULES, _rule(remote_group_id="sg\u0000"), None, {400}),
    "lone surrogate in a router": ("POST", ROUTERS, _router(transit={"networks": {
        "RegionOne": LONE, "RegionTwo": "n2"}}), None, {400}),
    "lone surrogate in a plan": ("POST", PLANS, _plan(name=LONE, servers=[LONE]), None,
                                 {400}),
    "nul byte in a plan": ("POST", PLANS, _plan(servers=["vm\u0000"]), None, {400}),
    "lone surrogate in a plan update": ("PUT", PLANS + f"/{uuid.uuid4()}",
                                        _wrapped("plan", name=LONE), None, {400}),
    "lone surrogate in a key": ("PUT", QUOTA, '{"quota_set": {"\\ud800": 1}}', None, {400}),
    "nul byte in a query": ("GET", "/v1.1/os-dr/operations?plan_id=%00", None, None, {400}),
    "nul byte in a job id to show": ("GET", "/v1.1/os-sync/%00", None, None, {400}),
    "a job id that is no uuid": ("GET", "/v1.1/os-sync/..;", None, None, {404}),
}


# Reports only a registered node's agent may send (anyone else is refused the route
# before its body is read): test_fernet_agents sends them as that agent.
NODE_REPORTS = {
    "lone surrogate in a node report": ("POST", NODE, _node(region=LONE), None, {400}),
    "nul byte in a node report": ("POST", NODE, _node(agent="agent\u0000"), None, {400}),
    "version beyond 64 bits": ("POST", NODE, _node(version=2**64), None, {400}),
    "version beyond its column": ("POST", NODE, _node(version=2**40), None, {400}),
    "infinite latency": ("POST", NODE, '{"node": {"region": "RegionOne", "probe": '
                         '{"ok": true, "latency_ms": 1e400}}}', None, {400}),
    "nan latency": ("POST", NODE, '{"node": {"region": "RegionOne", "probe": '
                    '{"ok": true, "latency_ms": NaN}}}', None, {400}),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def kb(request, cloud, tmp_path_factory):
    """The demo's API (SQLite), then a ``kingbird-api`` on PostgreSQL."""
    if request.param == "sqlite":
        yield KingbirdHTTP(cloud.kingbird_root)
        return
    with postgresql_database() as url, kingbird_api(
            cloud.summary["kingbird_conf"], url, tmp_path_factory.mktemp("hostile-pg")) as root:
        yield KingbirdHTTP(root)


SNAPSHOT = ["/v1.1/os-quota-sets/{victim}", "/v1.0/{admin}/os-quota-class-sets/hostile-class",
            SYNC, NETS, RULES, ROUTERS, PLANS, "/v1.1/os-fernet-keys"]


def _snapshot(kb, people) -> dict:  # noqa: F811
    admin = people.tokens["admin"]
    paths = [p.format(victim=people.victim, admin=people.admin_project) for p in SNAPSHOT]
    return {p: (r.status_code, _stable(p, r)) for p in paths
            for r in [kb.call("GET", p, admin)]}


def _stable(path: str, answer) -> str:
    """The answer as a test may compare it: of the Fernet view, the key set (its
    version and each key's number and state), not what the demo's own agent and
    rotation update in the background (nodes' reports, when a demoted key retires)."""
    if path != "/v1.1/os-fernet-keys" or answer.status_code != 200:
        return answer.text
    view = answer.json()["fernet_keys"]
    keys = [(key.get("number"), key.get("state")) for key in view.get("keys") or []]
    return json.dumps({"version": view.get("version"), "keys": keys})


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


# A path parameter that is no text (NUL, a newline), one that is not UTF-8 (an
# encoded surrogate: read as U+FFFD), and one that is no UUID where a UUID is due.
HOSTILE_PARAMETERS = {"%00": {400}, "%0A": {400}, "%ED%A0%80": {400, 404}}
NOT_A_UUID = "..%3B"


@pytest.fixture(scope="module")
def with_parameters(kb):  # noqa: F811
    """(METHOD, path, names of the parameters of format uuid) of every route with a
    path parameter."""
    doc = kb.call("GET", "/openapi.json").json()
    return [(m.upper(), p, {q["name"] for q in ops[m]["parameters"]
                            if q["schema"].get("format") == "uuid"})
            for p, ops in doc["paths"].items() if "{" in p for m in ops]


def _fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{name}`` from ``values``, else a made-up UUID."""
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), str(uuid.uuid4())), template)


def test_every_path_parameter_refuses_what_no_id_can_hold(
        kb, people, with_parameters):  # noqa: F811
    before = _snapshot(kb, people)
    plain = {"tenant": people.victim, "project_id": people.victim,
             "class_name": "hostile-class", "node": "hostile-node"}
    wrong, sent = [], 0
    for method, template, uuids in with_parameters:
        names = re.findall(r"{(\w+)}", template)
        for name in names:
            hostile = dict(HOSTILE_PARAMETERS)
            if name in uuids:
                hostile[NOT_A_UUID] = {404}
            for value, statuses in hostile.items():
                path = _fill(template, {**plain, name: value})
                answer = kb.call(method, path, people.tokens["admin"], data=b"{}")
                sent += 1
                if answer.status_code not in statuses or \
                        answer.json()["error"]["code"] != answer.status_code:
                    wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:120]}")
    assert sent > 100
    assert not wrong, "\n".join(wrong)
    assert _snapshot(kb, people) == before
