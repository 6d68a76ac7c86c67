"""The shape of a VNF, as a restore point records it (pure).

Enough to rebuild the VNF elsewhere: per server in boot order its flavor,
keypair, security groups, metadata, ports (network, fixed IPs, security groups)
and volumes (device, boot or data, size, type); and the definitions of the
flavors, keypairs and security groups themselves, so that they can be recreated
in a recovery region even when the region they came from is gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kingbird.regions.flavors import create_body, flavor_core
from kingbird.regions.security_groups import RULE_FIELDS

ROOT_DEVICE = "/dev/vda"
# Metadata Kingbird sets on what it creates, to find it again after a crash.
TAG_OPERATION = "kingbird_dr_operation"
TAG_SOURCE = "kingbird_dr_source"


def tags(operation_id: str, source_id: str) -> dict[str, str]:
    """The metadata marking what an operation made from a source resource."""
    return {TAG_OPERATION: operation_id, TAG_SOURCE: source_id}


def tagged(resource: Mapping[str, Any], operation_id: str, source_id: str) -> bool:
    """Whether ``resource`` (with ``metadata``) is what ``tags`` marked."""
    metadata = resource.get("metadata") or {}
    return (metadata.get(TAG_OPERATION) == operation_id
            and metadata.get(TAG_SOURCE) == source_id)


class ShapeError(ValueError):
    """The VNF cannot be protected as it is (the message says why)."""


def boot_device(server: Mapping[str, Any]) -> str:
    """The device of a server's root disk."""
    return server.get("OS-EXT-SRV-ATTR:root_device_name") or ROOT_DEVICE


def server_volumes(server: Mapping[str, Any], attachments: Sequence[Mapping[str, Any]],
                   volumes: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """A server's volumes, boot volume first then by device.

    :raises ShapeError: the server does not boot from a volume.
    """
    root = boot_device(server)
    found = []
    for attachment in attachments:
        volume = volumes[attachment["volumeId"]]
        found.append({
            "id": volume["id"], "name": volume.get("name"), "device": attachment["device"],
            "boot": attachment["device"] == root and not server.get("image"),
            "size": int(volume["size"]), "volume_type": volume.get("volume_type"),
            "bootable": str(volume.get("bootable")).lower() == "true",
            "replication_status": volume.get("replication_status"),
            "delete_on_termination": bool(attachment.get("delete_on_termination", False)),
        })
    if not any(v["boot"] for v in found):
        raise ShapeError(f"server {server['name']} ({server['id']}) does not boot from a "
                         "volume; only volume-backed servers can be protected")
    found.sort(key=lambda v: (not v["boot"], v["device"]))
    return found


def _port(port: Mapping[str, Any], networks: Mapping[str, Mapping[str, Any]],
          group_names: Mapping[str, str]) -> dict:
    network = networks.get(port["network_id"], {})
    subnets = {s["id"]: s for s in network.get("subnets", [])}
    return {
        "id": port["id"], "network_id": port["network_id"],
        "network_name": network.get("name"), "mac_address": port.get("mac_address"),
        "name": port.get("name") or "",
        "fixed_ips": [{"ip_address": ip["ip_address"],
                       "subnet_cidr": subnets.get(ip.get("subnet_id"), {}).get("cidr")}
                      for ip in port.get("fixed_ips", [])],
        "security_groups": sorted(group_names.get(g, g) for g in port.get("security_groups", [])),
    }


def _rule(rule: Mapping[str, Any], group_names: Mapping[str, str]) -> dict:
    body = {f: rule.get(f) for f in RULE_FIELDS if rule.get(f) is not None}
    body.pop("remote_address_group_id", None)
    if "remote_group_id" in body:
        body["remote_group"] = group_names.get(body.pop("remote_group_id"))
    return body


def record(servers: Sequence[Mapping[str, Any]], *,
           attachments: Mapping[str, Sequence[Mapping[str, Any]]],
           volumes: Mapping[str, Mapping[str, Any]],
           ports: Mapping[str, Sequence[Mapping[str, Any]]],
           networks: Mapping[str, Mapping[str, Any]],
           flavors: Mapping[str, Mapping[str, Any]],
           keypairs: Mapping[str, Mapping[str, Any]],
           security_groups: Mapping[str, Mapping[str, Any]]) -> dict:
    """The shape of a VNF from what its region says of it.

    :param servers: server bodies (Nova, microversion 2.46 or earlier: flavor by
        id) in boot order.
    :param attachments: server id → its ``volumeAttachments``.
    :param volumes: volume id → Cinder volume.
    :param ports: server id → its Neutron ports.
    :param networks: network id → network with its ``subnets`` (bodies).
    :param flavors: flavor id → flavor with ``extra_specs``.
    :param keypairs: keypair name → keypair (of the server's user).
    :param security_groups: group id → group with ``security_group_rules``.
    :raises ShapeError: a server does not boot from a volume.
    """
    group_names = {gid: g["name"] for gid, g in security_groups.items()}
    shaped = []
    for order, server in enumerate(servers):
        shaped.append({
            "id": server["id"], "name": server["name"], "order": order,
            "flavor_id": server["flavor"]["id"], "key_name": server.get("key_name"),
            "user_id": server.get("user_id"),
            "metadata": {k: v for k, v in (server.get("metadata") or {}).items()
                         if k not in (TAG_OPERATION, TAG_SOURCE)},
            "availability_zone": server.get("OS-EXT-AZ:availability_zone"),
            "security_groups": sorted({g["name"] for g in server.get("security_groups") or []}),
            "ports": [_port(p, networks, group_names) for p in ports.get(server["id"], [])],
            "volumes": server_volumes(server, attachments.get(server["id"], []), volumes),
        })
    flavor_defs = {}
    for flavor_id, flavor in flavors.items():
        flavor_defs[flavor_id] = {"body": create_body(flavor_core(flavor), flavor["id"]),
                                  "extra_specs": dict(flavor.get("extra_specs") or {})}
    return {
        "servers": shaped,
        "flavors": flavor_defs,
        "keypairs": {name: {"public_key": k["public_key"], "type": k.get("type", "ssh"),
                            "user_id": k.get("user_id")} for name, k in keypairs.items()},
        "security_groups": {
            g["name"]: {"description": g.get("description") or "",
                        "rules": [_rule(r, group_names)
                                  for r in g.get("security_group_rules") or []]}
            for g in security_groups.values()},
    }


def all_volumes(shape: Mapping[str, Any]) -> list[dict]:
    """Every volume of the shape with its server's id, in boot order."""
    return [dict(v, server_id=s["id"], server_name=s["name"])
            for s in shape["servers"] for v in s["volumes"]]


def group_names_used(shape: Mapping[str, Any]) -> list[str]:
    """Security groups the servers and their ports use, by name."""
    names = set()
    for server in shape["servers"]:
        names.update(server["security_groups"])
        for port in server["ports"]:
            names.update(port["security_groups"])
    return sorted(names)
