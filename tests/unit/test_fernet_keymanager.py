"""Kingbird's Fernet key set over a real (SQLite) database, with a fake clock.

A whole rotation: staged, distributed to agents, promoted once all confirmed,
old primary retired after every node confirmed and pruned after the retention;
import of an existing repository; material encrypted at rest and absent from
the status view.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from kingbird.core import exceptions
from kingbird.identity import store
from kingbird.identity.cipher import MasterCipher, MasterKeyError
from kingbird.identity.keymanager import KeyManager
from kingbird.identity.rotation import Retention

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
RETENTION = Retention(token_expiration=600, allow_expired_window=0, margin=10, node_timeout=30)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def master_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def manager(tx, clock, master_key):
    return KeyManager(tx, MasterCipher(master_key), RETENTION, clock)


def report(version, region="RegionOne", error=None):
    return {"region": region, "version": version, "keystone_url": None, "error": error,
            "agent": "test", "probe": None}


def agent(name: str) -> str:
    """The Keystone user id of node ``name``'s agent in these tests."""
    return f"user-of-{name}"


def sync(manager, name, version, region="RegionOne"):
    """``name``'s own agent reports (the node registered by an admin first, once)."""
    manager.register_node(name, region, agent(name))
    return manager.node_sync(name, report(version, region), agent(name))


def test_first_rotation_creates_a_key_set_of_one_primary(manager):
    assert manager.rotate()["status"] == "initialised"
    status = manager.status()["fernet_keys"]
    assert status["version"] == 1
    assert [(k["number"], k["state"], k["files"]) for k in status["keys"]] == [
        (1, "primary", ["0", "1"])]


def test_agents_get_keys_only_when_behind(manager):
    manager.rotate()
    first = sync(manager, "a", None)
    assert first["key_set"]["version"] == 1 and set(first["key_set"]["keys"]) == {"0", "1"}
    again = sync(manager, "a", 1)
    assert again["key_set"] == {"version": 1, "up_to_date": True}
    assert again["node"]["healthy"] and again["node"]["current"]


def test_rotation_waits_for_every_node_then_promotes(manager, clock):
    manager.rotate()
    for name in ("a", "b"):
        sync(manager, name, None)
        sync(manager, name, 1)
    rotation = manager.rotate(requested_by="admin")
    assert rotation["status"] == "distributing" and rotation["staged_version"] == 2
    assert {w["node"] for w in rotation["waiting_for"]} == {"a", "b"}
    staged = sync(manager, "a", 1)["key_set"]
    assert staged["version"] == 2 and staged["keys"]["0"] != staged["keys"]["1"]
    sync(manager, "a", 2)
    pending = manager.status()["fernet_keys"]["rotation"]
    assert pending["status"] == "distributing"
    assert [w["node"] for w in pending["waiting_for"]] == ["b"]
    # b confirms: promoted at once, in b's own request
    answer = sync(manager, "b", 2)["key_set"]
    assert answer["version"] == 3 and answer["keys"]["2"] == staged["keys"]["0"]
    status = manager.status()["fernet_keys"]
    assert status["rotation"] is None
    assert status["recent_rotations"][0]["status"] == "promoted"
    assert [(k["number"], k["state"]) for k in status["keys"]] == [
        (2, "primary"), (1, "secondary")]


def test_an_unreachable_node_holds_the_promotion_back_and_is_reported(manager, clock):
    manager.rotate()
    for name in ("a", "b"):
        sync(manager, name, None)
        sync(manager, name, 1)
    manager.rotate()
    sync(manager, "a", 2)
    sync(manager, "b", 2)  # b held the staged key... and promotion happened
    manager.rotate()  # a third key: b will be gone
    sync(manager, "a", 3)
    sync(manager, "a", 4)
    clock.tick(RETENTION.node_timeout + 1)
    sync(manager, "a", 4)
    status = manager.status()["fernet_keys"]
    assert status["rotation"]["status"] == "distributing"
    waiting = {w["node"]: w["reason"] for w in status["rotation"]["waiting_for"]}
    assert set(waiting) == {"b"} and "unreachable" in waiting["b"]
    node_b = next(n for n in status["nodes"] if n["name"] == "b")
    assert not node_b["healthy"] and node_b["blocking_rotation"] == waiting["b"]
    with pytest.raises(exceptions.Conflict, match="unreachable"):
        manager.rotate()
    # b comes back, fetches, confirms: the rotation completes
    sync(manager, "b", 3)
    assert sync(manager, "b", 4)["key_set"]["version"] == 5
    assert manager.status()["fernet_keys"]["rotation"] is None


