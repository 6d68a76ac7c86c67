"""Fernet key rotation that never breaks a token: pure planning, no I/O.

Keystone encrypts every new token with the *primary* key of its key repository
(the file with the highest number) and decrypts with any key there. Rotating
keys across several Keystone nodes is safe when three rules hold, and this
module is where they are decided:

1. **Stage, distribute, confirm, promote.** A new key is first published as the
   *staged* key (file ``0``: decrypt only). Only when every node has confirmed
   holding a key set that contains it, and every node is reachable right now,
   is it promoted to primary. So no node can issue a token that another node
   cannot decrypt.
2. **Keep the old primary long enough.** The demoted primary stays in every
   repository as a secondary key. Its clock starts only when every node has
   confirmed the key set that demoted it (until then some node may still be
   issuing tokens with it); it is kept for the token lifetime, Keystone's
   ``allow_expired_window`` and a margin for clock skew on top of that.
3. **Prune only what no live token can need**: a secondary key whose retention
   ran out.

Each key set the planner produces gets a new version number; agents on the
Keystone nodes fetch it and report which version they hold.

Repository layout: the staged key is file ``0``. When no key is staged, file
``0`` holds a copy of the primary, so that ``0`` always exists and is only ever
*replaced* (an atomic rename), never removed: Keystone lists the directory, then
opens each file, and a file removed in between fails that request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STAGED = "staged"
PRIMARY = "primary"
SECONDARY = "secondary"
KEY_STATES = (STAGED, PRIMARY, SECONDARY)


@dataclass(frozen=True)
class Key:
    """One key of the set, without its material.

    :param id: stable identity of the key (its database row).
    :param number: file name in the repository once promoted; None while staged.
    :param state: staged, primary or secondary.
    :param staged_version: the key set version that first contained the key.
    :param demoted_version: the version in which it stopped being primary.
    :param retire_after: when it may be pruned; None until every node confirmed
        ``demoted_version``.
    """

    id: int
    number: int | None
    state: str
    staged_version: int = 0
    demoted_version: int | None = None
    retire_after: dt.datetime | None = None


UNREGISTERED = ("not registered (no agent user is bound to it): its agent is refused "
                "until an admin registers it (POST os-fernet-keys/nodes) or forgets it")


@dataclass(frozen=True)
class Node:
    """What Kingbird knows of one Keystone node from its agent's reports.

    ``registered``: an admin bound it to its agent user; False only for a node its
    agent created before registration existed, which still holds rotations back.
    """

    name: str
    region: str = ""
    version: int | None = None
    last_contact_at: dt.datetime | None = None
    error: str | None = None
    registered: bool = True


@dataclass(frozen=True)
class Retention:
    """How long keys are kept and nodes trusted, in seconds.

    :param token_expiration: Keystone's ``[token] expiration``.
    :param allow_expired_window: Keystone's ``[token] allow_expired_window``
        (services may validate expired tokens that long after expiry).
    :param margin: allowance for clock skew between Kingbird and the nodes.
    :param node_timeout: a node whose agent was silent for longer is unreachable.
    """

    token_expiration: int = 3600
    allow_expired_window: int = 172800
    margin: int = 60
    node_timeout: int = 60

    @property
    def keep_seconds(self) -> int:
        """How long a demoted primary stays once every node stopped issuing with it."""
        return self.token_expiration + self.allow_expired_window + self.margin


@dataclass(frozen=True)
class Problem:
    """Why a node stands in the way (of a promotion, or of being healthy)."""

    node: str
    reason: str


@dataclass
class Plan:
    """What to change in the key set now.

    ``promote``: promote the staged key (with the number ``promote_number``).
    ``retire``: key id -> the time from which it may be pruned.
    ``prune``: ids of keys to delete. ``waiting_for``: why a pending promotion
    cannot happen yet.
    """

    promote: bool = False
    promote_number: int | None = None
    retire: dict[int, dt.datetime] = field(default_factory=dict)
    prune: list[int] = field(default_factory=list)
    waiting_for: list[Problem] = field(default_factory=list)

    @property
    def changes_keys(self) -> bool:
        """Whether the repository contents change (a new version is needed)."""
        return self.promote or bool(self.prune)


def check_keys(keys: Sequence[Key]) -> None:
    """Invariants of a key set: one primary, at most one staged key, unique numbers.

    :raises ValueError: the set breaks one of them.
    """
    states = [k.state for k in keys]
    if any(s not in KEY_STATES for s in states):
        raise ValueError(f"unknown key state in {states}")
    if keys and states.count(PRIMARY) != 1:
        raise ValueError(f"a key set needs exactly one primary key, has {states.count(PRIMARY)}")
    if states.count(STAGED) > 1:
        raise ValueError("a key set holds at most one staged key")
    numbers = [k.number for k in keys if k.state != STAGED]
    if any(n is None or n < 1 for n in numbers) or len(set(numbers)) != len(numbers):
        raise ValueError(f"promoted keys need distinct numbers >= 1, got {numbers}")
    primary = next((k for k in keys if k.state == PRIMARY), None)
    if primary is not None and any(n > primary.number for n in numbers):
        raise ValueError("the primary key must have the highest number")


def staged_key(keys: Iterable[Key]) -> Key | None:
    return next((k for k in keys if k.state == STAGED), None)


def primary_key(keys: Iterable[Key]) -> Key | None:
    return next((k for k in keys if k.state == PRIMARY), None)


def repository_layout(keys: Sequence[Key]) -> dict[str, int]:
    """File name -> key id of the repository every node must hold.

    ``0`` is the staged key, or a copy of the primary when none is staged; every
    other key is under its number, the primary's being the highest.
    """
    check_keys(keys)
    if not keys:
        return {}
    layout = {str(k.number): k.id for k in keys if k.state != STAGED}
    staged = staged_key(keys)
    layout["0"] = staged.id if staged else primary_key(keys).id
    return layout


def node_problems(node: Node, now: dt.datetime, current_version: int,
                  retention: Retention) -> list[str]:
    """Why ``node`` is not healthy, empty when it is.

    Healthy: its agent reported within ``node_timeout``, without an error, holding
    the current key set version.
    """
    problems = [] if node.registered else [UNREGISTERED]
    if node.last_contact_at is None:
        problems.append("its agent never reported")
    else:
        silent = (now - node.last_contact_at).total_seconds()
        if silent > retention.node_timeout:
            problems.append(f"unreachable: no report from its agent for {silent:.0f} s")
    if node.error:
        problems.append(f"its agent reports an error: {node.error}")
    if node.version is None:
        problems.append("holds no key set from Kingbird")
    elif node.version > current_version:
        problems.append(f"holds version {node.version}, newer than Kingbird's "
                        f"{current_version} (was Kingbird's database restored?)")
    elif node.version < current_version:
        problems.append(f"holds version {node.version}, not the current {current_version}")
    return problems


def _blocking(node: Node, now: dt.datetime, needed_version: int,
              retention: Retention) -> str | None:
    """Why ``node`` prevents a promotion that needs ``needed_version`` everywhere."""
    if not node.registered:
        return UNREGISTERED
    if node.last_contact_at is None:
        return "its agent never reported"
    silent = (now - node.last_contact_at).total_seconds()
    if silent > retention.node_timeout:
        return f"unreachable: no report from its agent for {silent:.0f} s"
    if node.error:
        return f"its agent reports an error: {node.error}"
    if node.version is None or node.version < needed_version:
        held = "no key set" if node.version is None else f"version {node.version}"
        return f"has not confirmed the staged key yet (holds {held}, needs {needed_version})"
    return None


def plan(keys: Sequence[Key], nodes: Sequence[Node], now: dt.datetime,
         retention: Retention, rotation_pending: bool) -> Plan:
    """Decide what may change in the key set at ``now``.

    :param keys: the current key set.
    :param nodes: every registered node.
    :param rotation_pending: a rotation was requested and its staged key is
        waiting to be promoted.
    :returns: the plan; applying it and publishing a new version (when
        ``plan.changes_keys``) is the caller's job.
    """
    check_keys(keys)
    result = Plan()
    staged = staged_key(keys)
    if rotation_pending and staged is not None:
        for node in nodes:
            reason = _blocking(node, now, staged.staged_version, retention)
            if reason:
                result.waiting_for.append(Problem(node.name, reason))
        if not result.waiting_for:
            result.promote = True
            result.promote_number = 1 + max(
                (k.number for k in keys if k.number is not None), default=0)
    confirmed = [n.version for n in nodes]
    for key in keys:
        if key.state != SECONDARY:
            continue
        if key.retire_after is None:
            demoted = key.demoted_version or 0
            if all(v is not None and v >= demoted for v in confirmed):
                result.retire[key.id] = now + dt.timedelta(seconds=retention.keep_seconds)
        elif key.retire_after <= now:
            result.prune.append(key.id)
    return result


def apply(keys: Sequence[Key], plan_: Plan, new_version: int) -> list[Key]:
    """The key set after ``plan_``, as published under ``new_version``.

    Retirement times are set; pruned keys are gone; on promotion the staged key
    becomes primary with ``plan_.promote_number`` and the old primary becomes a
    secondary demoted in ``new_version``.
    """
    result = []
    for key in keys:
        if key.id in plan_.prune:
            continue
        if key.id in plan_.retire:
            key = _replace(key, retire_after=plan_.retire[key.id])
        if plan_.promote and key.state == PRIMARY:
            key = _replace(key, state=SECONDARY, demoted_version=new_version,
                           retire_after=None)
        elif plan_.promote and key.state == STAGED:
            key = _replace(key, state=PRIMARY, number=plan_.promote_number)
        result.append(key)
    check_keys(result)
    return result


def _replace(key: Key, **changes) -> Key:
    return Key(**{**key.__dict__, **changes})
