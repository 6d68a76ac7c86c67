"""The steps of each DR workflow, as the API shows them and the engine runs them (pure).

A workflow's steps are written when it is created, all ``PENDING``; the engine
moves each to ``RUNNING`` then ``DONE`` (or ``FAILED``, ``SKIPPED``) and adds
what it did in ``detail``. A dry run of a failover answers the same list, each
step with the items it would act on, without creating anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kingbird.dr.shape import all_volumes, group_names_used

PENDING, RUNNING, DONE, FAILED, SKIPPED = "PENDING", "RUNNING", "DONE", "FAILED", "SKIPPED"
REPLICATION = "replication"


def step(name: str, description: str, items: Sequence[str] = ()) -> dict:
    return {"name": name, "description": description, "status": PENDING, "detail": None,
            "items": list(items), "started_at": None, "finished_at": None}


def restore_point_steps(method: str, target: str) -> list[dict]:
    """The steps of taking a restore point that restores in ``target``."""
    first = [step("shape", "Record the VNF's shape: servers, flavors, networks and fixed "
                           "IPs, volumes and boot order, keypairs, security groups"),
             step("sync_resources", f"Copy the flavors, keypairs and security groups to "
                                    f"{target} (resource sync; best effort)")]
    if method == REPLICATION:
        return first + [step("replicas", f"Find each volume's replica in {target}")]
    return first + [
        step("snapshot", "Snapshot each server through Nova (createImage: one Cinder "
                         "snapshot per volume)"),
        step("backup", "Back up each volume from its snapshot (incremental on the last "
                       "restore point of the chain, else full)"),
        step("export", "Export each backup record (kept by Kingbird)"),
        step("cleanup", "Delete the temporary snapshots and snapshot images"),
    ]


def _names(shape: Mapping[str, Any]) -> list[str]:
    return [s["name"] for s in shape["servers"]]


def _restore_steps(method: str, shape: Mapping[str, Any], volumes: Sequence[Mapping],
                   target: str) -> list[dict]:
    vols = all_volumes(shape)
    vol_items = [f"{v['server_name']} {v['device']}: volume {v['id']} ({v['size']} GB"
                 f"{', boot' if v['boot'] else ''})" for v in vols]
    if method == REPLICATION:
        storage = [
            step("manage_replicas", f"Bring each volume's replica in {target} under "
                                    "Cinder's management", vol_items),
            step("promote_replicas", "Promote each replica to a writable volume", vol_items),
            step("transfer_volumes", "Give the volumes to the VNF's project", vol_items),
        ]
    else:
        backups = {v["volume_id"]: v for v in volumes}
        storage = [
            step("import_backups", f"Import the backup records in {target}",
                 [f"backup {backups.get(v['id'], {}).get('backup_id')} of volume {v['id']}"
                  for v in vols]),
            step("restore_volumes", f"Restore each volume in {target} from its backup",
                 vol_items),
        ]
    flavors = sorted(shape["flavors"])
    keypairs = sorted(shape["keypairs"])
    ports = [f"{s['name']}: {p['network_name']} "
             f"{', '.join(ip['ip_address'] for ip in p['fixed_ips'])}"
             for s in shape["servers"] for p in s["ports"]]
    data = [f"{v['server_name']} {v['device']}: volume {v['id']}" for v in vols
            if not v["boot"]]
    return storage + [
        step("ensure_resources", f"Make sure the flavors, keypairs and security groups "
                                 f"exist in {target} (resource sync, else the recorded "
                                 "definitions)",
             [f"flavor {f}" for f in flavors] + [f"keypair {k}" for k in keypairs]
             + [f"security group {g}" for g in group_names_used(shape)]),
        step("create_ports", f"Recreate the ports on the same networks with the same fixed "
                             f"IPs in {target} (where the network exists)", ports),
        step("boot_servers", "Boot the servers from their boot volumes, in the recorded "
                             "order", _names(shape)),
        step("attach_volumes", "Attach the data volumes", data),
    ]


def operation_steps(kind: str, method: str, shape: Mapping[str, Any],
                    volumes: Sequence[Mapping], from_region: str,
                    to_region: str) -> list[dict]:
    """The steps of a failover (from the recorded restore point) or a failback
    (from a restore point the failback takes first)."""
    if kind == "failover":
        return _restore_steps(method, shape, volumes, to_region) + [
            step("switch_plan", f"Record the VNF as running in {to_region}")]
    before = []
    if method == REPLICATION:
        before.append(step("reenable_replication", f"Replicate the volumes in {from_region} "
                                                   f"back to {to_region}", _names(shape)))
    before += [
        step("capture", f"Take a restore point of the VNF in {from_region}", _names(shape)),
        step("retire_stale", f"Delete the VNF's servers left in {to_region} by the failover "
                             "(their ports with them: the fixed IPs are needed)"),
    ]
    after = [step("retire_recovered", f"Delete the VNF's servers, ports and restored volumes "
                                      f"in {from_region}", _names(shape)),
             step("switch_plan", f"Record the VNF as running in {to_region}")]
    return before + _restore_steps(method, shape, volumes, to_region) + after


def summary(steps: Sequence[Mapping[str, Any]]) -> str:
    """``3/8 steps done`` (pure)."""
    done = sum(1 for s in steps if s["status"] in (DONE, SKIPPED))
    return f"{done}/{len(steps)} steps done"
