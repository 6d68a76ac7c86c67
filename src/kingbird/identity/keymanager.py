"""Kingbird's Fernet key set: rotation requests, agent reports, status.

The decisions are in :mod:`kingbird.identity.rotation` (pure); this module
runs them in a database transaction under the key set lock and turns rows into
the API's views. Key material leaves it only decrypted for an agent
(:meth:`KeyManager.node_sync`), never in a status view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.core import exceptions
from kingbird.db.base import utcnow
from kingbird.identity import repository, rotation
from kingbird.identity import store as db
from kingbird.identity.cipher import MasterCipher, fingerprint, is_fernet_key, new_key

Transaction = Callable[[], AbstractContextManager[Session]]


def retention_from_conf(conf: cfg.ConfigOpts) -> rotation.Retention:
    return rotation.Retention(
        token_expiration=conf.fernet.token_expiration,
        allow_expired_window=conf.fernet.allow_expired_window,
        margin=conf.fernet.retention_margin, node_timeout=conf.fernet.node_timeout)


def _key(row: dict) -> rotation.Key:
    return rotation.Key(id=row["id"], number=row["number"], state=row["state"],
                        staged_version=row["staged_version"],
                        demoted_version=row["demoted_version"],
                        retire_after=row["retire_after"])


def _node(row: dict) -> rotation.Node:
    return rotation.Node(name=row["name"], region=row["region"], version=row["version"],
                         last_contact_at=row["last_contact_at"], error=row["error"],
                         registered=row["agent_user_id"] is not None)


class KeyManager:
    """The key set's operations, each one transaction.

    :param db_transaction: opens a transaction (``ApiServices.db``).
    :param cipher: encrypts key material at rest.
    :param retention: how long keys are kept and nodes trusted.
    :param clock: the current time (aware UTC); tests pass their own.
    """

    def __init__(self, db_transaction: Transaction, cipher: MasterCipher,
                 retention: rotation.Retention, clock: Callable[[], dt.datetime] = utcnow):
        self._db = db_transaction
        self.cipher = cipher
        self.retention = retention
        self.clock = clock

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, db_transaction: Transaction) -> KeyManager:
        """:raises MasterKeyError: no usable ``[fernet] master_key``."""
        return cls(db_transaction, MasterCipher.from_conf(conf), retention_from_conf(conf))

    # -- changes -------------------------------------------------------------------

    def rotate(self, requested_by: str | None = None,
               request_id: str | None = None) -> dict[str, Any]:
        """Start a rotation: stage a key (or reuse the staged one), then promote it
        as soon as every node confirmed holding it.

        With no key set yet, creates one (a primary key, version 1) instead.

        :returns: the rotation's view (``status`` distributing, promoted or
            initialised; ``waiting_for`` lists the nodes holding it back).
        :raises Conflict: a rotation is still distributing its staged key.
        """
        now = self.clock()
        with self._db() as session:
            key_set = db.lock_key_set(session, now)
            keys = db.list_keys(session)
            if not keys:
                db.add_key(session, self.cipher.encrypt(new_key()), rotation.PRIMARY,
                           staged_version=1, number=1, now=now)
                db.publish(session, 1, now)
                return {"id": None, "status": "initialised", "staged_version": 1,
                        "promoted_version": 1, "waiting_for": []}
            pending = db.pending_rotation(session)
            if pending is not None:
                plan = self._plan(session, now, rotation_pending=True)
                raise exceptions.Conflict(
                    f"rotation {pending['id']} is still distributing its staged key; "
                    f"waiting for: {_describe(plan.waiting_for)}")
            staged = next((k for k in keys if k["state"] == rotation.STAGED), None)
            if staged is None:
                version = key_set["version"] + 1
                key_id = db.add_key(session, self.cipher.encrypt(new_key()), rotation.STAGED,
                                    staged_version=version, now=now)
                db.publish(session, version, now)
                staged_version = version
            else:
                key_id, staged_version = staged["id"], staged["staged_version"]
            rotation_id = db.create_rotation(session, key_id, staged_version, requested_by,
                                             request_id, now)
            plan = self._advance(session, now)
            return self._rotation_view(session, rotation_id, plan)

    def advance(self) -> rotation.Plan:
        """Promote, retire and prune whatever may be now (idempotent)."""
        now = self.clock()
        with self._db() as session:
            db.lock_key_set(session, now)
            return self._advance(session, now)

    def _plan(self, session: Session, now: dt.datetime,
              rotation_pending: bool) -> rotation.Plan:
        keys = [_key(r) for r in db.list_keys(session)]
        nodes = [_node(r) for r in db.list_nodes(session)]
        return rotation.plan(keys, nodes, now, self.retention, rotation_pending)

    def _advance(self, session: Session, now: dt.datetime) -> rotation.Plan:
        pending = db.pending_rotation(session)
        plan = self._plan(session, now, pending is not None)
        for key_id, when in plan.retire.items():
            db.update_key(session, key_id, now, retire_after=when)
        if not plan.changes_keys:
            return plan
        version = db.get_key_set(session)["version"] + 1
        db.delete_keys(session, plan.prune)
        if plan.promote:
            for row in db.list_keys(session):
                if row["state"] == rotation.PRIMARY:
                    db.update_key(session, row["id"], now, state=rotation.SECONDARY,
                                  demoted_version=version, demoted_at=now, retire_after=None)
            db.update_key(session, pending["key_id"], now, state=rotation.PRIMARY,
                          number=plan.promote_number, promoted_at=now)
            db.mark_promoted(session, pending["id"], version, plan.promote_number, now)
        db.publish(session, version, now)
        return plan

    def import_repository(self, files: dict[str, str],
                          agent_user_id: str | None = None) -> dict[str, Any]:
        """Take over an existing Keystone key repository as version 1.

        ``files`` maps file names (digits) to key material, as in
        ``/etc/keystone/fernet-keys``. The highest number becomes the primary,
        ``0`` (when it differs from the primary) the staged key, the rest
        secondaries, kept for the full retention from now.

        :param agent_user_id: the agent user adopting its node's repository
            (``kingbird-keystone-agent --adopt``); None for an admin. An agent
            must be bound to a registered node: it is then served the whole set
            anyway, so adopting gives it nothing more.
        :raises Conflict: Kingbird already holds a key set.
        :raises Forbidden: ``agent_user_id`` is bound to no registered node.
        :raises BadRequest: a name is not a number or a key is not a Fernet key.
        """
        numbered = _check_repository(files)
        now = self.clock()
        with self._db() as session:
            db.lock_key_set(session, now)
            if agent_user_id is not None and not any(
                    n["agent_user_id"] == agent_user_id for n in db.list_nodes(session)):
                raise exceptions.Forbidden("only the agent user of a registered Keystone "
                                           "node may hand Kingbird its repository")
            if db.list_keys(session):
                raise exceptions.Conflict("Kingbird already holds a Fernet key set; rotate "
                                          "it instead of importing another")
            top = max(n for n in numbered if n > 0)
            for number, material in sorted(numbered.items()):
                if number == 0:
                    if material == numbered[top]:
                        continue
                    state, key_number = rotation.STAGED, None
                else:
                    state = rotation.PRIMARY if number == top else rotation.SECONDARY
                    key_number = number
                key_id = db.add_key(session, self.cipher.encrypt(material), state,
                                    staged_version=1, number=key_number, now=now)
                if state == rotation.SECONDARY:
                    db.update_key(session, key_id, now, demoted_version=1)
            db.publish(session, 1, now)
        return self.status()["fernet_keys"]

    def register_node(self, name: str, region: str,
                      agent_user_id: str) -> tuple[dict[str, Any], bool]:
        """Register a Keystone node, bound to the one agent user that may report and
        fetch keys for it. From then on a rotation waits for it.

        Registering a node again as it is changes nothing; a node its agent created
        before nodes were registered is bound (its reports are kept).

        :returns: the node's view, and whether it was created.
        :raises Conflict: the node is registered in another region or to another user.
        """
        now = self.clock()
        with self._db() as session:
            key_set = db.lock_key_set(session, now)
            existing = db.get_node(session, name)
            if existing is None:
                db.register_node(session, name, region=region, agent_user_id=agent_user_id,
                                 now=now)
            elif existing["agent_user_id"] is None:
                db.bind_node(session, name, region=region, agent_user_id=agent_user_id,
                             now=now)
            elif (existing["region"], existing["agent_user_id"]) != (region, agent_user_id):
                raise exceptions.Conflict(
                    f"Keystone node {name!r} is already registered, in region "
                    f"{existing['region']!r} for agent user {existing['agent_user_id']!r}: "
                    f"forget it first (DELETE os-fernet-keys/nodes/{name}) to register it "
                    "again")
            node = db.get_node(session, name)
            return self._node_view(node, key_set, now), existing is None

    def list_nodes(self) -> list[dict[str, Any]]:
        """Every node's view (the ones bound to no agent user included, to be fixed)."""
        now = self.clock()
        with self._db() as session:
            key_set = db.get_key_set(session)
            return [self._node_view(row, key_set, now) for row in db.list_nodes(session)]

    def node_sync(self, name: str, report: dict[str, Any],
                  agent_user_id: str) -> dict[str, Any]:
        """Record an agent's report and answer with the key set it must hold.

        :param report: ``region``, ``version`` held (None: none from Kingbird),
            ``keystone_url``, ``error``, ``agent``, ``probe``.
        :param agent_user_id: the Keystone user making the report.
        :returns: ``{"key_set": None}`` while Kingbird holds no keys, else
            ``{"key_set": {"version", "up_to_date", "keys"?}, "node": {...}}``;
            ``keys`` (file name -> material) only when the node is behind.
        :raises NotFound: no node of that name is registered.
        :raises Forbidden: the node is bound to another user (or to none).
        :raises BadRequest: the report names another region than the node's, or a
            version Kingbird never published; nothing is recorded.
        """
        now = self.clock()
        with self._db() as session:
            key_set = db.lock_key_set(session, now)
            node = db.get_node(session, name)
            _check_report(name, node, report, agent_user_id, key_set["version"])
            db.record_node_report(session, name, now=now, **report)
            self._advance(session, now)
            key_set = db.get_key_set(session)
            node = db.get_node(session, name)
            if key_set["version"] == 0:
                return {"key_set": None, "node": self._node_view(node, key_set, now),
                        "message": "Kingbird holds no Fernet key set yet: import a "
                                   "repository or rotate to create one"}
            answer: dict[str, Any] = {"version": key_set["version"],
                                      "up_to_date": node["version"] == key_set["version"]}
            if not answer["up_to_date"]:
                rows = {r["id"]: r for r in db.list_keys(session)}
                layout = rotation.repository_layout([_key(r) for r in rows.values()])
                answer["keys"] = {name_: self.cipher.decrypt(rows[key_id]["material"])
                                  for name_, key_id in layout.items()}
            return {"key_set": answer, "node": self._node_view(node, key_set, now)}

    def forget_node(self, name: str) -> None:
        """Stop waiting for a decommissioned node.

        :raises NotFound: no such node.
        """
        now = self.clock()
        with self._db() as session:
            db.lock_key_set(session, now)
            if not db.delete_node(session, name):
                raise exceptions.NotFound(f"no Keystone node named {name!r}")
            self._advance(session, now)

    # -- views -----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The key set without material, every node's health, the rotations."""
        now = self.clock()
        with self._db() as session:
            key_set = db.get_key_set(session)
            rows = db.list_keys(session)
            nodes = db.list_nodes(session)
            pending = db.pending_rotation(session)
            plan = self._plan(session, now, pending is not None)
            rotations = db.list_rotations(session, limit=5)
        layout = rotation.repository_layout([_key(r) for r in rows]) if rows else {}
        files = {}
        for name, key_id in layout.items():
            files.setdefault(key_id, []).append(name)
        keys = [{
            "number": r["number"], "state": r["state"],
            "files": sorted(files.get(r["id"], []), key=int),
            "fingerprint": fingerprint(self.cipher.decrypt(r["material"])),
            "created_at": r["created_at"], "promoted_at": r["promoted_at"],
            "demoted_at": r["demoted_at"], "retire_after": r["retire_after"],
        } for r in sorted(rows, key=lambda r: (r["state"] != rotation.STAGED,
                                               -(r["number"] or 0)))]
        waiting = {p.node: p.reason for p in plan.waiting_for}
        return {"fernet_keys": {
            "version": key_set["version"],
            "published_at": key_set["published_at"],
            "keys": keys,
            "nodes": [self._node_view(n, key_set, now, waiting.get(n["name"])) for n in nodes],
            "rotation": (None if pending is None
                         else _rotation(pending, plan.waiting_for)),
            "recent_rotations": [_rotation(r, []) for r in rotations],
            "retention": {"token_expiration": self.retention.token_expiration,
                          "allow_expired_window": self.retention.allow_expired_window,
                          "margin": self.retention.margin,
                          "node_timeout": self.retention.node_timeout},
        }}

    def _node_view(self, row: dict, key_set: dict, now: dt.datetime,
                   blocking: str | None = None) -> dict[str, Any]:
        problems = rotation.node_problems(_node(row), now, key_set["version"], self.retention)
        contact = row["last_contact_at"]
        view = {
            "name": row["name"], "region": row["region"],
            "keystone_url": row["keystone_url"], "version": row["version"],
            "current": row["version"] == key_set["version"],
            "version_confirmed_at": row["version_confirmed_at"],
            "last_contact": contact,
            "seconds_since_contact": (None if contact is None else
                                      max(0.0, round((now - contact).total_seconds(), 1))),
            "healthy": not problems, "problems": problems,
            "agent_user_id": row["agent_user_id"], "agent": row["agent"],
            "probe": row["probe"],
        }
        if blocking:
            view["blocking_rotation"] = blocking
        return view

    def _rotation_view(self, session: Session, rotation_id: int,
                       plan: rotation.Plan) -> dict[str, Any]:
        row = next(r for r in db.list_rotations(session, limit=5) if r["id"] == rotation_id)
        return _rotation(row, [] if row["status"] == "promoted" else plan.waiting_for)


