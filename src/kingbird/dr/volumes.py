"""The volumes of a failover or failback: restored from backups, or replicas promoted.

Option 2 (``snapshot-backup``): the restore point's exported backup records are
imported in the target region (as admin: the backups keep their ids), then each
is restored into a new volume of the project, tagged with the operation so that
a resumed operation finds it. Option 3 (``replication``): each volume's replica
on the target region's backend is brought under Cinder's management (admin, in
the service project), promoted (writable; replication into it stops), then given
to the project with a volume transfer; at failback, the volumes the VNF uses
where it runs now are made to replicate back first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kingbird.core.exceptions import WorkFailed
from kingbird.dr import shape as dr_shape
from kingbird.dr.access import Clients, DrAccess
from kingbird.dr.workflow import Workflow, status_error


class VolumeRecovery:
    """The storage steps of recovery operations."""

    def __init__(self, access: DrAccess):
        self.access = access

    # -- volumes: Option 2 ------------------------------------------------------------

    def import_backups(self, wf: Workflow, volumes: list[dict], target: str) -> str:
        admin = self.access.admin
        imported = 0
        for volume in volumes:
            wf.check()
            backup_id = volume["backup_id"]
            if admin.volumes.get_backup(target, backup_id) is None:
                admin.volumes.import_record(target, volume["record"])
                imported += 1
            wf.wait(f"imported backup {backup_id}",
                    lambda bid=backup_id: admin.volumes.get_backup(target, bid),
                    lambda b: b.get("status") == "available", status_error)
        return f"{imported} backup records imported in {target}, " \
               f"{len(volumes) - imported} already there"

    def restore(self, wf: Workflow, project: Clients, op: Mapping[str, Any],
                volumes: list[dict], target: str) -> str:
        admin = self.access.admin
        made = wf.state.setdefault("volumes", {})
        for volume in volumes:
            wf.check()
            source_id = volume["volume_id"]
            entry = made.setdefault(source_id, {})
            name = volume.get("name") or f"{volume['server_name']}-{volume['device'][5:]}"

            def find(name=name, source_id=source_id):
                found = [v for v in project.volumes.list_detail(target, name=name)
                         if dr_shape.tagged(v, op["id"], source_id)]
                return found[0]["id"] if found else None

            def create(name=name, source_id=source_id, volume=volume):
                return project.volumes.create(target, {
                    "size": volume["size"], "name": name,
                    "description": f"restored by Kingbird from backup {volume['backup_id']}",
                    "metadata": dr_shape.tags(op["id"], source_id)})["id"]

            new_id = wf.ensure(entry, find, create)
            self.wait_volume(wf, project, target, new_id, "available")
            if not entry.get("restored"):
                # Restoring the same backup again writes the same data: a restore
                # whose outcome was lost with its engine is simply made again.
                admin.volumes.restore(target, volume["backup_id"], new_id)
                self.wait_volume(wf, project, target, new_id, "available")
                entry["restored"] = True
                wf.save()
        return f"{len(volumes)} volumes restored in {target}"

    def wait_volume(self, wf: Workflow, clients: Clients, region: str, volume_id: str,
                    status: str) -> dict:
        return wf.wait(f"volume {volume_id}",
                       lambda: clients.volumes.get(region, volume_id),
                       lambda v: v.get("status") == status, status_error)

    # -- volumes: Option 3 ------------------------------------------------------------

    def manage(self, wf: Workflow, op: Mapping[str, Any], volumes: list[dict],
               target: str) -> str:
        admin = self.access.admin
        made = wf.state.setdefault("volumes", {})
        adopted = 0
        for volume in volumes:
            wf.check()
            replica = volume["replica"]
            entry = made.setdefault(volume["volume_id"], {})

            def find(replica=replica):
                rows = admin.volumes.manageable(target, replica["host"])
                row = next((r for r in rows if r.get("reference") == replica["ref"]), None)
                return None if row is None else row.get("cinder_id")

            if not entry.get("id"):
                already = find()
                if already:
                    entry["id"] = already
                    adopted += 1
                    wf.save()

            def manage(replica=replica, volume=volume):
                body = {"host": replica["host"], "ref": replica["ref"],
                        "name": volume.get("name"), "bootable": volume["boot"],
                        "metadata": dr_shape.tags(op["id"], volume["volume_id"])}
                if volume.get("volume_type"):
                    body["volume_type"] = volume["volume_type"]
                return admin.volumes.manage(target, body)["id"]

            new_id = wf.ensure(entry, find, manage)
            wf.wait(f"managed replica {new_id}", lambda i=new_id: admin.volumes.get(target, i),
                    lambda v: v.get("status") in ("available", "in-use"), status_error)
        return f"{len(volumes)} replicas managed in {target} ({adopted} already managed)"

    def promote(self, wf: Workflow, volumes: list[dict], target: str) -> str:
        admin = self.access.admin
        promoted = 0
        for volume in volumes:
            wf.check()
            new_id = wf.state["volumes"][volume["volume_id"]]["id"]
            current = admin.volumes.get(target, new_id) or {}
            if current.get("replication_status") == "inactive":
                admin.volumes.action(target, new_id, "os-promote-replica")
                promoted += 1
                wf.wait(f"promotion of volume {new_id}",
                        lambda i=new_id: admin.volumes.get(target, i),
                        lambda v: v.get("replication_status") != "inactive", status_error)
        return f"{promoted} replicas promoted"

    def transfer(self, wf: Workflow, plan: Mapping[str, Any], project: Clients,
                 op: Mapping[str, Any], volumes: list[dict], target: str) -> str:
        admin = self.access.admin
        given = 0
        for volume in volumes:
            wf.check()
            entry = wf.state["volumes"][volume["volume_id"]]
            current = admin.volumes.get(target, entry["id"])
            if current is None:
                raise WorkFailed(f"volume {entry['id']} disappeared from {target}")
            if current.get("os-vol-tenant-attr:tenant_id") == plan["project_id"]:
                continue
            transfer = entry.get("transfer")
            if current["status"] == "awaiting-transfer" and not transfer:
                for old in admin.volumes.list_transfers(target):
                    if old["volume_id"] == entry["id"]:
                        admin.volumes.delete_transfer(target, old["id"])
                current = self.wait_volume(wf, admin, target, entry["id"], "available")
            if current["status"] == "available":
                made = admin.volumes.create_transfer(target, entry["id"],
                                                     f"kingbird-dr-{op['id'][:8]}")
                entry["transfer"] = transfer = {"id": made["id"], "auth_key": made["auth_key"]}
                wf.save()
            project.volumes.accept_transfer(target, transfer["id"], transfer["auth_key"])
            given += 1
        return f"{given} volumes given to project {plan['project_id']}"

    def current_volumes(self, plan: Mapping[str, Any], region: str) -> list[str]:
        admin = self.access.admin
        found = []
        for server_id in plan["servers"]:
            found += [a["volumeId"] for a in admin.servers.attachments(region, server_id)]
        return found

    def reenable(self, wf: Workflow, plan: Mapping[str, Any], region: str) -> str:
        admin = self.access.admin
        count = 0
        for volume_id in self.current_volumes(plan, region):
            wf.check()
            volume = admin.volumes.get(region, volume_id) or {}
            if volume.get("replication_status") == "failed-over":
                admin.volumes.action(region, volume_id, "os-reenable-replica")
                count += 1
        return f"replication re-enabled on {count} volumes"
