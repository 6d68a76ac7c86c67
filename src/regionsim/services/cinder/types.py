"""Volume types of the simulated Cinder (``/types``), enough to ask for replication.

``__DEFAULT__`` exists from the start, as on Cinder since Train. Admins create
and delete types; extra specs (``replication_enabled='<is> True'`` makes a
type's volumes replicated) are shown to admins only, as Cinder's policy does.
"""

from __future__ import annotations

from regionsim.services.cinder.common import (
    CinderError,
    bad_request,
    body_object,
    not_found,
    require_admin,
    route,
    state,
)
from regionsim.services.cinder.state import DEFAULT_TYPE
from regionsim.services.cinder.views import type_view
from regionsim.web import caller, json_body, json_response


def _render(volume_type: dict) -> dict:
    body = type_view(volume_type)
    if not caller().is_admin:
        body.pop("extra_specs")
        body.pop("qos_specs_id")
    return body


def _find(type_id: str) -> dict:
    cinder = state()
    if type_id == "default":
        type_id = DEFAULT_TYPE
    volume_type = cinder.type_named(type_id)
    who = caller()
    if volume_type is None or not (volume_type["is_public"] or who.is_admin
                                   or who.project_id in volume_type["projects"]):
        raise not_found(f"Volume type {type_id} could not be found.")
    return volume_type


@route("/types")
def list_types():
    who = caller()
    with state().lock:
        items = [_render(t) for t in state().types.values()
                 if t["is_public"] or who.is_admin or who.project_id in t["projects"]]
    return json_response({"volume_types": items})


@route("/types/<type_id>")
def show_type(type_id: str):
    with state().lock:
        return json_response({"volume_type": _render(_find(type_id))})


def _specs(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise bad_request("Invalid input received: extra_specs must be a dict of strings.")
    return dict(value)


@route("/types", methods=("POST",))
def create_type():
    require_admin("volume_extension:types_manage")
    spec = body_object("volume_type")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise bad_request(f"Invalid input for field/attribute name. Value: {name}.")
    is_public = spec.get("os-volume-type-access:is_public", spec.get("is_public", True))
    cinder = state()
    with cinder.lock:
        if cinder.type_named(name.strip()) is not None:
            raise CinderError(409, f"Volume Type {name} already exists.")
        volume_type = {"id": cinder.region.new_id(), "name": name.strip(),
                       "description": spec.get("description"), "is_public": bool(is_public),
                       "extra_specs": _specs(spec.get("extra_specs")),
                       "qos_specs_id": None, "projects": set()}
        cinder.types[volume_type["id"]] = volume_type
        body = _render(volume_type)
        body.pop("qos_specs_id", None)  # as tempest's create schema (run on Cinder) has it
        return json_response({"volume_type": body})


@route("/types/<type_id>", methods=("DELETE",))
def delete_type(type_id: str):
    require_admin("volume_extension:types_manage")
    cinder = state()
    with cinder.lock:
        volume_type = _find(type_id)
        if volume_type["name"] == DEFAULT_TYPE:
            raise bad_request("Default volume type can not be deleted.")
        if any(v["type_id"] == volume_type["id"] for v in cinder.volumes.values()):
            raise bad_request(f"Target volume type is still in use. Volume Type "
                              f"{volume_type['id']} deletion is not allowed with volumes "
                              "present with the type.")
        del cinder.types[volume_type["id"]]
    return json_response(None, 202)


@route("/types/<type_id>/extra_specs")
def list_type_specs(type_id: str):
    require_admin("volume_extension:types_extra_specs:index")
    with state().lock:
        return json_response({"extra_specs": dict(_find(type_id)["extra_specs"])})


@route("/types/<type_id>/extra_specs", methods=("POST",))
def set_type_specs(type_id: str):
    require_admin("volume_extension:types_extra_specs:create")
    specs = _specs((json_body() or {}).get("extra_specs"))
    with state().lock:
        _find(type_id)["extra_specs"].update(specs)
    return json_response({"extra_specs": specs})
