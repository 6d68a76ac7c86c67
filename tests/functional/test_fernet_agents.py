"""Keystone's Fernet keys go to the registered node's own agent user only, on the demo
(``make run``), where Kingbird manages its Keystone's keys: the ``service`` role every
OpenStack service account holds is refused, as are the admin, another node's agent and
unregistered node names; a report is believed only if it can be true.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest
from api_security_support import kb, people  # noqa: F401 (fixtures)
from cryptography.fernet import Fernet
from demo_support import Credentials

from kingbird.demo.stack import AGENT_ROLE, SERVICE_PROJECT, agent_user

pytestmark = pytest.mark.functional

DEMO_NODE = "keystone-RegionOne"  # the demo's Keystone, registered for its own agent
NODE = "fa-node"  # registered by these tests, bound to the "agent" user below


@pytest.fixture(scope="module")
def callers(cloud) -> dict[str, tuple[str, str]]:
    """caller -> (Keystone user id, token): two agent users and a service account."""
    prov = cloud.provisioner()
    password = secrets.token_urlsafe(16)
    found = {}
    for caller, role in (("agent", AGENT_ROLE), ("other-agent", AGENT_ROLE),
                         ("nova", "service")):
        name = f"fa-{caller}"
        user_id = prov.ensure_user(name, password, SERVICE_PROJECT, role=role)
        token = Credentials(cloud.admin_creds.auth_url, name, password,
                            SERVICE_PROJECT).session().get_token()
        found[caller] = (user_id, token)
    return found


@pytest.fixture
def node(kb, cloud, callers):  # noqa: F811
    """``NODE`` registered for the "agent" user for one test, forgotten after it."""
    admin = cloud.admin_token()
    answer = kb.call("POST", "/v1.1/os-fernet-keys/nodes", admin, json={"node": {
        "name": NODE, "region": "RegionOne", "agent_user_id": callers["agent"][0]}})
    assert answer.status_code == 201, answer.text
    yield answer.json()["node"]
    kb.call("DELETE", f"/v1.1/os-fernet-keys/nodes/{NODE}", admin)


def report(region: str = "RegionOne", version: int | None = None) -> dict:
    return {"node": {"region": region, "version": version}}


def nodes(kb, cloud) -> dict[str, dict]:  # noqa: F811
    """The registered nodes as recorded (without the time since contact, which flows)."""
    answer = kb.call("GET", "/v1.1/os-fernet-keys/nodes", cloud.admin_token())
    assert answer.status_code == 200, answer.text
    return {n["name"]: {k: v for k, v in n.items() if k != "seconds_since_contact"}
            for n in answer.json()["nodes"]}


def test_a_service_account_the_admin_and_a_member_are_refused_a_node_s_keys(
        kb, cloud, callers, people):  # noqa: F811
    before = nodes(kb, cloud)[DEMO_NODE]
    for token in (callers["nova"][1], people.tokens["admin"], people.tokens["member"]):
        answer = kb.call("POST", f"/v1.1/os-fernet-keys/nodes/{DEMO_NODE}/sync", token,
                         json=report(version=1))
        assert answer.status_code == 403, answer.text
        assert "kingbird:fernet_keys:sync" in answer.json()["error"]["message"]
    assert nodes(kb, cloud)[DEMO_NODE]["last_contact"] == before["last_contact"]


def test_an_agent_is_served_only_for_the_node_registered_for_it(kb, cloud, callers, node):  # noqa: F811
    assert node["agent_user_id"] == callers["agent"][0] and node["version"] is None
    other = kb.call("POST", f"/v1.1/os-fernet-keys/nodes/{NODE}/sync", callers["other-agent"][1],
                    json=report())
    assert other.status_code == 403 and "another agent user" in other.text
    # the demo's own node is bound to its own agent user, not to this one
    demo = kb.call("POST", f"/v1.1/os-fernet-keys/nodes/{DEMO_NODE}/sync",
                   callers["agent"][1], json=report())
    assert demo.status_code == 403
    unknown = kb.call("POST", "/v1.1/os-fernet-keys/nodes/fa-unknown/sync",
                      callers["agent"][1], json=report())
    assert unknown.status_code == 404 and "is registered" in unknown.text
    assert "fa-unknown" not in nodes(kb, cloud)  # a report registers nothing
    served = kb.call("POST", f"/v1.1/os-fernet-keys/nodes/{NODE}/sync", callers["agent"][1],
                     json=report())
    assert served.status_code == 200, served.text
    assert set(served.json()["key_set"]["keys"]) >= {"0", "1"}
    assert nodes(kb, cloud)[NODE]["last_contact"] is not None


def test_only_a_registered_node_s_agent_may_adopt_a_repository(kb, callers, node):  # noqa: F811
    body = {"key_repository": {n: Fernet.generate_key().decode() for n in ("0", "1")}}
    path = "/v1.1/os-fernet-keys/import"
    for caller in ("other-agent", "nova"):  # bound to no node; no agent role
        assert kb.call("POST", path, callers[caller][1], json=body).status_code == 403
    # NODE's agent passes, but the demo's Kingbird holds a key set already
    assert kb.call("POST", path, callers["agent"][1], json=body).status_code == 409


def test_a_report_that_cannot_be_true_is_a_400_that_changes_nothing(kb, cloud, callers, node):  # noqa: F811
    agent = callers["agent"][1]
    path = f"/v1.1/os-fernet-keys/nodes/{NODE}/sync"
    current = kb.call("POST", path, agent, json=report()).json()["key_set"]["version"]
    before = nodes(kb, cloud)[NODE]
    answer = kb.call("POST", path, agent, json=report(version=current + 1))
    assert answer.status_code == 400, answer.text
    assert "above the current key set version" in answer.json()["error"]["message"]
    region = kb.call("POST", path, agent, json=report(region="RegionTwo"))
    assert region.status_code == 400 and "registered in region 'RegionOne'" in region.text
    # what no database stores (a 500 on PostgreSQL, or on any database for a surrogate)
    for field, value in (("error", "\ud800"), ("agent", "a\u0000b"), ("keystone_url", "\udfff")):
        answer = kb.call("POST", path, agent, json={"node": {"region": "RegionOne",
                                                             field: value}})
        assert answer.status_code == 400 and f"node.{field}" in answer.text, answer.text
    assert nodes(kb, cloud)[NODE] == before


def test_hostile_bodies_from_the_node_s_agent_are_refused(kb, cloud, callers, node):  # noqa: F811
    from test_api_hostile_input import HOSTILE_BODIES, NODE_REPORTS

    before = nodes(kb, cloud)[NODE]
    reports = {name: (body, content_type, statuses)
               for name, (_, _, body, content_type, statuses) in NODE_REPORTS.items()}
    for name, (body, content_type, statuses) in {**HOSTILE_BODIES, **reports}.items():
        headers = {"Content-Type": content_type} if content_type else {}
        answer = kb.call("POST", f"/v1.1/os-fernet-keys/nodes/{NODE}/sync",
                         callers["agent"][1], data=body.encode(), headers=headers)
        assert answer.status_code in statuses, (name, answer.status_code, answer.text[:200])
    assert nodes(kb, cloud)[NODE] == before


def test_only_an_admin_registers_nodes_and_registrations_are_checked(
        kb, cloud, callers, people, node):  # noqa: F811
    admin = people.tokens["admin"]
    path = "/v1.1/os-fernet-keys/nodes"

    def register(token, name=NODE, user_id=callers["agent"][0], region="RegionOne"):
        return kb.call("POST", path, token, json={"node": {
            "name": name, "region": region, "agent_user_id": user_id}})

    for token in (callers["agent"][1], callers["nova"][1], people.tokens["member"]):
        assert register(token, name="fa-intruder").status_code == 403
        assert kb.call("GET", path, token).status_code == 403
    assert register(admin).status_code == 200  # as registered: nothing changes
    conflict = register(admin, user_id=callers["other-agent"][0])
    assert conflict.status_code == 409 and "forget it first" in conflict.text
    assert register(admin, name=DEMO_NODE).status_code == 409
    by_name = register(admin, name="fa-typo", user_id="fa-agent")  # a name, not an id
    assert by_name.status_code == 400 and "no user with the id 'fa-agent'" in by_name.text
    for bad in ("fa node", "fa-node\n", "", "x" * 256):
        answer = register(admin, name=bad)
        assert answer.status_code == 400 and "node.name" in answer.text, (bad, answer.text)
    assert register(admin, name="fa-dots", user_id="..").status_code == 400
    for region in ("Region\u0000One", "Region\nOne", "\ud800"):
        answer = register(admin, name="fa-region", region=region)
        assert answer.status_code == 400 and "node.region" in answer.text, answer.text
    listed = nodes(kb, cloud)
    assert not {"fa-intruder", "fa-typo", "fa-dots"} & set(listed)
    assert listed[NODE]["agent_user_id"] == callers["agent"][0]
    assert listed[DEMO_NODE]["agent_user_id"] == cloud.provisioner()._one(
        "/users", "users", "users", name=agent_user(DEMO_NODE))["id"]


def test_metrics_and_multisite_identity_show_registered_nodes_only(kb, cloud):  # noqa: F811
    """A node its agent created before nodes were registered (an upgraded database):
    refused and shown to the admin as a problem, absent from the region views."""
    database = Path(cloud.summary["state_dir"]) / "kingbird.sqlite"
    with sqlite3.connect(database, timeout=30) as conn:
        conn.execute("INSERT INTO fernet_nodes (name, region, version, created_at, "
                     "updated_at) VALUES ('fa-legacy', 'RegionOne', 1, "
                     "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    admin = cloud.admin_token()
    try:
        legacy = nodes(kb, cloud)["fa-legacy"]
        assert legacy["agent_user_id"] is None
        assert legacy["problems"][0].startswith("not registered")
        sites = kb.call("GET", "/v1.1/os-multisite-identity", admin).json()
        shown = {n["name"] for region in sites["multisite_identity"]["regions"].values()
                 for n in region["nodes"]}
        assert DEMO_NODE in shown and "fa-legacy" not in shown
        metrics = kb.call("GET", "/metrics").text
        assert f'node="{DEMO_NODE}"' in metrics and "fa-legacy" not in metrics
    finally:
        gone = kb.call("DELETE", "/v1.1/os-fernet-keys/nodes/fa-legacy", admin)
        assert gone.status_code == 200, gone.text
