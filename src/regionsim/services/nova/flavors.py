"""Flavors, their extra specs and their access lists in the simulated Nova.

Microversions: 2.55 adds ``description`` (and flavor update), 2.61 embeds
``extra_specs``, 2.75 shows ``swap`` 0 instead of ``""``.
"""

from __future__ import annotations

import uuid

from flask import request

from regionsim.services.nova.common import (
    at_least,
    bad_request,
    body_object,
    conflict,
    links,
    not_found,
    paginate,
    parse_int,
    query_bool,
    require_admin,
    route,
    state,
)
from regionsim.services.nova.state import new_flavor
from regionsim.web import caller, json_body, json_response

_RULE = "os_compute_api:os-flavor-manage:{}"
_ACCESS_RULE = "os_compute_api:os-flavor-access:{}"
_SPECS_RULE = "os_compute_api:os-flavor-extra-specs:{}"


def flavor_links(flavor_id: str) -> list[dict]:
    return links("flavors", flavor_id)


def _summary(flavor: dict) -> dict:
    body = {"id": flavor["id"], "name": flavor["name"], "links": flavor_links(flavor["id"])}
    if at_least(55):
        body["description"] = flavor["description"]
    return body


def flavor_view(flavor: dict) -> dict:
    body = _summary(flavor)
    body.update({
        "ram": flavor["ram"], "disk": flavor["disk"], "vcpus": flavor["vcpus"],
        "swap": flavor["swap"] if (flavor["swap"] or at_least(75)) else "",
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral"],
        "OS-FLV-DISABLED:disabled": flavor["disabled"],
        "os-flavor-access:is_public": flavor["is_public"],
        "rxtx_factor": flavor["rxtx_factor"],
    })
    if at_least(61):
        body["extra_specs"] = dict(flavor["extra_specs"])
    return body


def find_flavor(flavor_id: str) -> dict:
    """A flavor the caller may see, or Nova's 404."""
    who = caller()
    flavor = state().flavors.get(flavor_id)
    if flavor is None or not state().flavor_visible(flavor, who.project_id, who.is_admin):
        raise not_found(f"Flavor {flavor_id} could not be found.")
    return flavor


def _listed() -> list[dict]:
    who = caller()
    nova = state()
    if who.is_admin:
        raw = request.args.get("is_public")
        wanted = True if raw is None else (None if raw.lower() == "none"
                                          else query_bool("is_public"))
    else:
        wanted = True
    min_disk = parse_int("minDisk", request.args.get("minDisk", 0), minimum=0)
    min_ram = parse_int("minRam", request.args.get("minRam", 0), minimum=0)
    items = []
    for flavor in nova.flavors.values():
        if wanted is True and not (flavor["is_public"]
                                   or who.project_id in flavor["projects"]):
            continue
        if wanted is False and flavor["is_public"]:
            continue
        if flavor["disk"] >= min_disk and flavor["ram"] >= min_ram:
            items.append(flavor)
    sort_key = request.args.get("sort_key", "flavorid")
    field = {"flavorid": "id", "memory_mb": "ram", "root_gb": "disk"}.get(sort_key, sort_key)
    if field not in ("id", "name", "ram", "disk", "vcpus", "swap", "ephemeral",
                     "rxtx_factor"):
        raise bad_request(f"Invalid input for query parameters sort_key. Value: {sort_key}.")
    reverse = request.args.get("sort_dir", "asc") == "desc"
    items.sort(key=lambda f: (f[field], f["id"]), reverse=reverse)
    return paginate(items)


@route("/flavors")
def list_flavors():
    with state().lock:
        items = [_summary(f) for f in _listed()]
    return json_response({"flavors": items})


@route("/flavors/detail")
def list_flavors_detail():
    with state().lock:
        items = [flavor_view(f) for f in _listed()]
    return json_response({"flavors": items})


@route("/flavors/<flavor_id>")
def show_flavor(flavor_id: str):
    with state().lock:
        return json_response({"flavor": flavor_view(find_flavor(flavor_id))})


def _number(spec: dict, key: str, default, minimum: int = 0):
    value = spec.get(key, default)
    return parse_int(key, value, minimum=minimum)


@route("/flavors", methods=("POST",))
def create_flavor():
    require_admin(_RULE.format("create"))
    spec = body_object("flavor")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise bad_request(f"Invalid input for field/attribute name. Value: {name}.")
    flavor_id = spec.get("id")
    if flavor_id is None or flavor_id == "":
        flavor_id = str(uuid.uuid4())
    elif not isinstance(flavor_id, str):
        raise bad_request(f"Invalid input for field/attribute id. Value: {flavor_id}.")
    rxtx = spec.get("rxtx_factor", 1.0)
    if isinstance(rxtx, bool) or not isinstance(rxtx, int | float) or rxtx <= 0:
        raise bad_request(f"Invalid input for field/attribute rxtx_factor. Value: {rxtx}.")
    is_public = spec.get("os-flavor-access:is_public", True)
    if not isinstance(is_public, bool):
        raise bad_request("Invalid input for field/attribute os-flavor-access:is_public.")
    description = spec.get("description") if at_least(55) else None
    flavor = new_flavor(
        flavor_id, name.strip(), _number(spec, "ram", None, 1), _number(spec, "disk", None),
        _number(spec, "vcpus", None, 1), swap=_number(spec, "swap", 0),
        ephemeral=_number(spec, "OS-FLV-EXT-DATA:ephemeral", 0), rxtx_factor=float(rxtx),
        is_public=is_public, description=description)
    nova = state()
    with nova.lock:
        if flavor_id in nova.flavors:
            raise conflict(f"Flavor with ID {flavor_id} already exists.")
        if any(f["name"] == flavor["name"] for f in nova.flavors.values()):
            raise conflict(f"Flavor with name {flavor['name']} already exists.")
        nova.flavors[flavor_id] = flavor
        return json_response({"flavor": flavor_view(flavor)})


