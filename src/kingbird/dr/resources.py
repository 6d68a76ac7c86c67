"""What DR reads of a VNF, and the flavors, keypairs and security groups it needs.

``read_shape`` asks a region (with the service's credentials) everything a
restore point records of the plan's servers. ``ensure_resources`` makes sure a
region has the flavors, keypairs and security groups of a recorded shape: what
is there already is kept; what is missing is copied from the region the VNF
came from by the resource sync copiers when that region answers, else created
from the definitions the restore point recorded (the source may be the region
that was lost).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kingbird.core.exceptions import RegionError, WorkFailed
from kingbird.dr import shape as dr_shape
from kingbird.dr.access import Clients, DrAccess
from kingbird.dr.workflow import Workflow
from kingbird.regions.copying import Scope, Task

LOG = logging.getLogger(__name__)


def read_shape(admin: Clients, region: str, server_ids: list[str]) -> dict:
    """The shape of the VNF made of ``server_ids`` (in boot order) in ``region``.

    :raises WorkFailed: a server, its flavor or keypair is gone, or a server does
        not boot from a volume.
    :raises RegionError: the region failed.
    """
    servers, attachments, ports = [], {}, {}
    volumes: dict[str, dict] = {}
    networks: dict[str, dict] = {}
    flavors: dict[str, dict] = {}
    keypairs: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    for server_id in server_ids:
        server = admin.servers.get(region, server_id)
        if server is None:
            raise WorkFailed(f"server {server_id} no longer exists in {region}")
        servers.append(server)
        attachments[server_id] = admin.servers.attachments(region, server_id)
        for attachment in attachments[server_id]:
            volume = admin.volumes.get(region, attachment["volumeId"])
            if volume is None:
                raise WorkFailed(f"volume {attachment['volumeId']} of server "
                                 f"{server['name']} is gone from {region}")
            volumes[volume["id"]] = volume
        ports[server_id] = admin.network.list_ports(region, device_id=server_id)
        for port in ports[server_id]:
            if port["network_id"] not in networks:
                network = admin.network.get_network(region, port["network_id"]) or {
                    "id": port["network_id"]}
                network["subnets"] = admin.subnets(region, port["network_id"])
                networks[port["network_id"]] = network
            for group_id in port.get("security_groups", []):
                if group_id not in groups:
                    group = admin.groups.get(region, group_id)
                    if group is not None:
                        groups[group_id] = group
        flavor_id = server["flavor"]["id"]
        if flavor_id not in flavors:
            flavor = admin.flavors.get(region, flavor_id)
            if flavor is None:
                raise WorkFailed(f"flavor {flavor_id} of server {server['name']} no longer "
                                 f"exists in {region}")
            flavors[flavor_id] = flavor
        key_name = server.get("key_name")
        if key_name and key_name not in keypairs:
            keypair = admin.keypairs.get(region, server["user_id"], key_name)
            if keypair is None:
                raise WorkFailed(f"keypair {key_name} of server {server['name']} no longer "
                                 f"exists in {region}")
            keypairs[key_name] = dict(keypair, user_id=server["user_id"])
    try:
        return dr_shape.record(servers, attachments=attachments, volumes=volumes, ports=ports,
                               networks=networks, flavors=flavors, keypairs=keypairs,
                               security_groups=groups)
    except dr_shape.ShapeError as exc:
        raise WorkFailed(str(exc)) from None


class _CopyProgress:
    """The ``Progress`` a copier reports to: nothing persisted, the lease kept."""

    def __init__(self, workflow: Workflow):
        self.workflow = workflow

    @property
    def checkpoint(self) -> dict | None:
        return None

    def save(self, checkpoint: dict) -> None:
        self.workflow.check()

    def check(self) -> None:
        self.workflow.check()


def _copy(access: DrAccess, workflow: Workflow, kind: str, resource: str, source: str,
          target: str, scope: Scope) -> str | None:
    """Copy with resource sync; None if it worked, else why not."""
    task = Task(resource=resource, source=source, target=target, force=False, scope=scope,
                progress=_CopyProgress(workflow))
    try:
        access.copiers[kind].copy(task)
    except (RegionError, WorkFailed) as exc:
        return exc.message
    return None


def _create_group(admin: Clients, region: str, project_id: str, name: str,
                  definition: Mapping[str, Any], recorded: Mapping[str, Any]) -> None:
    group = admin.groups.create(region, project_id, name, definition.get("description") or "")
    present = {(r.get("direction"), r.get("ethertype"), r.get("protocol"),
                r.get("port_range_min"), r.get("port_range_max"), r.get("remote_ip_prefix"),
                r.get("remote_group_id")) for r in admin.groups.rules(region, group["id"])}
    for rule in definition.get("rules", []):
        body = dict(rule)
        remote = body.pop("remote_group", None)
        if remote is not None:
            if remote == name:
                body["remote_group_id"] = group["id"]
            else:
                found = admin.groups.by_name(region, project_id, remote)
                other = found[0] if found else admin.groups.create(
                    region, project_id, remote, (recorded.get(remote) or {}).get(
                        "description") or "")
                body["remote_group_id"] = other["id"]
        key = (body.get("direction"), body.get("ethertype"), body.get("protocol"),
               body.get("port_range_min"), body.get("port_range_max"),
               body.get("remote_ip_prefix"), body.get("remote_group_id"))
        if key not in present:
            admin.groups.create_rule(region, project_id, group["id"], body)


def ensure_resources(access: DrAccess, workflow: Workflow, plan: Mapping[str, Any],
                     shape: Mapping[str, Any], source: str, target: str) -> str:
    """Make ``target`` hold the shape's flavors, keypairs and security groups.

    Keypairs are the plan creator's: servers are booted in their name.

    :returns: what was done, for the step's detail.
    :raises RegionError: ``target`` failed.
    """
    admin = access.admin
    project, user = plan["project_id"], plan["user_id"]
    scope = Scope(project_id=project, user_id=user)
    report = []
    for flavor_id, definition in sorted(shape["flavors"].items()):
        workflow.check()
        if admin.flavors.get(target, flavor_id) is not None:
            continue
        why = _copy(access, workflow, "flavor", flavor_id, source, target, scope)
        if why is None:
            report.append(f"flavor {flavor_id} copied from {source}")
            continue
        created = admin.flavors.create(target, definition["body"])
        if definition.get("extra_specs"):
            admin.flavors.set_extra_specs(target, created["id"], definition["extra_specs"])
        report.append(f"flavor {flavor_id} recreated from the restore point ({why})")
    for name, keypair in sorted(shape["keypairs"].items()):
        workflow.check()
        if admin.keypairs.get(target, user, name) is not None:
            continue
        why = "owned by another user"
        if keypair.get("user_id") in (None, user):
            why = _copy(access, workflow, "keypair", name, source, target, scope)
            if why is None:
                report.append(f"keypair {name} copied from {source}")
                continue
        admin.keypairs.create(target, user, name, keypair["public_key"],
                              keypair.get("type", "ssh"))
        report.append(f"keypair {name} recreated from the restore point ({why})")
    for name in dr_shape.group_names_used(shape):
        workflow.check()
        if admin.groups.by_name(target, project, name):
            continue
        why = _copy(access, workflow, "security_group", name, source, target, scope)
        if why is None:
            report.append(f"security group {name} copied from {source}")
            continue
        definition = shape["security_groups"].get(name, {"description": "", "rules": []})
        _create_group(admin, target, project, name, definition, shape["security_groups"])
        report.append(f"security group {name} recreated from the restore point ({why})")
    return "; ".join(report) or f"all present in {target}"
