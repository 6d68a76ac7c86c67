"""The full permission matrix: every route of /openapi.json, for the admin, a
member of the project, a reader of the project, a member of another project, a
revoked token and no token.

Each route's expectation follows from the check string of its policy rule, so a
route whose handler forgets to authorise, or checks the wrong rule, fails here;
a new check string fails until its column of expectations is written down.
Requests carry made-up ids and empty bodies, so an allowed call answers 2xx or
a 4xx other than 401/403 and changes nothing that matters. A refused call is a
403 before anything is looked up — except on routes about one object (a plan,
a job...) whose project is known only once it is found: there a refused caller
may get the 404 (or the 400 of a body checked first) that the made-up object
earns, never a success.
"""

from __future__ import annotations

import re
import uuid

import pytest
from api_security_support import kb, people  # noqa: F401 (fixtures)

from kingbird import runtime

pytestmark = pytest.mark.functional

ALLOWED = "allowed"  # anything but 401 and 403
CALLERS = ["admin", "member", "reader", "other", "revoked", "none"]

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
        else:
            expected = BY_CHECK[checks[(method, _v10(path))]][caller]
            if caller == "other" and "{tenant}" in path:
                expected = 403  # naming a project not one's own is refused first
        if expected == ALLOWED:
            ok = status not in (401, 403)
        elif expected == 403 and _about_one_object(path):
            ok = 400 <= status < 500 and status != 401
        else:
            ok = status == expected
        if not ok:
            wrong.append(f"{method} {path}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    if caller != "admin":
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
