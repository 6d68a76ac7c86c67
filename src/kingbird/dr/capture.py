"""Taking and deleting restore points.

Option 2 (``snapshot-backup``), for each server: a Nova snapshot (``createImage``:
Nova quiesces the VM and snapshots every volume in Cinder, listed in the image's
``block_device_mapping``), then a Cinder backup of each volume *from its
snapshot* — incremental on the previous restore point of the chain — whose
record is exported and kept by Kingbird, then the snapshots and snapshot images
are deleted. Backing up the snapshot rather than a volume made from it is what
keeps backups incremental: Cinder chains incremental backups per source volume,
and a volume created afresh from each snapshot would never have a parent.

Option 3 (``replication``): the storage replicates on its own; a restore point
records the VNF's shape and where each volume's replica is in the recovery
region.

Each create is announced in the workflow's state before it is made, so a
restore point resumed by another engine finds what was made; a restore point
that fails deletes the snapshots, images and backups it made.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from kingbird.core.exceptions import RegionError, WorkFailed
from kingbird.dr import retention
from kingbird.dr import shape as dr_shape
from kingbird.dr import steps as dr_steps
from kingbird.dr.access import Clients, DrAccess
from kingbird.dr.resources import ensure_resources, read_shape
from kingbird.dr.workflow import Workflow, status_error

LOG = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Capture:
    """Takes (and deletes) restore points."""

    def __init__(self, access: DrAccess):
        self.access = access

    # -- taking -------------------------------------------------------------------------

    def take(self, wf: Workflow, plan: Mapping[str, Any], point: Mapping[str, Any],
             previous: list[Mapping[str, Any]]) -> dict:
        """Run the restore point's steps; the columns to write when it is AVAILABLE.

        :param previous: the plan's other restore points, oldest first.
        :raises WorkFailed, RegionError: the restore point failed (cleaned up by
            ``abandon``).
        """
        if not wf.steps:
            wf.steps = dr_steps.restore_point_steps(point["method"], point["target_region"])
            wf.save()
        project = self.access.project(plan["trust_id"])
        region, target = point["region"], point["target_region"]
        wf.run("shape", lambda: self._shape(wf, plan, region))
        shape = wf.state["shape"]
        wf.run("sync_resources", lambda: self._sync(wf, plan, shape, region, target))
        if point["method"] == dr_steps.REPLICATION:
            wf.state.setdefault("taken_at", _now().isoformat())
            wf.run("replicas", lambda: self._replicas(wf, shape, target))
            volumes = [dict(v, replica=wf.state["replicas"][v["id"]])
                       for v in dr_shape.all_volumes(shape)]
            return self._result(wf, shape, volumes, chain_id=None)
        if "chain" not in wf.state:
            chain = retention.next_chain(previous, region, plan["retention"])
            in_chain = {v["volume_id"] for p in previous if chain and p["chain_id"] == chain
                        for v in p["volumes"]}
            if not in_chain & {v["id"] for v in dr_shape.all_volumes(shape)}:
                chain = None  # other volumes now (after a failback): start afresh
            wf.state["chain"] = chain
            wf.save()
        chain = wf.state["chain"]
        wf.run("snapshot", lambda: self._snapshot(wf, project, point, shape))
        wf.run("backup", lambda: self._backup(wf, project, point, shape, previous, chain))
        wf.run("export", lambda: self._export(wf, shape, region))
        wf.run("cleanup", lambda: self._cleanup(wf, project, region))
        volumes = []
        for volume in dr_shape.all_volumes(shape):
            backup = wf.state["backups"][volume["id"]]
            volumes.append(dict(volume, volume_id=volume["id"], backup_id=backup["id"],
                                incremental=backup.get("incremental", False),
                                backup_size=backup.get("size"), record=backup["record"]))
        return self._result(wf, shape, volumes, chain_id=chain or point["id"])

    def _result(self, wf: Workflow, shape: dict, volumes: list[dict],
                chain_id: str | None) -> dict:
        for volume in volumes:
            volume.setdefault("volume_id", volume["id"])
        return {"shape": shape, "volumes": volumes, "chain_id": chain_id,
                "taken_at": dt.datetime.fromisoformat(wf.state["taken_at"]),
                "size_gb": sum(int(v.get("backup_size") or v["size"]) for v in volumes)}

    def _shape(self, wf: Workflow, plan: Mapping[str, Any], region: str) -> str:
        wf.state["shape"] = read_shape(self.access.admin, region, list(plan["servers"]))
        wf.save()
        shape = wf.state["shape"]
        count = len(dr_shape.all_volumes(shape))
        return (f"{len(shape['servers'])} servers, {count} volumes, "
                f"{sum(len(s['ports']) for s in shape['servers'])} ports")

    def _sync(self, wf: Workflow, plan: Mapping[str, Any], shape: dict, region: str,
              target: str) -> str:
        try:
            return ensure_resources(self.access, wf, plan, shape, region, target)
        except RegionError as exc:
            # The recovery region may be the one that is down: its resources are made
            # again from the recorded definitions at failover.
            return f"skipped: {exc.message}"

    def _replicas(self, wf: Workflow, shape: dict, target: str) -> str:
        admin = self.access.admin
        found: dict[str, dict] = {}
        for host in admin.volumes.backend_hosts(target):
            for row in admin.volumes.manageable(target, host):
                name = str((row.get("reference") or {}).get("source-name", ""))
                found[name] = {"host": host, "ref": row["reference"], "size": row.get("size")}
        replicas = {}
        for volume in dr_shape.all_volumes(shape):
            match = next((v for name, v in found.items() if volume["id"] in name), None)
            if match is None:
                raise WorkFailed(f"volume {volume['id']} of server {volume['server_name']} "
                                 f"has no replica in {target}")
            replicas[volume["id"]] = match
        wf.state["replicas"] = replicas
        wf.save()
        return f"{len(replicas)} replicas found in {target}"

    def _snapshot(self, wf: Workflow, project: Clients, point: Mapping[str, Any],
                  shape: dict) -> str:
        region = point["region"]
        snapshots = wf.state.setdefault("snapshots", {})
        if "taken_at" not in wf.state:
            wf.state["taken_at"] = _now().isoformat()
        for server in shape["servers"]:
            wf.check()
            entry = snapshots.setdefault(server["id"], {})
            name = f"kingbird-dr-{point['id'][:8]}-{server['name']}"
            owner = point["project_id"]

            def find(name=name, owner=owner):
                images = project.images.by_name(region, owner, name)
                return images[0]["id"] if images else None

            image_id = wf.ensure(entry, find, lambda sid=server["id"], name=name:
                                 project.servers.create_image(
                                     region, sid, name, {dr_shape.TAG_SOURCE: point["id"]}))
            image = wf.wait(f"snapshot image {image_id} of {server['name']}",
                            lambda image_id=image_id: project.images.get(region, image_id),
                            lambda i: i.get("status") == "active", status_error)
            mapping = json.loads(image.get("block_device_mapping") or "[]")
            entry["volume_snapshots"] = {}
            for device in mapping:
                if not device.get("snapshot_id"):
                    continue
                snapshot = wf.wait(f"volume snapshot {device['snapshot_id']}",
                                   lambda sid=device["snapshot_id"]:
                                   project.volumes.get_snapshot(region, sid),
                                   lambda s: s.get("status") == "available", status_error)
                entry["volume_snapshots"][snapshot["volume_id"]] = snapshot["id"]
            missing = [v["id"] for v in server["volumes"]
                       if v["id"] not in entry["volume_snapshots"]]
            if missing:
                raise WorkFailed(f"the snapshot of {server['name']} has no snapshot of "
                                 f"volume(s) {', '.join(missing)}")
            wf.save()
        total = sum(len(e["volume_snapshots"]) for e in snapshots.values())
        return f"{len(snapshots)} server snapshots, {total} volume snapshots"

    def _backup(self, wf: Workflow, project: Clients, point: Mapping[str, Any], shape: dict,
                previous: list[Mapping[str, Any]], chain: str | None) -> str:
        region = point["region"]
        backed_before: set[str] = set()
        for other in previous:
            if chain and other["chain_id"] == chain and other["status"] == "AVAILABLE":
                backed_before.update(v["volume_id"] for v in other["volumes"])
        backups = wf.state.setdefault("backups", {})
        for volume in dr_shape.all_volumes(shape):
            wf.check()
            server = wf.state["snapshots"][volume["server_id"]]
            snapshot_id = server["volume_snapshots"][volume["id"]]
            entry = backups.setdefault(volume["id"], {})
            incremental = volume["id"] in backed_before
            name = f"kingbird-dr-{point['id']}-{volume['id']}"

            def find(name=name):
                found = project.volumes.find_backups(region, name)
                return found[0]["id"] if found else None

            def create(volume=volume, snapshot_id=snapshot_id, name=name,
                       incremental=incremental):
                return project.volumes.create_backup(region, {
                    "volume_id": volume["id"], "snapshot_id": snapshot_id, "name": name,
                    "incremental": incremental, "force": True,
                    "description": f"Kingbird restore point {point['id']} of plan "
                                   f"{point['plan_id']}"})["id"]

            wf.ensure(entry, find, create)
        full = incremental_count = 0
        for volume_id, entry in backups.items():
            backup = wf.wait(f"backup {entry['id']} of volume {volume_id}",
                             lambda bid=entry["id"]: project.volumes.get_backup(region, bid),
                             lambda b: b.get("status") == "available", status_error)
            entry.update(incremental=bool(backup.get("is_incremental")),
                         size=backup.get("size"))
            incremental_count += entry["incremental"]
            full += not entry["incremental"]
        wf.save()
        return f"{full} full and {incremental_count} incremental backups"

    def _export(self, wf: Workflow, shape: dict, region: str) -> str:
        for entry in wf.state["backups"].values():
            wf.check()
            if not entry.get("record"):
                entry["record"] = self.access.admin.volumes.export_record(region, entry["id"])
                wf.save()
        return f"{len(wf.state['backups'])} backup records kept"

    def _cleanup(self, wf: Workflow, project: Clients, region: str) -> str:
        removed = 0
        for entry in wf.state.get("snapshots", {}).values():
            wf.check()
            for snapshot_id in (entry.get("volume_snapshots") or {}).values():
                project.volumes.delete_snapshot(region, snapshot_id)
                removed += 1
            if entry.get("id"):
                project.images.delete(region, entry["id"])
                removed += 1
        return f"{removed} temporary snapshots and images deleted"

    def abandon(self, wf: Workflow, plan: Mapping[str, Any] | None,
                point: Mapping[str, Any]) -> str | None:
        """Delete what a failed restore point made; None, or what could not be removed."""
        if point["method"] == dr_steps.REPLICATION or plan is None:
            return None
        left = []
        try:
            project = self.access.project(plan["trust_id"])
            region = point["region"]
            self._cleanup(wf, project, region)
            for entry in wf.state.get("backups", {}).values():
                if entry.get("id"):
                    project.volumes.delete_backup(region, entry["id"])
        except (RegionError, ValueError) as exc:
            left.append(getattr(exc, "message", str(exc)))
        return "; ".join(left) or None

    # -- deleting -----------------------------------------------------------------------

    def delete(self, wf: Workflow, point: Mapping[str, Any]) -> None:
        """Delete a restore point's backups (newest first; its row goes after).

        :raises RegionError: the region failed (the deletion is retried later).
        """
        if point["method"] == dr_steps.REPLICATION:
            return
        admin = self.access.admin
        for volume in reversed(point["volumes"] or []):
            wf.check()
            backup_id = volume.get("backup_id")
            if backup_id:
                admin.volumes.delete_backup(point["region"], backup_id)
                wf.wait(f"deletion of backup {backup_id}",
                        lambda bid=backup_id: admin.volumes.get_backup(point["region"], bid),
                        lambda b: False, status_error, gone_ok=True)