@route("/flavors/<flavor_id>", methods=("PUT",))
def update_flavor(flavor_id: str):
    if not at_least(55):
        return json_response({"badMethod": {"code": 405, "message": "The method specified "
                                            "is not allowed for this resource."}}, 405)
    require_admin(_RULE.format("update"))
    spec = body_object("flavor")
    if set(spec) != {"description"}:
        raise bad_request("Invalid input for field/attribute flavor. Only 'description' "
                          "may be updated")
    with state().lock:
        flavor = find_flavor(flavor_id)
        flavor["description"] = spec["description"]
        return json_response({"flavor": flavor_view(flavor)})


@route("/flavors/<flavor_id>", methods=("DELETE",))
def delete_flavor(flavor_id: str):
    require_admin(_RULE.format("delete"))
    nova = state()
    with nova.lock:
        if nova.flavors.pop(flavor_id, None) is None:
            raise not_found(f"Flavor {flavor_id} could not be found.")
    return json_response(None, 202)


# -- os-extra_specs --

@route("/flavors/<flavor_id>/os-extra_specs")
def list_extra_specs(flavor_id: str):
    with state().lock:
        return json_response({"extra_specs": dict(find_flavor(flavor_id)["extra_specs"])})


def _string_specs(specs) -> dict[str, str]:
    if not isinstance(specs, dict) or not specs:
        raise bad_request("Invalid input for field/attribute extra_specs.")
    out = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise bad_request(f"Invalid input for field/attribute extra_specs. Key: {key}.")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise bad_request(f"Invalid input for field/attribute {key}. Value: {value}.")
        out[key] = str(value)
    return out


@route("/flavors/<flavor_id>/os-extra_specs", methods=("POST",))
def create_extra_specs(flavor_id: str):
    require_admin(_SPECS_RULE.format("create"))
    body = json_body() or {}
    specs = _string_specs(body.get("extra_specs"))
    with state().lock:
        flavor = find_flavor(flavor_id)
        flavor["extra_specs"].update(specs)
        return json_response({"extra_specs": specs})


def _missing_spec(flavor_id: str, key: str):
    return not_found(f"Flavor {flavor_id} has no extra specs with key {key}.")


@route("/flavors/<flavor_id>/os-extra_specs/<key>")
def show_extra_spec(flavor_id: str, key: str):
    with state().lock:
        specs = find_flavor(flavor_id)["extra_specs"]
        if key not in specs:
            raise _missing_spec(flavor_id, key)
        return json_response({key: specs[key]})


@route("/flavors/<flavor_id>/os-extra_specs/<key>", methods=("PUT",))
def update_extra_spec(flavor_id: str, key: str):
    require_admin(_SPECS_RULE.format("update"))
    specs = _string_specs(json_body())
    if key not in specs:
        raise bad_request("Request body and URI mismatch")
    if len(specs) > 1:
        raise bad_request("Request body contains too many items")
    with state().lock:
        find_flavor(flavor_id)["extra_specs"][key] = specs[key]
    return json_response(specs)


@route("/flavors/<flavor_id>/os-extra_specs/<key>", methods=("DELETE",))
def delete_extra_spec(flavor_id: str, key: str):
    require_admin(_SPECS_RULE.format("delete"))
    with state().lock:
        specs = find_flavor(flavor_id)["extra_specs"]
        if specs.pop(key, None) is None:
            raise _missing_spec(flavor_id, key)
    return json_response(None, 200)


# -- os-flavor-access --

def _access_list(flavor: dict) -> dict:
    return {"flavor_access": [{"flavor_id": flavor["id"], "tenant_id": p}
                              for p in sorted(flavor["projects"])]}


@route("/flavors/<flavor_id>/os-flavor-access")
def list_flavor_access(flavor_id: str):
    require_admin(_ACCESS_RULE.format(""))
    with state().lock:
        flavor = find_flavor(flavor_id)
        if flavor["is_public"]:
            raise not_found("Access list not available for public flavors.")
        return json_response(_access_list(flavor))


@route("/flavors/<flavor_id>/action", methods=("POST",))
def flavor_action(flavor_id: str):
    body = json_body() or {}
    if "addTenantAccess" in body:
        require_admin(_ACCESS_RULE.format("add_tenant_access"))
        tenant = (body["addTenantAccess"] or {}).get("tenant")
        with state().lock:
            flavor = find_flavor(flavor_id)
            if flavor["is_public"]:
                raise conflict("Can not add access to a public flavor.")
            if tenant in flavor["projects"]:
                raise conflict(f"Flavor access already exists for flavor {flavor_id} and "
                               f"project {tenant} combination.")
            if not isinstance(tenant, str) or not tenant:
                raise bad_request("Invalid input for field/attribute tenant.")
            flavor["projects"].add(tenant)
            return json_response(_access_list(flavor))
    if "removeTenantAccess" in body:
        require_admin(_ACCESS_RULE.format("remove_tenant_access"))
        tenant = (body["removeTenantAccess"] or {}).get("tenant")
        with state().lock:
            flavor = find_flavor(flavor_id)
            if tenant not in flavor["projects"]:
                raise not_found(f"Flavor access not found for {flavor_id} / {tenant} "
                                "combination.")
            flavor["projects"].discard(tenant)
            return json_response(_access_list(flavor))
    raise bad_request("Invalid input for field/attribute action.")
