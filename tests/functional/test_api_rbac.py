"""The full permission matrix: every route of /openapi.json, for the admin, a
member of the project, a reader of the project, a member of another project, a
revoked token, no token, and callers whose token names no project: unscoped
(a user with no role anywhere), domain-scoped (member and admin of the domain),
system-scoped (a member of the system, and the admin: ``system_scope: all``).

Each route's expectation follows from the check string of its policy rule, so a
route whose handler forgets to authorise, or checks the wrong rule, fails here;
a new check string fails until its column of expectations is written down.
Requests carry made-up ids and empty bodies, so an allowed call answers 2xx or
a 4xx other than 401/403 and changes nothing that matters. A refused call is a
403 before anything is looked up — except on routes about one object (a plan,
a job...) whose project is known only once it is found: there a refused caller
may get the 404 (or the 400 of a body checked first) that the made-up object
earns, never a success.

A token without a project is refused (403) on every route, whatever its roles,
unless it is a cloud administrator's: the admin role on the system. That token
acts as the admin does, except on the v1.1 routes about the token's own project:
it has none, so there the request is refused.
"""

from __future__ import annotations

import re
import uuid

import pytest
from api_security_support import kb, people  # noqa: F401 (fixtures)
from kb_http import KingbirdHTTP

from kingbird import config, runtime
from kingbird.cmd.serve import ApiServer
from regionsim.topology import free_port

pytestmark = pytest.mark.functional

ALLOWED = "allowed"  # anything but 401 and 403
CALLERS = ["admin", "member", "reader", "other", "revoked", "none",
           "unscoped", "domain", "domain_admin", "system", "system_admin"]
NO_PROJECT = {"unscoped", "domain", "domain_admin", "system"}  # refused everywhere
OWNER_CHECKS = {"rule:admin_or_owner", "rule:admin_or_member"}  # about a project

# check string of the rule -> caller -> expectation
BY_CHECK = {
    "@": dict(admin=ALLOWED, member=ALLOWED, reader=ALLOWED, other=ALLOWED),
    "rule:admin_api": dict(admin=ALLOWED, member=403, reader=403, other=403),
    "rule:admin_or_owner": dict(admin=ALLOWED, member=ALLOWED, reader=ALLOWED, other=403),
    "rule:admin_or_member": dict(admin=ALLOWED, member=ALLOWED, reader=403, other=403),
    # [fernet] agent_role: none of these callers holds it (the admin neither)
    "role:%(agent_role)s": dict(admin=403, member=403, reader=403, other=403),
    "rule:admin_api or role:%(agent_role)s": dict(admin=ALLOWED, member=403, reader=403,
                                                   other=403),
}


def _rule_checks() -> dict[tuple[str, str], str]:
    """(METHOD, v1.0 path) -> the check string of the first rule documenting it."""
    checks: dict[tuple[str, str], str] = {}
    for rule in runtime.list_policy_rules():
        for op in getattr(rule, "operations", []):
            checks.setdefault((op["method"].upper(), op["path"]), rule.check_str)
    return checks


def _v10(path: str) -> str:
    return path.replace("/v1.1/", "/v1.0/{tenant}/", 1)


_NOT_OBJECTS = {"tenant", "project_id", "class_name"}


