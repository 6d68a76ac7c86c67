"""How the simulated Nova renders a server, microversion by microversion.

Fields follow Nova's server view builder: extended status, server attributes
(admin), availability zone, usage timestamps, volumes attached; then what each
microversion up to 2.90 added (2.3 extended attributes, 2.9 ``locked``, 2.16
``host_status``, 2.19 ``description``, 2.26 ``tags``, 2.47 embedded flavor,
2.63 ``trusted_image_certificates``, 2.73 ``locked_reason``, 2.90 hostname for
everyone).
"""

from __future__ import annotations

import hashlib

from regionsim.services.nova.common import at_least, iso_z, links
from regionsim.web import caller

HOST = "regionsim-compute"
POWER_RUNNING = 1


def host_id(project_id: str) -> str:
    """Nova's ``hostId``: sha224 of project and host, so tenants cannot see hosts."""
    return hashlib.sha224((project_id + HOST).encode()).hexdigest()


def addresses(nova, server: dict) -> dict:
    """``{network name: [{addr, version, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}``."""
    result: dict[str, list] = {}
    if not server["ports"]:
        return result
    neutron = nova.neutron()
    for port in neutron.ports_of_device(server["id"]):
        network = neutron.get_network(port["network_id"]) or {}
        entries = result.setdefault(network.get("name") or port["network_id"], [])
        for fixed in port.get("fixed_ips", []):
            address = fixed["ip_address"]
            entries.append({"version": 6 if ":" in address else 4, "addr": address,
                            "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": port.get("mac_address", "")})
    return result


def _image_ref(server: dict):
    if not server["image_id"]:
        return ""
    return {"id": server["image_id"], "links": [links("images", server["image_id"])[1]]}


def _flavor_ref(server: dict) -> dict:
    flavor = server["flavor"]
    if not at_least(47):
        return {"id": flavor["id"], "links": [links("flavors", flavor["id"])[1]]}
    body = {"vcpus": flavor["vcpus"], "ram": flavor["ram"], "disk": flavor["disk"],
            "ephemeral": flavor["ephemeral"], "swap": flavor["swap"],
            "original_name": flavor["name"]}
    body["extra_specs"] = dict(flavor["extra_specs"])
    return body


def summary(server: dict) -> dict:
    return {"id": server["id"], "name": server["name"], "links": links("servers", server["id"])}


def detail(nova, server: dict, show: bool = False) -> dict:
    """The full server body of ``GET /servers/detail`` (``show``: of ``GET /servers/{id}``)."""
    is_admin = caller().is_admin
    body = {
        "id": server["id"], "name": server["name"], "status": server["status"],
        "tenant_id": server["project_id"], "user_id": server["user_id"],
        "metadata": dict(server["metadata"]), "hostId": host_id(server["project_id"]),
        "image": _image_ref(server), "flavor": _flavor_ref(server),
        "created": iso_z(server["created"]), "updated": iso_z(server["updated"]),
        "addresses": addresses(nova, server), "accessIPv4": "", "accessIPv6": "",
        "links": links("servers", server["id"]), "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": server["availability_zone"],
        "config_drive": "True" if server["config_drive"] else "",
        "key_name": server["key_name"],
        "OS-SRV-USG:launched_at": (server["launched_at"].strftime("%Y-%m-%dT%H:%M:%S.%f")
                                   if server["launched_at"] else None),
        "OS-SRV-USG:terminated_at": None,
        # Nova reads groups from the server's ports: none without a network.
        "security_groups": ([{"name": n} for n in server["security_groups"]]
                            if server["ports"] else []),
        "OS-EXT-STS:task_state": None, "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-EXT-STS:power_state": server["power_state"],
        "os-extended-volumes:volumes_attached": [
            _volume_attached(v) for v in server["volumes"]],
    }
    if server.get("fault"):
        body["fault"] = dict(server["fault"])
    if is_admin:
        body.update({"OS-EXT-SRV-ATTR:host": HOST,
                     "OS-EXT-SRV-ATTR:hypervisor_hostname": HOST,
                     "OS-EXT-SRV-ATTR:instance_name": server["instance_name"]})
        if at_least(3):
            body.update({"OS-EXT-SRV-ATTR:reservation_id": server["reservation_id"],
                         "OS-EXT-SRV-ATTR:launch_index": server["launch_index"],
                         "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                         "OS-EXT-SRV-ATTR:root_device_name": server["root_device_name"],
                         "OS-EXT-SRV-ATTR:user_data": server["user_data"]})
    if at_least(3) and (is_admin or at_least(90)):
        body["OS-EXT-SRV-ATTR:hostname"] = server["hostname"]
    if at_least(9):
        body["locked"] = False
    if at_least(16) and is_admin:
        body["host_status"] = "UP"
    if at_least(19):
        body["description"] = server["description"]
    if at_least(26):
        body["tags"] = list(server["tags"])
    if at_least(63):
        body["trusted_image_certificates"] = None
    if at_least(71) and show:
        body["server_groups"] = []
    if at_least(73):
        body["locked_reason"] = None
    return body


def _volume_attached(volume: dict) -> dict:
    entry = {"id": volume["volume_id"]}
    if at_least(3):
        entry["delete_on_termination"] = volume["delete_on_termination"]
    return entry


def attachment(server: dict, volume: dict) -> dict:
    """One ``volumeAttachment`` body (2.70 tag, 2.79 delete flag, 2.89 ids)."""
    body = {"serverId": server["id"], "volumeId": volume["volume_id"],
            "device": volume["device"]}
    if not at_least(89):
        body["id"] = volume["volume_id"]
    if at_least(70):
        body["tag"] = volume["tag"]
    if at_least(79):
        body["delete_on_termination"] = volume["delete_on_termination"]
    if at_least(89):
        body["attachment_id"] = volume["attachment_id"]
        body["bdm_uuid"] = volume["bdm_uuid"]
    return body
