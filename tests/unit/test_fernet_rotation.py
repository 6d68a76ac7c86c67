"""Planning of Fernet key rotations (pure): layout, promotion, retention, pruning.

The last test replays random histories of rotations, agent reports, outages and
token issuance through the planner, and checks the one property that matters:
every unexpired token decrypts at every node.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kingbird.identity import rotation
from kingbird.identity.rotation import PRIMARY, SECONDARY, STAGED, Key, Node, Retention

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
RETENTION = Retention(token_expiration=600, allow_expired_window=0, margin=10, node_timeout=30)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def node(name: str, version: int | None, contact: float | None = 0.0,
         error: str | None = None) -> Node:
    return Node(name=name, version=version,
                last_contact_at=None if contact is None else at(contact), error=error)


STEADY = [Key(1, 1, SECONDARY, demoted_version=2, retire_after=None),
          Key(2, 2, PRIMARY, staged_version=1)]
ROTATING = [*STEADY, Key(3, None, STAGED, staged_version=5)]


def test_layout_puts_the_staged_key_at_0_and_the_primary_highest():
    assert rotation.repository_layout(ROTATING) == {"0": 3, "1": 1, "2": 2}


def test_layout_without_a_staged_key_copies_the_primary_into_0():
    assert rotation.repository_layout(STEADY) == {"0": 2, "1": 1, "2": 2}


def test_layout_of_no_keys_is_empty():
    assert rotation.repository_layout([]) == {}


@pytest.mark.parametrize("keys, message", [
    ([Key(1, 1, SECONDARY)], "exactly one primary"),
    ([Key(1, 1, PRIMARY), Key(2, 2, PRIMARY)], "exactly one primary"),
    ([Key(1, 1, PRIMARY), Key(2, None, STAGED), Key(3, None, STAGED)], "at most one staged"),
    ([Key(1, 1, PRIMARY), Key(2, 1, SECONDARY)], "distinct numbers"),
    ([Key(1, 1, PRIMARY), Key(2, 2, SECONDARY)], "highest number"),
    ([Key(1, 1, "lost")], "unknown key state"),
])
def test_broken_key_sets_are_refused(keys, message):
    with pytest.raises(ValueError, match=message):
        rotation.check_keys(keys)


def test_staged_key_is_promoted_once_every_node_confirmed_it():
    nodes = [node("a", 5), node("b", 6, contact=-5)]
    plan = rotation.plan(ROTATING, nodes, at(0), RETENTION, rotation_pending=True)
    assert plan.promote and plan.promote_number == 3
    assert plan.waiting_for == []


def test_no_promotion_while_a_node_holds_a_version_without_the_staged_key():
    nodes = [node("a", 5), node("b", 4)]
    plan = rotation.plan(ROTATING, nodes, at(0), RETENTION, rotation_pending=True)
    assert not plan.promote
    assert [(p.node, "has not confirmed" in p.reason) for p in plan.waiting_for] == [("b", True)]


def test_no_promotion_while_a_node_is_unreachable_even_if_it_confirmed_earlier():
    nodes = [node("a", 5), node("b", 5, contact=-31)]
    plan = rotation.plan(ROTATING, nodes, at(0), RETENTION, rotation_pending=True)
    assert not plan.promote
    assert plan.waiting_for[0].node == "b" and "unreachable" in plan.waiting_for[0].reason


def test_no_promotion_while_a_node_reports_an_error():
    nodes = [node("a", 5, error="disk full")]
    plan = rotation.plan(ROTATING, nodes, at(0), RETENTION, rotation_pending=True)
    assert not plan.promote and "disk full" in plan.waiting_for[0].reason


def test_a_node_that_never_reported_blocks_promotion():
    plan = rotation.plan(ROTATING, [node("a", None, contact=None)], at(0), RETENTION, True)
    assert not plan.promote and "never reported" in plan.waiting_for[0].reason


def test_a_node_bound_to_no_agent_user_blocks_promotion_and_is_unhealthy():
    legacy = Node("old", version=5, last_contact_at=at(0), registered=False)
    plan = rotation.plan(ROTATING, [legacy], at(0), RETENTION, True)
    assert not plan.promote and plan.waiting_for[0].reason.startswith("not registered")
    assert rotation.node_problems(legacy, at(0), 5, RETENTION) == [rotation.UNREGISTERED]


def test_a_staged_key_without_a_requested_rotation_stays_staged():
    plan = rotation.plan(ROTATING, [node("a", 5)], at(0), RETENTION, rotation_pending=False)
    assert not plan.promote and not plan.changes_keys


def test_demoted_key_gets_no_retirement_until_every_node_confirmed_the_demotion():
    nodes = [node("a", 2), node("b", 1)]
    plan = rotation.plan(STEADY, nodes, at(0), RETENTION, rotation_pending=False)
    assert plan.retire == {}


def test_retirement_starts_when_the_last_node_confirmed_and_lasts_the_retention():
    nodes = [node("a", 2), node("b", 3, contact=-100)]  # an unreachable node counts too
    plan = rotation.plan(STEADY, nodes, at(0), RETENTION, rotation_pending=False)
    assert plan.retire == {1: at(RETENTION.keep_seconds)}
    assert RETENTION.keep_seconds == 610


def test_keys_are_pruned_only_once_their_retention_ran_out():
    keys = [Key(1, 1, SECONDARY, demoted_version=2, retire_after=at(100)),
            Key(2, 2, PRIMARY)]
    early = rotation.plan(keys, [node("a", 2)], at(99), RETENTION, False)
    assert early.prune == [] and not early.changes_keys
    due = rotation.plan(keys, [node("a", 2)], at(100), RETENTION, False)
    assert due.prune == [1] and due.changes_keys


def test_apply_promotes_the_staged_key_and_demotes_the_primary():
    plan = rotation.Plan(promote=True, promote_number=3)
    after = {k.id: k for k in rotation.apply(ROTATING, plan, new_version=7)}
    assert after[3].state == PRIMARY and after[3].number == 3
    assert after[2].state == SECONDARY and after[2].demoted_version == 7
    assert after[2].retire_after is None
    assert rotation.repository_layout(list(after.values())) == {"0": 3, "1": 1, "2": 2, "3": 3}


def test_keep_seconds_covers_token_lifetime_allow_expired_window_and_margin():
    assert Retention(3600, 172800, 300).keep_seconds == 3600 + 172800 + 300


def test_node_problems_name_every_reason():
    problems = rotation.node_problems(node("a", 3, contact=-40, error="EACCES"), at(0), 4,
                                      RETENTION)
    assert len(problems) == 3
    assert rotation.node_problems(node("a", 4), at(0), 4, RETENTION) == []


# --- random histories ---------------------------------------------------------------

class Simulation:
    """Kingbird's planner, its published versions, and nodes that fetch or not."""

    def __init__(self, node_names: list[str], retention: Retention):
        self.retention = retention
        self.keys = [Key(1, 1, PRIMARY, staged_version=1)]
        self.version = 1
        self.published = {1: rotation.repository_layout(self.keys)}
        self.next_id = 2
        self.pending = False
        self.now = T0
        self.nodes = {n: {"version": 1, "contact": T0, "online": True} for n in node_names}
        self.tokens: list[tuple[int, dt.datetime]] = []  # (key id, expires)

    def node_views(self) -> list[Node]:
        return [Node(name, version=n["version"], last_contact_at=n["contact"])
                for name, n in self.nodes.items()]

    def advance(self) -> None:
        plan = rotation.plan(self.keys, self.node_views(), self.now, self.retention,
                             self.pending)
        new_version = self.version + 1
        self.keys = rotation.apply(self.keys, plan, new_version)
        if plan.changes_keys:
            self.version = new_version
            self.published[new_version] = rotation.repository_layout(self.keys)
        if plan.promote:
            self.pending = False

    def rotate(self) -> None:
        if self.pending:
            return
        if not any(k.state == STAGED for k in self.keys):
            self.version += 1
            self.keys.append(Key(self.next_id, None, STAGED, staged_version=self.version))
            self.next_id += 1
            self.published[self.version] = rotation.repository_layout(self.keys)
        self.pending = True
        self.advance()

    def sync(self, name: str) -> None:
        n = self.nodes[name]
        if n["online"]:
            n["contact"] = self.now
            n["version"] = self.version
            self.advance()

    def repo(self, name: str) -> dict[str, int]:
        return self.published[self.nodes[name]["version"]]

    def issue(self, name: str) -> None:
        repo = self.repo(name)
        primary = repo[max(repo, key=int)]
        self.tokens.append((primary, self.now + dt.timedelta(
            seconds=self.retention.token_expiration)))

    def check(self) -> None:
        for name in self.nodes:
            held = set(self.repo(name).values())
            for key_id, expires in self.tokens:
                if expires > self.now:
                    assert key_id in held, (f"{name} at version {self.nodes[name]['version']} "
                                            f"cannot validate a live token of key {key_id}")


