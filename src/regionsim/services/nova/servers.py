"""Servers of the simulated Nova: create, list, show, update, delete.

A server is ``ACTIVE`` as soon as the create request returns, its ports come
from the region's Neutron and its volumes from the region's Cinder, all under
the region lock so a failed step leaves nothing behind. Quota is checked and
counted exactly where Nova's API checks it (instances, cores, ram, metadata
items); a port Neutron cannot address puts the server in ``ERROR`` as Nova's
build would.
"""

from __future__ import annotations

import uuid

from flask import request

from regionsim.services.cinder.common import CinderError
from regionsim.services.nova import quota
from regionsim.services.nova.blockdev import (
    fail_build,
    plan_block_devices,
    realize_block_devices,
)
from regionsim.services.nova.common import (
    API_PREFIX,
    NovaError,
    at_least,
    bad_request,
    body_object,
    conflict,
    forbidden,
    not_found,
    now,
    paginate,
    parse_int,
    query_bool,
    require_admin,
    route,
    state,
)
from regionsim.services.nova.views import POWER_RUNNING, detail, summary
from regionsim.web import caller, json_response


def find_server(server_id: str) -> dict:
    """A server the caller may see, or Nova's 404."""
    who = caller()
    server = state().servers.get(server_id)
    if server is None or (server["project_id"] != who.project_id and not who.is_admin):
        raise not_found(f"Instance {server_id} could not be found.")
    return server


def _string_map(name: str, value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 1 <= len(k) <= 255 and len(v) <= 255
            for k, v in value.items()):
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}.")
    return dict(value)


def _available_networks(nova, project_id: str) -> list[dict]:
    """Networks Nova would pick for a server without an explicit choice.

    Neutron's side of the region contract does not list networks yet; without
    such a method, a project simply has none to choose from.
    """
    lister = getattr(nova.neutron(), "networks_available_to", None)
    return list(lister(project_id)) if lister is not None else []


def _requested_port(nova, port_id, project_id: str) -> tuple[str, None, str]:
    """A port given by id: the caller's (or any, for an admin) and not plugged in yet."""
    port = nova.neutron().get_port(str(port_id))
    if port is None or (port["project_id"] != project_id and not caller().is_admin):
        raise bad_request(f"Port {port_id} could not be found.")
    if port["device_id"]:
        raise conflict(f"Port {port_id} is still in use.")
    return port["network_id"], None, port["id"]


def _requested_networks(nova, spec: dict,
                        project_id: str) -> list[tuple[str, str | None, str | None]]:
    """``[(network_id, fixed_ip, port_id)]``: ports to create (``port_id`` None) or
    to plug in (given as ``{"port": id}``)."""
    networks = spec.get("networks")
    if networks is None:
        if at_least(37):
            raise bad_request("Invalid input for field/attribute server. 'networks' is a "
                              "required property")
        networks = "auto-legacy"
    if networks in ("auto", "auto-legacy"):
        if networks == "auto" and not at_least(37):
            raise bad_request("Invalid input for field/attribute networks. Value: auto.")
        found = _available_networks(nova, project_id)
        if len(found) > 1:
            raise conflict("Multiple possible networks found, use a Network ID to be more "
                           "specific.")
        if not found and networks == "auto":
            raise bad_request(f"Unable to automatically allocate a network for project "
                              f"{project_id}")
        return [(found[0]["id"], None, None)] if found else []
    if networks == "none":
        if not at_least(37):
            raise bad_request("Invalid input for field/attribute networks. Value: none.")
        return []
    if not isinstance(networks, list):
        raise bad_request(f"Invalid input for field/attribute networks. Value: {networks}.")
    wanted = []
    neutron = nova.neutron()
    is_admin = caller().is_admin
    for entry in networks:
        if isinstance(entry, dict) and entry.get("port"):
            wanted.append(_requested_port(nova, entry["port"], project_id))
            continue
        if not isinstance(entry, dict) or "uuid" not in entry:
            raise bad_request("Bad networks format: network uuid is not in proper format "
                              f"({entry})")
        network = neutron.get_network(entry["uuid"])
        if network is None or not (network.get("shared") or is_admin
                                   or network.get("project_id") == project_id):
            raise bad_request(f"Network {entry['uuid']} could not be found.")
        wanted.append((entry["uuid"], entry.get("fixed_ip"), None))
    ports = [port for _, _, port in wanted if port]
    if len(ports) != len(set(ports)):
        raise bad_request("Network duplicate port found.")
    return wanted


