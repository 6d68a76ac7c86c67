"""Multisite identity in the star topology, for real: PostgreSQL streaming
replication, three Keystones (A on the primary for RegionOne; two read-only on
the standby for RegionTwo), regionsim per region, Kingbird and its agents.

The tests run in file order on one topology: the site failure test, which
stops the master site, comes last.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import stat
import subprocess
import sys
import time

import pytest
import requests
from star_support import (
    NODE_TIMEOUT,
    TOKEN_LIFETIME,
    Token,
    Validator,
    admin_token,
    agent_token,
    demo_token,
    issue_token,
    star_stack,
    validate,
    wait_until,
)

from kingbird.demo.stack import AGENT_ROLE, SERVICE_PROJECT
from kingbird.identity import repository, sites

pytestmark = pytest.mark.functional

__all__ = ["star_stack"]

A, B1, B2 = "keystone-RegionOne", "keystone-RegionTwo", "keystone-RegionTwo-2"


def kingbird(stack, method: str, path: str, token: str, **kwargs) -> requests.Response:
    root = f"http://127.0.0.1:{stack.settings.api_port}"
    return requests.request(method, root + path, headers={"X-Auth-Token": token},
                            timeout=30, **kwargs)


def fernet_status(stack) -> dict:
    answer = kingbird(stack, "GET", "/v1.1/os-fernet-keys", admin_token(stack))
    assert answer.status_code == 200, answer.text
    return answer.json()["fernet_keys"]


def all_materials(stack) -> set[str]:
    return {key for node in stack.nodes.values()
            for key in repository.read_repository(node.fernet_key_repository).values()}


def test_replica_keystones_serve_the_master_s_users_and_refuse_writes_at_once(star_stack):
    token, _ = demo_token(star_stack, B1)
    assert validate(star_stack.nodes[A].auth_url, token) == 200
    admin = admin_token(star_stack, B1)
    started = time.monotonic()
    answer = requests.post(f"{star_stack.nodes[B1].auth_url}/users", timeout=10,
                           headers={"X-Auth-Token": admin},
                           json={"user": {"name": "written-at-b", "password": "x"}})
    assert time.monotonic() - started < 2
    assert answer.status_code == 403
    message = answer.json()["error"]["message"]
    assert "read-only replica" in message and star_stack.keystone.auth_url in message
    # a wrong password at a replica is a 401, not a failed write
    bad = requests.post(f"{star_stack.nodes[B2].auth_url}/auth/tokens", timeout=10, json={
        "auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "demo", "domain": {"name": "Default"}, "password": "wrong"}}}}})
    assert bad.status_code == 401


def test_kingbird_reports_nodes_probes_and_replication_but_never_key_material(star_stack):
    admin = admin_token(star_stack)
    project = star_stack.keystone.provisioner()._one("/projects", "projects", "projects",
                                                     name="admin")["id"]
    secrets = all_materials(star_stack)
    for path in (f"/v1.0/{project}/os-fernet-keys", "/v1.1/os-fernet-keys",
                 f"/v1.0/{project}/os-multisite-identity", "/v1.1/os-multisite-identity"):
        answer = kingbird(star_stack, "GET", path, admin)
        assert answer.status_code == 200, (path, answer.text)
        assert not any(secret in answer.text for secret in secrets), path
    keys = kingbird(star_stack, "GET", "/v1.1/os-fernet-keys", admin).json()["fernet_keys"]
    assert {n["name"]: n["current"] for n in keys["nodes"]} == {A: True, B1: True, B2: True}
    assert all(n["healthy"] and n["probe"]["ok"] for n in keys["nodes"])
    regions = kingbird(star_stack, "GET", "/v1.1/os-multisite-identity",
                       admin).json()["multisite_identity"]["regions"]
    two = regions["RegionTwo"]
    assert two["replication"]["streaming"] and two["replication"]["lag_bytes"] is not None
    assert two["validating"] and {n["name"] for n in two["nodes"]} == {B1, B2}
    metrics = requests.get(f"http://127.0.0.1:{star_stack.settings.api_port}/metrics",
                           timeout=30)
    assert metrics.status_code == 200
    assert not any(secret in metrics.text for secret in secrets)
    version = keys["version"]
    for name, region in ((A, "RegionOne"), (B1, "RegionTwo"), (B2, "RegionTwo")):
        line = f'kingbird_fernet_node_keyset_version{{node="{name}",region="{region}"}}'
        assert f"{line} {float(version)}" in metrics.text
    assert 'kingbird_identity_replication_lag_bytes{region="RegionTwo"}' in metrics.text
    assert 'kingbird_identity_region_validating{region="RegionTwo"} 1.0' in metrics.text
    # a report is checked strictly
    bad = kingbird(star_stack, "POST", f"/v1.1/os-fernet-keys/nodes/{A}/sync",
                   agent_token(star_stack, A),
                   json={"node": {"region": "RegionOne", "version": "7"}})
    assert bad.status_code == 400 and "node.version" in bad.json()["error"]["message"]
    # members may not look; a node's keys go to its own agent user only, not to the
    # admin nor to another node's agent
    member, _ = demo_token(star_stack, A)
    assert kingbird(star_stack, "GET", "/v1.1/os-fernet-keys", member).status_code == 403
    for token in (member, admin, agent_token(star_stack, B1)):
        assert kingbird(star_stack, "POST", f"/v1.1/os-fernet-keys/nodes/{A}/sync", token,
                        json={"node": {"region": "RegionOne"}}).status_code == 403


def test_an_agent_run_once_writes_a_private_repository_and_reports_it(star_stack, tmp_path):
    stack = star_stack
    repo = tmp_path / "fernet-keys"
    # as an operator adds a node: its agent user, with the agent role, and the node
    # registered for that user
    password = "extra-agent-secret"
    user_id = stack.keystone.provisioner().ensure_user("extra-agent", password,
                                                       SERVICE_PROJECT, role=AGENT_ROLE)
    registered = kingbird(stack, "POST", "/v1.1/os-fernet-keys/nodes", admin_token(stack),
                          json={"node": {"name": "extra", "region": "RegionTwo",
                                         "agent_user_id": user_id}})
    assert registered.status_code == 201, registered.text
    env = dict(os.environ, KINGBIRD_AGENT_PASSWORD=password)
    root = os.geteuid() == 0
    owner = ["--owner", "nobody"] if root else []
    done = subprocess.run(
        [sys.executable, "-m", "kingbird.cmd.keystone_agent", "--once", "--node-name", "extra",
         "--region", "RegionTwo", "--key-repository", str(repo),
         "--kingbird-url", f"http://127.0.0.1:{stack.settings.api_port}",
         "--auth-url", stack.keystone.auth_url, "--username", "extra-agent",
         "--project-name", SERVICE_PROJECT, *owner],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    status = fernet_status(stack)
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "node": "extra", "version": status["version"], "written": True}
    assert repository.read_repository(repo) == repository.read_repository(
        stack.keystone.fernet_key_repository)
    for path in repo.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_uid == (pwd.getpwnam("nobody").pw_uid if root else os.getuid())
    extra = next(n for n in status["nodes"] if n["name"] == "extra")
    assert extra["current"] and extra["region"] == "RegionTwo"
    assert extra["agent_user_id"] == user_id
    # a node gone for good is forgotten, or it would hold every rotation back
    gone = kingbird(stack, "DELETE", "/v1.1/os-fernet-keys/nodes/extra", admin_token(stack))
    assert gone.status_code == 200
    assert "extra" not in {n["name"] for n in fernet_status(stack)["nodes"]}


def _rotate_and_wait(stack, validator: Validator, phase: str, issuers: list[str],
                     timeout: float = 30) -> dict:
    """POST rotate, issue tokens at ``issuers`` until every node holds the new set."""
    before = fernet_status(stack)["version"]
    answer = kingbird(stack, "POST", "/v1.1/os-fernet-keys/rotate", admin_token(stack))
    assert answer.status_code == 202, answer.text
    rotation = answer.json()["rotation"]
    deadline = time.monotonic() + timeout
    while True:
        for issuer in issuers:
            validator.add(Token(*demo_token(stack, issuer), issuer, phase))
        status = fernet_status(stack)
        if status["rotation"] is None and all(n["current"] for n in status["nodes"]):
            assert status["version"] > before
            return rotation
        assert time.monotonic() < deadline, f"rotation {phase} did not complete: {status}"
        time.sleep(1.0)


def test_rotations_never_break_a_token_even_with_a_node_offline(star_stack):
    stack = star_stack
    urls = {name: node.auth_url for name, node in stack.nodes.items()}
    validator = Validator(urls)
    for name in urls:
        validator.add(Token(*demo_token(stack, name), name, "before"))
    validator.start()
    try:
        first = _rotate_and_wait(stack, validator, "rotation 1", list(urls))
        for name in urls:
            validator.add(Token(*demo_token(stack, name), name, "after 1"))
        numbers_after_first = {k["number"] for k in fernet_status(stack)["keys"]}

        # Rotation 2: B2 (Keystone and agent) goes offline; nothing may be promoted.
        validator.add(Token(*demo_token(stack, B2), B2, "B2 before going down"))
        stack.stop_agent(B2)
        validator.down.add(B2)
        stack.nodes[B2].stop()
        down_at = dt.datetime.now(dt.UTC)
        answer = kingbird(stack, "POST", "/v1.1/os-fernet-keys/rotate", admin_token(stack))
        assert answer.status_code == 202
        assert answer.json()["rotation"]["status"] == "distributing"
        deadline = time.monotonic() + NODE_TIMEOUT + 6
        while time.monotonic() < deadline:
            for issuer in (A, B1):
                validator.add(Token(*demo_token(stack, issuer), issuer, "B2 offline"))
            time.sleep(1.0)
        status = fernet_status(stack)
        assert status["rotation"]["status"] == "distributing"
        waiting = {w["node"]: w["reason"] for w in status["rotation"]["waiting_for"]}
        assert list(waiting) == [B2] and "unreachable" in waiting[B2]
        node_b2 = next(n for n in status["nodes"] if n["name"] == B2)
        assert not node_b2["healthy"] and node_b2["blocking_rotation"]
        assert {k["number"] for k in status["keys"] if k["state"] != "staged"} <= \
            numbers_after_first, "a key was promoted while a node was offline"
        conflict = kingbird(stack, "POST", "/v1.1/os-fernet-keys/rotate", admin_token(stack))
        assert conflict.status_code == 409 and B2 in conflict.json()["error"]["message"]
        # B2 returns: it validates what was issued meanwhile, and the rotation completes
        stack.nodes[B2].start()
        validator.down.discard(B2)
        up_at = dt.datetime.now(dt.UTC)
        # what was issued while B2 was away validates there, before its agent even ran
        offline = [t for t in validator.tokens if t.phase == "B2 offline"
                   and (t.expires - up_at).total_seconds() > validator.guard + 1]
        assert offline
        assert {validate(stack.nodes[B2].auth_url, t.value) for t in offline} == {200}
        stack.start_agent(B2)
        wait_until(lambda: fernet_status(stack)["rotation"] is None, 30,
                   "the rotation held back by B2 to complete")
        stack.wait_nodes_current(timeout=30)
        for name in urls:
            validator.add(Token(*demo_token(stack, name), name, "after 2"))

        third = _rotate_and_wait(stack, validator, "rotation 3", list(urls))
        assert third["status"] == "distributing" and third["waiting_for"]
        for name in urls:
            validator.add(Token(*demo_token(stack, name), name, "after 3"))
        # Keys demoted by rotation 1 leave once the tokens they signed expired.
        wait_until(lambda: min(k["number"] or 99 for k in fernet_status(stack)["keys"])
                   > min(numbers_after_first), TOKEN_LIFETIME + 20, "an old key to be pruned")
        stack.wait_nodes_current(timeout=30)
        validator.sweep()
    finally:
        validator.stop()

    assert first["status"] in ("promoted", "distributing")
    assert validator.failures == [], "\n".join(validator.failures[:20])
    assert validator.sweeps > 10
    phases = {t.phase for t in validator.tokens}
    assert {"before", "rotation 1", "B2 offline", "rotation 3", "after 3"} <= phases
    # every token was validated at every node, except at B2 the ones that were not live
    # for a while (a sweep's time) with B2 up
    missing = []
    settle = dt.timedelta(seconds=8)
    for index, token in enumerate(validator.tokens):
        issued = token.expires - dt.timedelta(seconds=TOKEN_LIFETIME)
        usable_until = token.expires - dt.timedelta(seconds=validator.guard)
        for name in urls:
            if name == B2 and not (issued + settle <= down_at or usable_until >= up_at + settle):
                continue
            if (index, name) not in validator.validated:
                missing.append(f"{token.phase} token from {token.issuer} never checked at "
                               f"{name}")
    assert missing == [], missing[:10]
    # and validation is real: the first tokens have expired and are refused everywhere
    expired = validator.tokens[0]
    assert expired.expires < dt.datetime.now(dt.UTC)
    assert {validate(url, expired.value) for url in urls.values()} <= {401, 404}


def _region_two_compute(stack) -> str:
    catalog = stack.sim_endpoints["regions"]["RegionTwo"]["catalog"]
    return next(url for stype, _, url in catalog if stype == "compute")


def test_region_two_keeps_working_when_the_master_site_fails(star_stack):
    stack = star_stack
    compute = _region_two_compute(stack)
    stack.keystone.provisioner().ensure_user("before-outage", "pw-before", "demo")
    stack.cluster.wait_replayed()
    stack.fail_master_site()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(stack.keystone.auth_url, timeout=5)
        # existing users get tokens in RegionTwo, validated by both of its Keystones and
        # by its services (which validate at their own region's Keystone)
        attempts = successes = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline or attempts < 20:
            attempts += 1
            token, _ = demo_token(stack, B1 if attempts % 2 else B2)
            ok = (validate(stack.nodes[B1].auth_url, token) == 200
                  and validate(stack.nodes[B2].auth_url, token) == 200
                  and requests.get(f"{compute}/flavors", headers={"X-Auth-Token": token},
                                   timeout=10).status_code == 200)
            successes += ok
        assert successes == attempts, f"{successes} of {attempts} validations in RegionTwo"
        token, _ = issue_token(stack.nodes[B2].auth_url, "before-outage", "pw-before", "demo")
        created = requests.post(f"{compute}/os-keypairs", headers={"X-Auth-Token": token},
                                json={"keypair": {"name": "during-outage"}}, timeout=10)
        assert created.status_code in (200, 201), created.text
        # creating a user fails at once, and says where writes go
        started = time.monotonic()
        refused = requests.post(f"{stack.nodes[B1].auth_url}/users", timeout=10,
                                headers={"X-Auth-Token": admin_token(stack, B1)},
                                json={"user": {"name": "during-outage", "password": "x"}})
        assert time.monotonic() - started < 2
        assert refused.status_code == 403
        assert stack.keystone.auth_url in refused.json()["error"]["message"]
        # Kingbird's view from the replica: reachable, no longer streaming
        replication = wait_until(
            lambda: (lambda r: None if r["streaming"] else r)(
                sites.snapshot(stack.runtime.conf, stack.runtime.db)["regions"]["RegionTwo"]
                ["replication"]), 15, "RegionTwo to notice the lost primary")
        assert replication["replica_view"]["reachable"]
        assert replication["replica_view"]["read_only_replica"]
    finally:
        stack.restore_master_site()
    # after A returns, replication resumes: a user created at A reaches RegionTwo
    stack.keystone.provisioner().ensure_user("after-outage", "pw-after", "demo")

    def replicated():
        answer = requests.get(f"{stack.nodes[B1].auth_url}/users?name=after-outage",
                              headers={"X-Auth-Token": admin_token(stack, B1)}, timeout=10)
        return answer.status_code == 200 and answer.json()["users"]

    wait_until(replicated, 30, "a user created after the outage to reach RegionTwo")
    issue_token(stack.nodes[B1].auth_url, "after-outage", "pw-after", "demo")
    wait_until(lambda: sites.snapshot(stack.runtime.conf, stack.runtime.db)["regions"]
               ["RegionTwo"]["replication"]["streaming"], 30, "streaming again")
    stack.wait_nodes_current(timeout=30)
    assert fernet_status(stack)["version"] > 0  # Kingbird answers again with A back