def test_old_primary_is_kept_for_the_retention_after_every_node_confirmed_then_pruned(
        manager, clock):
    manager.rotate()
    sync(manager, "a", None)
    sync(manager, "a", 1)
    manager.rotate()
    sync(manager, "a", 2)  # promotes: version 3
    old = manager.status()["fernet_keys"]["keys"][-1]
    assert old["state"] == "secondary" and old["retire_after"] is None
    clock.tick(5)
    sync(manager, "a", 3)  # the last node confirms the demotion now
    retire = manager.status()["fernet_keys"]["keys"][-1]["retire_after"]
    assert retire == clock.now + dt.timedelta(seconds=RETENTION.keep_seconds)
    clock.tick(RETENTION.keep_seconds - 1)
    manager.advance()
    assert len(manager.status()["fernet_keys"]["keys"]) == 2
    clock.tick(1)
    answer = sync(manager, "a", 3)["key_set"]
    assert answer["version"] == 4 and set(answer["keys"]) == {"0", "2"}


def test_import_takes_over_a_keystone_repository(manager):
    keys = [Fernet.generate_key().decode() for _ in range(3)]
    manager.import_repository({"0": keys[0], "1": keys[1], "2": keys[2]})
    status = manager.status()["fernet_keys"]
    assert [(k["number"], k["state"]) for k in status["keys"]] == [
        (None, "staged"), (2, "primary"), (1, "secondary")]
    served = sync(manager, "a", None)["key_set"]["keys"]
    assert served == {"0": keys[0], "1": keys[1], "2": keys[2]}
    # the imported staged key is what the first rotation promotes, at once
    sync(manager, "a", 1)
    assert manager.rotate()["status"] == "promoted"
    with pytest.raises(exceptions.Conflict):
        manager.import_repository({"1": keys[1]})


@pytest.mark.parametrize("files, message", [
    ({}, "maps file names"),
    ({"x": Fernet.generate_key().decode()}, "not a number"),
    # isdigit() is true of these, and int() refuses the first and reads the second as 1
    ({"²": Fernet.generate_key().decode(), "1": Fernet.generate_key().decode()},
     "not a number"),
    ({"١": Fernet.generate_key().decode()}, "not a number"),
    ({"1\n": Fernet.generate_key().decode()}, "not a number"),
    ({"1": "not-a-key"}, "does not hold a Fernet key"),
    ({"0": Fernet.generate_key().decode()}, "needs a primary"),
])
def test_import_refuses_what_is_not_a_key_repository(manager, files, message):
    with pytest.raises(exceptions.BadRequest, match=message):
        manager.import_repository(files)


def test_material_is_encrypted_at_rest_and_absent_from_the_status(manager, tx, master_key):
    manager.rotate()
    material = sync(manager, "a", None)["key_set"]["keys"]["1"]
    with tx() as session:
        stored = session.execute(sa.text("SELECT material FROM fernet_keys")).scalar_one()
    assert material not in stored
    assert MasterCipher(master_key).decrypt(stored) == material
    assert material not in json.dumps(manager.status(), default=str)


def test_previous_master_keys_still_decrypt(tx, clock, master_key):
    KeyManager(tx, MasterCipher(master_key), RETENTION, clock).rotate()
    new = Fernet.generate_key().decode()
    replaced = KeyManager(tx, MasterCipher(new, [master_key]), RETENTION, clock)
    replaced.register_node("a", "RegionOne", agent("a"))
    assert replaced.node_sync("a", report(None), agent("a"))["key_set"]["version"] == 1
    with pytest.raises(MasterKeyError):
        KeyManager(tx, MasterCipher(new), RETENTION, clock).node_sync("a", report(None),
                                                                       agent("a"))


def test_forgetting_a_dead_node_lets_the_rotation_complete(manager, clock):
    manager.rotate()
    for name in ("a", "dead"):
        sync(manager, name, None)
        sync(manager, name, 1)
    manager.rotate()
    sync(manager, "a", 2)
    assert manager.status()["fernet_keys"]["rotation"]["status"] == "distributing"
    manager.forget_node("dead")
    assert manager.status()["fernet_keys"]["rotation"] is None
    with pytest.raises(exceptions.NotFound):
        manager.forget_node("dead")


def test_an_invalid_master_key_is_a_clear_503():
    with pytest.raises(MasterKeyError, match="not a Fernet key") as err:
        MasterCipher("short")
    assert err.value.code == 503


# --- registered nodes, each bound to its agent user -------------------------------------

def _node(manager, name):
    return next((n for n in manager.status()["fernet_keys"]["nodes"] if n["name"] == name),
                None)


def test_an_agent_is_served_only_for_a_node_registered_for_its_user(manager):
    manager.rotate()
    with pytest.raises(exceptions.NotFound, match="no Keystone node named 'a' is registered"):
        manager.node_sync("a", report(None), agent("a"))
    assert manager.status()["fernet_keys"]["nodes"] == []  # a report registers nothing
    view, created = manager.register_node("a", "RegionOne", agent("a"))
    assert created and view["agent_user_id"] == agent("a") and view["version"] is None
    with pytest.raises(exceptions.Forbidden, match="another agent user"):
        manager.node_sync("a", report(None), agent("b"))
    assert "keys" in manager.node_sync("a", report(None), agent("a"))["key_set"]