def _fill(path: str, tenant: str, victim: str) -> str:
    values = {"tenant": tenant, "project_id": victim, "class_name": "rbac-class"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


def _about_one_object(path: str) -> bool:
    return bool(set(re.findall(r"{(\w+)}", path)) - _NOT_OBJECTS)


def _matrix(doc: dict) -> list[tuple[str, str, str]]:
    ops = []
    for path, methods in sorted(doc["paths"].items()):
        for method, op in methods.items():
            if op.get("security"):
                ops.append((method.upper(), path, op["summary"]))
    return ops


@pytest.fixture(scope="module")
def document(kb):  # noqa: F811
    return kb.call("GET", "/openapi.json").json()


def test_every_protected_route_has_a_rule_with_known_expectations(document):
    checks = _rule_checks()
    missing = [(m, p) for m, p, _ in _matrix(document) if (m, _v10(p)) not in checks]
    assert not missing, f"routes without a documented policy rule: {missing}"
    unknown = {checks[(m, _v10(p))] for m, p, _ in _matrix(document)} - set(BY_CHECK)
    assert not unknown, f"write down the expectations of these check strings: {unknown}"


@pytest.mark.parametrize("caller", CALLERS)
def test_permission_matrix_over_every_route(kb, people, document, caller):  # noqa: F811
    checks = _rule_checks()
    token = people.tokens[caller]
    before = kb.call("GET", f"/v1.1/os-quota-sets/{people.victim}",
                     people.tokens["admin"]).json()
    wrong = []
    for method, path, _ in _matrix(document):
        if caller == "other" and "{tenant}" not in path and "{project_id}" not in path:
            continue  # a v1.1 route about the caller's own project: nothing foreign
        # The other project's member names the victim's project in the URL.
        url = _fill(path, people.victim, people.victim)
        body = {} if method in ("POST", "PUT") else None
        status = kb.call(method, url, token, json=body).status_code
        if caller in ("revoked", "none"):
            expected = 401
        elif caller in NO_PROJECT:
            expected = 403
        elif caller == "system_admin":
            expected = BY_CHECK[checks[(method, _v10(path))]]["admin"]
            if (checks[(method, _v10(path))] in OWNER_CHECKS and "{tenant}" not in path
                    and "{project_id}" not in path):
                expected = 403  # v1.1: the token's project, and it has none
        else:
            expected = BY_CHECK[checks[(method, _v10(path))]][caller]
            if caller == "other" and "{tenant}" in path:
                expected = 403  # naming a project not one's own is refused first
        if expected == ALLOWED:
            ok = status not in (401, 403)
        elif expected == 403 and _about_one_object(path) and caller not in NO_PROJECT:
            ok = 400 <= status < 500 and status != 401
        else:
            ok = status == expected
        if not ok:
            wrong.append(f"{method} {path}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    if caller not in ("admin", "system_admin"):
        after = kb.call("GET", f"/v1.1/os-quota-sets/{people.victim}",
                        people.tokens["admin"]).json()
        assert after == before, "a refused request changed the project's limits"


def test_a_reader_can_read_but_not_create_a_sync_job(kb, people):  # noqa: F811
    reader, member = people.tokens["reader"], people.tokens["member"]
    listing = kb.call("GET", f"/v1.0/{people.victim}/os-sync", reader)
    assert listing.status_code == 200, listing.text
    body = {"resource_set": {"resources": ["kp"], "resource_type": "keypair",
                             "source": "RegionOne", "target": ["RegionTwo"]}}
    refused = kb.call("POST", f"/v1.0/{people.victim}/os-sync", reader, json=body)
    assert refused.status_code == 403, refused.text
    # The member gets past the policy (the keypair does not exist: 4xx, not 403).
    answer = kb.call("POST", f"/v1.0/{people.victim}/os-sync", member, json=body)
    assert answer.status_code not in (401, 403), answer.text
    assert kb.call("GET", f"/v1.0/{people.victim}/os-sync", reader).json() == listing.json()


@pytest.mark.parametrize("caller", ["unscoped", "domain", "system"])
def test_a_token_without_a_project_creates_nothing(kb, people, caller):  # noqa: F811
    """Valid bodies, so that only the missing project can stop them (a 500 for
    os-sync and a 409 for networks before)."""
    token = people.tokens[caller]
    sync = {"resource_set": {"resources": ["kp"], "resource_type": "keypair",
                             "source": "RegionOne", "target": ["RegionTwo"]}}
    network = {"global_network": {"name": f"rbac-{caller}", "cidr": "10.251.0.0/24",
                                  "regions": ["RegionOne", "RegionTwo"]}}
    for path, body in (("/v1.1/os-sync", sync), ("/v1.1/os-global-networks", network)):
        answer = kb.call("POST", path, token, json=body)
        assert answer.status_code == 403, f"{path}: {answer.status_code} {answer.text}"
        assert "project" in answer.json()["error"]["message"]
    listing = kb.call("GET", "/v1.1/os-global-networks", people.tokens["system_admin"])
    assert listing.status_code == 403, listing.text


@pytest.fixture(scope="module")
def new_defaults(cloud, tmp_path_factory) -> KingbirdHTTP:
    """A second API on the demo's database and Keystone, with ``[oslo_policy]
    enforce_new_defaults = true``: only the admin role on the system is an admin's."""
    port = free_port()
    extra = tmp_path_factory.mktemp("new-defaults") / "policy.conf"
    extra.write_text(f"[api]\nbind_port = {port}\n[oslo_policy]\nenforce_new_defaults = true\n")
    conf = config.load_config(["--config-file", cloud.summary["kingbird_conf"],
                               "--config-file", str(extra)])
    built = runtime.build_runtime(conf)
    server = ApiServer(built.build_api(), "127.0.0.1", port, 4)
    server.start()
    yield KingbirdHTTP(f"http://127.0.0.1:{port}")
    server.stop()
    built.close()


def test_with_the_new_defaults_only_a_system_scoped_admin_is_an_administrator(
        kb, new_defaults, people):  # noqa: F811
    project_admin, system_admin = people.tokens["admin"], people.tokens["system_admin"]
    limits, jobs = f"/v1.1/os-quota-sets/{people.victim}", f"/v1.0/{people.victim}/os-sync"
    klass = f"/v1.1/os-quota-class-sets/rbac-{uuid.uuid4().hex[:8]}"
    body = {"quota_class_set": {"cores": 7}}
    # The legacy default (the demo's API): the admin role on a project is enough.
    assert kb.call("GET", limits, project_admin).status_code == 200
    assert kb.call("GET", jobs, project_admin).status_code == 200
    # The new defaults: the admin of the admin project is a member of that project only,
    # even when it claims the system scope in a header (auth_token overwrites it).
    for headers in ({}, {"OpenStack-System-Scope": "all"}):
        for method, path, json in (("GET", limits, None), ("GET", jobs, None),
                                   ("PUT", klass, body)):
            answer = new_defaults.call(method, path, project_admin, json=json, headers=headers)
            assert answer.status_code == 403, f"{method} {path}: {answer.text}"
    own = new_defaults.call("GET", "/v1.1/os-sync", project_admin)
    assert own.status_code == 200, own.text
    assert new_defaults.call("GET", "/v1.1/os-sync", people.tokens["member"]).status_code == 200
    # The admin role on the system is the administrator of every project.
    assert new_defaults.call("GET", limits, system_admin).status_code == 200
    assert new_defaults.call("GET", jobs, system_admin).status_code == 200
    try:
        answer = new_defaults.call("PUT", klass, system_admin, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["quota_class_set"]["cores"] == 7
    finally:
        new_defaults.call("DELETE", klass, system_admin)
    # Tokens without a project stay refused, a domain admin's included.
    for caller in ("unscoped", "domain", "domain_admin", "system"):
        answer = new_defaults.call("GET", limits, people.tokens[caller])
        assert answer.status_code == 403, f"{caller}: {answer.text}"
