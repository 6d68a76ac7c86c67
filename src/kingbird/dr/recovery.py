"""Failover and failback of a plan's VNF, step by step.

A failover rebuilds the VNF of a restore point in the recovery region: the
volumes (Option 2: backup records imported, then restored into new volumes of
the project; Option 3: each replica managed, promoted and given to the
project), the flavors, keypairs and security groups, the ports on the same
networks with the same fixed IPs, the servers booted from their boot volumes in
the recorded order, the data volumes attached. A failback first takes a fresh
restore point where the VNF runs now, removes the servers the failover left in
the home region (their fixed IPs are wanted back), rebuilds there the same way,
then removes the recovered VNF.

Every create is announced in the operation's state and tagged (metadata or
description) with the operation's id, so a resumed operation finds what was
made instead of making it twice. A failed operation deletes the servers, ports
and restored volumes it made (replicas are kept: they hold the only copy) and
leaves the plan as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from kingbird.core.exceptions import RegionError, WorkFailed
from kingbird.dr import networks as dr_networks
from kingbird.dr import plan_repository as plans_db
from kingbird.dr import shape as dr_shape
from kingbird.dr import steps as dr_steps
from kingbird.dr import workflow_repository as workflows_db
from kingbird.dr.access import Clients, DrAccess
from kingbird.dr.resources import ensure_resources
from kingbird.dr.volumes import VolumeRecovery
from kingbird.dr.workflow import WAIT_TIMEOUT, Workflow, status_error

LOG = logging.getLogger(__name__)

Db = Callable[[], AbstractContextManager[Session]]


def _server_failure(server: Mapping[str, Any]) -> str | None:
    if server.get("status") == "ERROR":
        return (server.get("fault") or {}).get("message") or "status ERROR"
    return None


class Recovery:
    """Runs failover and failback operations."""

    def __init__(self, access: DrAccess, db: Db):
        self.access = access
        self.db = db
        self.volumes = VolumeRecovery(access)

    def run(self, wf: Workflow, plan: Mapping[str, Any], op: Mapping[str, Any]) -> None:
        """Run every step not done yet.

        :raises WorkFailed, RegionError: the operation failed (see ``rollback``).
        """
        project = self.access.project(plan["trust_id"])
        source, target = op["from_region"], op["to_region"]
        if op["kind"] == "failback":
            if wf.has("reenable_replication"):
                wf.run("reenable_replication",
                       lambda: self.volumes.reenable(wf, plan, source))
            wf.run("capture", lambda: self._capture(wf, plan, op))
            point_id = wf.state["capture_point_id"]
            wf.run("retire_stale", lambda: self._retire_stale(wf, plan, target))
        else:
            point_id = op["restore_point_id"]
        with self.db() as session:
            point = workflows_db.get_restore_point(session, point_id)
        if point is None or point["status"] != "AVAILABLE":
            raise WorkFailed(f"restore point {point_id} is not available")
        shape, volumes = point["shape"], point["volumes"]
        if point["method"] == dr_steps.REPLICATION:
            wf.run("manage_replicas", lambda: self.volumes.manage(wf, op, volumes, target))
            wf.run("promote_replicas", lambda: self.volumes.promote(wf, volumes, target))
            wf.run("transfer_volumes", lambda: self.volumes.transfer(wf, plan, project, op,
                                                                     volumes, target))
        else:
            wf.run("import_backups", lambda: self.volumes.import_backups(wf, volumes, target))
            wf.run("restore_volumes",
                   lambda: self.volumes.restore(wf, project, op, volumes, target))
        wf.run("ensure_resources",
               lambda: ensure_resources(self.access, wf, plan, shape, source, target))
        wf.run("create_ports", lambda: self._ports(wf, plan, op, shape, target))
        wf.run("boot_servers", lambda: self._boot(wf, project, op, shape, target))
        wf.run("attach_volumes", lambda: self._attach(wf, project, shape, target))
        if op["kind"] == "failback":
            wf.run("retire_recovered", lambda: self._retire_recovered(wf, plan, source))
        wf.run("switch_plan", lambda: self._switch(wf, plan, op, shape))

    # -- ports, servers, attachments -----------------------------------------------------

    def _existing_port(self, target: str, placement, tag: str) -> str | None:
        """Our port holding the placement's addresses, or None if they are free.

        :raises WorkFailed: an address is in use by someone else's port.
        """
        network = self.access.admin.network
        for fixed in placement.fixed_ips:
            ports = network.list_ports(target, network_id=placement.network_id,
                                       fixed_ips=f"ip_address={fixed['ip_address']}")
            for port in ports:
                if port.get("description") == tag:
                    return port["id"]
                raise WorkFailed(f"{fixed['ip_address']} is already used in {target} by port "
                                 f"{port['id']}")
        return None

    def _ports(self, wf: Workflow, plan: Mapping[str, Any], op: Mapping[str, Any],
               shape: dict, target: str) -> str:
        admin = self.access.admin
        project_id = plan["project_id"]
        made = wf.state.setdefault("ports", {})
        networks: dict[str, list[dict]] = {}
        skipped = []
        for server in shape["servers"]:
            for port in server["ports"]:
                wf.check()
                entry = made.setdefault(port["id"], {})
                if entry.get("id") or entry.get("skipped"):
                    continue
                name = port.get("network_name") or ""
                if name not in networks:
                    networks[name] = [n for n in admin.networks_named(target, name)
                                      if n.get("project_id") == project_id or n.get("shared")]
                placement = dr_networks.place(port, networks[name], project_id)
                if placement is None:
                    addresses = ", ".join(ip["ip_address"] for ip in port["fixed_ips"])
                    entry["skipped"] = (f"{server['name']}: no network {name!r} holding "
                                        f"{addresses} in {target}")
                    skipped.append(entry["skipped"])
                    wf.save()
                    continue
                tag = f"kingbird-dr {op['id']} {port['id']}"
                group_ids = []
                for group in port["security_groups"]:
                    found = admin.groups.by_name(target, project_id, group)
                    if found:
                        group_ids.append(found[0]["id"])

                def create(placement=placement, tag=tag, port=port, group_ids=group_ids):
                    existing = self._existing_port(target, placement, tag)
                    if existing:
                        return existing
                    body = {"project_id": project_id, "fixed_ips": placement.fixed_ips,
                            "name": port.get("name") or "", "description": tag,
                            "security_groups": group_ids}
                    if port.get("mac_address"):
                        body["mac_address"] = port["mac_address"]
                    return admin.network.create_port(target, placement.network_id, body)["id"]

                wf.ensure(entry, lambda placement=placement, tag=tag:
                          self._existing_port(target, placement, tag), create)
        count = sum(1 for e in made.values() if e.get("id"))
        detail = f"{count} ports recreated with their fixed IPs"
        return detail + (f"; skipped: {'; '.join(skipped)}" if skipped else "")

    def _boot(self, wf: Workflow, project: Clients, op: Mapping[str, Any], shape: dict,
              target: str) -> str:
        made = wf.state.setdefault("servers", {})
        volumes = wf.state["volumes"]
        ports = wf.state.get("ports", {})
        for server in shape["servers"]:
            wf.check()
            entry = made.setdefault(server["id"], {})
            boot = next(v for v in server["volumes"] if v["boot"])
            port_ids = [ports[p["id"]]["id"] for p in server["ports"]
                        if ports.get(p["id"], {}).get("id")]
            body: dict[str, Any] = {
                "name": server["name"], "flavorRef": server["flavor_id"],
                "networks": [{"port": p} for p in port_ids] or "none",
                "block_device_mapping_v2": [{
                    "boot_index": 0, "uuid": volumes[boot["id"]]["id"],
                    "source_type": "volume", "destination_type": "volume",
                    "delete_on_termination": False}],
                "metadata": {**server["metadata"], **dr_shape.tags(op["id"], server["id"])}}
            if server.get("key_name"):
                body["key_name"] = server["key_name"]

            def find(server=server):
                found = [s for s in project.servers.list_detail(target, name=server["name"])
                         if s.get("name") == server["name"]
                         and dr_shape.tagged(s, op["id"], server["id"])]
                return found[0]["id"] if found else None

            new_id = wf.ensure(entry, find,
                               lambda body=body: project.servers.create(target, body)["id"])
            wf.wait(f"server {server['name']} ({new_id})",
                    lambda i=new_id: project.servers.get(target, i),
                    lambda s: s.get("status") == "ACTIVE", _server_failure)
        return "booted in order: " + ", ".join(
            f"{s['name']} ({made[s['id']]['id']})" for s in shape["servers"])

    def _attach(self, wf: Workflow, project: Clients, shape: dict, target: str) -> str:
        volumes = wf.state["volumes"]
        attached = 0
        for server in shape["servers"]:
            server_id = wf.state["servers"][server["id"]]["id"]
            present = {a["volumeId"] for a in project.servers.attachments(target, server_id)}
            for volume in server["volumes"]:
                wf.check()
                new_id = volumes[volume["id"]]["id"]
                if volume["boot"] or new_id in present:
                    continue
                project.servers.attach(target, server_id, new_id, volume["device"])
                self.volumes.wait_volume(wf, project, target, new_id, "in-use")
                attached += 1
        return f"{attached} data volumes attached"

    # -- failback ---------------------------------------------------------------------

    def _capture(self, wf: Workflow, plan: Mapping[str, Any], op: Mapping[str, Any]) -> str:
        if not wf.state.get("capture_point_id"):
            with self.db() as session:
                current = plans_db.find_plan(session, plan["id"])
                point = workflows_db.create_restore_point(session, current, "failback",
                                                          target_region=op["to_region"],
                                                          region=op["from_region"])
            wf.state["capture_point_id"] = point["id"]
            wf.save()
        point_id = wf.state["capture_point_id"]

        def fetch():
            with self.db() as session:
                return workflows_db.get_restore_point(session, point_id)

        point = wf.wait(f"restore point {point_id}", fetch,
                        lambda p: p["status"] == "AVAILABLE",
                        lambda p: (p["error"] or "failed") if p["status"] == "ERROR" else None,
                        timeout=WAIT_TIMEOUT * 2)
        return f"restore point {point['id']} taken in {op['from_region']}"

    def _last_failover(self, plan_id: str) -> dict | None:
        with self.db() as session:
            done = [o for o in workflows_db.list_operations(session, plan_id=plan_id)
                    if o["kind"] == "failover" and o["status"] == "SUCCESS"]
        return done[-1] if done else None

    def _delete_servers(self, wf: Workflow, region: str, server_ids: list[str],
                        delete_volumes: bool) -> tuple[int, int, int]:
        """Delete servers, their ports and (``delete_volumes``) their volumes."""
        admin = self.access.admin
        servers = ports = volumes = 0
        for server_id in server_ids:
            wf.check()
            if admin.servers.get(region, server_id) is None:
                continue
            its_ports = [p["id"] for p in admin.network.list_ports(region, device_id=server_id)]
            its_volumes = [a["volumeId"] for a in admin.servers.attachments(region, server_id)]
            admin.servers.delete(region, server_id)
            wf.wait(f"deletion of server {server_id}",
                    lambda i=server_id: admin.servers.get(region, i), lambda s: False,
                    _server_failure, gone_ok=True)
            servers += 1
            for port_id in its_ports:
                admin.network.delete_port(region, port_id)
                ports += 1
            if delete_volumes:
                for volume_id in its_volumes:
                    volume = wf.wait(f"volume {volume_id}",
                                     lambda i=volume_id: admin.volumes.get(region, i),
                                     lambda v: v.get("status") == "available",
                                     status_error, gone_ok=True)
                    if volume is not None:
                        admin.volumes.delete(region, volume_id)
                        volumes += 1
        return servers, ports, volumes

    def _retire_stale(self, wf: Workflow, plan: Mapping[str, Any], region: str) -> str:
        failover = self._last_failover(plan["id"])
        stale = (failover or {}).get("state", {}).get("source_servers", [])
        servers, ports, _ = self._delete_servers(wf, region, stale, delete_volumes=False)
        return (f"{servers} stale servers and {ports} ports deleted in {region} (their "
                "volumes are kept)")

    def _retire_recovered(self, wf: Workflow, plan: Mapping[str, Any], region: str) -> str:
        servers, ports, volumes = self._delete_servers(wf, region, list(plan["servers"]),
                                                       delete_volumes=True)
        return f"{servers} servers, {ports} ports and {volumes} volumes deleted in {region}"

    # -- the end ------------------------------------------------------------------------

    def _switch(self, wf: Workflow, plan: Mapping[str, Any], op: Mapping[str, Any],
                shape: dict) -> str:
        servers = [wf.state["servers"][s["id"]]["id"] for s in shape["servers"]]
        wf.state["source_servers"] = [s["id"] for s in shape["servers"]]
        wf.save()
        values: dict[str, Any] = {"current_region": op["to_region"], "servers": servers,
                                  "error": None}
        if op["kind"] == "failover":
            values["status"] = "FAILED_OVER"
        else:
            values.update(status="ACTIVE", next_restore_point_at=dt.datetime.now(dt.UTC))
        with self.db() as session:
            plans_db.update_plan(session, plan["id"], values)
        return f"the VNF runs in {op['to_region']}"

    def rollback(self, wf: Workflow, plan: Mapping[str, Any], op: Mapping[str, Any]) -> str:
        """Delete what the operation made in its target region; what was removed (or
        could not be)."""
        target = op["to_region"]
        admin = self.access.admin
        done, left = [], []
        made_servers = [e["id"] for e in wf.state.get("servers", {}).values() if e.get("id")]
        try:
            servers, _, _ = self._delete_servers(wf, target, made_servers,
                                                 delete_volumes=False)
            done.append(f"{servers} servers")
            ports = [e["id"] for e in wf.state.get("ports", {}).values() if e.get("id")]
            for port_id in ports:
                admin.network.delete_port(target, port_id)
            done.append(f"{len(ports)} ports")
            volumes = [e["id"] for e in wf.state.get("volumes", {}).values() if e.get("id")]
            if op.get("method", plan["method"]) == dr_steps.REPLICATION:
                if volumes:
                    left.append(f"replica volumes kept (the only copy): {', '.join(volumes)}")
            else:
                for volume_id in volumes:
                    deadline = time.monotonic() + 60
                    volume = admin.volumes.get(target, volume_id)
                    while volume is not None and volume.get("status") not in (
                            "available", "error") and time.monotonic() < deadline:
                        time.sleep(0.5)
                        volume = admin.volumes.get(target, volume_id)
                    if volume is not None:
                        admin.volumes.delete(target, volume_id)
                done.append(f"{len(volumes)} restored volumes")
        except (RegionError, WorkFailed) as exc:
            left.append(f"rollback incomplete: {getattr(exc, 'message', exc)}")
        text = f"removed from {target}: " + ", ".join(done) if done else ""
        return "; ".join(t for t in [text, *left] if t)