def test_another_agent_cannot_confirm_a_staged_key_for_a_node_that_lacks_it(manager):
    manager.rotate()
    for name in ("a", "b"):
        sync(manager, name, None)
        sync(manager, name, 1)
    manager.rotate()
    sync(manager, "a", 2)
    # a's agent (or any other agent user) claims b holds the staged set: refused
    with pytest.raises(exceptions.Forbidden):
        manager.node_sync("b", report(2), agent("a"))
    status = manager.status()["fernet_keys"]
    assert status["rotation"]["status"] == "distributing"
    assert _node(manager, "b")["version"] == 1


def test_a_version_above_the_current_one_is_refused_and_changes_nothing(manager, clock):
    manager.rotate()
    sync(manager, "a", None)
    sync(manager, "a", 1)
    before = _node(manager, "a")
    clock.tick(5)
    for version in (2, 2**64):
        with pytest.raises(exceptions.BadRequest, match="above the current key set version 1"):
            manager.node_sync("a", report(version), agent("a"))
    after = _node(manager, "a")
    assert after["version"] == 1 and after["last_contact"] == before["last_contact"]
    assert manager.status()["fernet_keys"]["version"] == 1


def test_a_report_from_another_region_than_the_registered_one_is_refused(manager):
    manager.rotate()
    manager.register_node("a", "RegionOne", agent("a"))
    with pytest.raises(exceptions.BadRequest, match="registered in region 'RegionOne'"):
        manager.node_sync("a", report(None, region="RegionTwo"), agent("a"))
    assert _node(manager, "a")["last_contact"] is None


def test_registering_again_changes_nothing_and_a_different_binding_is_a_conflict(manager):
    manager.rotate()
    sync(manager, "a", None)
    sync(manager, "a", 1)
    view, created = manager.register_node("a", "RegionOne", agent("a"))
    assert not created and view["version"] == 1
    with pytest.raises(exceptions.Conflict, match="forget it first"):
        manager.register_node("a", "RegionOne", agent("intruder"))
    with pytest.raises(exceptions.Conflict):
        manager.register_node("a", "RegionTwo", agent("a"))
    assert [n["name"] for n in manager.list_nodes()] == ["a"]


def test_a_registered_node_that_never_reported_holds_the_promotion_back(manager):
    manager.rotate()
    sync(manager, "a", None)
    sync(manager, "a", 1)
    manager.register_node("new", "RegionTwo", agent("new"))
    rotation = manager.rotate()
    assert rotation["status"] == "distributing"
    assert {w["node"]: w["reason"] for w in rotation["waiting_for"]}["new"] == (
        "its agent never reported")


def _legacy_node(tx, name, version):
    """A node as an agent created it before registration existed (migration 0009)."""
    with tx() as session:
        session.execute(sa.text(
            "INSERT INTO fernet_nodes (name, region, version, last_contact_at, created_at, "
            "updated_at) VALUES (:n, 'RegionOne', :v, :t, :t, :t)"),
            {"n": name, "v": version, "t": T0})


def test_a_node_created_before_registration_is_refused_until_an_admin_registers_it(
        manager, tx):
    manager.rotate()
    _legacy_node(tx, "old", 1)
    with pytest.raises(exceptions.Forbidden, match="bound to no agent user"):
        manager.node_sync("old", report(1), agent("old"))
    rotation = manager.rotate()
    reason = {w["node"]: w["reason"] for w in rotation["waiting_for"]}["old"]
    assert reason.startswith("not registered")
    with tx() as session:
        assert [n["name"] for n in store.list_nodes(session, registered_only=True)] == []
    view, created = manager.register_node("old", "RegionOne", agent("old"))
    assert not created and view["agent_user_id"] == agent("old") and view["version"] == 1
    assert manager.node_sync("old", report(2), agent("old"))["key_set"]["version"] == 3


def test_only_the_agent_of_a_registered_node_may_adopt_its_repository(manager):
    files = {"0": Fernet.generate_key().decode(), "1": Fernet.generate_key().decode()}
    with pytest.raises(exceptions.Forbidden, match="registered Keystone node"):
        manager.import_repository(files, agent_user_id=agent("a"))
    assert manager.status()["fernet_keys"]["version"] == 0
    manager.register_node("a", "RegionOne", agent("a"))
    assert manager.import_repository(files, agent_user_id=agent("a"))["version"] == 1
    with pytest.raises(exceptions.Conflict):
        manager.import_repository(files, agent_user_id=agent("a"))
