"""Each region's identity at a glance: replication, key set versions, validation probe.

Shared by the API (``GET os-multisite-identity``) and ``/metrics``. Reads the
registered nodes (those bound to an agent user) from Kingbird's database and the
replication from the identity databases; needs no master key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.db.base import utcnow
from kingbird.identity import replication, rotation
from kingbird.identity import store as db
from kingbird.identity.keymanager import retention_from_conf


def _probe_fresh(node: dict, now: dt.datetime, timeout: int) -> bool:
    contact = node["last_contact_at"]
    return (node.get("probe") is not None and contact is not None
            and (now - contact).total_seconds() <= timeout)


def summarise(nodes: list[dict], key_set_version: int, replication_by_region: dict,
              master_region: str | None, retention: rotation.Retention,
              now: dt.datetime) -> dict[str, Any]:
    """Group nodes by region next to the region's replication (pure).

    A region's probe is its freshest node probe (reported within
    ``node_timeout``); ``validating`` is whether any fresh probe succeeded.
    """
    regions: dict[str, dict[str, Any]] = {}
    for region in {*(n["region"] for n in nodes), *replication_by_region}:
        regions[region] = {
            "role": "master" if region == master_region else "replica",
            "replication": replication_by_region.get(region),
            "nodes": [], "probe": None, "validating": False,
        }
    for node in sorted(nodes, key=lambda n: n["name"]):
        entry = regions[node["region"]]
        problems = rotation.node_problems(rotation.Node(
            name=node["name"], version=node["version"],
            last_contact_at=node["last_contact_at"], error=node["error"]),
            now, key_set_version, retention)
        entry["nodes"].append({"name": node["name"], "keystone_url": node["keystone_url"],
                               "version": node["version"],
                               "current": node["version"] == key_set_version,
                               "healthy": not problems, "problems": problems})
        if _probe_fresh(node, now, retention.node_timeout):
            probe = dict(node["probe"], node=node["name"])
            best = entry["probe"]
            if best is None or (probe.get("checked_at") or "") > (best.get("checked_at") or ""):
                entry["probe"] = probe
            entry["validating"] = entry["validating"] or bool(probe.get("ok"))
    return {"master_region": master_region, "key_set_version": key_set_version,
            "regions": dict(sorted(regions.items()))}


def snapshot(conf: cfg.ConfigOpts,
             db_transaction: Callable[[], AbstractContextManager[Session]],
             now: dt.datetime | None = None) -> dict[str, Any]:
    """The live view: Kingbird's database plus the identity databases."""
    now = now or utcnow()
    with db_transaction() as session:
        nodes = db.list_nodes(session, registered_only=True)
        version = db.get_key_set(session)["version"]
    group = conf.multisite_identity
    by_region = {}
    if group.master_database or group.replica_databases:
        by_region = replication.regions_view(group.master_region, group.master_database,
                                             dict(group.replica_databases),
                                             group.status_timeout)
    return summarise(nodes, version, by_region, group.master_region,
                     retention_from_conf(conf), now)