def _rotation(row: dict, waiting_for: list[rotation.Problem]) -> dict[str, Any]:
    return {"id": row["id"], "status": row["status"],
            "staged_version": row["staged_version"],
            "promoted_version": row["promoted_version"], "number": row["number"],
            "requested_by": row["requested_by"], "requested_at": row["created_at"],
            "promoted_at": row["promoted_at"],
            "waiting_for": [{"node": p.node, "reason": p.reason} for p in waiting_for]}


def _describe(problems: list[rotation.Problem]) -> str:
    return "; ".join(f"{p.node}: {p.reason}" for p in problems) or "nothing (retry)"


def _check_report(name: str, node: dict | None, report: dict[str, Any], agent_user_id: str,
                  current_version: int) -> None:
    """Refuse a report that is not the node's own agent's, or that cannot be true."""
    if node is None:
        raise exceptions.NotFound(
            f"no Keystone node named {name!r} is registered: an admin registers it with "
            'POST /v1.1/os-fernet-keys/nodes {"node": {"name", "region", "agent_user_id"}}')
    if node["agent_user_id"] is None:
        raise exceptions.Forbidden(
            f"Keystone node {name!r} is bound to no agent user: an admin must register it "
            "(POST /v1.1/os-fernet-keys/nodes) before its agent is served")
    if node["agent_user_id"] != agent_user_id:
        raise exceptions.Forbidden(
            f"Keystone node {name!r} is bound to another agent user than the caller")
    if report["region"] != node["region"]:
        raise exceptions.BadRequest(
            f"node.region: Keystone node {name!r} is registered in region "
            f"{node['region']!r}, not {report['region'][:60]!r}")
    version = report["version"]
    if version is not None and version > current_version:
        raise exceptions.BadRequest(
            f"node.version: {version} is above the current key set version "
            f"{current_version}: no node can hold a version Kingbird never published (if "
            "Kingbird's database was restored, remove the node's .kingbird-keyset file so "
            "that its agent fetches the current set)")


def _check_repository(files: dict[str, str]) -> dict[int, str]:
    if not isinstance(files, dict) or not files:
        raise exceptions.BadRequest("a key repository maps file names to keys")
    numbered: dict[int, str] = {}
    for name, material in files.items():
        if not repository.is_key_file_name(name) or len(name) > 9:
            raise exceptions.BadRequest(f"key file name {str(name)[:20]!r} is not a number")
        if not isinstance(material, str) or not is_fernet_key(material):
            raise exceptions.BadRequest(f"key file {name} does not hold a Fernet key")
        numbered[int(name)] = material.strip()
    if not any(n > 0 for n in numbered):
        raise exceptions.BadRequest("a key repository needs a primary key (a file other "
                                    "than 0)")
    return numbered