EVENTS = st.lists(st.tuples(
    st.sampled_from(["rotate", "sync", "issue", "wait", "down", "up"]),
    st.integers(0, 2), st.integers(1, 400)), min_size=1, max_size=80)


@settings(max_examples=400, deadline=None)
@given(EVENTS)
def test_no_history_of_rotations_and_outages_breaks_a_live_token(events):
    retention = Retention(token_expiration=300, allow_expired_window=0, margin=0,
                          node_timeout=60)
    sim = Simulation(["a", "b", "c"], retention)
    names = list(sim.nodes)
    for kind, which, seconds in events:
        name = names[which]
        if kind == "rotate":
            sim.rotate()
        elif kind == "sync":
            sim.sync(name)
        elif kind == "issue":
            sim.issue(name)
        elif kind == "wait":
            sim.now += dt.timedelta(seconds=seconds)
            sim.advance()
        elif kind == "down":
            sim.nodes[name]["online"] = False
        else:
            sim.nodes[name]["online"] = True
        sim.check()
    # Left alone long enough with every node syncing, old keys do go.
    for node_state in sim.nodes.values():
        node_state["online"] = True
    for _ in range(3):
        for name in names:
            sim.sync(name)
        sim.now += dt.timedelta(seconds=retention.keep_seconds + 1)
        sim.advance()
        sim.check()
    assert len(sim.keys) <= 3


def test_a_node_that_missed_the_promotion_keeps_its_primary_alive_everywhere():
    retention = Retention(token_expiration=300, allow_expired_window=0, margin=0,
                          node_timeout=60)
    sim = Simulation(["a", "b"], retention)
    sim.rotate()
    sim.sync("a")
    sim.sync("b")  # b confirms the staged key: promotion, but b holds the version before
    sim.sync("a")
    sim.nodes["b"]["online"] = False
    for _ in range(5):  # long after the token lifetime, b still issues with the old key
        sim.now += dt.timedelta(seconds=retention.keep_seconds + 1)
        sim.advance()
        sim.sync("a")
        sim.issue("b")
        sim.check()
    assert len(sim.keys) == 2  # the demoted key stays while b has not fetched the demotion
    sim.nodes["b"]["online"] = True
    sim.sync("b")
    sim.now += dt.timedelta(seconds=retention.keep_seconds + 1)
    sim.advance()
    sim.check()
    assert len(sim.keys) == 1  # once b caught up and its tokens expired, the old key went
