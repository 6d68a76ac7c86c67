"""The Keystone launcher against a real Keystone over real sockets.

One node serves the whole module (a start costs ~1.5 s once the template
exists); tests that restart it leave it running again.
"""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import openstack
import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.keystone import KeystoneLaunchError, KeystoneNode
from kingbird.demo.keystone_provision import INTERFACES
from kingbird.regions import identity

pytestmark = pytest.mark.functional

REGIONS = ["RegionOne", "RegionTwo", "RegionThree"]
DEMO_PASSWORD = "demo-secret"


def provision(node: KeystoneNode) -> None:
    """What the demo does on every start."""
    provisioner = node.provisioner()
    for region in REGIONS:
        provisioner.ensure_region(region)
    provisioner.ensure_project("demo")
    provisioner.ensure_user("demo", DEMO_PASSWORD, project="demo", role="member")
    provisioner.register_identity_everywhere(REGIONS)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    keystone = KeystoneNode(tmp_path_factory.mktemp("keystone"))
    keystone.start()
    yield keystone
    keystone.stop()


@pytest.fixture(scope="module")
def provisioned(node):
    provision(node)
    return node


def password_token(node: KeystoneNode, user: str, password: str, project: str):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    return requests.post(f"{node.auth_url}/auth/tokens", json=body, timeout=10)


def admin_get(node: KeystoneNode, path: str) -> dict:
    session = node.admin_session()
    try:
        return session.get(f"{node.auth_url}{path}").json()
    finally:
        session.session.close()


def identity_snapshot(node: KeystoneNode) -> dict[str, list]:
    """Everything provisioning may create, in comparable form."""
    return {
        "regions": sorted(r["id"] for r in admin_get(node, "/regions")["regions"]),
        "services": sorted((s["type"], s["name"])
                           for s in admin_get(node, "/services")["services"]),
        "endpoints": sorted((e["id"], e["region_id"], e["interface"], e["url"])
                            for e in admin_get(node, "/endpoints")["endpoints"]),
        "projects": sorted((p["id"], p["name"])
                           for p in admin_get(node, "/projects")["projects"]),
        "users": sorted((u["id"], u["name"]) for u in admin_get(node, "/users")["users"]),
        "roles": sorted((r["id"], r["name"]) for r in admin_get(node, "/roles")["roles"]),
        "assignments": sorted(
            (a["user"]["id"], a["scope"].get("project", {}).get("id", ""), a["role"]["id"])
            for a in admin_get(node, "/role_assignments")["role_assignments"]
            if "user" in a),
    }


def test_admin_password_token_is_issued(node):
    answer = password_token(node, "admin", node.admin_password, "admin")

    assert answer.status_code == 201, answer.text
    assert answer.headers["X-Subject-Token"]
    assert {r["name"] for r in answer.json()["token"]["roles"]} >= {"admin", "member"}


def test_openstacksdk_admin_lists_projects_and_regions(node):
    conn = openstack.connection.Connection(**node.admin_credentials())
    try:
        assert "admin" in {p.name for p in conn.identity.projects()}
        assert node.region in {r.id for r in conn.identity.regions()}
    finally:
        conn.close()


def test_node_registers_its_own_identity_endpoint(node):
    endpoints = admin_get(node, "/endpoints")["endpoints"]

    mine = {e["interface"]: e["url"] for e in endpoints if e["region_id"] == node.region}
    assert mine == dict.fromkeys(INTERFACES, node.auth_url)


def test_state_stays_in_state_dir_with_private_keys(node):
    config = node.config_path.read_text()

    for line in config.splitlines():
        if line.startswith(("key_repository", "log_file", "connection")):
            assert str(node.state_dir) in line, line
    for repo in ("fernet-keys", "receipt-keys", "credential-keys"):
        directory = node.state_dir / repo
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert sorted(p.name for p in directory.iterdir()) == ["0", "1"]
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())
    assert not Path("/etc/keystone/fernet-keys").exists()


def test_provisioning_creates_regions_project_user_and_endpoints(provisioned):
    snapshot = identity_snapshot(provisioned)

    assert set(REGIONS) <= set(snapshot["regions"])
    assert "demo" in {name for _, name in snapshot["projects"]}
    assert "demo" in {name for _, name in snapshot["users"]}
    identity = {(region, interface): url
                for _, region, interface, url in snapshot["endpoints"]}
    for region in REGIONS:
        for interface in INTERFACES:
            assert identity[(region, interface)] == provisioned.auth_url


def test_provisioning_twice_changes_nothing(provisioned):
    before = identity_snapshot(provisioned)

    provision(provisioned)

    assert identity_snapshot(provisioned) == before


@pytest.mark.parametrize("region", REGIONS)
def test_client_scoped_to_any_region_finds_identity(provisioned, region):
    auth = v3.Password(**provisioned.admin_credentials())
    session = ks_session.Session(auth=auth)
    try:
        url = session.get_endpoint(service_type="identity", interface="public",
                                   region_name=region)
    finally:
        session.session.close()

    assert url == provisioned.auth_url


def test_kingbird_reads_every_page_of_projects(provisioned):
    """Keystone's own pagination (``limit`` and the marker of ``links.next``), a page
    of one project at a time, as with ``[DEFAULT] list_limit = 1``."""
    session = provisioned.admin_session()
    everything = identity.list_project_ids(session)
    assert len(everything) >= 2  # admin, demo
    assert identity.list_project_ids(session, page_size=1) == everything
    assert len(identity.list_project_ids(session, page_size=1, max_pages=1)) == 1


def test_member_token_is_scoped_to_demo_without_admin(provisioned):
    answer = password_token(provisioned, "demo", DEMO_PASSWORD, "demo")

    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    roles = {r["name"] for r in token["roles"]}
    assert token["project"]["name"] == "demo"
    assert "member" in roles
    assert "admin" not in roles


def test_invalid_token_is_rejected(node):
    session = node.admin_session()
    try:
        answer = session.get(f"{node.auth_url}/auth/tokens", raise_exc=False,
                             headers={"X-Subject-Token": "gAAAAAB-not-a-real-token"})
    finally:
        session.session.close()

    assert answer.status_code in (401, 404)


def test_restart_keeps_data_keys_and_tokens(provisioned):
    issued = password_token(provisioned, "demo", DEMO_PASSWORD, "demo")
    token = issued.headers["X-Subject-Token"]
    port = provisioned.port

    provisioned.stop()
    assert not provisioned.running
    provisioned.start()

    assert provisioned.port == port
    assert password_token(provisioned, "demo", DEMO_PASSWORD, "demo").status_code == 201
    # Same Fernet keys on disk: a token from before the restart still validates.
    check = requests.get(f"{provisioned.auth_url}/auth/tokens", timeout=10,
                         headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert check.status_code == 200, check.text


def test_start_failure_reports_the_log_tail(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        node = KeystoneNode(tmp_path, port=taken.getsockname()[1], start_timeout=30)

        with pytest.raises(KeystoneLaunchError, match="Address already in use"):
            node.start()

    assert not node.running