def _image_for_boot(nova, image_ref: str, flavor: dict, project_id: str) -> dict:
    glance = nova.glance()
    image = glance.get_image(image_ref)
    if image is None or not glance.image_visible_to(image, project_id, caller().is_admin):
        raise bad_request(f"Image {image_ref} could not be found.")
    if image["status"] != "active":
        raise bad_request(f"Image {image_ref} is not active.")
    if (image.get("min_ram") or 0) > flavor["ram"]:
        raise bad_request("Flavor's memory is too small for requested image.")
    min_disk = max(image.get("min_disk") or 0, -(-(image.get("size") or 0) // 2**30))
    if flavor["disk"] and min_disk > flavor["disk"]:
        raise bad_request(f"Flavor's disk is too small for requested image. Flavor disk is "
                          f"{flavor['disk'] * 2**30} bytes, image is {min_disk * 2**30} bytes.")
    return image


def _check_quota(nova, project_id: str, flavor: dict, count: int, metadata: dict) -> None:
    limits = nova.quotas.limits(project_id)
    metadata_limit = limits["metadata_items"]
    if metadata_limit != quota.UNLIMITED and len(metadata) > metadata_limit:
        raise forbidden(f"Maximum number of metadata items exceeds {metadata_limit}")
    deltas = {"instances": count, "cores": count * flavor["vcpus"],
              "ram": count * flavor["ram"]}
    usage = nova.quotas.in_use(project_id)
    overs = quota.over_limits(limits, usage, deltas)
    if overs:
        raise forbidden(quota.too_many_instances(overs, limits, usage, deltas))


def _new_server(nova, spec: dict, flavor: dict, image_id: str, index: int, count: int,
                reservation_id: str) -> dict:
    who = caller()
    created = now()
    name = spec["name"] if count == 1 else f"{spec['name']}-{index + 1}"
    return {
        "id": str(uuid.uuid4()), "name": name, "project_id": who.project_id,
        "user_id": who.user_id, "image_id": image_id,
        "flavor": {k: flavor[k] for k in ("id", "name", "ram", "disk", "vcpus", "swap",
                                          "ephemeral")} | {
            "extra_specs": dict(flavor["extra_specs"])},
        "key_name": spec.get("key_name"), "metadata": _string_map("metadata",
                                                                  spec.get("metadata")),
        "security_groups": [g["name"] for g in spec.get("security_groups") or
                            [{"name": "default"}]],
        "status": "ACTIVE", "vm_state": "active", "power_state": POWER_RUNNING,
        "created": created, "updated": created, "launched_at": created,
        "availability_zone": spec.get("availability_zone") or "nova",
        "config_drive": bool(spec.get("config_drive")),
        "description": spec.get("description"), "tags": list(spec.get("tags") or []),
        "instance_name": f"instance-{nova.region.next_int():08x}",
        "hostname": name.lower().replace(" ", "-").replace("_", "-")[:63],
        "reservation_id": reservation_id, "launch_index": index,
        "root_device_name": "/dev/vda", "user_data": spec.get("user_data"),
        "ports": False, "preserved_ports": [], "volumes": [], "fault": None,
    }


def _release_ports(neutron, server: dict) -> None:
    """Unplug the ports the server was given; delete those Nova made for it."""
    for port_id in server["preserved_ports"]:
        neutron.unbind_port(port_id)
    server["preserved_ports"] = []
    neutron.delete_ports_of_device(server["id"])


def _plug_ports(nova, server: dict,
                networks: list[tuple[str, str | None, str | None]]) -> None:
    from regionsim.services import neutron as neutron_module

    neutron = nova.neutron()
    for network_id, fixed_ip, port_id in networks:
        if port_id is not None:
            # A port the user made: plugged in, and kept when the server goes.
            neutron.bind_port(port_id, server["id"])
            server["preserved_ports"].append(port_id)
            server["ports"] = True
            continue
        try:
            neutron.create_port_for_server(server["project_id"], network_id, server["id"],
                                           fixed_ip)
        except neutron_module.OverQuota:
            _release_ports(neutron, server)
            raise forbidden("Maximum number of ports exceeded") from None
        except neutron_module.NoFreeIP:
            fail_build(server, "Failed to allocate the network(s), not rescheduling.")
            return
        except KeyError:
            _release_ports(neutron, server)
            raise bad_request(f"Network {network_id} could not be found.") from None
        server["ports"] = True


def _parse_create(spec: dict) -> tuple[int, int]:
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise bad_request(f"Invalid input for field/attribute name. Value: {name}.")
    if "flavorRef" not in spec:
        raise bad_request("Invalid input for field/attribute server. 'flavorRef' is a "
                          "required property")
    min_count = parse_int("min_count", spec.get("min_count", 1), minimum=1)
    max_count = parse_int("max_count", spec.get("max_count", min_count), minimum=1)
    if min_count > max_count:
        raise bad_request("min_count must be <= max_count")
    return min_count, max_count


@route("/servers", methods=("POST",))
def create_server():
    spec = body_object("server")
    min_count, count = _parse_create(spec)
    who = caller()
    nova = state()
    with nova.lock:
        flavor = nova.flavors.get(str(spec["flavorRef"]).rstrip("/").rsplit("/", 1)[-1])
        if flavor is None or not nova.flavor_visible(flavor, who.project_id, who.is_admin):
            raise bad_request("Invalid flavorRef provided.")
        plan = plan_block_devices(nova, spec, who.project_id)
        image_ref = str(spec.get("imageRef") or "").rstrip("/").rsplit("/", 1)[-1]
        if not image_ref and not plan.boot_volume:
            raise bad_request("Missing imageRef attribute")
        if image_ref and not plan.boot_volume:
            _image_for_boot(nova, image_ref, flavor, who.project_id)
        if spec.get("key_name") is not None and \
                spec["key_name"] not in nova.keypairs.get(who.user_id, {}):
            raise bad_request("Invalid key_name provided.")
        metadata = _string_map("metadata", spec.get("metadata"))
        try:
            _check_quota(nova, who.project_id, flavor, count, metadata)
        except NovaError:
            if min_count == count:
                raise
            count = min_count
            _check_quota(nova, who.project_id, flavor, count, metadata)
        networks = _requested_networks(nova, spec, who.project_id)
        if count > 1 and any(port for _, _, port in networks):
            raise bad_request("Unable to launch multiple instances with a single configured "
                              "port ID. Please launch your instance one by one with "
                              "different ports.")
        if count > 1 and plan.boot_volume and plan.boot_volume.get("volume_id"):
            raise bad_request("Cannot attach one or more volumes to multiple instances")
        reservation_id = "r-" + uuid.uuid4().hex[:8]
        servers = []
        try:
            for index in range(count):
                server = _new_server(nova, spec, flavor, "" if plan.boot_volume else image_ref,
                                     index, count, reservation_id)
                nova.add_server(server)
                servers.append(server)
                _plug_ports(nova, server, networks)
                if server["status"] != "ERROR":
                    realize_block_devices(nova, server, plan)
        except (NovaError, CinderError):
            for server in servers:
                _teardown(nova, server)
            raise
    first = servers[0]
    if spec.get("return_reservation_id"):
        return json_response({"reservation_id": reservation_id}, 202)
    body = {"id": first["id"], "links": summary(first)["links"],
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": [{"name": n} for n in first["security_groups"]]}
    body["adminPass"] = spec.get("adminPass") or uuid.uuid4().hex[:12]
    location = f"{request.host_url.rstrip('/')}{API_PREFIX}/servers/{first['id']}"
    return json_response({"server": body}, 202, {"Location": location})


def _listed() -> list[dict]:
    who = caller()
    nova = state()
    if query_bool("all_tenants") or (who.is_admin and request.args.get("all_tenants") == ""):
        require_admin("os_compute_api:servers:index:get_all_tenants")
        wanted_project = request.args.get("project_id") or request.args.get("tenant_id")
        pool = (nova.servers_by_project.get(wanted_project, {}).values() if wanted_project
                else nova.servers.values())
    else:
        pool = nova.servers_by_project.get(who.project_id, {}).values()
    name = request.args.get("name")
    status = request.args.get("status")
    items = [s for s in pool
             if (name is None or name in s["name"])
             and (status is None or s["status"] == status.upper())]
    items.sort(key=lambda s: (s["created"], s["id"]), reverse=True)
    return paginate(items)


@route("/servers")
def list_servers():
    with state().lock:
        return json_response({"servers": [summary(s) for s in _listed()]})


@route("/servers/detail")
def list_servers_detail():
    nova = state()
    with nova.lock:
        return json_response({"servers": [detail(nova, s) for s in _listed()]})


@route("/servers/<server_id>")
def show_server(server_id: str):
    nova = state()
    with nova.lock:
        return json_response({"server": detail(nova, find_server(server_id), show=True)})


@route("/servers/<server_id>", methods=("PUT",))
def update_server(server_id: str):
    spec = body_object("server")
    allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
    if at_least(19):
        allowed.add("description")
    unknown = set(spec) - allowed
    if unknown:
        raise bad_request(f"Invalid input for field/attribute server. Additional properties "
                          f"are not allowed ({', '.join(sorted(unknown))} was unexpected)")
    nova = state()
    with nova.lock:
        server = find_server(server_id)
        if "name" in spec:
            if not isinstance(spec["name"], str) or not spec["name"].strip():
                raise bad_request(f"Invalid input for field/attribute name. "
                                  f"Value: {spec['name']}.")
            server["name"] = spec["name"]
        if "description" in spec:
            server["description"] = spec["description"]
        server["updated"] = now()
        return json_response({"server": detail(nova, server)})


def _teardown(nova, server: dict) -> None:
    """Free what a server holds: ports (those it was given are only unplugged),
    volume attachments, quota."""
    _release_ports(nova.neutron(), server)
    cinder = nova.cinder()
    for volume in server["volumes"]:
        cinder.detach(volume["volume_id"], server["id"])
        if volume["delete_on_termination"]:
            cinder.delete_volume_for_server(volume["volume_id"])
    server["volumes"] = []
    nova.remove_server(server)


@route("/servers/<server_id>", methods=("DELETE",))
def delete_server(server_id: str):
    nova = state()
    with nova.lock:
        _teardown(nova, find_server(server_id))
    return json_response(None, 204)
